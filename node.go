package dependency

import (
	"context"
	"slices"
	"time"
)

// nodeState is where a node is in its worker's life. A node is in exactly
// one state at a time, and enter is the only place that changes it.
type nodeState uint8

const (
	idle          nodeState = iota // no worker, and no start wanted
	pendingBounce                  // a start is wanted once the bounce delay has passed
	pendingError                   // a start is wanted once the error delay has passed
	heldBack                       // the start is due, but an input is about to start
	starting                       // a goroutine is calling the start func
	running                        // the worker is current
	draining                       // with OrderedStop: to stop once the dependents that took its worker have
	stopping                       // the engine asked the start or the worker to stop
	gated                          // no worker, and no start until its flags are open
)

var nodeStateNames = [...]string{"idle", "pending after a bounce", "pending after an error", "held back", "starting", "running", "draining", "stopping", "gated"}

func (s nodeState) String() string { return nodeStateNames[s] }

// busy reports whether a node in state s is on its way somewhere: a start
// pending, held back or in flight, or a worker stopping. An engine with no
// busy node is settled.
func (s nodeState) busy() bool {
	return s != idle && s != running && s != gated
}

// transitions lists the states a node may enter from each state. Any other
// move is a fault of the engine's, which stops it.
var transitions = [...][]nodeState{
	idle:          {pendingBounce, pendingError, heldBack, gated},
	pendingBounce: {idle, pendingBounce, pendingError, heldBack, gated},
	pendingError:  {idle, pendingBounce, pendingError, heldBack, gated},
	heldBack:      {idle, pendingBounce, pendingError, heldBack, starting, gated},
	starting:      {idle, running, stopping},
	running:       {idle, draining, stopping},
	draining:      {idle, stopping},
	stopping:      {idle},
	gated:         {idle, pendingBounce, pendingError, heldBack},
}

// node is one name of the graph: an installed manifold, or a name that
// installed manifolds list as an input or a flag. Every field is owned by
// the loop.
type node struct {
	name       string
	manifold   *Manifold // nil while not installed: only an input or flag of others, or draining or stopping after Uninstall
	gen        uint64    // counts the installs of name; a launch carries the one it began under
	inputs     []*node   // one per manifold.Inputs, in order
	dependents []*node   // installed nodes that list this one as an input
	flags      []*node   // one per manifold.Flags, in order
	flagged    []*node   // installed nodes that list this one as a flag

	state    nodeState
	due      time.Time          // when a pending or held-back start may launch
	timerSeq uint64             // the live entry of this node in the timer queue
	worker   Worker             // the worker, from its start until it stops
	cancel   context.CancelFunc // cancels the StartContext ctx, if any

	// As a flag: whether its worker Checks true, or did before a restart
	// after a bounce that is still under way; and whether its last worker
	// is a Flag at all.
	open   bool
	isFlag bool

	// The nodes the current start took: with OrderedStop its inputs that
	// were running, and its flags, which admitted it. takenBy lists the
	// dependents whose current start took this node's current worker;
	// admitted, the nodes gated on this flag whose current start it
	// admitted, whichever of its workers did. drainAll says that a
	// draining flag stops for good, and so drains for those it admitted
	// too.
	took     []*node
	takenBy  []*node
	admitted []*node
	drainAll bool

	history history // of the installed manifold's starts
}

// history is what the engine remembers of an installed manifold's past
// starts, for its restart rules and its report. Each install begins a new
// one.
type history struct {
	failures   int         // consecutive failures, for backoff
	failed     int         // failures in all
	bounced    int         // stops because an input changed
	failedAt   []time.Time // failures within RestartPeriod, oldest first
	startCount int
	startedAt  time.Time
	err        error             // the last error of its start or worker; nil once it runs again
	resources  []ResourceRequest // what its last start asked its getter
	loggedAt   time.Time         // when a failure was last logged
	unlogged   int               // failures since then, not logged
}

// failureLogInterval is the least time between two logged failures of one
// manifold, so that one failing over and over does not flood the log.
const failureLogInterval = time.Second

// logFailure reports whether a failure at now is to be logged, and how
// many failures before it were not; or counts it among those.
func (h *history) logFailure(now time.Time) (unlogged int, ok bool) {
	if !h.loggedAt.IsZero() && now.Sub(h.loggedAt) < failureLogInterval {
		h.unlogged++
		return 0, false
	}
	unlogged, h.unlogged, h.loggedAt = h.unlogged, 0, now
	return unlogged, true
}

