// Package dependency runs a graph of workers inside one engine, restarting
// each worker when it fails and whenever the workers it depends on change.
//
// # Model
//
// A [Worker] is anything that can be killed and waited for. A [Manifold]
// is a named node of the graph: its Inputs name the manifolds whose
// resources it may use, its Start func makes its worker, and its optional
// Output func lets dependents take typed resources from that worker. An
// [Engine] holds the installed manifolds and keeps one worker running for
// each that can run. The engine is itself a Worker, so it can run under a
// supervisor or inside another engine.
//
// Start is given a [GetResourceFunc]: getResource(name, out) fills out
// from the named input's worker through the input's Output func. The getter
// is a snapshot of the inputs taken when the start launches; it returns
// [ErrMissing] itself for a name that is not an input or has no running
// worker, and for a non-nil out an input without Output cannot fill. A nil
// out asks only whether the input runs, and Output is not called. The
// reason of each request is in [ManifoldReport].Resources. The getter works
// only while Start runs: later calls return [ErrExpired]. A manifold may
// run without some of its inputs; its Start func decides, returning
// ErrMissing when it cannot.
//
// [NewWorker] makes a worker of a func, [OutputOf] an Output func for one
// resource type, and [Get] a typed get: cfg, err := Get[*Config](get,
// "config").
//
// # Lifecycle
//
// [NewEngine] and [New] return a running engine. Its Install method records
// a manifold and starts its worker at once; the [Install] func does so for
// a whole [Manifolds] map as one batch, all or nothing, in dependency order.
// Inputs need not be installed first. At most one worker per manifold
// exists at a time: a new one starts only after the old one's Wait has
// returned.
//
// When a worker starts or stops, every dependent is bounced: stopped if it
// runs, then started again after the bounce delay with a fresh snapshot, so
// that no worker keeps running on an input worker older than itself. A
// start is held back while one of its inputs is about to start, so that it
// is not bounced as soon as it runs.
//
// With [EngineConfig].OrderedStop, every stop the engine makes itself
// (Kill, a fatal error, too many restarts, Uninstall, ErrUninstall, the
// bounce of an input) kills an input's worker only once every dependent
// worker started with it has stopped, as systemd stops units in reverse
// dependency order and Erlang/OTP supervisors stop children in reverse
// start order. A worker that stops by itself is not held back; independent
// parts of the graph stop concurrently; a dependent's restart waits until
// its input has restarted. [ManifoldReport].WaitingFor names the
// dependents an input waits for.
//
// Kill stops every worker and starts no new one; it never blocks. Wait
// returns once every worker's Wait and every goroutine of the engine have
// returned, with the fatal error that stopped the engine, or nil.
//
// # Restart rules
//
// When a worker stops, or its Start func fails, with error err:
//   - if isFatal(err) holds, the engine stops and Wait returns err; the
//     first fatal error wins unless [EngineConfig].WorstError chooses;
//   - if the engine is stopping, nothing restarts;
//   - if the engine stopped the worker (a bounce), it restarts after the
//     bounce delay, whatever err is;
//   - otherwise nil means completed and ErrMissing means an input is
//     lacking: neither restarts until an input changes; [ErrBounce]
//     restarts after the bounce delay, [ErrUninstall] removes the manifold,
//     and any other error restarts after the error delay (backed off,
//     capped and counted as [EngineConfig] says);
//   - if the worker had been running, its dependents are bounced.
//
// A panic in a Start, Output or Filter func, in a worker's Wait, or in a
// method (Error, Is, As, Unwrap) of an error they return, is recovered and
// handled as a failure with an error wrapping [ErrPanic]; its
// [*PanicError] holds the value and the stack. So is runtime.Goexit called
// by any of them. A panic in the Logger loses that line; one in the
// Observer, IsFatal or WorstError is logged (a panicking IsFatal counts as
// fatal). Install keeps its own copy of a manifold's Inputs.
//
// # Logging
//
// The engine logs through [EngineConfig].Logger: by default the
// "dependency" loggo module, or log/slog through [SlogLogger], which gives
// each line about a manifold the attribute "manifold". Starting, stopping
// and missing inputs are DEBUG; failures are ERROR, and a manifold failing
// over and over writes at most one line a second, counting the failures it
// stands for.
//
// # Errors
//
// Decide with errors.Is:
//   - [ErrMissing]: a resource is not available; see above.
//   - [ErrExpired]: a getter was used after its Start func returned.
//   - [ErrBounce], [ErrUninstall]: returned by a worker or Start func, ask
//     for a restart after the bounce delay, or for removal.
//   - [ErrInvalid]: Install was given an empty name, no or two start funcs,
//     or an input list naming the manifold itself, an empty name, or one
//     name twice.
//   - [ErrCycle]: the manifold would close a cycle; the message names it,
//     as in `cannot install "c": cycle "c" -> "a" -> "b" -> "c"`.
//   - [ErrAlreadyInstalled], [ErrNotInstalled]: Install of a name in use,
//     Uninstall of an unknown one.
//   - [ErrShuttingDown]: the engine has begun to stop.
//   - [ErrPanic]: a user's func panicked.
//   - [ErrTooManyRestarts], [ErrStopTimeout]: Wait's error when a manifold
//     failed too often, or workers did not stop in time.
//   - [ErrInternal]: the engine found its own state inconsistent; it stops
//     rather than crash the process.
//
// A refused Install changes nothing. See the examples of [Install] and
// [NewEngine].
package dependency
