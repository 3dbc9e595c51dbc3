package dependency_test

// How the engine stops: Kill during delays and starts, waiting for slow
// workers, and StopTimeout.

import (
	"errors"
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

// A worker whose Kill blocks holds up only its own stop: every other
// worker stops at once, Report answers meanwhile, and only it is named when
// StopTimeout passes, exactly then.
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
		if n := h.liveCount(); n != 0 {
			t.Errorf("%d healthy workers alive while stuck's Kill blocks, want 0", n)
		}
		r := engine.Report()
		if got := r.Manifolds["stuck"].State; got != dependency.StateStopping {
			t.Errorf("Report() while stuck's Kill blocks: stuck is %v, want stopping", got)
		}
		start := time.Now()
		err := engine.Wait()
		if waited := time.Since(start); waited != time.Minute {
			t.Errorf("Wait() returned after %v, want StopTimeout exactly (1m0s)", waited)
		}
		if !errors.Is(err, dependency.ErrStopTimeout) {
			t.Fatalf("Wait() = %v, want ErrStopTimeout", err)
		}
		if want := `workers did not stop within 1m0s: "stuck"`; err.Error() != want {
			t.Errorf("Wait() = %q, want %q", err, want)
		}
	})
}

// A Kill call that blocks after its worker has stopped still holds Wait
// until StopTimeout, and Wait's error says that a Kill call did not return.
func TestBlockedKillStillTimesOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := newEngine(t, dependency.EngineConfig{StopTimeout: time.Minute})
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
