package dependency_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// alwaysFail is a start failure for harness.failStart that never ends.
func alwaysFail() error { return errFailed }

// backedOff returns the n-th delay (n >= 1) of a backoff from first,
// doubling, capped at limit.
func backedOff(first, limit time.Duration, n int) time.Duration {
	d := first
	for i := 1; i < n && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// failureCases make manifold "a" of a harness fail again and again, by its
// worker or by its start: after setup, Install and fail, "a" has failed
// once, and after each further start call and fail, once more.
var failureCases = []struct {
	name  string
	setup func(h *harness) // before "a" is installed
	fail  func(h *harness) // after each start call of "a"
}{
	{
		name:  "worker fails",
		setup: func(h *harness) {},
		fail:  func(h *harness) { h.worker("a").fail(errFailed) },
	}, {
		name:  "start fails",
		setup: func(h *harness) { h.failStart("a", alwaysFail) },
		fail:  func(h *harness) {},
	},
}

func TestBackoffDelaySequence(t *testing.T) {
	for _, tc := range failureCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{
					ErrorDelay:    time.Second,
					BackoffFactor: 2,
					MaxDelay:      5 * time.Second,
				})
				tc.setup(h)
				mustInstall(t, engine, "a", h.manifold("a"))
				synctest.Wait()
				tc.fail(h)
				for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
					expectAttemptAfter(t, h, "a", d)
					tc.fail(h)
				}
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestBackoffResetsAfterHealthyRun(t *testing.T) {
	for _, tc := range []struct {
		ran  time.Duration
		next time.Duration
	}{
		{ran: 10 * time.Second, next: time.Second},
		{ran: 10*time.Second - 1, next: 8 * time.Second},
	} {
		t.Run(fmt.Sprintf("ran %v", tc.ran), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{
					ErrorDelay:       time.Second,
					BackoffFactor:    2,
					BackoffResetTime: 10 * time.Second,
				})
				mustInstall(t, engine, "a", h.manifold("a"))
				for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
					synctest.Wait()
					h.worker("a").fail(errFailed)
					expectAttemptAfter(t, h, "a", d)
				}
				time.Sleep(tc.ran)
				h.worker("a").fail(errFailed)
				expectAttemptAfter(t, h, "a", tc.next)
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestBackoffResetsAfterNonFailureStop(t *testing.T) {
	bounceInput := func(h *harness) { h.worker("a").fail(dependency.ErrBounce) }
	for _, tc := range []struct {
		name string
		stop func(h *harness) // stops "b" without a failure and gets it restarted
	}{
		{"completed", func(h *harness) {
			h.worker("b").fail(nil)
			synctest.Wait()
			bounceInput(h)
		}},
		{"missing", func(h *harness) {
			h.worker("b").fail(fmt.Errorf("no database: %w", dependency.ErrMissing))
			synctest.Wait()
			bounceInput(h)
		}},
		{"bounce", func(h *harness) {
			h.worker("b").fail(fmt.Errorf("stale: %w", dependency.ErrBounce))
		}},
		{"stopped by the engine", bounceInput},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{
					ErrorDelay:    time.Second,
					BounceDelay:   100 * time.Millisecond,
					BackoffFactor: 2,
				})
				installChain(t, engine, h.manifold, "a", "b")
				time.Sleep(time.Second) // b waits out a bounce delay once a has started
				for _, d := range []time.Duration{time.Second, 2 * time.Second} {
					synctest.Wait()
					h.worker("b").fail(errFailed)
					expectAttemptAfter(t, h, "b", d)
				}
				synctest.Wait()
				tc.stop(h)
				advance(time.Second)
				if b := h.worker("b"); b == nil || b.inputs["a"] != h.worker("a") {
					t.Fatalf("b = %v after its stop, want running on a's worker", b)
				}
				h.worker("b").fail(errFailed)
				expectAttemptAfter(t, h, "b", time.Second)
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestBackoffThousandFailures(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		var log eventLog
		engine := newEngine(t, dependency.EngineConfig{
			ErrorDelay:    time.Second,
			BackoffFactor: 2,
			MaxDelay:      5 * time.Second,
			Observer:      log.observe,
		})
		h.failStart("a", alwaysFail)
		mustInstall(t, engine, "a", h.manifold("a"))
		for n := 1; n <= 1000; n++ {
			want := backedOff(time.Second, 5*time.Second, n)
			expectAttemptAfter(t, h, "a", want)
			if delays := log.delays("a"); delays[n] != want {
				t.Fatalf("delay after failure %d = %v, want %v", n, delays[n], want)
			}
		}
		stopEngine(t, engine, nil)
	})
}

