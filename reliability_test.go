package dependency_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// A dependent and its input due at the same instant, the dependent queued
// first: the input's error delay is over, so the dependent waits for it
// instead of starting without it and being bounced at once.
func TestDueTogetherStartsInputFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, time.Second)
		mustInstall(t, engine, "i", h.manifold("i"))
		mustInstall(t, engine, "d", h.manifold("d", "i"))
		time.Sleep(time.Second)
		synctest.Wait()
		h.worker("d").fail(dependency.ErrBounce) // d due in 1s, queued first
		synctest.Wait()
		h.worker("i").fail(errFailed) // i due in 1s too
		synctest.Wait()

		time.Sleep(time.Second)
		synctest.Wait()
		if got := h.startCount("i"); got != 2 {
			t.Errorf("starts of i after its error delay = %d, want 2", got)
		}
		if got := h.startCount("d"); got != 1 {
			t.Errorf("starts of d when i restarts = %d, want 1: d waits for i", got)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if got := h.startCount("d"); got != 2 {
			t.Errorf("starts of d a bounce delay later = %d, want 2", got)
		}
		if d := h.worker("d"); d == nil || d.inputs["i"] != h.worker("i") {
			t.Errorf("d = %v, want running on i's current worker", d)
		}
		stopEngine(t, engine, nil)
		h.checkNoDoubles(t)
	})
}
