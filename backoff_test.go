package dependency_test

// Restart delays after failures: backoff, its reset, jitter, and the
// restart intensity that stops the engine.

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

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

// eachFailure runs test once for each of failureCases, in a bubble of its
// own, with "a" installed on an engine made with config and started once:
// each call of fail makes it fail.
func eachFailure(t *testing.T, config dependency.EngineConfig, test func(t *testing.T, h *harness, engine dependency.Engine, fail func())) {
	for _, tc := range failureCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, config)
				tc.setup(h)
				mustInstall(t, engine, "a", h.manifold("a"))
				synctest.Wait()
				test(t, h, engine, func() { tc.fail(h) })
			})
		})
	}
}

func TestBackoffDelaySequence(t *testing.T) {
	config := dependency.EngineConfig{ErrorDelay: time.Second, BackoffFactor: 2, MaxDelay: 5 * time.Second}
	eachFailure(t, config, func(t *testing.T, h *harness, engine dependency.Engine, fail func()) {
		fail()
		for _, d := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second} {
			expectAttemptAfter(t, h, "a", d)
			fail()
		}
		stopEngine(t, engine, nil)
	})
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
				if failures == 20 {
					return nil
				}
				failures++
				return errFailed
			})
			mustInstall(t, engine, "a", h.manifold("a"))
			advance(2 * time.Minute)
			if got := h.attemptCount("a"); got != 21 {
				t.Fatalf("start calls of a = %d, want 21: 20 failures, each restarted", got)
			}
			// The default delay, then the default cap: never 0, never negative.
			for n, d := range log.delays("a")[1:] { // the first is the install's
				if want := map[bool]time.Duration{true: 10 * time.Millisecond, false: 5 * time.Second}[n == 0]; d != want {
					t.Fatalf("delay %d = %v, want %v", n, d, want)
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

func TestRestartIntensity(t *testing.T) {
	config := dependency.EngineConfig{ErrorDelay: time.Second, MaxRestarts: 3, RestartPeriod: 10 * time.Second}
	eachFailure(t, config, func(t *testing.T, h *harness, engine dependency.Engine, fail func()) {
		begin := time.Now()
		fail()
		for range 2 {
			expectAttemptAfter(t, h, "a", time.Second)
			fail()
		}
		synctest.Wait()
		if r := engine.Report(); r.State != dependency.StateStarted {
			t.Fatalf("engine state after 3 failures = %v, want started", r.State)
		}
		expectAttemptAfter(t, h, "a", time.Second)
		fail()
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
