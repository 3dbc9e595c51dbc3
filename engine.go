package dependency

import (
	"context"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/juju/errors"
	"gopkg.in/tomb.v2"
)

// NewEngine returns a running engine with the classic settings: isFatal
// decides which worker errors stop it, errorDelay and bounceDelay wait
// before restarting a failed or a bounced worker. Negative delays count as
// zero. It is New(EngineConfig{IsFatal: isFatal, ErrorDelay: errorDelay,
// BounceDelay: bounceDelay}).
func NewEngine(isFatal IsFatalFunc, errorDelay, bounceDelay time.Duration) Engine {
	e, err := New(EngineConfig{
		IsFatal:     isFatal,
		ErrorDelay:  max(errorDelay, 0),
		BounceDelay: max(bounceDelay, 0),
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
	if config.Logger == nil {
		config.Logger = logger
	}
	e := &engine{
		config:  config,
		tickets: make(chan ticket),
		inbox:   runInbox{bell: make(chan struct{}, 1)},
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
	inbox   runInbox    // what start goroutines tell the loop
	kills   killQueue   // the workers to kill, for the killer goroutine

	// goroutines counts every goroutine the engine starts, so that Wait
	// returns only after they have finished.
	goroutines sync.WaitGroup

	// final is the report of the stopped engine, built by finalReport.
	final     Report
	finalOnce sync.Once

	// Owned by loop: read and written only on the loop goroutine.
	nodes       map[string]*node // installed manifolds and names still referred to; nil until an install
	first, last *node            // the same nodes, linked in the order made; see shutDown
	timers      timerQueue       // delayed starts
	live        int              // start goroutines that have not reported their stop
	reportsDue  int              // starts in flight and stops asked for: messages on their way
	launched    bool             // a start goroutine began in this turn of the loop
	dying       bool             // no new starts; the loop ends when live is 0
	worst       error            // the fatal error Wait will return
	internal    error            // the engine's own failure, kept apart from worst
	stopDue     <-chan time.Time // fires StopTimeout after dying began
	toKill      []Worker         // Kill calls asked for in this turn of the loop
	killCheck   <-chan time.Time // fires when the kill queue may have stalled; nil when no check is due
}

// ticket is a request of a public method to the loop. Its handle runs on
// the loop goroutine and always sends the reply. One channel carries every
// kind, so that the loop waits on few channels: fewer to lock on each wait,
// and fewer parked waiters held by each idle engine.
type ticket interface {
	handle(e *engine)
}

// installTicket asks the loop to install a batch, already validated one by
// one, in any order.
type installTicket struct {
	batch []namedManifold
	reply chan error
}

// uninstallTicket asks the loop to remove a manifold.
type uninstallTicket struct {
	name  string
	reply chan error
}

// reportTicket asks the loop for a report.
type reportTicket struct {
	reply chan reportReply
}

func (t installTicket) handle(e *engine)   { t.reply <- e.gotInstall(t.batch) }
func (t uninstallTicket) handle(e *engine) { t.reply <- e.gotUninstall(t.name) }
func (t reportTicket) handle(e *engine)    { t.reply <- e.report() }

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

// installBatch installs every manifold or none, in dependency order. A bad
// batch is checked again in name order, so that which error it returns
// does not depend on map order; a good one is never sorted.
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

// request sends t, whose handler answers on reply, and returns the answer;
// once the engine is shutting down it returns ErrShuttingDown instead.
func (e *engine) request(t ticket, reply <-chan error) error {
	select {
	case e.tickets <- t:
		return <-reply // the loop always replies
	case <-e.tomb.Dying():
		return errors.Trace(ErrShuttingDown)
	}
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

// loop serves the tickets until the engine has stopped and every worker has
// reported its stop.
func (e *engine) loop() error {
	defer e.abandonRunMessages()
	var timer *time.Timer
	dying := e.tomb.Dying()
	for !e.dying || e.live > 0 {
		if e.launched {
			// Let the new start goroutines run before the loop waits: a
			// start that returns at once then reports while the loop is
			// still awake, and its message needs no wake-up.
			e.launched = false
			runtime.Gosched()
		}
		timer = e.timers.arm(timer)
		select {
		case <-dying:
			dying = nil
			e.shutDown()
		case t := <-e.tickets:
			t.handle(e)
		case <-e.inbox.bell:
			if e.reportsDue > 1 {
				// More messages are on their way: let their goroutines
				// run first, and take them together. Woken by each in
				// turn, the loop would spend more on waking than on them.
				runtime.Gosched()
			}
			e.gotRunMessages(e.inbox.take())
		case <-e.timers.fired(timer):
			e.gotTimer()
		case <-e.killCheck:
			e.gotKillCheck()
		case <-e.stopDue:
			return e.finish(e.stopTimedOut())
		}
		e.handOverKills()
	}
	return e.finish(e.waitGoroutines())
}

// gotInstall installs the batch, or nothing if any member cannot be
// installed. It must only be called from the loop goroutine.
func (e *engine) gotInstall(batch []namedManifold) error {
	if e.dying {
		return errors.Trace(ErrShuttingDown)
	}
	order, err := e.planInstall(batch, false)
	if err != nil {
		// Plan again in name order, so that the error names what it would
		// name whatever order the maps gave this batch and earlier ones.
		slices.SortFunc(batch, byName)
		_, err = e.planInstall(batch, true)
		return err
	}
	if len(e.nodes) == 0 {
		// Often the first batch holds every manifold: make room for it at
		// once rather than growing the map, and rehashing it, step by step.
		e.nodes = make(map[string]*node, len(batch))
	}
	nodes := make([]*node, len(order))
	for i, member := range order {
		nodes[i] = e.add(batch[member].name, batch[member].manifold)
	}
	for _, n := range nodes {
		e.requestStart(n, 0, false)
	}
	return nil
}

// gotUninstall removes the named manifold. It must only be called from the
// loop goroutine.
func (e *engine) gotUninstall(name string) error {
	if e.dying {
		return errors.Trace(ErrShuttingDown)
	}
	n := e.nodes[name]
	if n == nil || !n.installed {
		return failure(ErrNotInstalled, "%q manifold not installed", name)
	}
	e.remove(n)
	return nil
}

// gotRunMessages handles the messages of start goroutines, in order. It must
// only be called from the loop goroutine.
func (e *engine) gotRunMessages(first *runMessage) {
	for r := first; r != nil; {
		next := r.next
		r.next = nil // a message a worker keeps alive keeps no others
		if r.stopped() {
			e.gotStopped(r.node, r.err)
		} else {
			e.gotStarted(r.node, r.worker)
		}
		r = next
	}
}

// gotStarted makes the worker current and bounces the dependents, unless
// the worker must stop at once. It must only be called from the loop
// goroutine.
func (e *engine) gotStarted(n *node, worker Worker) {
	if n.state != starting {
		e.failInternal("%q manifold started a worker while %v", n.name, n.state)
		e.kill(worker)
		return
	}
	n.state = running
	n.worker = worker
	e.reportsDue--
	if !n.stale {
		n.startCount++
		n.startedAt = time.Now()
		n.err = nil
	}
	e.observe(Event{Kind: EventStarted, Manifold: n.name})
	if e.dying || n.stopping {
		n.stopping = true
		e.reportsDue++
		e.kill(n.worker)
		return
	}
	e.debugf("%q manifold worker started", n.name)
	e.bounceDependents(n)
	e.unblockDependents(n) // those whose bounce left their start due now
}

// gotStopped applies the restart rules to a stopped worker or failed start.
// It must only be called from the loop goroutine.
func (e *engine) gotStopped(n *node, err error) {
	e.live-- // every start goroutine reports its stop exactly once
	if n.state != starting && n.state != running {
		e.failInternal("%q manifold stopped a worker while %v", n.name, n.state)
		return
	}
	ran, stoppedByEngine, stale := n.state == running, n.stopping, n.stale
	if !ran || stoppedByEngine {
		e.reportsDue--
	}
	n.setIdle()
	if err != nil && !stale && !stoppedByEngine {
		n.err = err // an error of a worker the engine stopped says nothing
	}
	e.observe(Event{Kind: EventStopped, Manifold: n.name, Err: err})
	if e.config.isFatal(err) {
		e.config.Logger.Errorf("%q manifold worker returned fatal error: %v", n.name, err)
		e.stop(err)
	}
	switch {
	case e.dying:
		return
	case !n.installed:
		e.forgetIfUnused(n) // uninstalled: dependents were bounced then
		return
	case stoppedByEngine:
		n.failures = 0 // not a failure, whatever err is
		e.requestStart(n, e.config.bounceDelay(), false)
	case errors.Is(err, ErrUninstall):
		e.remove(n)
		return
	default:
		e.gotResult(n, err, ran)
	}
	if ran {
		e.bounceDependents(n)
	}
	e.unblockDependents(n)
}

// gotResult decides the restart of a worker that stopped by itself, or whose
// start failed. It must only be called from the loop goroutine.
func (e *engine) gotResult(n *node, err error, ran bool) {
	switch {
	case err == nil:
		e.config.Logger.Debugf("%q manifold worker completed", n.name)
		n.failures = 0
	case errors.Is(err, ErrMissing):
		e.config.Logger.Debugf("%q manifold missing a dependency: %v", n.name, err)
		n.failures = 0
	case errors.Is(err, ErrBounce):
		e.config.Logger.Debugf("%q manifold asked to restart: %v", n.name, err)
		n.failures = 0
		e.requestStart(n, e.config.bounceDelay(), false)
	default:
		e.gotFailure(n, err, ran)
	}
}

// gotFailure counts a failure, stops the engine if the manifold restarts too
// often, and otherwise schedules its restart. It must only be called from
// the loop goroutine.
func (e *engine) gotFailure(n *node, err error, ran bool) {
	now := time.Now()
	if ran && e.config.BackoffResetTime > 0 && now.Sub(n.startedAt) >= e.config.BackoffResetTime {
		n.failures = 0
	}
	n.failures++
	if ran {
		e.config.Logger.Errorf("%q manifold worker failed: %v", n.name, err)
	} else {
		e.config.Logger.Errorf("%q manifold start failed: %v", n.name, err)
	}
	if n.restartedTooOften(now, e.config.MaxRestarts, e.config.RestartPeriod) {
		tooMany := failure(ErrTooManyRestarts, "%q manifold failed more than %d times within %v; last error: %v",
			n.name, e.config.MaxRestarts, e.config.RestartPeriod, err)
		e.config.Logger.Errorf("stopping the engine: %v", tooMany)
		e.stop(tooMany)
		return
	}
	e.requestStart(n, e.config.errorDelay(n.failures), true)
}

// gotTimer launches the starts whose delay has passed. All of them are due
// before any launches, so that a dependent waits for an input due at the
// same instant, whatever their order in the queue. It must only be called
// from the loop goroutine.
func (e *engine) gotTimer() {
	due := e.timers.due(time.Now())
	for _, n := range due {
		n.state = waiting
	}
	for _, n := range due {
		e.tryLaunch(n)
	}
}

// requestStart asks for n's worker to start after delay. A pending start
// keeps the later of its own due time and the new one; a starting or running
// worker is left alone: it restarts when it stops. It must only be called
// from the loop goroutine.
func (e *engine) requestStart(n *node, delay time.Duration, afterError bool) {
	if e.dying || !n.installed {
		return
	}
	due := time.Now().Add(delay)
	switch n.state {
	case starting, running:
		return
	case scheduled, waiting:
		if !due.After(n.due) {
			return
		}
	}
	n.due, n.afterError = due, afterError
	e.observe(Event{Kind: EventScheduled, Manifold: n.name, Delay: delay})
	if delay > 0 {
		n.state = scheduled
		e.timers.push(n)
		return
	}
	n.state = waiting
	e.tryLaunch(n)
}

// tryLaunch starts n's worker now, unless an input is about to start and
// would bounce it at once: then n waits for that input. It must only be
// called from the loop goroutine.
func (e *engine) tryLaunch(n *node) {
	for _, input := range n.inputs {
		if input.aboutToStart() {
			return
		}
	}
	n.state = starting
	e.reportsDue++
	var ctx context.Context
	if n.manifold.StartContext != nil {
		ctx, n.cancel = context.WithCancel(context.Background())
	}
	e.live++
	e.launched = true
	e.goroutines.Add(1)
	e.debugf("%q manifold worker starting", n.name)
	go e.run(newLaunch(n, ctx))
}

// requestStop stops n's worker, or cancels its pending start. It must only
// be called from the loop goroutine.
func (e *engine) requestStop(n *node) {
	switch n.state {
	case scheduled, waiting:
		n.state = idle
	case starting, running:
		if n.stopping {
			return
		}
		n.stopping = true
		if n.state == running {
			e.reportsDue++ // a start in flight is counted already
		}
		if n.cancel != nil {
			n.cancel()
		}
		if n.worker != nil {
			e.kill(n.worker)
		}
	}
}

// bounceDependents restarts every dependent of n, so that it runs on n's
// current worker. It must only be called from the loop goroutine.
func (e *engine) bounceDependents(n *node) {
	for _, d := range n.dependents {
		e.observe(Event{Kind: EventBounced, Manifold: d.name})
		e.debugf("%q manifold bounced: an input changed", d.name)
		switch d.state {
		case starting, running:
			e.requestStop(d)
		default:
			e.requestStart(d, e.config.bounceDelay(), false) // each its own jitter
		}
	}
}

// unblockDependents launches the dependents of n that were waiting for it.
// It must only be called from the loop goroutine.
func (e *engine) unblockDependents(n *node) {
	for _, d := range n.dependents {
		if d.state == waiting {
			e.tryLaunch(d)
		}
	}
}

// debugf logs a DEBUG line naming a manifold. It asks the logger first,
// when the logger can say, so that starting and stopping thousands of
// workers does not box their names for lines nobody reads.
func (e *engine) debugf(format, name string) {
	if logger, ok := e.config.Logger.(debugEnabler); ok && !logger.IsDebugEnabled() {
		return
	}
	e.config.Logger.Debugf(format, name)
}

// debugEnabler is implemented by loggers, loggo's among them, that say
// whether they want DEBUG lines.
type debugEnabler interface {
	IsDebugEnabled() bool
}

// observe passes ev to the configured observer, if any, recovering a panic.
// It must only be called from the loop goroutine.
func (e *engine) observe(ev Event) {
	if e.config.Observer == nil {
		return
	}
	ev.Time = time.Now()
	defer func() {
		if v := recover(); v != nil {
			e.config.Logger.Errorf("%q manifold: observer panicked on %v: %v", ev.Manifold, ev.Kind, v)
		}
	}()
	e.config.Observer(ev)
}
