package dependency

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// The decisions of a manifold's life: when its start is due, whether it may
// launch, what stops it, and what follows a stop. The loop's handlers
// (engine.go) record what happened and call one of these.

// startCause is why a start is asked for.
type startCause uint8

const (
	afterInstall     startCause = iota // the manifold was just installed
	afterInputChange                   // an input's worker started or stopped
	afterBounce                        // the engine stopped the worker, or it returned ErrBounce
	afterFailure                       // the start or the worker failed
	afterFlagOpen                      // a flag it was gated on opened
)

// requestStart asks for n's start, for cause. A pending start keeps the
// later of its own due time and the new one; a start in flight or a worker
// is left alone: it restarts when it stops, by the rules. While a flag of
// n is closed, n is gated instead: no start is wanted until it opens.
func (e *engine) requestStart(n *node, cause startCause) {
	if e.dying || n.manifold == nil || n.launched() {
		return
	}
	if e.gate(n) {
		return
	}
	delay, pending := e.delay(n, cause)
	due := time.Now().Add(delay)
	if n.pending() || n.state == heldBack {
		if !due.After(n.due) {
			return
		}
	}
	n.due = due
	e.observe(Event{Kind: EventScheduled, Manifold: n.name, Delay: delay})
	if delay > 0 {
		e.enter(n, pending)
		e.timers.push(n)
		return
	}
	e.enter(n, heldBack)
	e.tryLaunch(n)
}

// delay returns how long n's start waits, for cause, and the pending state
// it waits in. The bounce delay debounces restarts, and nothing else: a
// manifold with no worker starts as soon as its inputs allow.
func (e *engine) delay(n *node, cause startCause) (time.Duration, nodeState) {
	switch {
	case cause == afterFailure:
		return e.config.errorDelay(n.history.failures), pendingError
	case cause == afterBounce, n.state == pendingBounce:
		return e.config.bounceDelay(), pendingBounce // each its own jitter; a restart waiting out its delay waits again
	}
	return 0, heldBack // installed, or an input changed; one waiting out an error delay keeps its due time
}

// heldBy returns what n's due start must wait for, or nil if it may launch:
// an input about to start, which would bounce n's new worker at once, or a
// flag about to start, whose next answer may differ from the one it keeps.
func (e *engine) heldBy(n *node) *node {
	for _, input := range n.inputs {
		if input.aboutToStart() {
			return input
		}
	}
	for _, flag := range n.flags {
		if flag.aboutToStart() {
			return flag
		}
	}
	return nil
}

// gate makes n gated, and reports so, if one of its flags is closed: no
// start is wanted until flagChanged finds them all open. A node that will
// not start now holds nothing back, and, as a flag, is closed.
func (e *engine) gate(n *node) bool {
	i := slices.IndexFunc(n.flags, func(flag *node) bool { return !flag.openFlag() })
	switch {
	case i < 0:
		return false
	case n.state == gated:
		return true
	}
	e.enter(n, gated)
	e.logf(slog.LevelDebug, n.name, "gated: flag %q is not open", n.flags[i].name)
	if n.answer(false) {
		e.flagChanged(n)
	}
	e.launchHeld(n)
	return true
}

// launchDue launches the starts whose delay has passed. All of them are due
// before any launches, so that a dependent waits for an input due at the
// same instant, whatever their order in the queue.
func (e *engine) launchDue(due []*node) {
	for _, n := range due {
		e.enter(n, heldBack)
	}
	for _, n := range due {
		e.tryLaunch(n)
	}
}

// launchHeld launches the dependents of n, and the nodes gated on it, that
// it held back, now that it has started or stopped.
func (e *engine) launchHeld(n *node) {
	for _, held := range [][]*node{n.dependents, n.flagged} {
		for _, d := range held {
			e.tryLaunch(d)
		}
	}
}

// tryLaunch starts a goroutine for n's start if it is held back, unless
// heldBy says it must wait (then n stays held back, and launchHeld launches
// it) or a flag is closed (then n is gated). A node that is not held back
// any more was launched or gated meanwhile, perhaps by the very launches
// and gatings that its turn waited behind.
func (e *engine) tryLaunch(n *node) {
	if e.dying || n.state != heldBack || e.heldBy(n) != nil {
		return
	}
	if e.gate(n) {
		return
	}
	e.enter(n, starting)
	n.take(e.config.OrderedStop)
	l := &launch{node: n, gen: n.gen, manifold: n.manifold, get: newGetter(n)}
	if n.manifold.StartContext != nil {
		l.ctx, n.cancel = context.WithCancel(context.Background())
	}
	e.live++
	e.logf(slog.LevelDebug, n.name, "worker starting")
	e.goroutines.Go(func() { e.run(l) })
}

