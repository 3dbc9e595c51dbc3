package dependency

import "github.com/juju/errors"

// ErrMissing is returned, itself, by a GetResourceFunc when the named input
// is not available: not declared, not running, or, for a non-nil out,
// without an Output func. (An Output func refusing a type it does not serve
// should wrap it, as OutputOf does.) A Start func or worker that returns it (or an error
// wrapping it) is not restarted until one of its inputs changes; where a
// start returns it as the getter gave it, the engine reports and logs an
// error that says why and wraps it.
var ErrMissing = errors.New("dependency not available")

// ErrMistake is wrapped, beside ErrMissing, by the reason the engine
// records (in ManifoldReport.Err and Resources) when a start asked for
// what it can never get: a name that is not among its Inputs, or a type
// that the input's Output cannot give. It is wrapped too by the error of a
// start func that returned neither a worker nor an error, and by the
// reported error of a manifold whose Flags name one whose worker is not a
// Flag. Unlike an input that is not running yet, a mistake is logged at
// ERROR: it needs a change of code, not patience.
var ErrMistake = errors.New("mistake in the manifold")

// ErrBounce, returned by a Start func or a worker, asks for a restart after
// the engine's bounce delay instead of its error delay. It does not count as
// a failure.
var ErrBounce = errors.New("restart requested")

// ErrUninstall, returned by a Start func or a worker, removes its manifold
// from the engine, as Uninstall does.
var ErrUninstall = errors.New("uninstall requested")

// ErrTooManyRestarts is wrapped by Wait's error when one manifold failed more
// than EngineConfig.MaxRestarts times within EngineConfig.RestartPeriod.
var ErrTooManyRestarts = errors.New("too many restarts")

// ErrStopTimeout is wrapped by Wait's error when workers were still running
// EngineConfig.StopTimeout after the engine began to stop.
var ErrStopTimeout = errors.New("workers did not stop in time")

// ErrShuttingDown is wrapped by the error of Install, Uninstall and their
// kin once the engine has begun to stop.
var ErrShuttingDown = errors.New("engine is shutting down")

// ErrAlreadyInstalled is wrapped by Install's error for a name in use.
var ErrAlreadyInstalled = errors.New("manifold already installed")

// ErrNotInstalled is wrapped by Uninstall's error for an unknown name.
var ErrNotInstalled = errors.New("manifold not installed")

// ErrInvalid is wrapped by Install's error for a manifold that cannot be
// installed as it is: an empty name, no start func, or a bad input list.
// It is also wrapped by the error of a start func that returned neither a
// worker nor an error, or the engine itself as its worker; that start is
// handled as a failed one.
var ErrInvalid = errors.New("invalid manifold")

// ErrCycle is wrapped by Install's error when the manifold would close a
// cycle of inputs; the message names the cycle.
var ErrCycle = errors.New("dependency cycle")

// ErrExpired is wrapped by the error of a GetResourceFunc used after the
// Start func it was given to had returned.
var ErrExpired = errors.New("resource getter used after its start returned")

// ErrPanic is wrapped by the error that replaces a recovered panic in a
// Start, Output or Filter func, a worker's Wait, or a method of an error
// they returned (see PanicError), and by the error of a start goroutine
// that one of them ended with runtime.Goexit.
var ErrPanic = errors.New("panic")

// ErrInternal is wrapped by Wait's error when the engine found its own state
// inconsistent. It is never a worker's error.
var ErrInternal = errors.New("internal engine error")