func TestBackoffHugeFactorNeverNegative(t *testing.T) {
	t.Run("no error delay", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness()
			var log eventLog
			engine := newEngine(t, dependency.EngineConfig{BackoffFactor: 1e300, Observer: log.observe})
			failures := 0
			h.failStart("a", func() error {
				if failures == 2000 {
					return nil
				}
				failures++
				return errFailed
			})
			mustInstall(t, engine, "a", h.manifold("a"))
			synctest.Wait()
			if got := h.attemptCount("a"); got != 2001 {
				t.Fatalf("start calls of a = %d, want 2001: 2000 failures, each restarted at once", got)
			}
			for n, d := range log.delays("a") {
				if d != 0 {
					t.Fatalf("delay %d = %v, want 0", n, d)
				}
			}
			stopEngine(t, engine, nil)
		})
	})
	for _, jitter := range []float64{0, 0.5} {
		t.Run(fmt.Sprintf("jitter %v", jitter), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				var log eventLog
				engine := newEngine(t, dependency.EngineConfig{
					ErrorDelay:    time.Second,
					BackoffFactor: math.MaxFloat64,
					Jitter:        jitter,
					Observer:      log.observe,
				})
				h.failStart("a", alwaysFail)
				mustInstall(t, engine, "a", h.manifold("a"))
				synctest.Wait()
				advance(2 * time.Second)
				delays := log.delays("a")
				if len(delays) != 3 {
					t.Fatalf("delays of a = %v, want 3", delays)
				}
				if d := delays[2]; d != math.MaxInt64 {
					t.Errorf("delay after 2 failures = %v, want the longest Duration", d)
				}
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestRestartIntensity(t *testing.T) {
	for _, tc := range failureCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{
					ErrorDelay:    time.Second,
					MaxRestarts:   3,
					RestartPeriod: 10 * time.Second,
				})
				tc.setup(h)
				mustInstall(t, engine, "a", h.manifold("a"))
				synctest.Wait()
				begin := time.Now()
				tc.fail(h)
				for range 2 {
					expectAttemptAfter(t, h, "a", time.Second)
					tc.fail(h)
				}
				synctest.Wait()
				if r := engine.Report(); r.State != dependency.StateStarted {
					t.Fatalf("engine state after 3 failures = %v, want started", r.State)
				}
				expectAttemptAfter(t, h, "a", time.Second)
				tc.fail(h)
				err := engine.Wait()
				if !errors.Is(err, dependency.ErrTooManyRestarts) {
					t.Fatalf("Wait() = %v, want ErrTooManyRestarts", err)
				}
				if !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), errFailed.Error()) {
					t.Errorf("Wait() = %q, want it to name \"a\" and %q", err, errFailed)
				}
				if got, want := time.Since(begin), 3*time.Second; got != want {
					t.Errorf("engine stopped %v after the first failure, want %v", got, want)
				}
			})
		})
	}
}

