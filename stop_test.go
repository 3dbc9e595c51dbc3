package dependency_test

// How the engine stops: Kill during delays and starts, waiting for slow
// workers, and StopTimeout.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

func TestKillDuringDelay(t *testing.T) {
	for _, test := range []struct {
		about string
		stop  func(h *harness)
	}{{
		about: "error delay",
		stop:  func(h *harness) { h.worker("a").fail(errFailed) },
	}, {
		about: "bounce delay",
		stop:  func(h *harness) { h.worker("b").fail(dependency.ErrBounce) },
	}} {
		t.Run(test.about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := stopOnCleanup(t, dependency.NewEngine(nil, time.Hour, time.Hour))
				mustInstall(t, engine, "a", h.manifold("a"))
				mustInstall(t, engine, "b", h.manifold("b"))
				synctest.Wait()
				test.stop(h)
				advance(time.Minute)

				began := time.Now()
				engine.Kill()
				if err := engine.Wait(); err != nil {
					t.Errorf("Wait() = %v, want nil", err)
				}
				if waited := time.Since(began); waited != 0 {
					t.Errorf("Wait took %v of the fake clock, want 0", waited)
				}
				advance(2 * time.Hour)
				if n := h.attemptCount("a") + h.attemptCount("b"); n != 2 {
					t.Errorf("starts tried = %d, want 2", n)
				}
			})
		})
	}
}

func TestKillWaitsForSlowWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := newTestEngine(t, nil)
		killed, release := make(chan struct{}), make(chan struct{})
		mustInstall(t, engine, "slow", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return newFuncWorker(func(dying <-chan struct{}) error {
					<-dying
					close(killed)
					<-release
					return nil
				}), nil
			},
		})
		synctest.Wait()

		waited := killInBackground(engine)
		advance(time.Hour)
		select {
		case <-killed:
		default:
			t.Errorf("the worker was not killed")
		}
		checkWaiting(t, waited, "before the worker stopped")
		close(release)
		synctest.Wait()
		select {
		case err := <-waited:
			if err != nil {
				t.Errorf("Wait() = %v, want nil", err)
			}
		default:
			t.Errorf("Wait has not returned after the worker stopped")
		}
	})
}

func TestKillNeverBlocks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := newTestEngine(t, nil)
		release := make(chan struct{})
		mustInstall(t, engine, "a", startWith(stuckWorker(release)))
		synctest.Wait()

		waited := killInBackground(engine) // Kill returns although the worker's Kill blocks
		synctest.Wait()
		checkWaiting(t, waited, "while a worker's Kill runs")
		close(release)
		if err := <-waited; err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
	})
}

func TestKillDuringStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		proceed := make(chan struct{})
		mustInstall(t, engine, "slow", gateStart(h.manifold("slow"), proceed))
		synctest.Wait()

		waited := killInBackground(engine)
		synctest.Wait()
		checkWaiting(t, waited, "while a start runs")
		close(proceed) // the worker it returns is killed at once
		if err := <-waited; err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
		if n, live := h.startCount("slow"), h.liveCount(); n != 1 || live != 0 {
			t.Errorf("workers started = %d, alive = %d, want 1, 0", n, live)
		}
	})
}

func TestStopTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		var log logRecorder
		engine := newEngine(t, dependency.EngineConfig{StopTimeout: 5 * time.Second, Logger: &log})
		h.ignoreKill("stuck")
		release := make(chan struct{})
		mustInstallAll(t, engine, dependency.Manifolds{
			"stuck": h.manifold("stuck"),
			"fine":  h.manifold("fine"),
			"starting": {Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				<-release
				return nil, errFailed
			}},
		})
		synctest.Wait()
		waited := killInBackground(engine)
		advance(5*time.Second - 1)
		checkWaiting(t, waited, "1ns before StopTimeout")
		advance(time.Nanosecond)
		select {
		case err := <-waited:
			if !errors.Is(err, dependency.ErrStopTimeout) {
				t.Errorf("Wait() = %v, want ErrStopTimeout", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, `"stuck"`) || !strings.Contains(msg, `"starting"`) || strings.Contains(msg, `"fine"`) {
				t.Errorf("Wait() = %q, want it to name \"stuck\" and \"starting\", not \"fine\"", msg)
			}
		default:
			t.Fatalf("Wait() still waiting at StopTimeout")
		}
		if w := h.worker("fine"); w != nil {
			t.Errorf("fine still runs after Wait")
		}
		for _, name := range []string{`"stuck"`, `"starting"`} {
			if lines := log.errorsNaming(name); len(lines) != 1 {
				t.Errorf("ERROR lines naming %s = %q, want one", name, lines)
			}
		}
		h.worker("stuck").fail(nil)
		close(release)
		synctest.Wait()
	})
}

