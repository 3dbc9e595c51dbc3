package dependency_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// A start that is cancelled by Uninstall but returns a worker anyway, after
// the name was installed again: the worker is killed at once and counts for
// the manifold that is gone, not for the new one.
func TestStartIgnoringCancelAfterReinstall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
		proceed := make(chan struct{})
		mustInstall(t, engine, "a", dependency.Manifold{
			StartContext: func(ctx context.Context, get dependency.GetResourceFunc) (dependency.Worker, error) {
				<-ctx.Done()
				<-proceed
				return newTestWorker("old a", 1, nil, nil, false, func(*testWorker) {}), nil
			},
		})
		synctest.Wait()
		mustUninstall(t, engine, "a")
		mustInstall(t, engine, "a", h.manifold("a"))
		close(proceed)
		synctest.Wait()
		report := engine.Report().Manifolds["a"]
		if report.StartCount != 0 || !report.Started.IsZero() {
			t.Errorf("new a: StartCount %d, Started %v, want 0 and zero: the old start's worker is not its own", report.StartCount, report.Started)
		}
		if report.State != dependency.StateStarting {
			t.Errorf("new a: State %v, want starting", report.State)
		}
		advance(10 * time.Millisecond)
		if got := engine.Report().Manifolds["a"].StartCount; got != 1 {
			t.Errorf("new a after the bounce delay: StartCount %d, want 1", got)
		}
		if h.worker("a") == nil {
			t.Errorf("new a has no worker after the bounce delay")
		}
		stopEngine(t, engine, nil)
	})
}

// A worker whose Kill blocks does not stall the engine: it keeps serving
// calls and starting workers, and its Wait returns once the Kill returns.
func TestKillBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, time.Second)
		release := make(chan struct{})
		mustInstall(t, engine, "stuck", startWith(stuckWorker(release)))
		synctest.Wait()
		mustUninstall(t, engine, "stuck")
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		if h.worker("a") == nil {
			t.Errorf("a has no worker while stuck's Kill blocks")
		}
		waited := killInBackground(engine)
		synctest.Wait()
		checkWaiting(t, waited, "while a worker's Kill blocks")
		close(release)
		if err := <-waited; err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
		if n := h.liveCount(); n != 0 {
			t.Errorf("%d workers alive after Wait, want 0", n)
		}
	})
}

// With StopTimeout, Wait gives up on a worker whose Kill blocks and names it.
func TestKillBlocksStopTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := newEngine(t, dependency.EngineConfig{StopTimeout: time.Minute})
		release := make(chan struct{})
		defer close(release) // lets the abandoned goroutines end
		mustInstall(t, engine, "stuck", startWith(stuckWorker(release)))
		synctest.Wait()
		engine.Kill()
		time.Sleep(time.Minute)
		if err := engine.Wait(); !errors.Is(err, dependency.ErrStopTimeout) {
			t.Errorf("Wait() = %v, want ErrStopTimeout", err)
		}
		if got := engine.Report().Manifolds["stuck"].State; got != dependency.StateStopping {
			t.Errorf("stuck: State after Wait = %v, want stopping", got)
		}
	})
}

// A worker whose Wait returns at once, before any Kill, has completed (or
// failed, with an error): the engine treats it as any worker that stops.
func TestWaitReturnsBeforeKill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, time.Second)
		done := &badWorker{kill: func() {}, wait: func() error { return nil }}
		failed := &badWorker{kill: func() {}, wait: func() error { return errFailed }}
		mustInstall(t, engine, "done", startWith(done))
		mustInstall(t, engine, "failed", startWith(failed))
		mustInstall(t, engine, "d", h.manifold("d", "done"))
		advance(2500 * time.Millisecond)
		report := engine.Report()
		if got := report.Manifolds["done"]; got.State != dependency.StateStopped || got.StartCount != 1 || got.Err != nil {
			t.Errorf("done: %v, %d starts, Err %v; want stopped after 1 start, no error", got.State, got.StartCount, got.Err)
		}
		if got := report.Manifolds["failed"]; got.StartCount != 3 || !errors.Is(got.Err, errFailed) {
			t.Errorf("failed: %d starts, Err %v; want 3 starts in 2.5s, errFailed", got.StartCount, got.Err)
		}
		if d := h.worker("d"); d == nil {
			t.Errorf("d has no worker; want it running without done")
		}
		stopEngine(t, engine, nil)
	})
}