func TestRestartIntensityWindow(t *testing.T) {
	for _, tc := range []struct {
		errorDelay time.Duration
		trips      bool
	}{
		{errorDelay: 5 * time.Second, trips: false},
		{errorDelay: 5*time.Second - 1, trips: true},
	} {
		t.Run(fmt.Sprintf("failures %v apart", tc.errorDelay), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{
					ErrorDelay:    tc.errorDelay,
					MaxRestarts:   2,
					RestartPeriod: 10 * time.Second,
				})
				h.failStart("a", alwaysFail)
				mustInstall(t, engine, "a", h.manifold("a"))
				for range 2 {
					expectAttemptAfter(t, h, "a", tc.errorDelay)
				}
				if !tc.trips {
					for range 20 {
						expectAttemptAfter(t, h, "a", tc.errorDelay)
					}
					stopEngine(t, engine, nil)
					return
				}
				if err := engine.Wait(); !errors.Is(err, dependency.ErrTooManyRestarts) {
					t.Fatalf("Wait() = %v, want ErrTooManyRestarts", err)
				}
			})
		})
	}
}

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
		if err := engine.Uninstall("a"); err != nil {
			t.Fatalf(`Uninstall("a") = %v, want nil`, err)
		}
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
		if err := engine.Uninstall("a"); err != nil {
			t.Fatalf(`Uninstall("a") = %v, want nil`, err)
		}
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

// requestCases return ErrBounce or ErrUninstall from manifold "a", wrapped,
// in each way the engine must recognise.
var requestCases = []struct {
	name     string
	manifold func(h *harness, request error) dependency.Manifold
	request  func(h *harness, request error) // once "a" has started, or tried to
}{
	{
		name:     "from the worker",
		manifold: func(h *harness, request error) dependency.Manifold { return h.manifold("a") },
		request: func(h *harness, request error) {
			h.worker("a").fail(fmt.Errorf("worker says: %w", request))
		},
	}, {
		name: "from the start",
		manifold: func(h *harness, request error) dependency.Manifold {
			h.failStart("a", func() error { return fmt.Errorf("start says: %w", request) })
			return h.manifold("a")
		},
		request: func(h *harness, request error) {},
	}, {
		name: "from Manifold.Filter",
		manifold: func(h *harness, request error) dependency.Manifold {
			m := h.manifold("a")
			m.Filter = func(err error) error {
				if errors.Is(err, errFailed) {
					return fmt.Errorf("filter says %v: %w", err, request)
				}
				return err
			}
			return m
		},
		request: func(h *harness, request error) { h.worker("a").fail(errFailed) },
	},
}

func TestErrUninstallRemovesManifold(t *testing.T) {
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{ErrorDelay: time.Second})
				mustInstall(t, engine, "a", tc.manifold(h, dependency.ErrUninstall))
				mustInstall(t, engine, "b", h.manifold("b", "a"))
				synctest.Wait()
				tc.request(h, dependency.ErrUninstall)
				advance(time.Hour)
				if _, ok := engine.Report().Manifolds["a"]; ok {
					t.Errorf("Report() lists a after it returned ErrUninstall")
				}
				if got := h.attemptCount("a"); got != 1 {
					t.Errorf("start calls of a = %d, want 1", got)
				}
				if b := h.worker("b"); b == nil || b.inputs["a"] != nil {
					t.Errorf("b = %+v, want running without a", b)
				}
				if err := engine.Uninstall("a"); !errors.Is(err, dependency.ErrNotInstalled) {
					t.Errorf(`Uninstall("a") = %v, want ErrNotInstalled`, err)
				}
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestErrBounceRestartsAfterBounceDelay(t *testing.T) {
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{ErrorDelay: 10 * time.Second, BounceDelay: 3 * time.Second})
				mustInstall(t, engine, "a", tc.manifold(h, dependency.ErrBounce))
				synctest.Wait()
				tc.request(h, dependency.ErrBounce)
				expectAttemptAfter(t, h, "a", 3*time.Second)
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestErrBounceIsNotAFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{
			ErrorDelay:    10 * time.Second,
			BounceDelay:   time.Second,
			BackoffFactor: 2,
			MaxRestarts:   2,
			RestartPeriod: time.Hour,
		})
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		h.worker("a").fail(errFailed)
		expectAttemptAfter(t, h, "a", 10*time.Second)
		for range 5 {
			h.worker("a").fail(dependency.ErrBounce)
			expectAttemptAfter(t, h, "a", time.Second)
		}
		h.worker("a").fail(errFailed)
		expectAttemptAfter(t, h, "a", 10*time.Second) // not backed off
		h.worker("a").fail(errFailed)
		if err := engine.Wait(); !errors.Is(err, dependency.ErrTooManyRestarts) {
			t.Errorf("Wait() after 3 failures = %v, want ErrTooManyRestarts", err)
		}
	})
}

