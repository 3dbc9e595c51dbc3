package dependency_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// getCall is one call of a getter and what it returned.
type getCall struct {
	name string
	out  any
	err  error
}

func TestGetResource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)

		plain := h.manifold("plain")
		plain.Output = nil
		broken := h.manifold("broken")
		h.failStart("broken", func() error { return errFailed })
		var outputCalls record[getCall] // Output's in and out
		withOutput := h.manifold("output")
		withOutput.Output = func(in dependency.Worker, out interface{}) error {
			outputCalls.add(getCall{name: in.(*testWorker).name, out: out})
			if s, ok := out.(*string); ok {
				*s = "resource"
			}
			return nil
		}

		var calls record[[]getCall]
		user := dependency.Manifold{
			Inputs: []string{"plain", "output", "broken", "absent"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var w *testWorker
				var s string
				calls.add([]getCall{
					{"undeclared", &w, get("undeclared", &w)},
					{"absent", &w, get("absent", &w)},
					{"absent", nil, get("absent", nil)},
					{"broken", &w, get("broken", &w)},
					{"broken", nil, get("broken", nil)},
					{"plain", &w, get("plain", &w)},
					{"plain", nil, get("plain", nil)},
					{"output", &s, get("output", &s)},
					{"output", nil, get("output", nil)},
				})
				if s != "resource" {
					t.Errorf(`get("output", &s) set s = %q, want "resource"`, s)
				}
				return newIdleWorker(), nil
			},
		}
		mustInstallAll(t, engine, dependency.Manifolds{
			"plain":  plain,
			"output": withOutput,
			"broken": broken,
			"user":   user,
		})
		advance(bounceDelay)

		if n := calls.len(); n != 1 {
			t.Fatalf("starts of user = %d, want 1", n)
		}
		got := calls.all()[0]
		for i, want := range []error{
			dependency.ErrMissing, dependency.ErrMissing, dependency.ErrMissing, // undeclared, absent
			dependency.ErrMissing, dependency.ErrMissing, // broken: installed, not running
			dependency.ErrMissing, nil, // plain: no Output
			nil, nil, // output
		} {
			if i >= len(got) {
				t.Fatalf("the start func made %d getter calls, want 9", len(got))
			}
			call := got[i]
			if (want == nil) != (call.err == nil) || !errors.Is(call.err, want) {
				t.Errorf("get(%q, %T) = %v, want %v", call.name, call.out, call.err, want)
			}
		}
		for i, call := range got {
			if call.err == dependency.ErrMissing {
				continue
			}
			if errors.Is(call.err, dependency.ErrMissing) {
				t.Errorf("get(%q, %T) #%d = %v, want ErrMissing itself (==)", call.name, call.out, i, call.err)
			}
		}
		// A presence check is answered without Output.
		outputs := outputCalls.all()
		if len(outputs) != 1 || outputs[0].name != "output" {
			t.Fatalf("Output calls %v, want one with the worker of %q", outputs, "output")
		}
		if _, ok := outputs[0].out.(*string); !ok {
			t.Errorf("Output's out = %T, want *string", outputs[0].out)
		}
		stopEngine(t, engine, nil)
	})
}

func TestGetResourceExpires(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		var saved record[dependency.GetResourceFunc]
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		mustInstall(t, engine, "b", dependency.Manifold{
			Inputs: []string{"a"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var w *testWorker
				if err := get("a", &w); err != nil {
					t.Errorf(`get("a") during start = %v, want nil`, err)
				}
				saved.add(get)
				return newIdleWorker(), nil
			},
		})
		synctest.Wait()

		if n := saved.len(); n != 1 {
			t.Fatalf("starts of b = %d, want 1", n)
		}
		var w *testWorker
		for _, name := range []string{"a", "undeclared"} {
			if err := saved.all()[0](name, &w); !errors.Is(err, dependency.ErrExpired) {
				t.Errorf("get(%q) after start = %v, want an error matching ErrExpired", name, err)
			}
		}
		if w != nil {
			t.Errorf("expired get set out to %v, want it untouched", w)
		}
		stopEngine(t, engine, nil)
	})
}

func TestErrMissingNamesInputAndReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 0)
		mustInstall(t, engine, "plain", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { return h.started("plain", nil, nil) },
		})
		synctest.Wait()
		errs := make(chan []error, 1)
		mustInstall(t, engine, "m", dependency.Manifold{
			Inputs: []string{"plain", "absent"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var n int
				errs <- []error{get("undeclared", nil), get("absent", nil), get("plain", &n), get("plain", nil)}
				return h.started("m", nil, nil)
			},
		})
		synctest.Wait()
		got := <-errs
		for i, err := range got[:3] {
			if err != dependency.ErrMissing {
				t.Errorf("error %d = %v, want ErrMissing itself", i, err)
			}
		}
		if got[3] != nil {
			t.Errorf("get(\"plain\", nil) = %v, want nil: a presence check of a running input", got[3])
		}
		// The reasons are in the report, one per request, in order.
		resources := engine.Report().Manifolds["m"].Resources
		want := []struct{ name, typ, err string }{
			{"undeclared", "", `"m" asked for "undeclared", which is not among its Inputs (add it to Inputs): dependency not available`},
			{"absent", "", `input "absent" not running: dependency not available`},
			{"plain", "int", `input "plain" has no Output, so it cannot give int: dependency not available`},
			{"plain", "", ""},
		}
		if len(resources) != len(want) {
			t.Fatalf("Resources = %v, want %d requests", resources, len(want))
		}
		for i, w := range want {
			r := resources[i]
			if r.Name != w.name || r.Type != w.typ || errorText(r.Err) != w.err {
				t.Errorf("Resources[%d] = {%q %q %v}, want {%q %q %s}", i, r.Name, r.Type, r.Err, w.name, w.typ, w.err)
			}
			if w.err != "" && !errors.Is(r.Err, dependency.ErrMissing) {
				t.Errorf("Resources[%d].Err = %v, want it to wrap ErrMissing", i, r.Err)
			}
		}
		stopEngine(t, engine, nil)
	})
}

// checkPanicError fails t unless err wraps ErrPanic through a *PanicError
// with value, whose stack shows where the panic happened.
func checkPanicError(t *testing.T, err error, value any, where string) {
	t.Helper()
	if !errors.Is(err, dependency.ErrPanic) {
		t.Errorf("error = %v, want one matching ErrPanic", err)
	}
	var p *dependency.PanicError
	if !errors.As(err, &p) {
		t.Fatalf("error = %#v, want a *PanicError", err)
	}
	if p.Value != value {
		t.Errorf("PanicError.Value = %v, want %v", p.Value, value)
	}
	if !bytes.Contains(p.Stack, []byte(where)) {
		t.Errorf("PanicError.Stack does not mention %s:\n%s", where, p.Stack)
	}
}

func TestStartPanicIsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "other", h.manifold("other"))
		panicking := h.manifold("a")
		start := panicking.Start
		var calls record[bool]
		panicking.Start = func(get dependency.GetResourceFunc) (dependency.Worker, error) {
			calls.add(true)
			if calls.len() == 1 {
				panic("boom")
			}
			return start(get)
		}
		mustInstall(t, engine, "a", panicking)
		synctest.Wait()

		report := engine.Report()
		if report.State != dependency.StateStarted {
			t.Errorf("engine state = %v, want %v", report.State, dependency.StateStarted)
		}
		checkPanicError(t, report.Manifolds["a"].Err, "boom", "TestStartPanicIsError")
		h.checkLive(t, map[string]int{"other": 1, "a": 0})
		advance(errorDelay - 1)
		h.checkLive(t, map[string]int{"other": 1, "a": 0})
		advance(1)
		h.checkLive(t, map[string]int{"other": 1, "a": 1})
		stopEngine(t, engine, nil)
	})
}

