package dependency

// The decisions of a manifold's life: when its start is due, whether it may
// launch, what stops it, and what follows a stop. The loop's handlers
// (engine.go) record what happened and call one of these.

import (
	"context"
	"log/slog"
	"slices"
	"time"
)

// gotResult decides the restart of a worker that stopped by itself, or whose
// start failed. It must only be called from the loop goroutine.
func (e *engine) gotResult(n *node, err error, kind stopKind, ran bool) {
	switch kind {
	case completed:
		e.logf(slog.LevelDebug, n.name, "worker completed")
		n.history.failures = 0
	case missing:
		e.logf(slog.LevelDebug, n.name, "missing a dependency: %v", err)
		n.history.failures = 0
	case bounce:
		e.logf(slog.LevelDebug, n.name, "asked to restart: %v", err)
		n.history.failures = 0
		e.requestStart(n, e.config.bounceDelay(), pendingBounce)
	default:
		e.gotFailure(n, err, ran)
	}
}

// gotFailure counts a failure, stops the engine if the manifold restarts too
// often, and otherwise schedules its restart. It must only be called from
// the loop goroutine.
func (e *engine) gotFailure(n *node, err error, ran bool) {
	now, h := time.Now(), &n.history
	if ran && e.config.BackoffResetTime > 0 && now.Sub(h.startedAt) >= e.config.BackoffResetTime {
		h.failures = 0
	}
	h.failures++
	switch unlogged, ok := h.logFailure(now); {
	case !ok:
	case unlogged == 0:
		e.logf(slog.LevelError, n.name, "%s failed: %v", stage(ran), err)
	default:
		e.logf(slog.LevelError, n.name, "failed %s more times: %v", thousands(unlogged+1), err) // those not logged, and this one
	}
	if h.restartedTooOften(now, e.config.MaxRestarts, e.config.RestartPeriod) {
		tooMany := failure(ErrTooManyRestarts, "%q manifold failed more than %d times within %v; last error: %v",
			n.name, e.config.MaxRestarts, e.config.RestartPeriod, err)
		e.logf(slog.LevelError, "", "stopping the engine: %v", tooMany)
		e.stop(tooMany)
		return
	}
	e.requestStart(n, e.config.errorDelay(h.failures), pendingError)
}

// stage names what failed: the worker, if it ran, or else its start.
func stage(ran bool) string {
	if ran {
		return "worker"
	}
	return "start"
}

// requestStart asks for n's worker to start after delay, waiting in the
// pending state given (pendingBounce or pendingError). A pending start
// keeps the later of its own due time and the new one; a start in flight
// or a worker is left alone: it restarts when it stops, by the rules. It
// must only be called from the loop goroutine.
func (e *engine) requestStart(n *node, delay time.Duration, pending nodeState) {
	if e.dying || n.manifold == nil {
		return
	}
	due := time.Now().Add(delay)
	switch n.state {
	case starting, running, draining, stopping:
		return
	case pendingBounce, pendingError, heldBack:
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

// tryLaunch starts a goroutine for n's held-back start, unless an input is
// about to start and would bounce n at once: then n stays held back until
// that input has started or stopped. It must only be called from the loop
// goroutine.
func (e *engine) tryLaunch(n *node) {
	if e.dying {
		return
	}
	for _, input := range n.inputs {
		if input.aboutToStart() {
			return
		}
	}
	e.enter(n, starting)
	if e.config.OrderedStop {
		e.take(n)
	}
	l := &launch{node: n, gen: n.gen, manifold: n.manifold, get: newGetter(n)}
	if n.manifold.StartContext != nil {
		l.ctx, n.cancel = context.WithCancel(context.Background())
	}
	e.live++
	e.logf(slog.LevelDebug, n.name, "worker starting")
	e.goroutines.Go(func() { e.run(l) })
}

// requestStop stops n's worker, or cancels its pending start. With
// OrderedStop, a worker that dependents took drains first: they are asked
// to stop, and release kills it once the last has stopped. It must only be
// called from the loop goroutine.
func (e *engine) requestStop(n *node) {
	switch n.state {
	case pendingBounce, pendingError, heldBack:
		e.enter(n, idle)
	case running:
		if len(n.takenBy) > 0 {
			e.enter(n, draining)
			for _, d := range slices.Clone(n.takenBy) { // they leave it as they stop
				e.requestStop(d)
			}
			return
		}
		e.stopNow(n)
	case starting:
		e.stopNow(n)
	}
}

// stopNow cancels n's start, or kills its worker. It must only be called
// from the loop goroutine.
func (e *engine) stopNow(n *node) {
	e.enter(n, stopping)
	if n.cancel != nil {
		n.cancel()
	}
	if n.worker != nil {
		e.kill(n.worker)
	}
}

// bounceDependents restarts every dependent of n, so that it runs on n's
// current worker. It must only be called from the loop goroutine.
func (e *engine) bounceDependents(n *node) {
	for _, d := range n.dependents {
		e.observe(Event{Kind: EventBounced, Manifold: d.name})
		e.logf(slog.LevelDebug, d.name, "bounced: an input changed")
		switch d.state {
		case starting, running, draining:
			e.requestStop(d)
		default:
			e.requestStart(d, e.config.bounceDelay(), pendingBounce) // each its own jitter
		}
	}
}

// unblockDependents launches the dependents of n that it held back. It must
// only be called from the loop goroutine.
func (e *engine) unblockDependents(n *node) {
	for _, d := range n.dependents {
		if d.state == heldBack {
			e.tryLaunch(d)
		}
	}
}

// remove uninstalls n: it stops its worker, unlinks it from its inputs and
// bounces its dependents, which then find it missing. It must only be
// called from the loop goroutine.
func (e *engine) remove(n *node) {
	n.manifold = nil
	e.requestStop(n)
	for _, input := range n.inputs {
		input.dependents = slices.DeleteFunc(input.dependents, func(d *node) bool { return d == n })
		e.forgetIfUnused(input)
	}
	n.inputs = nil
	e.observe(Event{Kind: EventUninstalled, Manifold: n.name})
	e.logf(slog.LevelInfo, n.name, "uninstalled")
	e.bounceDependents(n)
	e.unblockDependents(n)
	e.forgetIfUnused(n)
}