func TestStartContextCancelledOnKill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{})
		mustInstall(t, engine, "a", h.blocking("a"))
		synctest.Wait()
		if got := h.attemptCount("a"); got != 1 {
			t.Fatalf("start calls of a = %d, want 1", got)
		}
		killed := time.Now()
		engine.Kill()
		if err := engine.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
		if d := time.Since(killed); d != 0 {
			t.Errorf("Wait() returned %v after Kill, want at once", d)
		}
	})
}

func TestStartContextCancelledWhenEngineStopsManifold(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(t *testing.T, h *harness, engine dependency.Engine)
	}{
		{"bounce", func(t *testing.T, h *harness, engine dependency.Engine) { h.worker("a").fail(dependency.ErrBounce) }},
		{"uninstall", func(t *testing.T, h *harness, engine dependency.Engine) {
			if err := engine.Uninstall("b"); err != nil {
				t.Errorf(`Uninstall("b") = %v, want nil`, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				var log eventLog
				engine := newEngine(t, dependency.EngineConfig{BounceDelay: time.Second, Observer: log.observe})
				mustInstall(t, engine, "a", h.manifold("a"))
				synctest.Wait()
				mustInstall(t, engine, "b", h.blocking("b", "a"))
				advance(time.Hour)
				stopped := time.Now()
				tc.stop(t, h, engine)
				synctest.Wait()
				ends := log.of("b", dependency.EventStopped)
				if len(ends) != 1 || !errors.Is(ends[0].Err, context.Canceled) || !ends[0].Time.Equal(stopped) {
					t.Errorf("stops of b = %+v, want one at %v, cancelled", ends, stopped)
				}
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestStartContextLivesWithWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{BounceDelay: time.Second})
		mustInstallAll(t, engine, dependency.Manifolds{
			"a": h.manifold("a"),
			"b": h.withContext("b", "a"),
		})
		advance(time.Hour)
		first := h.worker("b")
		if err := first.ctx.Err(); err != nil {
			t.Fatalf("ctx of running b = %v, want alive", err)
		}
		h.worker("a").fail(dependency.ErrBounce)
		synctest.Wait()
		if err := first.ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("ctx of bounced b = %v, want cancelled", err)
		}
		advance(2 * time.Second)
		second := h.worker("b")
		if second == nil || second.seq != 2 || second.ctx.Err() != nil {
			t.Fatalf("b after the bounce = %+v, want its second worker, ctx alive", second)
		}
		stopEngine(t, engine, nil)
		if err := second.ctx.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("ctx of b after Wait = %v, want cancelled", err)
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

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		field  string
		config dependency.EngineConfig
	}{
		{"ErrorDelay", dependency.EngineConfig{ErrorDelay: -1}},
		{"BounceDelay", dependency.EngineConfig{BounceDelay: -1}},
		{"BackoffResetTime", dependency.EngineConfig{BackoffResetTime: -time.Second}},
		{"MaxDelay", dependency.EngineConfig{MaxDelay: -1}},
		{"RestartPeriod", dependency.EngineConfig{RestartPeriod: -1}},
		{"StopTimeout", dependency.EngineConfig{StopTimeout: -1}},
		{"BackoffFactor", dependency.EngineConfig{BackoffFactor: 0.5}},
		{"BackoffFactor", dependency.EngineConfig{BackoffFactor: -2}},
		{"BackoffFactor", dependency.EngineConfig{BackoffFactor: math.NaN()}},
		{"BackoffFactor", dependency.EngineConfig{BackoffFactor: math.Inf(1)}},
		{"Jitter", dependency.EngineConfig{Jitter: -0.1}},
		{"Jitter", dependency.EngineConfig{Jitter: 1}},
		{"Jitter", dependency.EngineConfig{Jitter: math.NaN()}},
		{"MaxRestarts", dependency.EngineConfig{MaxRestarts: 3}},
		{"MaxRestarts", dependency.EngineConfig{MaxRestarts: -1, RestartPeriod: time.Second}},
	} {
		t.Run(fmt.Sprintf("%s %+v", tc.field, tc.config), func(t *testing.T) {
			err := tc.config.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.field)
			}
			synctest.Test(t, func(t *testing.T) {
				engine, newErr := dependency.New(tc.config)
				if engine != nil || newErr == nil || newErr.Error() != err.Error() {
					t.Errorf("New() = %v, %v; want nil, %v", engine, newErr, err)
				}
				// Anything New had started would outlive the bubble and fail it.
			})
		})
	}
	for _, config := range []dependency.EngineConfig{
		{},
		{BackoffFactor: 1},
		{BackoffFactor: 1.5, MaxDelay: time.Minute, BackoffResetTime: time.Minute},
		{Jitter: 0.99},
		{MaxRestarts: 3, RestartPeriod: time.Minute},
		{RestartPeriod: time.Minute},
		{StopTimeout: time.Second, ErrorDelay: time.Second, BounceDelay: time.Second},
	} {
		if err := config.Validate(); err != nil {
			t.Errorf("Validate(%+v) = %v, want nil", config, err)
		}
	}
}

