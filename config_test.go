package dependency_test

// EngineConfig.Validate, and NewEngine as a shorthand for New.

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

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

// TestZeroConfigBacksOff: the zero config restarts a failing manifold
// promptly, but failures in a row back off, so that a start that always
// fails makes a bounded number of starts per second of fake time.
func TestZeroConfigBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		h.failStart("a", alwaysFail)
		engine := newEngine(t, dependency.EngineConfig{BackoffFactor: 0})
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		const first, limit = 10 * time.Millisecond, 5 * time.Second
		for n := 1; n <= 12; n++ {
			delay := backedOff(first, limit, n)
			advance(delay - 1)
			if got := h.attemptCount("a"); got != n {
				t.Fatalf("start calls %v after failure %d = %d, want %d", delay-1, n, got, n)
			}
			advance(1)
			if got := h.attemptCount("a"); got != n+1 {
				t.Fatalf("start calls %v after failure %d = %d, want %d", delay, n, got, n+1)
			}
		}
		before := h.attemptCount("a")
		advance(time.Minute)
		if got := h.attemptCount("a") - before; got != 12 {
			t.Errorf("start calls in a minute at the longest delay = %d, want 12", got)
		}
		stopEngine(t, engine, nil)
	})
	// A factor without an ErrorDelay backs off from the default delay.
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		h.failStart("a", alwaysFail)
		engine := newEngine(t, dependency.EngineConfig{BackoffFactor: 3})
		mustInstall(t, engine, "a", h.manifold("a"))
		advance(time.Second)
		if got := h.attemptCount("a"); got != 5 { // at 0, 10ms, 40ms, 130ms and 400ms
			t.Errorf("start calls in a second with BackoffFactor 3 = %d, want 5", got)
		}
		stopEngine(t, engine, nil)
	})
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
