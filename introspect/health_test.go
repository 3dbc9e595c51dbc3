package introspect

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// probe asks h for target and returns the status and the body.
func probe(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// failing is a worker that runs until killed, or fails with what fail gets.
func failing(fail <-chan error) dependency.StartFunc {
	return func(dependency.GetResourceFunc) (dependency.Worker, error) {
		return dependency.NewWorker(func(ctx context.Context) error {
			select {
			case <-ctx.Done():
				return nil
			case err := <-fail:
				return err
			}
		}), nil
	}
}

// The probes follow an engine through a failure and its recovery: /readyz
// turns 503 while a manifold waits out its error delay, naming it, and 200
// when it runs again; /livez answers 200 until the engine stops, then 503
// with Wait's error.
func TestProbesThroughFailureAndRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errFatal := errors.New("fatal")
		engine := dependency.NewEngine(func(err error) bool { return err == errFatal }, time.Second, 10*time.Millisecond)
		h := Handler(engine)
		failDB := make(chan error, 1)
		if err := dependency.Install(engine, dependency.Manifolds{
			"db":    {Start: failing(failDB)},
			"api":   {Inputs: []string{"db"}, Start: failing(nil)},
			"gated": {Flags: []string{"leader"}, Start: failing(nil)},
		}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if code, body := probe(t, h, "/readyz"); code != http.StatusOK || body != "ok\n" {
			t.Errorf("/readyz = %d %q, want 200 ok", code, body)
		}
		code, body := probe(t, h, "/readyz?verbose")
		want := "[+]api running\n[+]db running\n[+]gated gated: by leader\nreadyz check passed\n"
		if code != http.StatusOK || body != want {
			t.Errorf("/readyz?verbose = %d %q, want 200 %q", code, body, want)
		}

		failDB <- errors.New("connection refused")
		time.Sleep(100 * time.Millisecond)
		synctest.Wait()
		code, body = probe(t, h, "/readyz")
		want = "[-]engine not settled\n[-]db failed: starts in 0.9s: connection refused\nreadyz check failed\n"
		if code != http.StatusServiceUnavailable || body != want {
			t.Errorf("/readyz while db waits out its error delay = %d %q, want 503 %q", code, body, want)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if code, body := probe(t, h, "/readyz"); code != http.StatusOK {
			t.Errorf("/readyz once db runs again = %d %q, want 200", code, body)
		}

		if code, body := probe(t, h, "/livez"); code != http.StatusOK || body != "ok\n" {
			t.Errorf("/livez = %d %q, want 200 ok", code, body)
		}
		failDB <- errFatal
		if err := engine.Wait(); err != errFatal {
			t.Fatalf("Wait() = %v, want %v", err, errFatal)
		}
		if code, body := probe(t, h, "/livez"); code != http.StatusServiceUnavailable || body != "stopped: fatal\n" {
			t.Errorf("/livez of a stopped engine = %d %q, want 503 \"stopped: fatal\"", code, body)
		}
		if code, _ := probe(t, h, "/readyz"); code != http.StatusServiceUnavailable {
			t.Errorf("/readyz of a stopped engine = %d, want 503", code)
		}
	})
}

// A nested engine counts through its manifold: one of its manifolds that
// is not ready makes the outer engine not ready, and is named by its path.
func TestReadyzNested(t *testing.T) {
	report := dependency.Report{State: dependency.StateStarted, Settled: true, Manifolds: map[string]dependency.ManifoldReport{
		"workload": {State: dependency.StateStarted, Engine: &dependency.Report{State: dependency.StateStarted, Settled: true, Manifolds: map[string]dependency.ManifoldReport{
			"inner": {State: dependency.StateStopped, Missing: []string{"db"}, Inputs: []string{"db"}},
		}}},
	}}
	code, body := probe(t, Handler(&fixedEngine{report: report}), "/readyz")
	if want := "[-]workload/inner waiting: for db\nreadyz check failed\n"; code != http.StatusServiceUnavailable || body != want {
		t.Errorf("/readyz = %d %q, want 503 %q", code, body, want)
	}
	nested := report.Manifolds["workload"].Engine
	nested.Settled, nested.Manifolds = false, nil
	code, body = probe(t, Handler(&fixedEngine{report: report}), "/readyz")
	if want := "[-]workload engine not settled\nreadyz check failed\n"; code != http.StatusServiceUnavailable || body != want {
		t.Errorf("/readyz of an engine whose nested engine is not settled = %d %q, want 503 %q", code, body, want)
	}
}

// A manifold gated by a flag whose worker is no Flag is a mistake, not
// deliberately off: the engine is not ready.
func TestReadyzMistakeIsNotGated(t *testing.T) {
	report := dependency.Report{State: dependency.StateStarted, Settled: true, Manifolds: map[string]dependency.ManifoldReport{
		"g": {State: dependency.StateStopped, Flags: []string{"f"}, Gated: []string{"f"},
			Err: fmt.Errorf("flag \"f\" is not a Flag: %w", dependency.ErrMistake)},
	}}
	code, body := probe(t, Handler(&fixedEngine{report: report}), "/readyz")
	if want := "[-]g mistake: flag \"f\" is not a Flag: mistake in the manifold\nreadyz check failed\n"; code != http.StatusServiceUnavailable || body != want {
		t.Errorf("/readyz = %d %q, want 503 %q", code, body, want)
	}
}

// /status is a table for a terminal: one row per manifold, nested engines
// indented, gated, waiting and failed manifolds saying so, no line wider
// than 80 columns.
func TestStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := dependency.NewEngine(nil, time.Minute, 10*time.Millisecond)
		nested := dependency.NewEngine(nil, time.Minute, 10*time.Millisecond)
		failDB := make(chan error, 1)
		if err := dependency.Install(engine, dependency.Manifolds{
			"db":       {Start: failing(failDB)},
			"api":      {Inputs: []string{"db", "absent"}, Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) { return nil, get("absent", nil) }},
			"gated":    {Flags: []string{"leader"}, Start: failing(nil)},
			"workload": {Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { return nested, nil }},
		}); err != nil {
			t.Fatal(err)
		}
		if err := nested.Install("inner", dependency.Manifold{Start: failing(nil)}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		failDB <- errors.New("connection refused: " + strings.Repeat("a long reason ", 8))
		synctest.Wait()
		code, body := probe(t, Handler(engine), "/status")
		want := `engine: running, not settled, 5 manifolds

MANIFOLD               STATE     STARTS  SINCE  WHY
api                    waiting        0      -  for db, absent
db                     failed         1  2m00s  starts in 1m00s: connection
                                                refused: a long reason a long
                                                reason a long reason a long
                                                reason a long reason a long
                                                reason a long reason a long
                                                reason
gated                  gated          0      -  by leader
workload               running        1  2m00s
  inner                running        1  2m00s
`
		if code != http.StatusOK || body != want {
			t.Errorf("/status = %d\n%s\nwant\n%s", code, body, want)
		}
		for _, line := range strings.Split(body, "\n") {
			if columns(line) > 80 {
				t.Errorf("line %q is %d columns wide, want at most 80", line, columns(line))
			}
		}
		engine.Kill()
		_ = engine.Wait()
		nested.Kill()
		_ = nested.Wait()
	})
}