func TestNewEngineIsNew(t *testing.T) {
	for _, tc := range []struct {
		name   string
		engine func(t *testing.T) dependency.Engine
	}{
		{"NewEngine", func(t *testing.T) dependency.Engine {
			return dependency.NewEngine(isFatal, 2*time.Second, 300*time.Millisecond)
		}},
		{"New", func(t *testing.T) dependency.Engine {
			return newEngine(t, dependency.EngineConfig{IsFatal: isFatal, ErrorDelay: 2 * time.Second, BounceDelay: 300 * time.Millisecond})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := tc.engine(t)
				installChain(t, engine, h.manifold, "a", "b")
				advance(time.Second)
				h.worker("a").fail(errFailed)
				expectAttemptAfter(t, h, "b", 300*time.Millisecond)  // bounced, runs without a
				expectAttemptAfter(t, h, "a", 1700*time.Millisecond) // error delay
				expectAttemptAfter(t, h, "b", 300*time.Millisecond)  // bounced by the new a
				if b := h.worker("b"); b == nil || b.inputs["a"] != h.worker("a") {
					t.Errorf("b = %+v, want running on the new a", b)
				}
				h.worker("b").fail(errFatal)
				if err := engine.Wait(); err != errFatal {
					t.Errorf("Wait() = %v, want %v", err, errFatal)
				}
			})
		})
	}
	t.Run("negative delays", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness()
			engine := dependency.NewEngine(nil, -time.Second, -time.Second)
			mustInstall(t, engine, "a", h.manifold("a"))
			synctest.Wait()
			h.worker("a").fail(errFailed)
			synctest.Wait()
			if got := h.attemptCount("a"); got != 2 {
				t.Errorf("start calls of a after a failure = %d, want 2: restarted at once", got)
			}
			stopEngine(t, engine, nil)
		})
	})
}

func TestWorstError(t *testing.T) {
	errFirst, errSecond := errors.New("first"), errors.New("second")
	for _, tc := range []struct {
		name  string
		worst dependency.WorstErrorFunc
		want  error
	}{
		{"first wins", nil, errFirst},
		{"chosen", func(err0, err1 error) error {
			if err0 != errFirst || err1 != errSecond {
				return fmt.Errorf("WorstError(%v, %v), want (first, second)", err0, err1)
			}
			return err1
		}, errSecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{
					IsFatal:    func(err error) bool { return err != nil },
					WorstError: tc.worst,
				})
				h.ignoreKill("b")
				mustInstall(t, engine, "a", h.manifold("a"))
				mustInstall(t, engine, "b", h.manifold("b"))
				synctest.Wait()
				h.worker("a").fail(errFirst)
				synctest.Wait()
				h.worker("b").fail(errSecond)
				if err := engine.Wait(); err != tc.want {
					t.Errorf("Wait() = %v, want %v", err, tc.want)
				}
			})
		})
	}
}

