package dependency_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

func TestChainStartsInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
		err := dependency.Install(engine, dependency.Manifolds{
			"a": h.manifold("a"),
			"b": h.manifold("b", "a"),
			"c": h.manifold("c", "b"),
		})
		if err != nil {
			t.Fatalf("Install = %v", err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		for _, name := range []string{"a", "b", "c"} {
			if got := h.startCount(name); got != 1 {
				t.Errorf("starts of %q = %d, want 1", name, got)
			}
		}
		if c := h.worker("c"); c == nil || c.inputs["b"] != h.worker("b") {
			t.Errorf("c runs on %v, want b's current worker", c)
		}
		// a waits out its error delay; meanwhile b and c run without it.
		h.worker("a").fail(errFailed)
		time.Sleep(500 * time.Millisecond)
		synctest.Wait()
		if b := h.worker("b"); b == nil || b.inputs["a"] != nil {
			t.Errorf("b = %v, want running without a", b)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		for name, want := range map[string]int{"a": 2, "b": 3, "c": 3} {
			if got := h.startCount(name); got != want {
				t.Errorf("starts of %q = %d, want %d", name, got, want)
			}
		}
		stopEngine(t, engine, nil)
		h.checkNoDoubles(t)
		if n := h.liveCount(); n != 0 {
			t.Errorf("%d workers alive after Wait", n)
		}
	})
}

func TestZeroBounceDelayStartsDependents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := stopOnCleanup(t, dependency.NewEngine(nil, time.Second, 0))
		// b is held back while a starts, then bounced with no delay.
		err := dependency.Install(engine, dependency.Manifolds{
			"a": h.manifold("a"),
			"b": h.manifold("b", "a"),
		})
		if err != nil {
			t.Fatalf("Install = %v, want nil", err)
		}
		synctest.Wait()
		a, b := h.worker("a"), h.worker("b")
		if a == nil || b == nil || b.inputs["a"] != a {
			t.Fatalf("workers a = %v, b = %v, want both running, b on a", a, b)
		}
		if got := h.startCount("b"); got != 1 {
			t.Errorf("starts of %q = %d, want 1", "b", got)
		}
		stopEngine(t, engine, nil)
	})
}