// afterStart makes n's new worker current and restarts its dependents on
// it, and, as a flag, acts on its answer; a worker whose stop was asked for
// while it started is killed at once.
func (e *engine) afterStart(n *node, check checked) {
	if n.state == stopping {
		e.kill(n.worker)
		return
	}
	e.enter(n, running)
	e.logf(slog.LevelDebug, n.name, "worker started")
	n.isFlag = check.isFlag
	changed := n.answer(check.open) // before its dependents look, as inputs, at what it answers
	e.inputChanged(n)
	if !check.isFlag {
		e.notAFlag(n)
	}
	if changed {
		e.flagChanged(n)
	}
	e.tellAdmittedGone(n)
	e.launchHeld(n) // those whose restart left their start due now
}

// flagChanged acts on a change of flag n's answer; only a change matters.
// When it opens, the nodes gated on it start if every flag of theirs is
// open; when it closes, those that run or start are stopped, and then stay
// gated.
func (e *engine) flagChanged(n *node) {
	open := n.openFlag()
	for _, d := range n.flagged {
		switch {
		case open && d.state == gated:
			e.requestStart(d, afterFlagOpen)
		case !open && d.launched():
			e.logf(slog.LevelDebug, d.name, "stopping: flag %q closed", n.name)
			e.requestStop(d)
		}
	}
}

// notAFlag logs, for each manifold that names n among its Flags, within
// the rate limit of its failures, that n's worker is not a Flag: a mistake
// that keeps it gated until the code changes. Its report says so too
// (notAFlagError).
func (e *engine) notAFlag(n *node) {
	for _, d := range n.flagged {
		if _, ok := d.history.logFailure(time.Now()); ok {
			e.logf(slog.LevelError, d.name, "gated: %v", notAFlagError(n))
		}
	}
}

// tellAdmittedGone tells flag n's worker, if it asked, when nothing it
// admitted runs while it is closed: so a Gate's Lockdown learns that every
// manifold gated on it has stopped.
func (e *engine) tellAdmittedGone(n *node) {
	if w, ok := n.worker.(admittedWatcher); ok && n.state == running && !n.open && len(n.admitted) == 0 {
		w.admittedGone()
	}
}

// requestStop stops n's worker, or cancels its pending start. With
// OrderedStop, a worker that dependents took drains first: they are asked
// to stop, and the last of them to stop frees it (afterStop); a flag that
// stops for good (on shutdown or Uninstall) drains for the nodes it
// admitted too.
func (e *engine) requestStop(n *node) {
	forGood := e.config.OrderedStop && (e.dying || n.manifold == nil)
	switch n.state {
	case pendingBounce, pendingError, heldBack, gated:
		e.enter(n, idle)
	case running:
		n.drainAll = forGood
		if holders := n.holders(); len(holders) > 0 {
			e.enter(n, draining)
			for _, d := range slices.Clone(holders) { // they leave it as they stop
				e.requestStop(d)
			}
			return
		}
		e.stopNow(n)
	case draining:
		n.drainAll = n.drainAll || forGood // those it admitted are stopped with the rest
	case starting:
		e.stopNow(n)
	}
}

// stopNow cancels n's start, or kills its worker.
func (e *engine) stopNow(n *node) {
	e.enter(n, stopping)
	if n.cancel != nil {
		n.cancel()
	}
	if n.worker != nil {
		e.kill(n.worker)
	}
}

// inputChanged restarts every dependent of n, whose worker started or
// stopped, so that it runs on n's current worker.
func (e *engine) inputChanged(n *node) {
	for _, d := range n.dependents {
		switch d.state {
		case starting, running, draining:
			e.bounce(d)
		default:
			e.reschedule(d)
		}
	}
}

// bounce stops d's worker or start, which began on an input that has
// changed; it restarts after the bounce delay once it has stopped.
func (e *engine) bounce(d *node) {
	d.history.bounced++
	e.observe(Event{Kind: EventBounced, Manifold: d.name})
	e.logf(slog.LevelDebug, d.name, "bounced: an input changed")
	e.requestStop(d)
}

// reschedule asks for the start of d, which has no worker, now that an
// input has changed: there is nothing to stop, so it is not bounced.
func (e *engine) reschedule(d *node) {
	e.requestStart(d, afterInputChange)
}

// remove uninstalls n: it stops n's worker, unlinks n from its inputs and
// restarts its dependents, which then find it missing; as a flag, it is
// closed.
func (e *engine) remove(n *node) {
	e.unlink(n)
	e.requestStop(n)
	e.observe(Event{Kind: EventUninstalled, Manifold: n.name})
	e.logf(slog.LevelInfo, n.name, "uninstalled")
	closed := n.answer(false)
	e.inputChanged(n)
	if closed {
		e.flagChanged(n)
	}
	e.launchHeld(n)
	e.forgetIfUnused(n)
}