func TestOutputPanicIsError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		errBoom := errors.New("boom")
		a := h.manifold("a")
		a.Output = func(dependency.Worker, interface{}) error { panic(errBoom) }
		mustInstall(t, engine, "a", a)
		synctest.Wait()
		var errs record[error]
		mustInstall(t, engine, "b", dependency.Manifold{
			Inputs: []string{"a"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var w *testWorker
				err := get("a", &w)
				errs.add(err)
				return nil, err
			},
		})
		synctest.Wait()

		if n := errs.len(); n != 1 {
			t.Fatalf("starts of b = %d, want 1", n)
		}
		err := errs.all()[0]
		checkPanicError(t, err, errBoom, "TestOutputPanicIsError")
		if !errors.Is(err, errBoom) {
			t.Errorf("error = %v, want one matching the panic value %v", err, errBoom)
		}
		if got := engine.Report().Manifolds["b"].Err; got != err {
			t.Errorf("b's error = %v, want the getter's %v", got, err)
		}
		// b fails like any start: it is tried again after the error delay.
		advance(errorDelay - 1)
		if n := errs.len(); n != 1 {
			t.Errorf("starts of b before the error delay = %d, want 1", n)
		}
		advance(1)
		if n := errs.len(); n != 2 {
			t.Errorf("starts of b after the error delay = %d, want 2", n)
		}
		h.checkLive(t, map[string]int{"a": 1})
		stopEngine(t, engine, nil)
	})
}

func TestWorkerStartedWhileBouncedIsKilled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		a := h.worker("a")

		proceed := make(chan struct{})
		var seen record[*testWorker] // the a each start of b got
		var workers record[*funcWorker]
		mustInstall(t, engine, "b", dependency.Manifold{
			Inputs: []string{"a"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				<-proceed
				var in *testWorker
				_ = get("a", &in)
				seen.add(in)
				w := newFuncWorker(func(dying <-chan struct{}) error { <-dying; return nil })
				workers.add(w)
				return w, nil
			},
		})
		synctest.Wait() // b's start waits for proceed

		// a fails while b starts: b is bounced before it has a worker.
		a.fail(errFailed)
		synctest.Wait()
		close(proceed)
		synctest.Wait()
		if n := workers.len(); n != 1 {
			t.Fatalf("starts of b = %d, want 1", n)
		}
		if got := seen.all()[0]; got != a {
			t.Errorf("b's start got a = %v, want the snapshot's worker %v", got, a)
		}
		select {
		case <-workers.all()[0].tomb.Dead():
		default:
			t.Errorf("b's worker still runs, want it killed at once")
		}

		advance(bounceDelay - 1)
		if n := workers.len(); n != 1 {
			t.Errorf("starts of b before the bounce delay = %d, want 1", n)
		}
		advance(1)
		if n, last := seen.len(), seen.all()[seen.len()-1]; n != 2 || last != nil {
			t.Errorf("starts of b = %d, the last with a = %v, want 2, the last without a", n, last)
		}
		stopEngine(t, engine, nil)
	})
}

func TestStartFailureRestartsAfterErrorDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		h.failStart("a", func() error { return errFailed })
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", h.manifold("b", "a"))
		synctest.Wait()
		h.checkLive(t, map[string]int{"a": 0, "b": 1}) // b runs without a

		for i := 1; i <= 3; i++ {
			if n := h.attemptCount("a"); n != i {
				t.Errorf("starts of a tried = %d, want %d", n, i)
			}
			advance(errorDelay - 1)
			if n := h.attemptCount("a"); n != i {
				t.Errorf("starts of a tried before the error delay = %d, want %d", n, i)
			}
			advance(1)
		}
		// A failed start is no change for b: it keeps its worker.
		h.checkLive(t, map[string]int{"a": 0, "b": 1})

		h.failStart("a", func() error { return nil })
		advance(errorDelay)
		h.checkLive(t, map[string]int{"a": 1, "b": 0})
		advance(bounceDelay)
		h.checkLive(t, map[string]int{"a": 1, "b": 2})
		h.checkCurrent(t)
		stopEngine(t, engine, nil)
	})
}

func TestLoopNotBlockedByStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		proceed := make(chan struct{})
		mustInstall(t, engine, "slow", gateStart(h.manifold("slow"), proceed))
		synctest.Wait()

		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		h.checkLive(t, map[string]int{"slow": 0, "a": 1})
		if got := engine.Report().Manifolds["slow"].State; got != dependency.StateStarting {
			t.Errorf("state of slow = %v, want %v", got, dependency.StateStarting)
		}
		close(proceed)
		synctest.Wait()
		h.checkLive(t, map[string]int{"slow": 1, "a": 1})
		stopEngine(t, engine, nil)
	})
}

func TestOneWorkerAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()

		// b's workers stop only when released after being killed.
		release := make(chan struct{})
		var starts record[bool]
		mustInstall(t, engine, "b", dependency.Manifold{
			Inputs: []string{"a"},
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				starts.add(true)
				return newFuncWorker(func(dying <-chan struct{}) error {
					<-dying
					<-release
					return nil
				}), nil
			},
		})
		synctest.Wait()

		h.worker("a").fail(errFailed) // bounces b, which does not stop
		advance(time.Hour)
		if n := starts.len(); n != 1 {
			t.Errorf("starts of b while its worker stops = %d, want 1", n)
		}
		release <- struct{}{}
		synctest.Wait()
		advance(bounceDelay - 1)
		if n := starts.len(); n != 1 {
			t.Errorf("starts of b before the bounce delay = %d, want 1", n)
		}
		advance(1)
		if n := starts.len(); n != 2 {
			t.Errorf("starts of b after the bounce delay = %d, want 2", n)
		}
		close(release)
		stopEngine(t, engine, nil)
	})
}

func TestStartContextCancelledOnKill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{})
		mustInstall(t, engine, "a", h.blocking("a"))
		synctest.Wait()
		if got := h.attemptCount("a"); got != 1 {
			t.Fatalf("start calls of a = %d, want 1", got)
		}
		killed := time.Now()
		engine.Kill()
		if err := engine.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
		if d := time.Since(killed); d != 0 {
			t.Errorf("Wait() returned %v after Kill, want at once", d)
		}
	})
}

func TestStartContextCancelledWhenEngineStopsManifold(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(t *testing.T, h *harness, engine dependency.Engine)
	}{
		{"bounce", func(t *testing.T, h *harness, engine dependency.Engine) { h.worker("a").fail(dependency.ErrBounce) }},
		{"uninstall", func(t *testing.T, h *harness, engine dependency.Engine) {
			if err := engine.Uninstall("b"); err != nil {
				t.Errorf(`Uninstall("b") = %v, want nil`, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				var log eventLog
				engine := newEngine(t, dependency.EngineConfig{BounceDelay: time.Second, Observer: log.observe})
				mustInstall(t, engine, "a", h.manifold("a"))
				synctest.Wait()
				mustInstall(t, engine, "b", h.blocking("b", "a"))
				advance(time.Hour)
				stopped := time.Now()
				tc.stop(t, h, engine)
				synctest.Wait()
				ends := log.of("b", dependency.EventStopped)
				if len(ends) != 1 || !errors.Is(ends[0].Err, context.Canceled) || !ends[0].Time.Equal(stopped) {
					t.Errorf("stops of b = %+v, want one at %v, cancelled", ends, stopped)
				}
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestStartContextLivesWithWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{BounceDelay: time.Second})
		mustInstallAll(t, engine, dependency.Manifolds{
			"a": h.manifold("a"),
			"b": h.withContext("b", "a"),
		})
		advance(time.Hour)
		first := h.worker("b")
		if err := first.ctx.Err(); err != nil {
			t.Fatalf("ctx of running b = %v, want alive", err)
		}
		h.worker("a").fail(dependency.ErrBounce)
		synctest.Wait()
		if err := first.ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("ctx of bounced b = %v, want cancelled", err)
		}
		advance(2 * time.Second)
		second := h.worker("b")
		if second == nil || second.seq != 2 || second.ctx.Err() != nil {
			t.Fatalf("b after the bounce = %+v, want its second worker, ctx alive", second)
		}
		stopEngine(t, engine, nil)
		if err := second.ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("ctx of b after Wait = %v, want cancelled", err)
		}
	})
}

// errorText returns err's message, or "" for nil.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
