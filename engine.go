package dependency

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/juju/errors"
	"gopkg.in/tomb.v2"
)

// NewEngine returns a running engine with the classic settings: isFatal
// decides which worker errors stop it, errorDelay and bounceDelay wait
// before restarting a failed or a bounced worker, exactly (zero means at
// once: there is no default backoff). Negative delays count as zero. It is
// New(EngineConfig{IsFatal: isFatal, ErrorDelay: errorDelay, BounceDelay:
// bounceDelay, BackoffFactor: 1}).
func NewEngine(isFatal IsFatalFunc, errorDelay, bounceDelay time.Duration) Engine {
	e, err := New(EngineConfig{
		IsFatal:       isFatal,
		ErrorDelay:    max(errorDelay, 0),
		BounceDelay:   max(bounceDelay, 0),
		BackoffFactor: 1,
	})
	if err != nil {
		panic(err) // unreachable: the config above is always valid
	}
	return e
}

// New returns a running engine, or the error of config.Validate.
func New(config EngineConfig) (Engine, error) {
	if err := config.Validate(); err != nil {
		return nil, errors.Trace(err)
	}
	e := &engine{
		config:  config.withDefaults(),
		nodes:   make(map[string]*node),
		tickets: make(chan ticket),
		reports: make(chan ticket, reportsBuffered),
	}
	e.tomb.Go(e.loop)
	return e, nil
}

// engine implements Engine. Its loop goroutine owns the graph and every
// worker's state; other goroutines reach it only through the channels.
type engine struct {
	config EngineConfig
	tomb   tomb.Tomb

	tickets chan ticket // what Install, Uninstall and Report ask
	reports chan ticket // what start goroutines tell: started, then stopped once

	// goroutines counts every goroutine the engine starts besides the
	// loop, so that Wait returns only after they have finished.
	goroutines sync.WaitGroup

	// final is the report of the stopped engine, built by finalReport.
	final     Report
	finalOnce sync.Once

	// Owned by loop: read and written only on the loop goroutine, and so
	// is every node. Every method of engine that these comments do not
	// mark otherwise runs there: the exceptions are the public methods and
	// what they call to reach the loop (installBatch, sendInstall, request,
	// waitSettled), run (a start goroutine's, run.go), the Kill calls of
	// kill, the getter (getter.go) and finalReport, which reads this state
	// once the loop has returned.
	nodes        map[string]*node // installed manifolds and names still referred to
	timers       timerQueue       // delayed starts
	live         int              // start goroutines that have not sent their stoppedTicket
	dying        bool             // no new starts; the loop ends when live is 0
	worst        error            // the fatal error Wait will return
	internal     error            // the engine's own failure, kept apart from worst
	stopDue      <-chan time.Time // fires StopTimeout after dying began
	loggerFailed bool             // the Logger panicked, and the fallback said so
	busy         int              // nodes in a busy state: the engine is settled when there are none
	settled      chan struct{}    // closed once the engine is settled; nil while nobody waits for it
}

// Kill is part of the Worker interface. It never blocks.
func (e *engine) Kill() {
	e.tomb.Kill(nil)
}

// Wait is part of the Worker interface. It returns once every worker has
// stopped (or StopTimeout passed) with the fatal error, or nil.
func (e *engine) Wait() error {
	return e.tomb.Wait()
}

// Install is part of the Engine interface.
func (e *engine) Install(name string, manifold Manifold) error {
	if err := validate(name, manifold); err != nil {
		return err
	}
	return e.sendInstall([]namedManifold{{name, manifold}})
}

// installBatch installs every manifold or none, in dependency order. Of a
// batch with invalid members, it names the first in name order.
func (e *engine) installBatch(manifolds Manifolds) error {
	batch := make([]namedManifold, 0, len(manifolds))
	for name, m := range manifolds {
		batch = append(batch, namedManifold{name, m})
	}
	for _, nm := range batch {
		if validate(nm.name, nm.manifold) != nil {
			return firstInvalid(batch)
		}
	}
	return e.sendInstall(batch)
}

// sendInstall hands the batch to the loop and returns its answer.
func (e *engine) sendInstall(batch []namedManifold) error {
	reply := make(chan error, 1)
	return e.request(installTicket{batch, reply}, reply)
}

// Uninstall is part of the Engine interface.
func (e *engine) Uninstall(name string) error {
	reply := make(chan error, 1)
	return e.request(uninstallTicket{name, reply}, reply)
}

// Report is part of the Engine interface.
func (e *engine) Report() Report {
	reply := make(chan reportReply, 1)
	select {
	case e.tickets <- reportTicket{reply}:
		return (<-reply).withWorkerReports()
	case <-e.tomb.Dead():
		return e.finalReport().clone() // each caller may change its own
	}
}

