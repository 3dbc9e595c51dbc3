package dependency_test

// Faults that TestChaos found in flags, each pinned by a minimal test that
// failed until the engine was mended.

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// A manifold that lists a flag as an input too is not started on the
// flag's old answer when the flag's worker fails: it stays gated.
func TestFlagAlsoInputNotStartedWhenFlagFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), openFlags("f")
		engine := newTestEngine(t, nil)
		mustInstallAll(t, engine, dependency.Manifolds{
			"f": h.flag("f", answers),
			"g": gatedOn(h.manifold("g", "f"), "f"),
		})
		synctest.Wait()
		h.worker("g").fail(nil) // completed: g has no worker, and waits for f to change
		synctest.Wait()
		h.worker("f").fail(errFailed)
		synctest.Wait()
		h.checkAttempts(t, map[string]int{"g": 1})
		checkGated(t, engine, "g", "f")
		stopEngine(t, engine, nil)
	})
}

// A manifold that lists a flag as an input too is not started on the
// flag's old answer when the flag's next worker answers false.
func TestFlagAlsoInputNotStartedWhenAnswerTurnsFalse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), openFlags("f")
		engine := newTestEngine(t, nil)
		mustInstallAll(t, engine, dependency.Manifolds{
			"f": h.flag("f", answers),
			"g": gatedOn(h.manifold("g", "f"), "f"),
		})
		synctest.Wait()
		h.worker("g").fail(nil) // completed: g has no worker, and waits for f to change
		synctest.Wait()
		answers.set("f", false)
		h.worker("f").fail(dependency.ErrBounce) // keeps its answer until the next worker answers false
		advance(bounceDelay)
		h.checkLive(t, map[string]int{"f": 2})
		h.checkAttempts(t, map[string]int{"g": 1})
		checkGated(t, engine, "g", "f")
		stopEngine(t, engine, nil)
	})
}

// A flag that is gated itself, and whose own flag closes while it waits
// out the bounce delay of a restart, is closed when it finds itself gated:
// the manifolds it admitted stop, and none starts on its old answer.
func TestFlagRestartingGatedStaysOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), openFlags("g", "f")
		engine := newTestEngine(t, nil)
		mustInstallAll(t, engine, dependency.Manifolds{
			"g": h.flag("g", answers),
			"f": gatedOn(h.flag("f", answers), "g"),
			"d": gatedOn(h.manifold("d"), "f"),
		})
		synctest.Wait()
		h.worker("f").fail(dependency.ErrBounce) // pending for bounceDelay, still open
		synctest.Wait()
		h.worker("g").fail(errFailed) // closes g: f is gated when its restart is due
		advance(bounceDelay)
		checkGated(t, engine, "f", "g")
		h.checkLive(t, map[string]int{"f": 0, "d": 0})
		advance(errorDelay - bounceDelay - 1)
		h.checkAttempts(t, map[string]int{"d": 1})
		advance(1) // g restarts open, and so f, then d
		h.checkLive(t, map[string]int{"g": 2, "f": 2, "d": 2})
		stopEngine(t, engine, nil)
	})
}

// A manifold held back by an input that is about to start launches once
// that input finds itself gated instead, as it does when the input starts
// or stops.
func TestHeldBackByInputThatIsGatedLaunches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), openFlags("f")
		engine := newTestEngine(t, nil)
		mustInstallAll(t, engine, dependency.Manifolds{
			"f": h.flag("f", answers),
			"g": gatedOn(h.manifold("g"), "f"),
			"h": h.manifold("h", "g"),
		})
		synctest.Wait()
		answers.set("f", false)
		h.worker("f").fail(dependency.ErrBounce) // due in bounceDelay, answering false
		h.worker("g").fail(dependency.ErrBounce) // due then too, held back by f; h by g
		advance(bounceDelay)
		h.checkLive(t, map[string]int{"f": 2, "g": 0})
		checkGated(t, engine, "g", "f")
		advance(time.Hour)
		if state := engine.Report().Manifolds["h"].State; state != dependency.StateStarted {
			t.Errorf("h is %v, want started: its only input, g, is gated", state)
		}
		stopEngine(t, engine, nil)
	})
}

// A manifold due together with the input that holds it back is launched
// once, when that input finds itself gated, and not launched again when its
// own turn of the due starts comes.
func TestDueTogetherWithGatedInputLaunchesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), openFlags("f")
		engine := newTestEngine(t, nil)
		mustInstallAll(t, engine, dependency.Manifolds{
			"f": h.flag("f", answers),
			"g": gatedOn(h.manifold("g"), "f"),
			"h": h.manifold("h", "g"),
		})
		synctest.Wait()
		h.worker("g").fail(dependency.ErrBounce) // g due in bounceDelay, and h with it
		synctest.Wait()
		h.worker("f").fail(errFailed) // f closes while g waits
		advance(bounceDelay)
		checkGated(t, engine, "g", "f")
		h.checkLive(t, map[string]int{"h": 2}) // once at boot, once after g's bounce
		h.checkAttempts(t, map[string]int{"h": 2})
		stopEngine(t, engine, nil)
		h.checkNoDoubles(t)
	})
}
