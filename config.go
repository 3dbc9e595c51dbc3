package dependency

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/juju/errors"
	"github.com/juju/loggo"
)

// logger is the package's module logger, used when EngineConfig.Logger is nil.
var logger = loggo.GetLogger("dependency")

// EngineConfig holds everything New needs. The zero value is valid and safe:
// no error is fatal, a bounced worker restarts at once, a failed one after
// the default backoff (see ErrorDelay), restarts are not capped, and
// nothing is timed out.
type EngineConfig struct {
	// IsFatal reports whether a worker's error stops the engine; nil: none.
	IsFatal IsFatalFunc
	// WorstError picks the more important of two fatal errors; nil: the
	// first one wins.
	WorstError WorstErrorFunc
	// Filter converts the non-nil error Wait returns; nil: unchanged.
	Filter FilterFunc

	// ErrorDelay is the wait before restarting a worker that failed. A
	// config that leaves it 0 gets the default backoff, so that a manifold
	// that always fails never restarts in a hot loop: 10 ms after a
	// failure, multiplied by BackoffFactor (2 if 0) for each further
	// failure in a row up to MaxDelay (5 s if 0), and afresh after a
	// worker that ran for BackoffResetTime (10 s if 0). To restart at once,
	// set BackoffFactor to 1 and leave ErrorDelay 0, as NewEngine does.
	ErrorDelay time.Duration
	// BounceDelay is the wait before restarting a worker the engine stopped
	// because an input changed, or that returned ErrBounce. It debounces
	// restarts only: a manifold with no worker whose input changes starts
	// at once.
	BounceDelay time.Duration

	// BackoffFactor multiplies ErrorDelay for each further consecutive
	// failure: the n-th waits ErrorDelay * BackoffFactor^(n-1). 1 keeps
	// ErrorDelay constant, 0 too when ErrorDelay is set.
	BackoffFactor float64
	// BackoffResetTime: a worker that ran at least this long before failing
	// starts its failure count afresh. 0: only a stop that is not a failure
	// resets the count (10 s under the default backoff).
	BackoffResetTime time.Duration
	// MaxDelay caps every backed-off delay before Jitter spreads it; 0: no
	// cap (5 s under the default backoff).
	MaxDelay time.Duration
	// Jitter, in [0, 1), draws each delay uniformly within +/-Jitter of
	// itself; 0: delays are exact.
	Jitter float64

	// MaxRestarts, with RestartPeriod: more than MaxRestarts failures of
	// one manifold within RestartPeriod stop the engine with an error
	// wrapping ErrTooManyRestarts. 0: never.
	MaxRestarts   int
	RestartPeriod time.Duration

	// StopTimeout bounds how long Wait waits for workers after the engine
	// began to stop; then it returns an error wrapping ErrStopTimeout and
	// abandons the goroutines of the workers still running. 0: forever.
	StopTimeout time.Duration

	// OrderedStop makes every stop the engine itself makes wait for
	// dependents first: an input's worker is killed only once every
	// dependent worker started with it (running, or with its start in
	// flight) has stopped. It holds on shutdown, Uninstall, the bounce of
	// an input, and the bounce of the dependents of a worker that returned
	// ErrUninstall; a worker that stops by itself is not held back. Independent parts of the graph stop concurrently. false:
	// every affected worker is told to stop at once.
	OrderedStop bool

	// Logger receives the engine's log lines; nil: the "dependency" loggo
	// module.
	Logger Logger

	// Observer, if set, is called on the engine's loop goroutine with each
	// lifecycle event, in order. It must return quickly and must not call
	// the engine's methods, which the loop serves; a panic in it is
	// recovered and logged.
	Observer func(Event)
}

// Validate returns an error naming the first field that cannot be used.
func (config EngineConfig) Validate() error {
	for _, d := range []struct {
		name  string
		value time.Duration
	}{
		{"ErrorDelay", config.ErrorDelay},
		{"BounceDelay", config.BounceDelay},
		{"BackoffResetTime", config.BackoffResetTime},
		{"MaxDelay", config.MaxDelay},
		{"RestartPeriod", config.RestartPeriod},
		{"StopTimeout", config.StopTimeout},
	} {
		if d.value < 0 {
			return invalidField(d.name, "%v is negative", d.value)
		}
	}
	switch f := config.BackoffFactor; {
	case math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || (f > 0 && f < 1):
		return invalidField("BackoffFactor", "%v is neither 0 nor at least 1", f)
	}
	switch j := config.Jitter; {
	case math.IsNaN(j) || j < 0 || j >= 1:
		return invalidField("Jitter", "%v is outside [0, 1)", j)
	}
	switch {
	case config.MaxRestarts < 0:
		return invalidField("MaxRestarts", "%d is negative", config.MaxRestarts)
	case config.MaxRestarts > 0 && config.RestartPeriod == 0:
		return invalidField("MaxRestarts", "%d needs a RestartPeriod", config.MaxRestarts)
	}
	return nil
}

// invalidField returns Validate's error for the named field; errors.Is
// matches it to errors.NotValid.
func invalidField(field, format string, args ...any) error {
	return failure(errors.NotValid, "invalid EngineConfig."+field+": "+format, args...)
}

// The default backoff of a config that leaves ErrorDelay 0 (unless its
// BackoffFactor is 1): like systemd's and suture's, it keeps a manifold
// that always fails from restarting in a hot loop, yet restarts one that
// failed once promptly.
const (
	defaultErrorDelay       = 10 * time.Millisecond
	defaultBackoffFactor    = 2
	defaultMaxDelay         = 5 * time.Second
	defaultBackoffResetTime = 10 * time.Second
)

// withDefaults returns config with the default Logger and, if it leaves
// ErrorDelay 0 without asking for exact delays (BackoffFactor 1), the
// default backoff.
func (config EngineConfig) withDefaults() EngineConfig {
	if config.Logger == nil {
		config.Logger = logger
	}
	if config.ErrorDelay == 0 && config.BackoffFactor != 1 {
		config.ErrorDelay = defaultErrorDelay
		if config.BackoffFactor == 0 {
			config.BackoffFactor = defaultBackoffFactor
		}
		if config.MaxDelay == 0 {
			config.MaxDelay = defaultMaxDelay
		}
		if config.BackoffResetTime == 0 {
			config.BackoffResetTime = defaultBackoffResetTime
		}
	}
	return config
}

// errorDelay returns the delay before restarting after the n-th consecutive
// failure (n >= 1), backed off, capped and jittered.
func (config *EngineConfig) errorDelay(n int) time.Duration {
	d := float64(config.ErrorDelay)
	if d > 0 && config.BackoffFactor > 1 && n > 1 { // 0 * +Inf would be NaN
		d *= math.Pow(config.BackoffFactor, float64(n-1))
	}
	if config.MaxDelay > 0 && d > float64(config.MaxDelay) {
		d = float64(config.MaxDelay)
	}
	return config.jitter(d)
}

// bounceDelay returns the delay before restarting a bounced worker.
func (config *EngineConfig) bounceDelay() time.Duration {
	return config.jitter(float64(config.BounceDelay))
}

// jitter draws a duration within +/-Jitter of d, and keeps it within
// what a time.Duration can hold.
func (config *EngineConfig) jitter(d float64) time.Duration {
	if config.Jitter > 0 {
		d *= 1 + config.Jitter*(2*rand.Float64()-1)
	}
	if d >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(d)
}
