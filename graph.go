package dependency

import (
	"context"
	"slices"
	"time"
)

// runState is where a node is in its worker's life.
type runState uint8

const (
	idle      runState = iota // no worker and no start wanted
	scheduled                 // a start is wanted once its delay has passed
	waiting                   // the start is due, held back by an input about to start
	starting                  // a goroutine is calling the start func
	running                   // the worker is current
)

var runStateNames = [...]string{"idle", "scheduled", "waiting", "starting", "running"}

func (s runState) String() string { return runStateNames[s] }

// node is one name of the graph: an installed manifold, or a name that
// installed manifolds list as an input. Every field is owned by the loop.
type node struct {
	name       string
	manifold   Manifold
	inputs     []*node // one per manifold.Inputs, in order
	dependents []*node // installed nodes that list this one as an input

	prev, next *node // the engine's nodes in the order made; see shutDown

	// The flags are kept together, so that they share one word.
	installed  bool
	state      runState
	stopping   bool // the engine asked the starting or running worker to stop
	stale      bool // that worker belongs to a manifold since uninstalled
	afterError bool // the pending start waits out a failure, not a bounce

	worker   Worker             // set while running
	cancel   context.CancelFunc // cancels the StartContext ctx, if any
	due      time.Time          // when a scheduled or waiting start may launch
	timerSeq uint64             // the live entry of this node in the timer queue

	failures   int         // consecutive failures, for backoff
	failedAt   []time.Time // failures within RestartPeriod, oldest first
	startCount int
	startedAt  time.Time
	err        error // the last error of its start or worker; nil once it runs again
}

// aboutToStart reports whether n will soon have a new worker, and so bounce
// every dependent started before then: its start is in flight or due, or it
// is waiting out a bounce delay, or its worker is stopping to restart. A
// node waiting out an error delay does not hold its dependents back.
func (n *node) aboutToStart() bool {
	if !n.installed {
		return false
	}
	switch n.state {
	case waiting, starting:
		return true
	case scheduled:
		return !n.afterError
	case running:
		return n.stopping
	}
	return false
}

// setIdle clears what a stopped worker leaves behind.
func (n *node) setIdle() {
	if n.cancel != nil {
		n.cancel()
	}
	n.state, n.stopping, n.stale, n.worker, n.cancel = idle, false, false, nil, nil
}

// restartedTooOften records a failure at now and reports whether more than
// max failures fell within period. max 0 means never.
func (n *node) restartedTooOften(now time.Time, max int, period time.Duration) bool {
	if max == 0 {
		return false
	}
	n.failedAt = append(n.failedAt, now)
	for len(n.failedAt) > 0 && now.Sub(n.failedAt[0]) >= period {
		n.failedAt = n.failedAt[1:]
	}
	if len(n.failedAt) > max+1 {
		n.failedAt = n.failedAt[len(n.failedAt)-max-1:]
	}
	return len(n.failedAt) > max
}

// nodeFor returns the node of name, making it if need be. It must only be
// called from the loop goroutine.
func (e *engine) nodeFor(name string) *node {
	n := e.nodes[name]
	if n == nil {
		n = &node{name: name, prev: e.last}
		e.nodes[name] = n
		if e.last == nil {
			e.first = n
		} else {
			e.last.next = n
		}
		e.last = n
	}
	return n
}

// add records an installed manifold and links it to its inputs. A node
// whose old worker is still stopping after Uninstall keeps that worker
// until it stops, but the worker is stale: it does not count in the new
// manifold's report. It returns the node. It must only be called from the
// loop goroutine.
func (e *engine) add(name string, m Manifold) *node {
	n := e.nodeFor(name)
	n.manifold, n.installed = m, true
	n.stale = n.state == starting || n.state == running
	n.failures, n.failedAt, n.startCount, n.startedAt, n.err = 0, nil, 0, time.Time{}, nil
	n.inputs = make([]*node, len(m.Inputs))
	for i, inputName := range m.Inputs {
		input := e.nodeFor(inputName)
		input.dependents = append(input.dependents, n)
		n.inputs[i] = input
	}
	e.observe(Event{Kind: EventInstalled, Manifold: name})
	return n
}

// remove uninstalls n: it stops its worker, unlinks it from its inputs and
// bounces its dependents, which then find it missing. It must only be
// called from the loop goroutine.
func (e *engine) remove(n *node) {
	n.installed = false
	e.requestStop(n)
	for _, input := range n.inputs {
		input.dependents = slices.DeleteFunc(input.dependents, func(d *node) bool { return d == n })
		e.forgetIfUnused(input)
	}
	n.inputs = nil
	e.observe(Event{Kind: EventUninstalled, Manifold: n.name})
	e.config.Logger.Infof("%q manifold uninstalled", n.name)
	e.bounceDependents(n)
	e.unblockDependents(n)
	e.forgetIfUnused(n)
}

// forgetIfUnused drops n once nothing refers to it: not installed, no
// dependents, no worker. It must only be called from the loop goroutine.
func (e *engine) forgetIfUnused(n *node) {
	if !n.installed && len(n.dependents) == 0 && n.state == idle {
		delete(e.nodes, n.name)
		if n.prev == nil {
			e.first = n.next
		} else {
			n.prev.next = n.next
		}
		if n.next == nil {
			e.last = n.prev
		} else {
			n.next.prev = n.prev
		}
		n.prev, n.next = nil, nil
	}
}