// One worker whose Kill blocks holds back the Kill calls queued behind it
// for KillStall exactly, not longer, and only it is named when StopTimeout
// passes.
func TestKillBlocksOnlyItsOwnStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{StopTimeout: time.Minute})
		release := make(chan struct{})
		defer close(release) // lets the abandoned Kill return
		for _, name := range []string{"a", "b", "c"} {
			mustInstall(t, engine, name, h.manifold(name))
		}
		mustInstall(t, engine, "stuck", startWith(stuckWorker(release)))
		for _, name := range []string{"d", "e", "f"} {
			mustInstall(t, engine, name, h.manifold(name))
		}
		synctest.Wait()
		engine.Kill()
		synctest.Wait()
		// Workers stop in the order they started: d, e and f wait.
		if n := h.liveCount(); n != 3 {
			t.Errorf("%d healthy workers alive when stuck's Kill began, want 3", n)
		}
		time.Sleep(dependency.KillStall - time.Nanosecond)
		synctest.Wait()
		if n := h.liveCount(); n != 3 {
			t.Errorf("%d healthy workers alive just before KillStall, want 3", n)
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if n := h.liveCount(); n != 0 {
			t.Errorf("%d healthy workers alive after KillStall, want 0", n)
		}
		time.Sleep(time.Minute - dependency.KillStall)
		err := engine.Wait()
		if !errors.Is(err, dependency.ErrStopTimeout) {
			t.Fatalf("Wait() = %v, want ErrStopTimeout", err)
		}
		if want := `workers did not stop within 1m0s: "stuck"`; err.Error() != want {
			t.Errorf("Wait() = %q, want %q", err, want)
		}
	})
}

// Once a Kill call has waited KillStall for its turn behind one that
// blocks, the queue stalls for good: the calls behind get a goroutine each,
// and so does every later call, at once.
func TestKillStallGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Hour, time.Hour)
		release := make(chan struct{})
		mustInstall(t, engine, "stuck", startWith(stuckWorker(release)))
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", h.manifold("b"))
		synctest.Wait()
		mustUninstall(t, engine, "stuck")
		mustUninstall(t, engine, "a")
		time.Sleep(dependency.KillStall - time.Nanosecond)
		synctest.Wait()
		if h.worker("a") == nil {
			t.Fatalf("a stopped before KillStall, want it to wait behind the Kill that blocks")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		if h.worker("a") != nil {
			t.Fatalf("a running after KillStall, want it stopped")
		}
		mustUninstall(t, engine, "b")
		synctest.Wait()
		if h.worker("b") != nil {
			t.Errorf("b running after its Uninstall, want it stopped at once")
		}
		close(release)
		stopEngine(t, engine, nil)
	})
}

// Several Kill calls that block hold the healthy worker queued behind them
// back for KillStall, not for KillStall each, and only they are named when
// StopTimeout passes.
func TestKillStallsOnceForMany(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{StopTimeout: 3 * dependency.KillStall})
		release := make(chan struct{})
		defer close(release) // lets the abandoned Kill calls return
		var stuck []string
		for i := range 5 {
			name := fmt.Sprintf("stuck%d", i)
			stuck = append(stuck, strconv.Quote(name))
			mustInstall(t, engine, name, startWith(stuckWorker(release)))
		}
		mustInstall(t, engine, "healthy", h.manifold("healthy"))
		synctest.Wait()
		engine.Kill()
		time.Sleep(dependency.KillStall)
		synctest.Wait()
		if h.worker("healthy") != nil {
			t.Errorf("healthy running after KillStall, want it stopped")
		}
		time.Sleep(2 * dependency.KillStall)
		err := engine.Wait()
		if want := "workers did not stop within 300ms: " + strings.Join(stuck, ", "); err == nil || err.Error() != want {
			t.Errorf("Wait() = %v, want %s", err, want)
		}
	})
}

// Slow Kill calls, each quicker than KillStall, stall the queue too once
// the worker behind them has waited KillStall for its turn; a long queue of
// calls that each return in less than KillSlow never does, however long
// the last of them waits: the killer makes them all.
func TestSlowKillsStallQuickOnesNever(t *testing.T) {
	const quick = dependency.KillSlow / 2
	for _, test := range []struct {
		about  string
		calls  int
		each   time.Duration
		stopAt time.Duration // of the healthy worker queued last
	}{
		{"slow", 3, dependency.KillStall * 6 / 10, dependency.KillStall},
		{"quick", 30, quick, 30 * quick},
	} {
		t.Run(test.about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newTestEngine(t, nil)
				for i := range test.calls {
					mustInstall(t, engine, fmt.Sprintf("%s%02d", test.about, i), startWith(slowKillWorker(test.each)))
				}
				mustInstall(t, engine, "healthy", h.manifold("healthy"))
				synctest.Wait()
				waited := killInBackground(engine)
				checkStopsAt(t, h, "healthy", test.stopAt)
				if err := <-waited; err != nil {
					t.Errorf("Wait() = %v, want nil", err)
				}
			})
		})
	}
}

