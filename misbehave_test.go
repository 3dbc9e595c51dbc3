package dependency_test

import (
	"context"
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
				return newTestWorker("old a", 1, nil, func(*testWorker) {}), nil
			},
		})
		synctest.Wait()
		if err := engine.Uninstall("a"); err != nil {
			t.Fatalf(`Uninstall("a") = %v, want nil`, err)
		}
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
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		if got := engine.Report().Manifolds["a"].StartCount; got != 1 {
			t.Errorf("new a after the bounce delay: StartCount %d, want 1", got)
		}
		if h.worker("a") == nil {
			t.Errorf("new a has no worker after the bounce delay")
		}
		stopEngine(t, engine, nil)
	})
}