// ended is what the loop knows of a start goroutine's end: the state n was
// in, whether its worker ran, and its error with what that asks.
type ended struct {
	state nodeState
	ran   bool
	err   error
	kind  stopKind
}

// afterStop decides what follows the end of n's start goroutine: the
// inputs whose last holder it was are killed, a fatal error stops the
// engine, the restart rule applies, and the dependents of a worker that
// ran are restarted.
func (e *engine) afterStop(n *node, end ended, released []*node) {
	for _, t := range released {
		if t.state == draining && !t.held() {
			e.stopNow(t) // with OrderedStop: drained for those that held it
		}
		e.tellAdmittedGone(t)
	}
	if e.isFatal(n.name, end.err) {
		e.logf(slog.LevelError, n.name, "%s returned fatal error: %v", stage(end.ran), end.err)
		e.stop(end.err)
	}
	switch rule := ruleFor(end.state, end.kind); {
	case e.dying:
		return // nothing restarts
	case n.manifold == nil:
		e.forgetIfUnused(n) // uninstalled: its dependents were restarted then
		return
	case rule == uninstallIt:
		e.remove(n) // which restarts the dependents
		return
	default:
		e.restart(n, rule, end)
	}
	if e.dying {
		return // too many restarts
	}
	closed := !n.aboutToStart() && n.answer(false) // a flag restarting after a bounce keeps its answer until it answers anew
	if end.ran {
		e.inputChanged(n)
	}
	if closed {
		e.flagChanged(n)
	}
	e.launchHeld(n)
}

// restartRule is what follows a stop.
type restartRule uint8

const (
	waitForInputs  restartRule = iota // no restart until an input changes
	restartBounced                    // restart after the bounce delay
	restartFailed                     // count a failure, restart after the error delay
	uninstallIt                       // remove the manifold
)

// ruleFor returns the restart rule for a worker, or a start, that stopped
// in state with an error of kind.
func ruleFor(state nodeState, kind stopKind) restartRule {
	switch {
	case state == stopping:
		return restartBounced // the engine stopped it: whatever it returned, it was no failure
	case kind == uninstall:
		return uninstallIt // it asked to go; a draining worker may too
	case state == draining:
		return restartBounced // it was to be stopped, though not yet killed
	case kind == bounce:
		return restartBounced // it asked to restart
	case kind == failed:
		return restartFailed
	}
	return waitForInputs // it completed, or found an input missing
}

// restart counts n's stop as a failure or not, and asks for its start as
// rule says.
func (e *engine) restart(n *node, rule restartRule, end ended) {
	now := time.Now()
	n.history.count(rule == restartFailed, end.ran, now, e.config.BackoffResetTime)
	switch {
	case rule == restartFailed:
		e.failed(n, end, now)
	case rule == restartBounced:
		if end.state != stopping && end.state != draining { // it asked for it: ErrBounce
			e.logf(slog.LevelDebug, n.name, "asked to restart: %v", end.err)
		}
		e.requestStart(n, afterBounce)
	case end.kind == completed:
		e.logf(slog.LevelDebug, n.name, "worker completed")
	case end.kind == mistake:
		e.logFailure(n, end, now) // it will not start until the code changes
	default:
		e.logf(slog.LevelDebug, n.name, "missing a dependency: %v", end.err)
	}
}

// failed logs n's failure, within the rate limit, and stops the engine if
// n restarts too often; else it asks for n's restart after the error delay.
func (e *engine) failed(n *node, end ended, now time.Time) {
	e.logFailure(n, end, now)
	if n.history.restartedTooOften(now, e.config.MaxRestarts, e.config.RestartPeriod) {
		e.logf(slog.LevelError, n.name, "failed more than %d times within %v, stopping the engine; last error: %v",
			e.config.MaxRestarts, e.config.RestartPeriod, end.err)
		e.stop(failure(ErrTooManyRestarts, "%q manifold failed more than %d times within %v; last error: %v",
			n.name, e.config.MaxRestarts, e.config.RestartPeriod, end.err))
		return
	}
	e.requestStart(n, afterFailure)
}

// logFailure logs n's failure, or mistake, at ERROR, at most once a second
// with a count of those it did not log.
func (e *engine) logFailure(n *node, end ended, now time.Time) {
	switch unlogged, ok := n.history.logFailure(now); {
	case !ok:
	case unlogged == 0:
		e.logf(slog.LevelError, n.name, "%s failed: %v", stage(end.ran), end.err)
	default:
		e.logf(slog.LevelError, n.name, "failed %s more times: %v", thousands(unlogged+1), end.err) // those not logged, and this one
	}
}

// stage names what failed: the worker, if it ran, or else its start.
func stage(ran bool) string {
	if ran {
		return "worker"
	}
	return "start"
}