// The stall is judged by when the first waiting call was queued, even when
// it was queued in a later turn than the calls the killer made before it.
func TestKillStallCountsFromItsOwnTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		release := make(chan struct{})
		defer close(release)
		mustInstall(t, engine, "slow", startWith(slowKillWorker(dependency.KillStall*6/10)))
		mustInstall(t, engine, "stuck", startWith(stuckWorker(release)))
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		mustUninstall(t, engine, "slow")
		time.Sleep(dependency.KillStall / 2)
		mustUninstall(t, engine, "stuck")
		mustUninstall(t, engine, "a") // queued at KillStall/2
		checkStopsAt(t, h, "a", dependency.KillStall)
	})
}

// A call queued later does not put off the stall of the calls before it.
func TestLaterKillDoesNotPutOffStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		release := make(chan struct{})
		defer close(release)
		mustInstall(t, engine, "stuck", startWith(stuckWorker(release)))
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", h.manifold("b"))
		synctest.Wait()
		mustUninstall(t, engine, "stuck")
		mustUninstall(t, engine, "a")
		time.Sleep(dependency.KillStall / 2)
		mustUninstall(t, engine, "b")
		checkStopsAt(t, h, "a", dependency.KillStall/2)
		if h.worker("b") != nil {
			t.Errorf("b running when a stopped, want both stopped at once")
		}
	})
}

// checkStopsAt checks that name's worker is still running just before d
// from now, and has stopped at d.
func checkStopsAt(t *testing.T, h *harness, name string, d time.Duration) {
	t.Helper()
	time.Sleep(d - time.Nanosecond)
	synctest.Wait()
	if h.worker(name) == nil {
		t.Fatalf("%s stopped before %v, want it running until then", name, d)
	}
	time.Sleep(time.Nanosecond)
	synctest.Wait()
	if h.worker(name) != nil {
		t.Fatalf("%s running at %v, want it stopped", name, d)
	}
}

// With a StopTimeout shorter than KillStall, a worker queued behind a Kill
// that blocks misses it too, and is named; but it is still asked to stop.
func TestKillQueueHandedOutAtStopTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{StopTimeout: dependency.KillStall / 2})
		release := make(chan struct{})
		defer close(release) // lets the abandoned Kill call return
		mustInstall(t, engine, "stuck", startWith(stuckWorker(release)))
		mustInstall(t, engine, "healthy", h.manifold("healthy"))
		synctest.Wait()
		engine.Kill()
		time.Sleep(dependency.KillStall / 2)
		err := engine.Wait()
		if want := `workers did not stop within 50ms: "healthy", "stuck"`; err == nil || err.Error() != want {
			t.Errorf("Wait() = %v, want %s", err, want)
		}
		synctest.Wait()
		if h.worker("healthy") != nil {
			t.Errorf("healthy running after Wait, want it asked to stop")
		}
	})
}

// Once the kill queue has stalled, a Kill call that blocks after its worker
// has stopped still holds Wait until StopTimeout, even when the killer
// itself has ended.
func TestStalledKillStillTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{StopTimeout: time.Minute})
		release := make(chan struct{})
		mustInstall(t, engine, "stuck", startWith(stuckWorker(release)))
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		mustUninstall(t, engine, "stuck")
		mustUninstall(t, engine, "a")
		time.Sleep(dependency.KillStall)
		synctest.Wait()
		if h.worker("a") != nil {
			t.Fatalf("a running after KillStall, want the queue stalled and a stopped")
		}
		close(release) // the killer's call returns, and the killer ends
		synctest.Wait()

		unblock := make(chan struct{})
		defer close(unblock) // lets the abandoned Kill call return
		done := make(chan struct{})
		mustInstall(t, engine, "b", startWith(&badWorker{
			kill: func() {
				close(done) // Wait returns at once...
				<-unblock   // ...but Kill does not
			},
			wait: func() error { <-done; return nil },
		}))
		synctest.Wait()
		engine.Kill()
		time.Sleep(time.Minute)
		err := engine.Wait()
		if want := "worker Kill calls did not return within 1m0s"; err == nil || err.Error() != want {
			t.Errorf("Wait() = %v, want %s", err, want)
		}
	})
}

// Report answers while the engine waits for a Kill call that has not
// returned, although every worker has stopped.
func TestReportWhileKillReturns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := dependency.NewEngine(nil, time.Second, time.Second)
		release := make(chan struct{})
		done := make(chan struct{})
		mustInstall(t, engine, "a", startWith(&badWorker{
			kill: func() {
				close(done) // Wait returns at once...
				<-release   // ...but Kill does not
			},
			wait: func() error { <-done; return nil },
		}))
		synctest.Wait()
		waited := killInBackground(engine)
		synctest.Wait()
		if got := engine.Report().State; got != dependency.StateStopping {
			t.Errorf("engine State while a Kill blocks = %v, want stopping", got)
		}
		checkWaiting(t, waited, "while a worker's Kill blocks")
		close(release)
		if err := <-waited; err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
	})
}
