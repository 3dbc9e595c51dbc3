package dependency_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// startMixedGraph installs manifolds in every kind of state and lets them
// settle for a second of fake time:
//   - "config" runs, and reports {"version": 3};
//   - "api" runs on config;
//   - "db" runs on config without "secrets", which is not installed;
//   - "auth" failed to start and waits out its error delay;
//   - "web" requires api and auth, so it stopped with ErrMissing.
//
// It must be called inside a synctest bubble.
func startMixedGraph(t *testing.T, h *harness) dependency.Engine {
	t.Helper()
	h.failStart("auth", func() error { return errFailed })
	engine := dependency.NewEngine(nil, time.Minute, 10*time.Millisecond)
	mustInstallAll(t, engine, dependency.Manifolds{
		"config": reporting(h.manifold("config"), map[string]any{"version": 3}),
		"api":    h.manifold("api", "config"),
		"db":     h.manifold("db", "config", "secrets"),
		"auth":   h.manifold("auth"),
		"web":    h.requiring("web", "api", "auth"),
	})
	advance(time.Second)
	return engine
}

// jsonEqual reports whether a and b marshal to the same JSON, which sorts
// map keys.
func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// wantManifold is what checkManifold expects of one manifold.
type wantManifold struct {
	state      dependency.State
	missing    []string
	startCount int
	started    time.Duration // after epoch; ignored when startCount is 0
	err        error         // matched with errors.Is; nil: no error
}

// checkManifold fails t unless r reports name as want says.
func checkManifold(t *testing.T, r dependency.Report, name string, want wantManifold) {
	t.Helper()
	m, ok := r.Manifolds[name]
	if !ok {
		t.Errorf("Report() has no %q, want %v", name, want.state)
		return
	}
	if m.State != want.state {
		t.Errorf("Report() %q State = %v, want %v", name, m.State, want.state)
	}
	if !slices.Equal(m.Missing, want.missing) {
		t.Errorf("Report() %q Missing = %q, want %q", name, m.Missing, want.missing)
	}
	if m.StartCount != want.startCount {
		t.Errorf("Report() %q StartCount = %d, want %d", name, m.StartCount, want.startCount)
	}
	wantStarted := time.Time{}
	if want.startCount > 0 {
		wantStarted = epoch.Add(want.started)
	}
	if !m.Started.Equal(wantStarted) {
		t.Errorf("Report() %q Started = %v, want %v", name, m.Started, wantStarted)
	}
	switch {
	case want.err == nil && m.Err != nil:
		t.Errorf("Report() %q Err = %v, want nil", name, m.Err)
	case want.err != nil && !errors.Is(m.Err, want.err):
		t.Errorf("Report() %q Err = %v, want %v", name, m.Err, want.err)
	}
}

func TestReportLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
		if r := engine.Report(); r.State != dependency.StateStarted || r.Err != nil || len(r.Manifolds) != 0 {
			t.Errorf("Report() of a new engine = %+v, want started, no error, no manifolds", r)
		}

		// a's start is held in flight; b waits for it.
		gate, hold := make(chan struct{}), make(chan struct{})
		mustInstallAll(t, engine, dependency.Manifolds{
			"a": gateStart(h.manifold("a"), gate),
			"b": holdStop(h.requiring("b", "a"), hold),
		})
		synctest.Wait()
		r := engine.Report()
		checkManifold(t, r, "a", wantManifold{state: dependency.StateStarting})
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStarting, missing: []string{"a"}})
		if inputs := r.Manifolds["b"].Inputs; !slices.Equal(inputs, []string{"a"}) {
			t.Errorf("Report() b Inputs = %q, want [a]", inputs)
		}

		// a starts, and b as soon as it has.
		close(gate)
		synctest.Wait()
		r = engine.Report()
		checkManifold(t, r, "a", wantManifold{state: dependency.StateStarted, startCount: 1})
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStarted, startCount: 1})

		// a fails: it waits out its error delay with its error reported,
		// and b is bounced, stopping until hold is closed.
		h.worker("a").fail(errFailed)
		synctest.Wait()
		r = engine.Report()
		checkManifold(t, r, "a", wantManifold{state: dependency.StateStarting, startCount: 1, err: errFailed})
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStopping, missing: []string{"a"}, startCount: 1})
		close(hold)
		synctest.Wait()
		checkManifold(t, engine.Report(), "b", wantManifold{state: dependency.StateStarting, missing: []string{"a"}, startCount: 1})

		// b restarts without a, which it requires.
		advance(10 * time.Millisecond)
		checkManifold(t, engine.Report(), "b", wantManifold{state: dependency.StateStopped, missing: []string{"a"}, startCount: 1, err: dependency.ErrMissing})

		// a restarts after its error delay, clearing its error, and b
		// starts as soon as it has, clearing its own.
		advance(990 * time.Millisecond)
		r = engine.Report()
		checkManifold(t, r, "a", wantManifold{state: dependency.StateStarted, startCount: 2, started: time.Second})
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStarted, startCount: 2, started: time.Second})

		// Uninstalled, a leaves the report and is missing for b.
		mustUninstall(t, engine, "a")
		advance(10 * time.Millisecond)
		r = engine.Report()
		if _, ok := r.Manifolds["a"]; ok || len(r.Manifolds) != 1 {
			t.Errorf("Report() after Uninstall(\"a\") lists %d manifolds, want only b", len(r.Manifolds))
		}
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStopped, missing: []string{"a"}, startCount: 2, started: time.Second, err: dependency.ErrMissing})

		stopEngine(t, engine, nil)
		r = engine.Report()
		if r.State != dependency.StateStopped || r.Err != nil {
			t.Errorf("Report() after Wait = %v, %v; want stopped, nil", r.State, r.Err)
		}
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStopped, missing: []string{"a"}, startCount: 2, started: time.Second, err: dependency.ErrMissing})
	})
}

func TestReportWhileStoppingAndStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(isFatal, time.Second, 10*time.Millisecond)
		hold := make(chan struct{})
		mustInstall(t, engine, "slow", holdStop(h.manifold("slow"), hold))
		mustInstall(t, engine, "doomed", h.manifold("doomed"))
		synctest.Wait()

		// A fatal error stops the engine; slow keeps stopping until hold
		// is closed.
		h.worker("doomed").fail(errFatal)
		synctest.Wait()
		r := engine.Report()
		if r.State != dependency.StateStopping || !errors.Is(r.Err, errFatal) {
			t.Errorf("Report() while stopping = %v, %v; want stopping, %v", r.State, r.Err, errFatal)
		}
		checkManifold(t, r, "slow", wantManifold{state: dependency.StateStopping, startCount: 1})
		checkManifold(t, r, "doomed", wantManifold{state: dependency.StateStopped, startCount: 1, err: errFatal})

		close(hold)
		waitErr := engine.Wait()
		if !errors.Is(waitErr, errFatal) {
			t.Fatalf("Wait() = %v, want %v", waitErr, errFatal)
		}
		for range 2 {
			r = engine.Report()
			if r.State != dependency.StateStopped || r.Err != waitErr {
				t.Errorf("Report() after Wait = %v, %v; want stopped, Wait's error %v", r.State, r.Err, waitErr)
			}
			checkManifold(t, r, "slow", wantManifold{state: dependency.StateStopped, startCount: 1})
		}
	})
}

func TestReportErrorUntilRunsAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
		errStart := errors.New("start failed")
		failures := 0
		h.failStart("a", func() error {
			if failures++; failures <= 2 {
				return errStart
			}
			return nil
		})
		mustInstall(t, engine, "a", h.manifold("a"))

		// The failed start's error stays through the retries that fail too.
		for i := range 2 {
			synctest.Wait()
			checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStarting, err: errStart})
			if i == 0 {
				time.Sleep(time.Second)
			}
		}
		advance(time.Second)
		checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStarted, startCount: 1, started: 2 * time.Second})

		// The worker's error stays until it runs again.
		h.worker("a").fail(errFailed)
		synctest.Wait()
		checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStarting, startCount: 1, started: 2 * time.Second, err: errFailed})
		advance(time.Second - time.Nanosecond)
		checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStarting, startCount: 1, started: 2 * time.Second, err: errFailed})
		advance(time.Nanosecond)
		checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStarted, startCount: 2, started: 3 * time.Second})

		// A worker that completes leaves no error.
		h.worker("a").fail(nil)
		synctest.Wait()
		checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStopped, startCount: 2, started: 3 * time.Second})
		stopEngine(t, engine, nil)
	})
}

func TestReportMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Minute, 0)
		h.failStart("failing", func() error { return errFailed })
		mustInstallAll(t, engine, dependency.Manifolds{
			"running":   h.manifold("running"),
			"completed": h.manifold("completed"),
			"failing":   h.manifold("failing"),
			"m":         h.manifold("m", "absent", "running", "failing", "completed"),
		})
		synctest.Wait()
		h.worker("completed").fail(nil)
		synctest.Wait()
		// m started once its inputs had started, and again when completed
		// stopped. Missing keeps the order of Inputs.
		checkManifold(t, engine.Report(), "m", wantManifold{
			state:      dependency.StateStarted,
			missing:    []string{"absent", "failing", "completed"},
			startCount: 2,
		})
		stopEngine(t, engine, nil)
	})
}

func TestReportWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 0)
		mustInstall(t, engine, "reporting", reporting(h.manifold("reporting"), map[string]any{"jobs": 2}))
		mustInstall(t, engine, "silent", h.manifold("silent"))
		panicking := h.manifold("panicking")
		start := panicking.Start
		panicking.Start = func(get dependency.GetResourceFunc) (dependency.Worker, error) {
			w, err := start(get)
			return panickingReporter{w}, err
		}
		mustInstall(t, engine, "panicking", panicking)
		synctest.Wait()
		r := engine.Report()
		if got := r.Manifolds["reporting"].Worker; !jsonEqual(got, map[string]any{"jobs": 2}) {
			t.Errorf("Report() reporting Worker = %v, want map[jobs:2]", got)
		}
		if got := r.Manifolds["silent"].Worker; got != nil {
			t.Errorf("Report() silent Worker = %v, want nil: its worker is no Reporter", got)
		}
		msg, _ := r.Manifolds["panicking"].Worker["error"].(string)
		if !strings.Contains(msg, "panicked: report exploded") {
			t.Errorf("Report() panicking Worker = %v, want an error entry carrying the panic", r.Manifolds["panicking"].Worker)
		}
		stopEngine(t, engine, nil)
	})
}

// panickingReporter is a worker whose Report panics.
type panickingReporter struct{ dependency.Worker }

func (panickingReporter) Report() map[string]any { panic("report exploded") }
func TestSelfManifold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 0)
		seen := make(chan dependency.Report, 1)
		mustInstall(t, engine, "self", dependency.SelfManifold(engine))
		mustInstall(t, engine, "installer", dependency.Manifold{
			Inputs: []string{"self"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var self dependency.Engine
				if err := get("self", &self); err != nil {
					return nil, err
				}
				if err := self.Install("child", h.manifold("child")); err != nil {
					return nil, err
				}
				seen <- self.Report()
				return h.started("installer", nil, nil)
			},
		})
		synctest.Wait()
		r := <-seen
		if got := r.Manifolds["self"].State; got != dependency.StateStarted {
			t.Errorf("installer's Report() self State = %v, want started", got)
		}
		if _, ok := r.Manifolds["child"]; !ok {
			t.Errorf("installer's Report() has no \"child\", want the manifold it installed")
		}
		if h.worker("child") == nil || h.worker("installer") == nil {
			t.Errorf("child, installer workers = %v, %v; want both running", h.worker("child"), h.worker("installer"))
		}

		// Asked for anything but an *Engine, its Output refuses with
		// ErrMissing, naming both types: the start is not retried as a
		// failure.
		mustInstall(t, engine, "wrong", dependency.Manifold{
			Inputs: []string{"self"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var n int
				return nil, get("self", &n)
			},
		})
		synctest.Wait()
		want := "input gives dependency.Engine; asked for int: dependency not available"
		if err := engine.Report().Manifolds["wrong"].Err; err == nil || err.Error() != want || !errors.Is(err, dependency.ErrMissing) {
			t.Errorf("\"wrong\" Err = %v, want %q matching ErrMissing", err, want)
		}

		// Asked with a nil out, it only says that the engine is there.
		mustInstall(t, engine, "asker", dependency.Manifold{
			Inputs: []string{"self"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				if err := get("self", nil); err != nil {
					return nil, err
				}
				return h.started("asker", nil, nil)
			},
		})
		synctest.Wait()
		if h.worker("asker") == nil {
			t.Errorf("asker has no worker; want get(\"self\", nil) = nil")
		}
		stopEngine(t, engine, nil)
	})
}

// Each Report after Wait is the caller's own: changing one changes no other.
func TestReportAfterWaitIsACopy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 0)
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", h.manifold("b", "a", "x"))
		synctest.Wait()
		stopEngine(t, engine, nil)

		first := engine.Report()
		delete(first.Manifolds, "a")
		first.Manifolds["b"].Inputs[0] = "changed"
		first.Manifolds["b"].Missing[0] = "changed"
		r := engine.Report()
		if _, ok := r.Manifolds["a"]; !ok {
			t.Errorf("Report() after a caller deleted \"a\" from its own has no \"a\", want it")
		}
		if b := r.Manifolds["b"]; !slices.Equal(b.Inputs, []string{"a", "x"}) || !slices.Equal(b.Missing, []string{"a", "x"}) {
			t.Errorf("Report() b Inputs, Missing = %q, %q after a caller changed its own; want [a x], [a x]", b.Inputs, b.Missing)
		}
	})
}

// reportingWorker is a worker that describes itself with a fixed report.
type reportingWorker struct {
	dependency.Worker
	report map[string]any
}