// A worker whose Wait panics stops with a *PanicError, handled as a
// failure.
func TestWaitPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var seen []error
		engine := newEngine(t, dependency.EngineConfig{
			ErrorDelay: time.Second,
			IsFatal:    func(err error) bool { seen = append(seen, err); return false },
		})
		mustInstall(t, engine, "p", startWith(&badWorker{kill: func() {}, wait: func() error { panic("boom") }}))
		synctest.Wait()
		var perr *dependency.PanicError
		if len(seen) != 1 || !errors.Is(seen[0], dependency.ErrPanic) || !errors.As(seen[0], &perr) || perr.Value != "boom" {
			t.Fatalf("errors seen by IsFatal = %v, want one *PanicError of \"boom\"", seen)
		}
		if got := engine.Report().Manifolds["p"].Err; !errors.Is(got, dependency.ErrPanic) {
			t.Errorf("p: Err %v, want ErrPanic", got)
		}
		advance(time.Second)
		if got := engine.Report().Manifolds["p"].StartCount; got != 2 {
			t.Errorf("p: %d starts after the error delay, want 2", got)
		}
		stopEngine(t, engine, nil)
	})
}

// A start that returns neither a worker nor an error fails with an error
// wrapping ErrInvalid, and is restarted after the error delay.
func TestStartReturnsNilWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := dependency.NewEngine(nil, time.Second, time.Second)
		starts := 0
		mustInstall(t, engine, "nil", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { starts++; return nil, nil },
		})
		synctest.Wait()
		if got := engine.Report().Manifolds["nil"].Err; !errors.Is(got, dependency.ErrInvalid) {
			t.Errorf("nil: Err %v, want ErrInvalid", got)
		}
		advance(time.Second)
		if starts != 2 {
			t.Errorf("start called %d times after the error delay, want 2", starts)
		}
		stopEngine(t, engine, nil)
	})
}

// A start that returns the engine itself as its worker fails with an error
// wrapping ErrInvalid: waiting for the engine from inside it would never
// end.
func TestStartReturnsEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := dependency.NewEngine(nil, time.Second, time.Second)
		mustInstall(t, engine, "self", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { return engine, nil },
		})
		synctest.Wait()
		report := engine.Report().Manifolds["self"]
		if !errors.Is(report.Err, dependency.ErrInvalid) || report.StartCount != 0 {
			t.Errorf("self: Err %v, %d starts; want ErrInvalid, 0 starts", report.Err, report.StartCount)
		}
		stopEngine(t, engine, nil)
	})
}

// A worker whose Kill panics: the panic is recovered, and the worker's Wait
// decides when it has stopped.
func TestKillPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := dependency.NewEngine(nil, time.Second, time.Second)
		done := make(chan struct{})
		mustInstall(t, engine, "p", startWith(&badWorker{
			kill: func() { close(done); panic("boom") },
			wait: func() error { <-done; return nil },
		}))
		synctest.Wait()
		stopEngine(t, engine, nil)
	})
}

// A worker whose Kill panics without stopping it is stuck: StopTimeout
// gives up on it.
func TestKillPanicsStopTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := newEngine(t, dependency.EngineConfig{StopTimeout: time.Minute})
		done := make(chan struct{})
		defer close(done) // lets the abandoned goroutine end
		mustInstall(t, engine, "p", startWith(&badWorker{
			kill: func() { panic("boom") },
			wait: func() error { <-done; return nil },
		}))
		synctest.Wait()
		engine.Kill()
		time.Sleep(time.Minute)
		if err := engine.Wait(); !errors.Is(err, dependency.ErrStopTimeout) {
			t.Errorf("Wait() = %v, want ErrStopTimeout", err)
		}
	})
}