// WaitSettled blocks until eng is settled: no start is pending, held
// back or in flight, nothing is stopping, and so every installed manifold
// runs, is gated by a flag, has completed, or waits for an input that is
// not running. A manifold waiting out an error or bounce delay is not
// settled. It returns ctx's error if ctx is done first, and once the engine
// has stopped an error wrapping ErrShuttingDown and Wait's error. An
// Engine of another package is asked its Report every 10 ms.
func WaitSettled(ctx context.Context, eng Engine) error {
	if e, ok := eng.(*engine); ok {
		return e.waitSettled(ctx)
	}
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		if r := eng.Report(); r.Settled {
			return nil
		} else if r.State == StateStopped {
			return stoppedUnsettled(eng)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// waitSettled is WaitSettled for an engine of this package: the loop
// hands every caller the one channel it closes once the engine is settled,
// so that callers who give up leave nothing behind.
func (e *engine) waitSettled(ctx context.Context) error {
	reply := make(chan chan struct{}, 1)
	select {
	case e.tickets <- settledTicket{reply}:
	case <-e.tomb.Dead():
		return stoppedUnsettled(e)
	case <-ctx.Done():
		return ctx.Err()
	}
	settled := <-reply // the loop always replies
	select {
	case <-settled:
		return nil
	case <-e.tomb.Dead():
		return stoppedUnsettled(e)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// tellSettled closes the channels of WaitSettled's callers once the engine
// is settled.
func (e *engine) tellSettled() {
	if e.settled == nil || e.busy > 0 || e.dying {
		return
	}
	close(e.settled)
	e.settled = nil
}

// stoppedUnsettled returns WaitSettled's error for a stopped engine.
func stoppedUnsettled(engine Engine) error {
	stopped := failure(ErrShuttingDown, "engine stopped before it settled")
	if err := engine.Wait(); err != nil {
		return joinErrors(stopped, err)
	}
	return stopped
}

// loop serves the tickets until the engine has stopped and every start
// goroutine has sent its stoppedTicket.
func (e *engine) loop() error {
	var timer *time.Timer
	dying := e.tomb.Dying()
	for !e.dying || e.live > 0 {
		e.tellSettled()
		timer = e.timers.arm(timer)
		select {
		case <-dying:
			dying = nil
			e.shutDown()
		case t := <-e.tickets:
			t.handle(e)
		case t := <-e.reports:
			t.handle(e)
		case <-e.timers.fired(timer):
			e.gotTimer()
		case <-e.stopDue:
			err := e.stopTimedOut()
			e.abandon()
			return e.finish(err)
		}
	}
	return e.finish(e.waitGoroutines())
}

// shuttingDown reports whether the engine has begun to stop, also when Kill
// was called and the loop has yet to see it.
func (e *engine) shuttingDown() bool {
	return e.dying || e.tomb.Err() != tomb.ErrStillAlive
}

// gotInstall installs the batch, or nothing if any member cannot be
// installed.
func (e *engine) gotInstall(batch []namedManifold) error {
	if e.shuttingDown() {
		return errors.Trace(ErrShuttingDown)
	}
	order, err := e.planInstall(batch)
	if err != nil {
		return err
	}
	nodes := make([]*node, len(order))
	for i, nm := range order {
		nodes[i] = e.add(nm.name, nm.manifold)
	}
	for _, n := range nodes {
		e.logNotInstalled(n)
		e.requestStart(n, afterInstall)
	}
	return nil
}

// logNotInstalled says once, at INFO, which inputs and flags of the newly
// installed n are not installed: n waits for them, but a name misspelt
// would wait for ever.
func (e *engine) logNotInstalled(n *node) {
	for _, input := range n.inputs {
		if input.manifold == nil {
			e.logf(slog.LevelInfo, n.name, "input %q is not installed", input.name)
		}
	}
	for _, flag := range n.flags {
		if flag.manifold == nil {
			e.logf(slog.LevelInfo, n.name, "flag %q is not installed: gated until it is", flag.name)
		}
	}
}

// gotUninstall removes the named manifold.
func (e *engine) gotUninstall(name string) error {
	if e.shuttingDown() {
		return errors.Trace(ErrShuttingDown)
	}
	n := e.nodes[name]
	if n == nil || n.manifold == nil {
		return failure(ErrNotInstalled, "%q manifold not installed", name)
	}
	e.remove(n)
	return nil
}

// gotStarted records the worker a start returned, and what it started
// with.
func (e *engine) gotStarted(t startedTicket) {
	n := t.node
	if n.state != starting && n.state != stopping {
		e.failInternal("%q manifold started a worker while %v", n.name, n.state)
		e.kill(t.worker)
		return
	}
	n.worker = t.worker
	if t.gen == n.gen {
		if failures, last := n.history.unlogged, n.history.err; failures > 0 {
			e.logf(slog.LevelError, n.name, "failed %s more times before it started: %v", thousands(failures), last)
		}
		n.history.started(time.Now(), t.resources)
	}
	e.observe(Event{Kind: EventStarted, Manifold: n.name})
	if t.check.err != nil {
		e.logf(slog.LevelError, n.name, "%v; taken as closed", t.check.err)
	}
	e.afterStart(n, t.check)
}

// gotStopped records the end of a start goroutine: its worker stopped, or
// its start failed.
func (e *engine) gotStopped(t stoppedTicket) {
	e.live-- // every start goroutine sends its stoppedTicket exactly once
	n := t.node
	if !n.launched() {
		e.failInternal("%q manifold stopped a worker while %v", n.name, n.state)
		return
	}
	end := ended{state: n.state, ran: n.worker != nil, err: t.err, kind: t.kind}
	e.enter(n, idle)
	freed := n.release()
	if t.gen == n.gen {
		n.history.stopped(t.err, t.resources, end.ran, end.state == stopping)
	}
	e.observe(Event{Kind: EventStopped, Manifold: n.name, Err: t.err})
	e.afterStop(n, end, freed)
}

// gotTimer launches the starts whose delay has passed.
func (e *engine) gotTimer() {
	e.launchDue(e.timers.due(time.Now()))
}
