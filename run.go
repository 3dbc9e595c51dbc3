package dependency

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync/atomic"
)

// launch is one start of a manifold's worker: what its goroutine needs and
// the message it sends when the start returns a worker, made in one
// allocation. Its goroutine lets go of it once the start returns, so that
// it lives on only if the worker keeps the getter.
type launch struct {
	manifold Manifold        // as installed when the start launched
	ctx      context.Context // for StartContext; nil for Start
	get      getter
	started  runMessage // names the node, which only the loop reads
}

// newLaunch prepares a start of n's worker, with ctx for StartContext. It
// must only be called from the loop goroutine.
func newLaunch(n *node, ctx context.Context) *launch {
	l := &launch{manifold: n.manifold, ctx: ctx, started: runMessage{node: n}}
	l.get.snapshot(n)
	return l
}

// run is the goroutine of one start: it calls the start func, hands the
// worker to the loop, waits for it, and reports its end to the loop exactly
// once.
func (e *engine) run(l *launch) {
	defer e.goroutines.Done()
	n, f := l.started.node, l.manifold.Filter
	worker, err := start(l.manifold, l.ctx, &l.get, e)
	if worker != nil { // else the start failed, or Filter dropped its error
		l.started.worker = worker
		if !e.inbox.send(&l.started) {
			killQuietly(worker) // the loop has returned: nobody else will
			return
		}
		err = filter(f, wait(worker))
	}
	e.inbox.send(&runMessage{node: n, err: err})
}

// runInbox carries the messages of start goroutines to the loop. Sending
// never waits for the loop, nor for another sender: a goroutine pushes its
// message onto a lock-free stack and, if the stack was empty, rings the
// bell. When thousands of workers start or stop at once, each goroutine
// then parks only in Wait, not also on a send the busy loop has yet to
// take, or on a lock the other senders hold. The loop takes all waiting
// messages at once and puts them back in the order they were sent.
type runInbox struct {
	bell chan struct{}              // capacity 1: holds a token while messages wait
	top  atomic.Pointer[runMessage] // the newest message, linked to older ones; closedInbox once the loop has returned
}

// closedInbox marks an inbox whose loop has returned.
var closedInbox = new(runMessage)

// runMessage is a message of a start goroutine: its start returned worker,
// or (worker nil, the last message) its start failed or its worker stopped
// with err.
type runMessage struct {
	node   *node
	worker Worker
	err    error
	next   *runMessage // on the stack, the message sent before; once taken, the one sent after
}

func (r *runMessage) stopped() bool { return r.worker == nil }

// send queues r for the loop; it returns false, dropping r, once the loop
// has returned.
func (in *runInbox) send(r *runMessage) bool {
	for {
		top := in.top.Load()
		if top == closedInbox {
			return false
		}
		r.next = top
		if in.top.CompareAndSwap(top, r) {
			if top == nil {
				select {
				case in.bell <- struct{}{}:
				default: // a token is already waiting
				}
			}
			return true
		}
	}
}

// take empties the queue and returns its oldest message, which links the
// others in the order they were sent.
func (in *runInbox) take() *runMessage {
	return oldestFirst(in.top.Swap(nil))
}

// close makes every later send fail, and returns the messages never taken,
// as take does.
func (in *runInbox) close() *runMessage {
	return oldestFirst(in.top.Swap(closedInbox))
}

// oldestFirst reverses the stack whose newest message is top.
func oldestFirst(top *runMessage) *runMessage {
	var first *runMessage
	for top != nil {
		top, top.next, first = top.next, first, top
	}
	return first
}

// start calls the manifold's start func and expires the getter when it
// returns. A panic, a nil worker without an error, or self (the engine,
// whose Wait would wait for this very start) becomes the error. It returns
// either a worker or the filtered error, which may be nil.
func start(m Manifold, ctx context.Context, get *getter, self Worker) (worker Worker, err error) {
	defer get.expire()
	defer func() {
		if v := recover(); v != nil {
			worker, err = nil, filter(m.Filter, newPanicError("start func", v))
		}
	}()
	if m.StartContext != nil {
		worker, err = m.StartContext(ctx, get.getResource)
	} else {
		worker, err = m.Start(get.getResource)
	}
	switch {
	case err != nil:
	case worker == nil:
		err = failure(ErrInvalid, "start func returned neither a worker nor an error")
	case worker == self:
		err = failure(ErrInvalid, "start func returned the engine itself as its worker")
	}
	if err != nil {
		return nil, filter(m.Filter, err)
	}
	return worker, nil
}

// wait returns the worker's Wait error; a panic in Wait becomes the error.
func wait(worker Worker) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError("worker Wait", v)
		}
	}()
	return worker.Wait()
}

// filter applies f to a non-nil err; a panic in f becomes the error.
func filter(f FilterFunc, err error) (filtered error) {
	if f == nil || err == nil {
		return err
	}
	defer func() {
		if v := recover(); v != nil {
			filtered = newPanicError("filter func", v)
		}
	}()
	return f(err)
}

// PanicError replaces a panic recovered from a user's func. It wraps
// ErrPanic; Stack holds the panicking goroutine's stack.
type PanicError struct {
	Func  string // which func panicked: "start func", "output func", ...
	Value any    // the value passed to panic
	Stack []byte
}

func newPanicError(fn string, value any) *PanicError {
	return &PanicError{Func: fn, Value: value, Stack: debug.Stack()}
}

// Error returns the func and the panic value; the stack is left to Stack.
func (p *PanicError) Error() string {
	return fmt.Sprintf("%s panicked: %v", p.Func, p.Value)
}

// Unwrap makes errors.Is(err, ErrPanic) hold, and reaches an error value
// that was passed to panic.
func (p *PanicError) Unwrap() []error {
	if err, ok := p.Value.(error); ok {
		return []error{ErrPanic, err}
	}
	return []error{ErrPanic}
}

// getter is the snapshot a start func gets its resources from: each
// declared input's worker (nil if none was running) and Output func, as they
// were when the start launched. It expires when the start func returns.
type getter struct {
	owner     string
	resources []resource
	expired   atomic.Bool
}

type resource struct {
	name   string
	worker Worker
	output OutputFunc
}

// snapshot fills g with n's inputs as they are now. It must only be called
// from the loop goroutine.
func (g *getter) snapshot(n *node) {
	g.owner, g.resources = n.name, make([]resource, len(n.inputs))
	for i, input := range n.inputs {
		g.resources[i] = resource{name: input.name}
		if input.installed {
			g.resources[i].worker, g.resources[i].output = input.worker, input.manifold.Output
		}
	}
}

func (g *getter) expire() { g.expired.Store(true) }

// getResource implements GetResourceFunc.
func (g *getter) getResource(name string, out any) error {
	if g.expired.Load() {
		return failure(ErrExpired, "%q manifold: resource getter for %q used after its start returned", g.owner, name)
	}
	for _, r := range g.resources {
		if r.name == name {
			return r.get(out)
		}
	}
	return failure(ErrMissing, "%q is not an input of %q: %v", name, g.owner, ErrMissing)
}

func (r resource) get(out any) (err error) {
	switch {
	case r.worker == nil:
		return failure(ErrMissing, "input %q not running: %v", r.name, ErrMissing)
	case r.output == nil && out != nil:
		return failure(ErrMissing, "input %q has no Output for %T: %v", r.name, out, ErrMissing)
	case r.output == nil:
		return nil
	}
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(fmt.Sprintf("output func of %q", r.name), v)
		}
	}()
	return r.output(r.worker, out)
}