// started records a successful start at now, which asked for resources.
// Failures not logged yet were logged by the caller.
func (h *history) started(now time.Time, resources []ResourceRequest) {
	h.unlogged = 0
	h.startCount++
	h.startedAt = now
	h.err = nil
	h.resources = resources
}

// stopped records the stop of a worker (ran) or of a failed start with
// err, unless the engine killed it: then err says nothing of the manifold.
// A failed start's resources replace those of the start before.
func (h *history) stopped(err error, resources []ResourceRequest, ran, killed bool) {
	if !ran {
		h.resources = resources
	}
	if err != nil && !killed {
		h.err = err
	}
}

// count counts a stop at now as a failure, or starts the count afresh. A
// worker that ran for resetAfter (if not 0) before it failed begins a new
// count too.
func (h *history) count(failure, ran bool, now time.Time, resetAfter time.Duration) {
	if !failure || (ran && resetAfter > 0 && now.Sub(h.startedAt) >= resetAfter) {
		h.failures = 0
	}
	if failure {
		h.failures++
		h.failed++
	}
}

// restartedTooOften records a failure at now and reports whether more than
// max failures fell within period. max 0 means never.
func (h *history) restartedTooOften(now time.Time, max int, period time.Duration) bool {
	if max == 0 {
		return false
	}
	h.failedAt = append(h.failedAt, now)
	for len(h.failedAt) > 0 && now.Sub(h.failedAt[0]) >= period {
		h.failedAt = h.failedAt[1:]
	}
	if len(h.failedAt) > max+1 {
		h.failedAt = h.failedAt[len(h.failedAt)-max-1:]
	}
	return len(h.failedAt) > max
}

// enter moves n to state to. Entering idle lets go of the stopped worker
// and cancels its context. A move the transition table does not allow stops
// the engine with an internal error; n still enters to, so that the loop's
// counts stay true while the engine stops.
func (e *engine) enter(n *node, to nodeState) {
	if !slices.Contains(transitions[n.state], to) {
		e.failInternal("%q manifold cannot go from %v to %v", n.name, n.state, to)
	}
	switch {
	case n.state.busy() && !to.busy():
		e.busy--
	case !n.state.busy() && to.busy():
		e.busy++
	}
	n.state = to
	if to == idle {
		if n.cancel != nil {
			n.cancel()
		}
		n.worker, n.cancel, n.drainAll = nil, nil, false
	}
}

// aboutToStart reports whether n will soon have a new worker, and so bounce
// every dependent started before then: its start is in flight or due, it
// waits out a bounce delay, or its worker is stopping to restart. A node
// waiting out an error delay does not hold its dependents back.
func (n *node) aboutToStart() bool {
	if n.manifold == nil {
		return false
	}
	switch n.state {
	case heldBack, starting, pendingBounce, draining, stopping:
		return true
	}
	return false
}

// openFlag reports whether n, as a flag, lets the nodes gated on it run:
// it is installed and its worker Checks true, or did before the restart
// after a bounce that it is in.
func (n *node) openFlag() bool {
	return n.manifold != nil && n.open
}

// answer records n's answer as a flag, and reports whether it changed.
func (n *node) answer(open bool) (changed bool) {
	changed, n.open = n.open != open, open
	return changed
}

// notAFlagError says that flag n's worker is not a Flag, a mistake; nil if
// it is, or if n has no worker.
func notAFlagError(n *node) error {
	if n.worker == nil || n.isFlag || n.state != running {
		return nil
	}
	return failure(ErrMistake, "flag %q: its worker, a %T, is not a Flag (it has no Check method)", n.name, n.worker)
}

// closedFlags returns the names, sorted, of n's flags that are not open.
func (n *node) closedFlags() []string {
	var names []string
	for _, f := range n.flags {
		if !f.openFlag() {
			names = append(names, f.name)
		}
	}
	slices.Sort(names)
	return names
}

// launched reports whether a start goroutine runs for n, which will send
// its stoppedTicket.
func (n *node) launched() bool {
	switch n.state {
	case starting, running, draining, stopping:
		return true
	}
	return false
}

