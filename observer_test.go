package dependency_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// wantEvent is an Event as the observer tests write it: At is the time after
// epoch, and Err is matched with errors.Is.
type wantEvent struct {
	Kind     dependency.EventKind
	Manifold string
	Delay    time.Duration
	Err      error
	At       time.Duration
}

// checkEvents fails t unless got are the want events, in order.
func checkEvents(t *testing.T, got []dependency.Event, want []wantEvent) {
	t.Helper()
	matches := len(got) == len(want)
	for i := 0; matches && i < len(got); i++ {
		g, w := got[i], want[i]
		matches = g.Kind == w.Kind && g.Manifold == w.Manifold && g.Delay == w.Delay &&
			g.Time.Equal(epoch.Add(w.At)) && (g.Err == nil) == (w.Err == nil) && errors.Is(g.Err, w.Err)
	}
	if matches {
		return
	}
	var b strings.Builder
	for _, ev := range got {
		fmt.Fprintf(&b, "\t%v %q delay=%v err=%v at=%v\n", ev.Kind, ev.Manifold, ev.Delay, ev.Err, ev.Time.Sub(epoch))
	}
	b.WriteString("want:\n")
	for _, ev := range want {
		fmt.Fprintf(&b, "\t%v %q delay=%v err=%v at=%v\n", ev.Kind, ev.Manifold, ev.Delay, ev.Err, ev.At)
	}
	t.Errorf("events:\n%s", b.String())
}

func TestObserverBounceOfChain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		events := &eventLog{}
		const bounce = 10 * time.Millisecond
		engine := newEngine(t, dependency.EngineConfig{
			ErrorDelay:  time.Second,
			BounceDelay: bounce,
			Observer:    events.observe,
		})
		installChain(t, engine, h.manifold, "a", "b", "c")
		advance(time.Second)
		if n := h.liveCount(); n != 3 {
			t.Fatalf("live workers = %d, want 3", n)
		}
		events.take()

		// a asks for a restart: b and c are stopped one after the other,
		// and, due when a is, start one after the other as soon as their
		// input has.
		h.worker("a").fail(dependency.ErrBounce)
		advance(time.Second)
		const at = time.Second
		checkEvents(t, events.take(), []wantEvent{
			{Kind: dependency.EventStopped, Manifold: "a", Err: dependency.ErrBounce, At: at},
			{Kind: dependency.EventScheduled, Manifold: "a", Delay: bounce, At: at},
			{Kind: dependency.EventBounced, Manifold: "b", At: at},
			{Kind: dependency.EventStopped, Manifold: "b", At: at},
			{Kind: dependency.EventScheduled, Manifold: "b", Delay: bounce, At: at},
			{Kind: dependency.EventBounced, Manifold: "c", At: at},
			{Kind: dependency.EventStopped, Manifold: "c", At: at},
			{Kind: dependency.EventScheduled, Manifold: "c", Delay: bounce, At: at},
			{Kind: dependency.EventStarted, Manifold: "a", At: at + bounce},
			{Kind: dependency.EventStarted, Manifold: "b", At: at + bounce},
			{Kind: dependency.EventStarted, Manifold: "c", At: at + bounce},
		})
		for name, want := range map[string]int{"a": 2, "b": 2, "c": 2} {
			if n := h.startCount(name); n != want {
				t.Errorf("starts of %q = %d, want %d", name, n, want)
			}
		}
		stopEngine(t, engine, nil)
		h.checkNoDoubles(t)
	})
}

func TestObserverInstallAndUninstall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		events := &eventLog{}
		engine := newEngine(t, dependency.EngineConfig{Observer: events.observe})
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		mustUninstall(t, engine, "a")
		synctest.Wait()
		checkEvents(t, events.take(), []wantEvent{
			{Kind: dependency.EventInstalled, Manifold: "a"},
			{Kind: dependency.EventScheduled, Manifold: "a"},
			{Kind: dependency.EventStarted, Manifold: "a"},
			{Kind: dependency.EventUninstalled, Manifold: "a"},
			{Kind: dependency.EventStopped, Manifold: "a"},
		})
		stopEngine(t, engine, nil)
	})
}

func TestObserverPanicRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		log := &logRecorder{}
		engine := newEngine(t, dependency.EngineConfig{
			Logger:   log,
			Observer: func(ev dependency.Event) { panic("observer exploded on " + ev.Kind.String()) },
		})
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", h.manifold("b", "a"))
		synctest.Wait()
		if b := h.worker("b"); b == nil || b.inputs["a"] != h.worker("a") {
			t.Errorf("b = %v, want running on a's worker despite the observer", b)
		}
		errorLines := log.errorLines()
		want := `"a" manifold observer panicked on installed: observer exploded on installed`
		if len(errorLines) == 0 || errorLines[0] != want {
			t.Errorf("first ERROR line = %q, want %q", errorLines, want)
		}
		if r := engine.Report(); r.State != dependency.StateStarted || r.Err != nil {
			t.Errorf("Report() = %v, %v; want started, nil", r.State, r.Err)
		}
		stopEngine(t, engine, nil)
	})
}
