package dependency_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// TestAgentGraph holds the promise that an agent is up in the time of its
// longest chain of starts, and whole again after a drop in its error delay
// plus the longest chain below what dropped: a manifold with no worker
// starts as soon as its inputs allow, and only restarts are debounced.
func TestAgentGraph(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const errorDelay = 100 * time.Millisecond
		run := newAgentRun(nil)
		engine := newEngine(t, dependency.EngineConfig{
			ErrorDelay:  errorDelay,
			BounceDelay: 10 * time.Millisecond,
		})
		mustInstallAll(t, engine, run.manifolds())
		advance(time.Second)
		for name, path := range criticalPaths(nominalLatencies(), "") {
			if got, want := run.startTimes(name), []time.Time{epoch.Add(path)}; !timesEqual(got, want) {
				t.Errorf("%q started at %v, want once at %v", name, since(got, epoch), path)
			}
		}
		if calls := run.startCalls(); calls != len(agentNodes()) {
			t.Errorf("start calls at boot = %d, want %d", calls, len(agentNodes()))
		}

		dropped := time.Now()
		run.fail("api-caller", errFailed)
		advance(time.Second)
		below := criticalPaths(nominalLatencies(), "api-caller")
		for _, n := range agentNodes() {
			got := run.startTimes(n.name)[1:]
			path, ok := below[n.name]
			switch {
			case !ok && len(got) > 0:
				t.Errorf("%q, not below api-caller, restarted at %v", n.name, since(got, dropped))
			case ok && !timesEqual(got, []time.Time{dropped.Add(errorDelay + path)}):
				t.Errorf("%q restarted at %v after the drop, want once at %v", n.name, since(got, dropped), errorDelay+path)
			}
		}
		stopEngine(t, engine, nil)
	})
}

func timesEqual(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// since returns each of times after origin.
func since(times []time.Time, origin time.Time) []time.Duration {
	d := make([]time.Duration, len(times))
	for i, at := range times {
		d[i] = at.Sub(origin)
	}
	return d
}

// TestStartWithoutWorkerIsNotBounced: a manifold that merely starts because
// an input appeared is scheduled at once and started, never bounced; one
// whose worker runs is bounced and restarts after the bounce delay.
func TestStartWithoutWorkerIsNotBounced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		events := &eventLog{}
		const bounce = 10 * time.Millisecond
		engine := newEngine(t, dependency.EngineConfig{ErrorDelay: time.Second, BounceDelay: bounce, Observer: events.observe})
		mustInstall(t, engine, "b", h.requiring("b", "a"))
		synctest.Wait()
		events.take()

		mustInstall(t, engine, "a", h.manifold("a"))
		advance(time.Second)
		checkEvents(t, events.take(), []wantEvent{
			{Kind: dependency.EventInstalled, Manifold: "a"},
			{Kind: dependency.EventScheduled, Manifold: "a"},
			{Kind: dependency.EventStarted, Manifold: "a"},
			{Kind: dependency.EventScheduled, Manifold: "b"},
			{Kind: dependency.EventStarted, Manifold: "b"},
		})

		h.worker("a").fail(dependency.ErrBounce)
		advance(time.Second)
		const at = time.Second
		checkEvents(t, events.take(), []wantEvent{
			{Kind: dependency.EventStopped, Manifold: "a", Err: dependency.ErrBounce, At: at},
			{Kind: dependency.EventScheduled, Manifold: "a", Delay: bounce, At: at},
			{Kind: dependency.EventBounced, Manifold: "b", At: at},
			{Kind: dependency.EventStopped, Manifold: "b", At: at},
			{Kind: dependency.EventScheduled, Manifold: "b", Delay: bounce, At: at},
			{Kind: dependency.EventStarted, Manifold: "a", At: at + bounce},
			{Kind: dependency.EventStarted, Manifold: "b", At: at + bounce},
		})
		stopEngine(t, engine, nil)
	})
}

// TestInputChangeKeepsErrorDelay: when an input restarts, a start waiting
// out an error delay keeps its due time, and a restart waiting out a bounce
// delay waits it again, so that a burst of changes makes one restart.
func TestInputChangeKeepsErrorDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstallAll(t, engine, dependency.Manifolds{
			"a": h.manifold("a"),
			"b": h.manifold("b", "a"),
			"c": h.manifold("c", "a"),
		})
		synctest.Wait()
		h.worker("b").fail(errFailed)
		h.worker("c").fail(dependency.ErrBounce)
		advance(bounceDelay / 2)
		h.worker("a").fail(dependency.ErrBounce)
		advance(bounceDelay / 2) // c's first due time
		h.checkLive(t, map[string]int{"a": 0, "b": 0, "c": 0})
		advance(bounceDelay / 2) // a's, and c's again
		h.checkLive(t, map[string]int{"a": 2, "b": 0, "c": 2})
		advance(errorDelay - bounceDelay*3/2 - 1)
		h.checkLive(t, map[string]int{"a": 2, "b": 0, "c": 2})
		advance(1)
		h.checkLive(t, map[string]int{"a": 2, "b": 2, "c": 2})
		h.checkCurrent(t)
		stopEngine(t, engine, nil)
	})
}