func TestEngineFilter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		filter dependency.FilterFunc
		stop   func(h *harness, engine dependency.Engine)
		want   string // Wait's error; "" for nil
		calls  int
	}{
		{
			name:   "wraps the fatal error",
			filter: func(err error) error { return fmt.Errorf("engine: %w", err) },
			stop:   func(h *harness, engine dependency.Engine) { h.worker("a").fail(errFailed) },
			want:   "engine: worker failed",
			calls:  1,
		}, {
			name:   "drops the fatal error",
			filter: func(err error) error { return nil },
			stop:   func(h *harness, engine dependency.Engine) { h.worker("a").fail(errFailed) },
			calls:  1,
		}, {
			name:   "not called without an error",
			filter: func(err error) error { return fmt.Errorf("engine: %w", err) },
			stop:   func(h *harness, engine dependency.Engine) { engine.Kill() },
			calls:  0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				calls := 0
				engine := newEngine(t, dependency.EngineConfig{
					IsFatal: func(err error) bool { return errors.Is(err, errFailed) },
					Filter: func(err error) error {
						calls++
						return tc.filter(err)
					},
				})
				mustInstall(t, engine, "a", h.manifold("a"))
				synctest.Wait()
				tc.stop(h, engine)
				err := engine.Wait()
				switch {
				case tc.want == "" && err != nil,
					tc.want != "" && (err == nil || err.Error() != tc.want || !errors.Is(err, errFailed)):
					t.Errorf("Wait() = %v, want %q", err, tc.want)
				}
				if calls != tc.calls {
					t.Errorf("Filter called %d times, want %d", calls, tc.calls)
				}
				if got := engine.Report().Err; !errors.Is(got, err) {
					t.Errorf("Report().Err = %v, want %v", got, err)
				}
			})
		})
	}
}

func TestManifoldFilterDropsStartError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		var log eventLog
		engine := newEngine(t, dependency.EngineConfig{ErrorDelay: time.Second, BounceDelay: time.Second, Observer: log.observe})
		a := h.manifold("a")
		a.Filter = func(error) error { return nil }
		h.failStart("a", alwaysFail)
		mustInstallAll(t, engine, dependency.Manifolds{
			"a": a,
			"b": h.manifold("b", "a"),
		})
		advance(time.Hour)
		if started := log.of("a", dependency.EventStarted); len(started) != 0 {
			t.Errorf("a started %d times, want never: its start failed", len(started))
		}
		for _, ev := range log.of("a", dependency.EventStopped) {
			if ev.Err != nil {
				t.Errorf("a stopped with %v, want nil: the filter dropped its error", ev.Err)
			}
		}
		if got := h.attemptCount("a"); got != 1 {
			t.Errorf("start calls of a = %d, want 1: a filtered start error is a completion", got)
		}
		if got := h.startCount("b"); got != 1 {
			t.Errorf("starts of b = %d, want 1: a never ran, so b was not bounced", got)
		}
		if r := engine.Report().Manifolds["a"]; r.State != dependency.StateStopped || r.Err != nil {
			t.Errorf("Report() of a = %v, %v; want stopped, no error", r.State, r.Err)
		}
		stopEngine(t, engine, nil)
	})
}

