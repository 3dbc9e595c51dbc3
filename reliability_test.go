package dependency_test

import (
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
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
		advance(time.Second)
		h.worker("d").fail(dependency.ErrBounce) // d due in 1s, queued first
		synctest.Wait()
		h.worker("i").fail(errFailed) // i due in 1s too
		synctest.Wait()

		// Both due at once: d waits until i has started, then starts.
		advance(time.Second)
		if got := h.startCount("i"); got != 2 {
			t.Errorf("starts of i after its error delay = %d, want 2", got)
		}
		if got := h.startCount("d"); got != 2 {
			t.Errorf("starts of d when i restarts = %d, want 2", got)
		}
		if d := h.worker("d"); d == nil || d.inputs["i"] != h.worker("i") {
			t.Errorf("d = %v, want running on i's current worker", d)
		}
		stopEngine(t, engine, nil)
		h.checkNoDoubles(t)
	})
}

// Sixteen goroutines call Install, Uninstall and Report on one engine and
// stop workers, while another kills it halfway: every call returns nil or a
// documented error, calls made after Kill returned are refused, nothing
// deadlocks, and after Wait no worker is alive.
func TestConcurrentCallers(t *testing.T) {
	const callers, calls = 16, 200
	h := newHarness()
	engine := dependency.NewEngine(nil, time.Millisecond, time.Millisecond)
	names := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	var (
		wg     sync.WaitGroup
		made   atomic.Int64
		killed atomic.Bool
		begin  = make(chan struct{})
	)
	check := func(call, name string, err error, allowed ...error) {
		if err == nil && !slices.Contains(allowed, nil) {
			t.Errorf("%s(%q) = nil after Kill, want ErrShuttingDown", call, name)
		}
		if err != nil && !slices.ContainsFunc(allowed, func(want error) bool { return want != nil && errors.Is(err, want) }) {
			t.Errorf("%s(%q) = %v, want one of %v", call, name, err, allowed)
		}
	}
	for g := range callers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			<-begin
			for range calls {
				made.Add(1)
				afterKill := killed.Load()
				name := names[rng.IntN(len(names))]
				switch rng.IntN(4) {
				case 0:
					var inputs []string
					for _, input := range names {
						if input != name && rng.IntN(4) == 0 {
							inputs = append(inputs, input)
						}
					}
					err := engine.Install(name, h.manifold(name, inputs...))
					if afterKill {
						check("Install", name, err, dependency.ErrShuttingDown)
					} else {
						check("Install", name, err, nil, dependency.ErrAlreadyInstalled, dependency.ErrCycle, dependency.ErrShuttingDown)
					}
				case 1:
					err := engine.Uninstall(name)
					if afterKill {
						check("Uninstall", name, err, dependency.ErrShuttingDown)
					} else {
						check("Uninstall", name, err, nil, dependency.ErrNotInstalled, dependency.ErrShuttingDown)
					}
				case 2:
					engine.Report()
				case 3:
					if w := h.worker(name); w != nil {
						w.fail(errFailed)
					}
				}
			}
		})
	}
	wg.Go(func() {
		<-begin
		for made.Load() < callers*calls/2 {
			runtime.Gosched()
		}
		engine.Kill()
		killed.Store(true)
	})
	close(begin)
	withDeadline(t, "the callers", wg.Wait)
	var err error
	withDeadline(t, "Wait()", func() { err = engine.Wait() })
	if err != nil {
		t.Errorf("Wait() = %v, want nil", err)
	}
	if n := h.liveCount(); n != 0 {
		t.Errorf("%d workers alive after Wait, want 0", n)
	}
	if report := engine.Report(); report.State != dependency.StateStopped {
		t.Errorf("Report().State after Wait = %v, want stopped", report.State)
	}
	h.checkNoDoubles(t)
}
