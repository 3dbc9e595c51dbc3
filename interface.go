package dependency

import "context"

// Worker is a long-running task. Kill asks it to stop and returns at once;
// Wait blocks until it has stopped and returns why (nil for a clean stop).
// Both must be safe to call from any goroutine, any number of times.
type Worker interface {
	Kill()
	Wait() error
}

// Flag is a worker that answers whether the manifolds gated on it (those
// that name its manifold in Manifold.Flags) may run. Its answer is fixed
// for the worker's life: to change it, the worker stops (with ErrBounce,
// say) and the next worker answers anew. Check must return at once.
type Flag interface {
	Worker
	Check() bool
}

// Engine is a Worker that runs one worker per installed manifold, restarting
// workers when they fail and when their inputs' workers start or stop.
// All methods are safe to call from any goroutine.
type Engine interface {
	Worker

	// Install records the manifold under name and starts its worker. It
	// fails, changing nothing, if the name is taken, the manifold is
	// invalid, it would close a cycle, or the engine is shutting down.
	Install(name string, manifold Manifold) error

	// Uninstall stops the named manifold's worker, forgets the manifold and
	// bounces its dependents. The name may be installed again afterwards.
	Uninstall(name string) error

	// Report describes the engine and every manifold at this moment. It
	// works after the engine has stopped too.
	Report() Report
}

// StartFunc makes a worker. The getter it is given is a snapshot of its
// inputs, valid only until StartFunc returns.
type StartFunc func(getResource GetResourceFunc) (Worker, error)

// StartContextFunc is a StartFunc with a context that is cancelled when the
// engine stops the manifold or shuts down, also while the start is still
// running. The worker may use ctx as its own lifetime signal.
type StartContextFunc func(ctx context.Context, getResource GetResourceFunc) (Worker, error)

// GetResourceFunc fetches a resource from the named input's worker through
// the input's Output func, which sets out. A nil out asks only whether the
// input's worker runs: the getter answers nil without calling Output. It
// returns ErrMissing itself (so err == ErrMissing holds) when name is not
// an input, has no running worker, or has no Output for a non-nil out; the
// reason is kept for the report (ManifoldReport.Resources) and the log.
// Output's own error is returned as it is. Once the StartFunc has
// returned, it returns an error wrapping ErrExpired.
type GetResourceFunc func(name string, out interface{}) error

// OutputFunc sets out, a pointer of a type it knows, from the manifold's
// worker. The engine calls it only with a non-nil out. It runs on the
// goroutine of the dependent's Start func. An out of a type it does not
// serve should get an error wrapping ErrMissing; OutputOf writes such a
// func for one type.
type OutputFunc func(in Worker, out interface{}) error

// IsFatalFunc reports whether a worker's error must stop the whole engine.
type IsFatalFunc func(err error) bool

// WorstErrorFunc returns the more important of two fatal errors.
type WorstErrorFunc func(err0, err1 error) error

// FilterFunc converts an error. It is only called with non-nil errors.
type FilterFunc func(error) error

// Logger is where the engine writes its log lines; loggo.Logger satisfies it.
type Logger interface {
	Debugf(format string, args ...any)
	Infof(format string, args ...any)
	Warningf(format string, args ...any)
	Errorf(format string, args ...any)
}

// Reporter is implemented by workers that describe themselves; their report
// appears in ManifoldReport.Worker.
type Reporter interface {
	Report() map[string]any
}