func TestJitter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const jitter = 0.25
		h := newHarness()
		var log eventLog
		engine := newEngine(t, dependency.EngineConfig{
			ErrorDelay:    time.Second,
			BackoffFactor: 2,
			MaxDelay:      8 * time.Second,
			BounceDelay:   400 * time.Millisecond,
			Jitter:        jitter,
			Observer:      log.observe,
		})
		h.failStart("a", alwaysFail)
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", h.manifold("b"))
		synctest.Wait()
		within := func(what string, d, base time.Duration) float64 {
			t.Helper()
			lo, hi := time.Duration(float64(base)*(1-jitter)), time.Duration(float64(base)*(1+jitter))
			if d < lo || d > hi {
				t.Fatalf("%s = %v, want within [%v, %v]", what, d, lo, hi)
			}
			return float64(d) / float64(base)
		}
		var ratios []float64
		for n := 1; n <= 200; n++ {
			delay := log.delays("a")[n]
			ratios = append(ratios, within(fmt.Sprintf("delay after failure %d", n), delay, backedOff(time.Second, 8*time.Second, n)))
			expectAttemptAfter(t, h, "a", delay)
		}
		for n := 1; n <= 200; n++ {
			h.worker("b").fail(dependency.ErrBounce)
			synctest.Wait()
			delay := log.delays("b")[n]
			ratios = append(ratios, within(fmt.Sprintf("bounce delay %d", n), delay, 400*time.Millisecond))
			expectAttemptAfter(t, h, "b", delay)
		}
		lowest, highest := ratios[0], ratios[0]
		for _, r := range ratios {
			lowest, highest = min(lowest, r), max(highest, r)
		}
		if lowest > 1-jitter/2 || highest < 1+jitter/2 {
			t.Errorf("delays ranged over [%.3f, %.3f] of their value, want beyond [%.3f, %.3f]", lowest, highest, 1-jitter/2, 1+jitter/2)
		}
		stopEngine(t, engine, nil)
	})
}

func TestZeroBounceDelay(t *testing.T) {
	t.Run("input starts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness()
			engine := dependency.NewEngine(nil, time.Second, 0)
			installChain(t, engine, h.manifold, "a", "b")
			synctest.Wait()
			if b := h.worker("b"); b == nil || b.seq != 1 || b.inputs["a"] != h.worker("a") {
				t.Errorf("b = %+v, want its first worker, running on a", b)
			}
			stopEngine(t, engine, nil)
		})
	})
	t.Run("starting input uninstalled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness()
			engine := dependency.NewEngine(nil, time.Second, 0)
			mustInstallAll(t, engine, dependency.Manifolds{
				"a": h.blocking("a"),
				"b": h.manifold("b", "a"),
			})
			synctest.Wait()
			if err := engine.Uninstall("a"); err != nil {
				t.Fatalf(`Uninstall("a") = %v, want nil`, err)
			}
			synctest.Wait()
			if b := h.worker("b"); b == nil || b.seq != 1 || b.inputs["a"] != nil {
				t.Errorf("b = %+v, want its first worker, running without a", b)
			}
			stopEngine(t, engine, nil)
		})
	})
}

func TestEngineFilterPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{
			IsFatal: func(err error) bool { return errors.Is(err, errFailed) },
			Filter:  func(err error) error { panic("filter broke") },
		})
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		h.worker("a").fail(errFailed)
		var panicked *dependency.PanicError
		if err := engine.Wait(); !errors.As(err, &panicked) || panicked.Value != "filter broke" {
			t.Errorf("Wait() = %v, want the filter's panic as a *PanicError", err)
		}
	})
}

// A panic in IsFatal counts the error as fatal, and one in WorstError keeps
// the first fatal error: neither crashes the process.
func TestPanickingIsFatalAndWorstError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		var log logRecorder
		engine := newEngine(t, dependency.EngineConfig{
			IsFatal:    func(err error) bool { panic("no opinion") },
			WorstError: func(err0, err1 error) error { panic("no choice") },
			Logger:     &log,
		})
		h.ignoreKill("b") // so that it fails after the engine began to stop
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", h.manifold("b"))
		synctest.Wait()
		first, second := errors.New("first"), errors.New("second")
		h.worker("a").fail(first)
		synctest.Wait()
		h.worker("b").fail(second)
		if err := engine.Wait(); err != first {
			t.Errorf("Wait() = %v, want %v", err, first)
		}
		if lines := log.errorsNaming("panicked"); len(lines) != 3 {
			t.Errorf("ERROR lines naming the panics = %q, want 3 (IsFatal twice, WorstError once)", lines)
		}
	})
}
