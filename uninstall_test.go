package dependency_test

// Uninstall, and installing a name again.

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

func TestUninstallRunningManifold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{ErrorDelay: time.Second, BounceDelay: 100 * time.Millisecond})
		mustInstallAll(t, engine, dependency.Manifolds{
			"a": h.manifold("a"),
			"b": h.manifold("b", "a"),
			"c": h.requiring("c", "a"),
		})
		advance(time.Second)
		oldA := h.worker("a")
		mustUninstall(t, engine, "a")
		synctest.Wait()
		if w := h.worker("a"); w != nil {
			t.Errorf("worker of a after Uninstall = %v, want none", w)
		}
		if err := oldA.Wait(); err != nil {
			t.Errorf("old a's Wait() = %v, want nil", err)
		}
		advance(100 * time.Millisecond)
		if b := h.worker("b"); b == nil || b.seq != 2 || b.inputs["a"] != nil {
			t.Errorf("b after Uninstall = %+v, want its second worker, without a", b)
		}
		if w, got := h.worker("c"), h.attemptCount("c"); w != nil || got != 2 {
			t.Errorf("c after Uninstall: worker %v, %d start calls; want none, 2 (the second missing a)", w, got)
		}
		r := engine.Report()
		if _, ok := r.Manifolds["a"]; ok {
			t.Errorf("Report() lists a after Uninstall")
		}
		if got := r.Manifolds["b"].Missing; len(got) != 1 || got[0] != "a" {
			t.Errorf("Report() says b misses %v, want [a]", got)
		}

		mustInstall(t, engine, "a", h.manifold("a"))
		advance(100 * time.Millisecond)
		newA := h.worker("a")
		if newA == nil || newA.seq != 2 {
			t.Fatalf("a after reinstall = %+v, want its second worker", newA)
		}
		for _, name := range []string{"b", "c"} {
			if w := h.worker(name); w == nil || w.inputs["a"] != newA {
				t.Errorf("%s after reinstall = %+v, want running on the new a", name, w)
			}
		}
		stopEngine(t, engine, nil)
		h.checkNoDoubles(t)
	})
}

func TestReinstallWhileOldWorkerStops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{ErrorDelay: time.Second, BounceDelay: 100 * time.Millisecond})
		h.ignoreKill("a")
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		oldA := h.worker("a")
		mustUninstall(t, engine, "a")
		mustInstall(t, engine, "a", h.manifold("a"))
		advance(time.Hour)
		if got := h.attemptCount("a"); got != 1 {
			t.Fatalf("start calls of a while its old worker runs = %d, want 1", got)
		}
		if got := engine.Report().Manifolds["a"].State; got != dependency.StateStopping {
			t.Errorf("state of a while its old worker runs = %v, want stopping", got)
		}
		oldA.fail(nil)
		expectAttemptAfter(t, h, "a", 100*time.Millisecond)
		if w := h.worker("a"); w == nil || w.seq != 2 {
			t.Fatalf("a after its old worker stopped = %+v, want its second worker", w)
		}
		h.worker("a").fail(nil) // it ignores Kill
		stopEngine(t, engine, nil)
		h.checkNoDoubles(t)
	})
}

func TestUninstallErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{})
		h.ignoreKill("a")
		mustInstall(t, engine, "a", h.manifold("a", "input"))
		for _, name := range []string{"unknown", "input", ""} {
			if err := engine.Uninstall(name); !errors.Is(err, dependency.ErrNotInstalled) {
				t.Errorf("Uninstall(%q) = %v, want ErrNotInstalled", name, err)
			}
		}
		synctest.Wait()
		engine.Kill()
		synctest.Wait() // a ignores Kill, so the engine is still shutting down
		if err := engine.Uninstall("a"); !errors.Is(err, dependency.ErrShuttingDown) {
			t.Errorf(`Uninstall("a") while shutting down = %v, want ErrShuttingDown`, err)
		}
		if err := engine.Install("b", h.manifold("b")); !errors.Is(err, dependency.ErrShuttingDown) {
			t.Errorf(`Install("b") while shutting down = %v, want ErrShuttingDown`, err)
		}
		h.worker("a").fail(nil)
		if err := engine.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
		if err := engine.Uninstall("a"); !errors.Is(err, dependency.ErrShuttingDown) {
			t.Errorf(`Uninstall("a") after Wait = %v, want ErrShuttingDown`, err)
		}
	})
}

func TestUninstallRightAfterKill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		for i := range 20 {
			engine := newEngine(t, dependency.EngineConfig{})
			mustInstall(t, engine, "a", h.manifold("a"))
			synctest.Wait()
			engine.Kill()
			if err := engine.Uninstall("a"); !errors.Is(err, dependency.ErrShuttingDown) {
				t.Errorf(`engine %d: Uninstall("a") after Kill = %v, want ErrShuttingDown`, i, err)
			}
			if err := engine.Install("b", h.manifold("b")); !errors.Is(err, dependency.ErrShuttingDown) {
				t.Errorf(`engine %d: Install("b") after Kill = %v, want ErrShuttingDown`, i, err)
			}
			if err := engine.Wait(); err != nil {
				t.Errorf("engine %d: Wait() = %v, want nil", i, err)
			}
		}
	})
}