// holders returns the nodes whose workers a draining n waits for: the
// dependents that took its worker and, when it stops for good, the nodes
// it admitted as a flag.
func (n *node) holders() []*node {
	if !n.drainAll {
		return n.takenBy
	}
	return slices.Concat(n.takenBy, n.admitted)
}

// held reports whether n, draining, still waits for one of its holders.
func (n *node) held() bool {
	return len(n.takenBy) > 0 || (n.drainAll && len(n.admitted) > 0)
}

// waitingFor returns the names, sorted, of the nodes n drains for, each
// once, though one may hold it both as an input and as a flag.
func (n *node) waitingFor() []string {
	if n.state != draining {
		return nil
	}
	var names []string
	for _, d := range n.holders() {
		names = append(names, d.name)
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// pending reports whether n waits out a delay in the timer queue.
func (n *node) pending() bool {
	return n.state == pendingBounce || n.state == pendingError
}

// publicState is n's state as a report shows it.
func (n *node) publicState() State {
	switch n.state {
	case idle, gated:
		return StateStopped
	case running:
		return StateStarted
	case draining, stopping:
		return StateStopping
	}
	return StateStarting
}

// nodeFor returns the node of name, making it if need be.
func (e *engine) nodeFor(name string) *node {
	n := e.nodes[name]
	if n == nil {
		n = &node{name: name}
		e.nodes[name] = n
	}
	return n
}

// add records an installed manifold and links it to its inputs. A node
// whose old worker is still stopping after Uninstall keeps that worker
// until it stops; messages about it carry an older gen, so they do not
// count in the new manifold's history.
func (e *engine) add(name string, m Manifold) *node {
	n := e.nodeFor(name)
	m.Inputs, m.Flags = slices.Clone(m.Inputs), slices.Clone(m.Flags) // what the caller does with its slices changes nothing here
	n.manifold = &m
	n.gen++
	n.history = history{}
	n.open, n.isFlag = false, false // a flag answers anew once its worker starts
	n.inputs = make([]*node, len(m.Inputs))
	for i, inputName := range m.Inputs {
		input := e.nodeFor(inputName)
		input.dependents = append(input.dependents, n)
		n.inputs[i] = input
	}
	n.flags = make([]*node, len(m.Flags))
	for i, flagName := range m.Flags {
		flag := e.nodeFor(flagName)
		flag.flagged = append(flag.flagged, n)
		n.flags[i] = flag
	}
	e.observe(Event{Kind: EventInstalled, Manifold: name})
	return n
}

// unlink marks n not installed and unlinks it from its inputs, forgetting
// those that nothing else refers to.
func (e *engine) unlink(n *node) {
	n.manifold = nil
	for _, input := range n.inputs {
		input.dependents = slices.DeleteFunc(input.dependents, func(d *node) bool { return d == n })
		e.forgetIfUnused(input)
	}
	for _, flag := range n.flags {
		flag.flagged = slices.DeleteFunc(flag.flagged, func(d *node) bool { return d == n })
		e.forgetIfUnused(flag)
	}
	n.inputs, n.flags = nil, nil
}

// forgetIfUnused drops n once nothing refers to it: not installed, no
// dependents, no worker.
func (e *engine) forgetIfUnused(n *node) {
	if n.manifold == nil && len(n.dependents) == 0 && len(n.flagged) == 0 && n.state == idle {
		delete(e.nodes, n.name)
	}
}

// take records, as n's start launches, that its flags admitted it and,
// with ordered, which input workers it is given: those of the inputs
// running now.
func (n *node) take(ordered bool) {
	for _, flag := range n.flags {
		n.took = append(n.took, flag)
		flag.admitted = append(flag.admitted, n)
	}
	if !ordered {
		return
	}
	for _, input := range n.inputs {
		if input.manifold != nil && input.worker != nil {
			n.took = append(n.took, input)
			input.takenBy = append(input.takenBy, n)
		}
	}
}

// release lets go of what n's stopped worker took and was taken of it, and
// returns the nodes it let go of, which the caller may now stop or tell.
func (n *node) release() (released []*node) {
	isN := func(d *node) bool { return d == n }
	for _, t := range n.took {
		t.takenBy = slices.DeleteFunc(t.takenBy, isN)
		t.admitted = slices.DeleteFunc(t.admitted, isN)
	}
	released, n.took, n.takenBy = n.took, nil, nil
	return released
}
