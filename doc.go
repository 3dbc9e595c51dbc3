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
// Start is given a [GetResourceFunc], a snapshot of the inputs taken when
// the start launches: getResource(name, out) fills out from the named
// input's worker through the input's Output func. For a name that is not
// an input, an input with no running worker, or, with a non-nil out, an
// input without Output, it returns [ErrMissing] itself, so that
// err == ErrMissing holds. A nil out asks only whether the input's worker
// runs, and calls no Output. The getter works only while Start runs: later
// calls return an error wrapping [ErrExpired]. A manifold may run without
// some of its inputs; its Start func decides, returning ErrMissing when it
// cannot.
//
// [NewWorker] makes a worker of a func, [OutputOf] an Output func for one
// resource type, and [Get] a typed get: cfg, err := Get[*Config](get,
// "config"). [SelfManifold] is a manifold that gives its dependents the
// engine itself, so that a worker can install, uninstall and report.
//
// # Lifecycle
//
// [NewEngine] and [New] return a running engine. Its Install method records
// a manifold and starts its worker at once; the [Install] func does so for
// a whole [Manifolds] map as one batch, all or nothing, in dependency order.
// Inputs need not be installed first. At most one worker per manifold
// exists at a time: a new one starts only after the old one's Wait has
// returned. [Engine.Uninstall] stops a manifold's worker, forgets the
// manifold and bounces its dependents; the name may be installed again.
//
// When a worker starts or stops, every dependent that runs (or is starting)
// is bounced: stopped, then started again after the bounce delay with a
// fresh snapshot, so that no worker keeps running on an input worker older
// than itself. A dependent with no worker is not bounced: it starts at once.
// The bounce delay debounces restarts and nothing else, so an agent is up in
// the time of its longest chain of starts. A start is held back while one of
// its inputs is about to start, so that it is not bounced as soon as it
// runs; a start waiting out an error delay keeps its due time. A [Manifold].StartContext func gets a
// ctx that is cancelled when the engine stops the manifold or shuts down,
// also while the start still runs; the worker may keep it as its lifetime.
//
// # Flags
//
// A manifold may run only while a condition holds: its [Manifold].Flags
// name flag manifolds, whose workers are [Flag]s, each with an answer
// (Check) fixed for the worker's life. While a flag is not installed, not
// running, not a Flag or answering false, the manifold is gated: its start
// func is not called, and its report lists the flag in Gated. Only a change
// of answer matters: when a flag's worker starts, the manifolds gated on it
// start at once if all their flags are open, and those running are stopped
// if it is now closed; a flag restarting after a bounce keeps its answer
// meanwhile, so that the manifolds it admitted keep running. A flag that
// stops otherwise counts as closed. Flags take part in the graph as inputs
// do (install order, cycles, held-back starts), but are not resources: the
// getter offers one only if it is among Inputs too. [NewFlag] makes the
// worker of a flag whose answer a start func computes; a [Gate] is a flag
// that workers open, and lock down, while the engine runs. With
// OrderedStop, a flag stopped for good (on shutdown or Uninstall) is
// killed only once the manifolds it admitted have stopped.
//
// Kill stops every worker and starts no new one; it never blocks. Wait
// returns once every worker's Wait and every goroutine of the engine have
// returned, with the fatal error that stopped the engine, or nil.
//
// # Restart rules
//
// When a worker stops, or its Start func fails, with error err (after the
// manifold's Filter, if it has one):
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
// by any of them. A panic in a worker's Kill is recovered; its Wait still
// decides when it has stopped. A panic in the Logger loses that line; one
// in the Observer, IsFatal or WorstError is logged (a panicking IsFatal
// counts as fatal). Install keeps its own copy of a manifold's Inputs.
//
// # Configuration
//
// NewEngine(isFatal, errorDelay, bounceDelay) is the classic constructor,
// with the classic exact delays: zero restarts at once. New takes an
// [EngineConfig], whose zero value is valid and never spins: no error is
// fatal, a bounced worker restarts at once, and a failed one after the
// default backoff (10 ms, doubled for each further failure in a row up to
// 5 s, afresh after a run of 10 s) unless the config sets ErrorDelay, or
// asks for exact delays with a BackoffFactor of 1. New refuses a config it cannot use with an error naming
// the field. Besides
// IsFatal, WorstError, Filter (of Wait's error), ErrorDelay and
// BounceDelay, it sets:
//   - BackoffFactor, MaxDelay and BackoffResetTime: each further failure in
//     a row waits longer, up to a cap; the count starts afresh after a stop
//     that is not a failure, or a run of at least BackoffResetTime;
//   - Jitter: every delay drawn within +/-Jitter of itself;
//   - MaxRestarts and RestartPeriod: a manifold failing too often stops the
//     engine with [ErrTooManyRestarts];
//   - StopTimeout: Wait returns at most that long after the stop began,
//     with [ErrStopTimeout] naming the workers still running;
//   - OrderedStop: every stop the engine makes itself (Kill, a fatal
//     error, too many restarts, Uninstall, the bounce of an input, or of
//     the dependents of a worker that returned ErrUninstall) kills an input's worker only once every dependent worker
//     started with it has stopped, as systemd stops units in reverse
//     dependency order. A worker that stops by itself is not held back,
//     independent parts of the graph stop concurrently, and a dependent's
//     restart waits until its input has restarted;
//   - Logger and Observer: where log lines and lifecycle [Event] values go.
//
// IsFatal, WorstError, Filter, Logger and Observer run on the engine's own
// goroutine: they must return quickly and must not call the engine's
// methods.
//
// # Reports
//
// [Engine.Report] describes the engine and every manifold at this moment,
// from any goroutine, also after the engine has stopped. Each
// [ManifoldReport] gives the manifold's [State], its Inputs, the Missing
// ones that have no running worker, its Flags and the Gated ones that keep
// it from running, a flag's answer (Flag), its StartCount, Failures and
// Bounces, when it last Started,
// its last error (Err, kept until it runs again), when a delayed start is
// Due, the Resources its last start asked its getter for (each
// [ResourceRequest] with the reason of an ErrMissing), the dependents an
// input is WaitingFor under OrderedStop, the worker's own report when it
// implements [Reporter], and the Engine report of a worker that is itself
// an engine. Report.Settled says that nothing is pending, held back,
// starting or stopping; [WaitSettled] waits for it without polling.
// [Report.MarshalJSON] writes readable JSON that decodes back,
// and [Report.DOT] the graph for Graphviz. Package
// github.com/seedworks/dependency/introspect serves both, and a live
// picture of the graph, over HTTP.
//
// # Logging
//
// The engine logs through [EngineConfig].Logger: by default the
// "dependency" loggo module, or log/slog through [SlogLogger], which gives
// each line about a manifold the attribute "manifold". Starts, bounces and
// missing inputs are DEBUG, an uninstall is INFO; failures are ERROR, and a
// manifold failing over and over writes at most one line a second,
// counting the failures it stands for. A start that returns the getter's
// ErrMissing is logged, and reported as its Err, with the reason, as in
// `input "auth" not running: dependency not available`. Waiting is quiet
// and mistakes are loud: an input or flag that is not installed is logged
// once at INFO when the manifold is installed, an input not running only
// at DEBUG; a mistake ([ErrMistake]: a name not among Inputs, a type an
// Output cannot give, a flag whose worker is not a Flag, a start func that
// returned neither a worker nor an error) at ERROR, saying what to do.
//
// # Errors
//
// Decide with errors.Is:
//   - [ErrMissing]: a resource is not available; see above.
//   - [ErrMistake]: beside ErrMissing or ErrInvalid, the manifold asked
//     for what it can never get; see Logging.
//   - [ErrExpired]: a getter was used after its Start func returned.
//   - [ErrBounce], [ErrUninstall]: returned by a worker or Start func, ask
//     for a restart after the bounce delay, or for removal.
//   - [ErrInvalid]: Install was given an empty name, no or two start funcs,
//     or an input list naming the manifold itself, an empty name, or one
//     name twice; or a Start func returned neither a worker nor an error,
//     or the engine itself (a failed start).
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
// A refused Install changes nothing. New's error for a bad config matches
// errors.NotValid of github.com/juju/errors.
//
// # Examples and related packages
//
// The examples show [Install], [NewEngine], [New] with a Logger, an
// Observer and OrderedStop, [Engine.Uninstall], [SelfManifold], the
// helpers [NewWorker], [OutputOf], [Get], [SlogLogger], [NewFlag] and
// [Gate], and reports as DOT and JSON. Package github.com/seedworks/dependency/dependencytest
// tests a Start func without an engine. The module's examples/minimal is a
// first program, and examples/agent an agent with a watched config file, a
// connection that drops, a manifold that uninstalls itself and a nested
// engine.
package dependency
