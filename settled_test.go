package dependency_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// settledIn starts WaitSettled on a goroutine of its own and returns a
// channel that gets its error.
func settledIn(ctx context.Context, engine dependency.Engine) <-chan error {
	done := make(chan error, 1)
	go func() { done <- dependency.WaitSettled(ctx, engine) }()
	return done
}

// checkNotYet fails t if waited has an answer already.
func checkNotYet(t *testing.T, waited <-chan error, while string) {
	t.Helper()
	select {
	case err := <-waited:
		t.Fatalf("WaitSettled() = %v %s, want it still waiting", err, while)
	default:
	}
}

// An engine settles once a batch has started: every manifold running,
// gated, completed or waiting for an input that is not running.
func TestWaitSettledAfterInstall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		gate := make(chan struct{})
		mustInstallAll(t, engine, dependency.Manifolds{
			"a":       gateStart(h.manifold("a"), gate),
			"b":       h.manifold("b", "a"),
			"waiting": h.requiring("waiting", "absent"),
			"gated":   gatedOn(h.manifold("gated"), "absent-flag"),
			"done": {Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return dependency.NewWorker(func(context.Context) error { return nil }), nil
			}},
		})
		waited := settledIn(t.Context(), engine)
		synctest.Wait()
		checkNotYet(t, waited, "while a starts")
		if engine.Report().Settled {
			t.Errorf("Report().Settled = true while a starts")
		}
		close(gate)
		synctest.Wait()
		if err := <-waited; err != nil {
			t.Errorf("WaitSettled() = %v, want nil", err)
		}
		if !engine.Report().Settled {
			t.Errorf("Report().Settled = false once every manifold runs, is gated, done or waiting")
		}
		stopEngine(t, engine, nil)
	})
}

// A manifold waiting out an error delay is not settled; once it runs
// again, the engine is.
func TestWaitSettledNotWhileRestartDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		h.worker("a").fail(errFailed)
		synctest.Wait()
		waited := settledIn(t.Context(), engine)
		advance(errorDelay - 1)
		checkNotYet(t, waited, "while a restart is due")
		if engine.Report().Settled {
			t.Errorf("Report().Settled = true while a restart is due")
		}
		advance(1)
		if err := <-waited; err != nil {
			t.Errorf("WaitSettled() = %v, want nil", err)
		}
		stopEngine(t, engine, nil)
	})
}

// WaitSettled honours its context, and returns Wait's error at once on an
// engine that has stopped, or stops while it waits.
func TestWaitSettledContextAndStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, isFatal)
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		h.worker("a").fail(errFailed)
		synctest.Wait()

		ctx, cancel := context.WithTimeout(t.Context(), time.Millisecond)
		defer cancel()
		if err := dependency.WaitSettled(ctx, engine); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitSettled(ctx) = %v, want ctx's error", err)
		}

		waited := settledIn(t.Context(), engine)
		synctest.Wait()
		checkNotYet(t, waited, "while a restart is due")
		advance(errorDelay)
		if err := <-waited; err != nil {
			t.Fatalf("WaitSettled() = %v, want nil", err)
		}
		h.worker("a").fail(errFatal)
		synctest.Wait()
		if err := dependency.WaitSettled(t.Context(), engine); !errors.Is(err, errFatal) || !errors.Is(err, dependency.ErrShuttingDown) {
			t.Errorf("WaitSettled() of a stopped engine = %v, want Wait's error and ErrShuttingDown", err)
		}
	})
}