func (w reportingWorker) Report() map[string]any { return w.report }

// reporting returns m with workers that implement dependency.Reporter,
// answering report; its Output still serves the worker m's start made.
func reporting(m dependency.Manifold, report map[string]any) dependency.Manifold {
	start, output := m.Start, m.Output
	m.Start = func(get dependency.GetResourceFunc) (dependency.Worker, error) {
		w, err := start(get)
		if err != nil {
			return nil, err
		}
		return reportingWorker{w, report}, nil
	}
	m.Output = func(in dependency.Worker, out interface{}) error {
		return output(in.(reportingWorker).Worker, out)
	}
	return m
}

// heldWorker is a worker whose Wait, once it is killed, does not return
// until release is closed.
type heldWorker struct {
	dependency.Worker
	release <-chan struct{}
}

func (w heldWorker) Wait() error {
	err := w.Worker.Wait()
	<-w.release
	return err
}

// holdStop returns m with workers that keep stopping until release is
// closed, so a test can see them stopping; its Output still serves the
// worker m's start made.
func holdStop(m dependency.Manifold, release <-chan struct{}) dependency.Manifold {
	start, output := m.Start, m.Output
	m.Start = func(get dependency.GetResourceFunc) (dependency.Worker, error) {
		w, err := start(get)
		if err != nil {
			return nil, err
		}
		return heldWorker{w, release}, nil
	}
	m.Output = func(in dependency.Worker, out interface{}) error {
		return output(in.(heldWorker).Worker, out)
	}
	return m
}

// A manifold waiting out a delay reports when its start is due; one that
// runs or has stopped reports no due time.
func TestReportDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		h.failStart("auth", alwaysFail)
		engine := stopOnCleanup(t, dependency.NewEngine(nil, time.Minute, 0))
		mustInstall(t, engine, "auth", h.manifold("auth"))
		mustInstall(t, engine, "api", h.manifold("api"))
		failedAt := time.Now()
		synctest.Wait()
		r := engine.Report()
		if got, want := r.Manifolds["auth"].Due, failedAt.Add(time.Minute); !got.Equal(want) {
			t.Errorf(`Report().Manifolds["auth"].Due = %v, want %v`, got, want)
		}
		if got := r.Manifolds["api"].Due; !got.IsZero() {
			t.Errorf(`Report().Manifolds["api"].Due = %v, want zero`, got)
		}
	})
}

// A manifold whose worker is itself an engine carries that engine's report.
func TestReportNestedEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		inner := dependency.NewEngine(nil, 0, 0)
		mustInstall(t, inner, "leaf", h.manifold("leaf"))
		outer := stopOnCleanup(t, dependency.NewEngine(nil, 0, 0))
		mustInstall(t, outer, "nested", startWith(inner))
		mustInstall(t, outer, "plain", h.manifold("plain"))
		synctest.Wait()
		r := outer.Report()
		nested := r.Manifolds["nested"].Engine
		if nested == nil {
			t.Fatalf(`Report().Manifolds["nested"].Engine = nil, want the inner engine's report`)
		}
		if got := nested.Manifolds["leaf"].State; got != dependency.StateStarted {
			t.Errorf(`nested report: "leaf" is %v, want started`, got)
		}
		if r.Manifolds["plain"].Engine != nil {
			t.Errorf(`Report().Manifolds["plain"].Engine is set, want nil for a worker that is no engine`)
		}
		data, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("json.Marshal(report) = %v", err)
		}
		var back dependency.Report
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("json.Unmarshal(report) = %v", err)
		}
		if e := back.Manifolds["nested"].Engine; e == nil || e.Manifolds["leaf"].State != dependency.StateStarted {
			t.Errorf("report after a JSON round trip lost the nested engine's manifolds: %s", data)
		}
	})
}

// The report counts what the engine did to each manifold: starts, failures
// (not a stop for ErrMissing, ErrBounce or a bounce) and bounces.
func TestReportCounts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		installChain(t, engine, h.manifold, "a", "b")
		synctest.Wait()
		h.worker("a").fail(errFailed) // b is bounced, and bounced again when a is back
		advance(errorDelay + bounceDelay)
		h.worker("b").fail(errFailed)
		advance(errorDelay)
		h.worker("b").fail(dependency.ErrBounce) // no failure, no bounce
		advance(bounceDelay)
		r := engine.Report()
		for name, want := range map[string][3]int{"a": {2, 1, 0}, "b": {5, 1, 2}} {
			m := r.Manifolds[name]
			if got := [3]int{m.StartCount, m.Failures, m.Bounces}; got != want {
				t.Errorf("%q starts, failures, bounces = %v, want %v", name, got, want)
			}
		}
		stopEngine(t, engine, nil)
	})
}
