package dependency

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/juju/errors"
)

// The goroutines that call into workers and start funcs, off the loop.

// launch is what one start of a manifold's worker needs on its goroutine.
type launch struct {
	node     *node // only the loop reads it
	gen      uint64
	manifold *Manifold       // as installed when the start launched; never changed
	ctx      context.Context // for StartContext; nil for Start
	get      *getter
}

// run is the goroutine of one start: it calls the start func, hands the
// worker to the loop, waits for it, and tells the loop that it stopped,
// exactly once, even when user code ends the goroutine with
// runtime.Goexit.
func (e *engine) run(l *launch) {
	stopped := stoppedTicket{node: l.node, gen: l.gen}
	var worker Worker
	inside := "start func"                  // the user code running, until run returns
	defer func() { e.reports <- stopped }() // last, whatever the one below does
	defer func() {
		if inside == "flag Check" { // a worker the loop never heard of: it is ours to stop
			killQuietly(worker)
			_ = wait(worker)
		}
		if inside != "" {
			stopped.err = goexitError(inside)
		}
		err := stopped.err
		stopped.err, stopped.kind = goexitError("error method"), failed // unless judge returns
		stopped.kind, stopped.err = judge(err)
	}()
	worker, err := start(l.manifold, l.ctx, l.get, e)
	requests := l.get.expire()
	l.get = nil        // the snapshot lives on only if the worker keeps it
	if worker == nil { // the start failed, or Filter dropped its error
		stopped.err, stopped.resources = err, requests
	} else {
		inside = "flag Check"
		check := checkFlag(worker)
		e.reports <- startedTicket{l.node, l.gen, worker, requests, check}
		inside = "worker Wait"
		stopped.err = filter(l.manifold.Filter, wait(worker))
	}
	inside = ""
}

// checked is what a start goroutine found of a new worker as a flag: whether
// it is a Flag, and if so its answer. A Check that panics answers false,
// with err saying so.
type checked struct {
	isFlag, open bool
	err          error
}

// checkFlag asks worker, if it is a Flag, for its answer: once, since it is
// fixed for the worker's life.
func checkFlag(worker Worker) (c checked) {
	flag, ok := worker.(Flag)
	if !ok {
		return c
	}
	defer func() {
		if v := recover(); v != nil {
			c = checked{isFlag: true, err: newPanicError("flag Check", v)}
		}
	}()
	return checked{isFlag: true, open: flag.Check()}
}

// goexitError is the error of a goroutine that user code ended with
// runtime.Goexit while the func it names ran. It wraps ErrPanic. Making
// one formats nothing, so that the start goroutine can hold one ready for
// the Goexit that almost never comes.
type goexitError string

func (fn goexitError) Error() string { return string(fn) + " called runtime.Goexit" }
func (goexitError) Unwrap() error    { return ErrPanic }

// start calls the manifold's start func and expires the getter when it
// returns. A panic, a nil worker without an error, or self (the engine,
// whose Wait would wait for this very start) becomes the error. It returns
// either a worker or the filtered error, which may be nil.
func start(m *Manifold, ctx context.Context, get *getter, self Worker) (worker Worker, err error) {
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
		if worker != nil && worker != self {
			killQuietly(worker) // nobody else will know of it
		}
	case worker == nil:
		err = fmt.Errorf("%w%w", failure(ErrInvalid, "start func returned neither a worker nor an error (return ErrMissing for \"not now\", or gate the manifold with a flag)"), errors.Hide(ErrMistake))
	case worker == self:
		err = failure(ErrInvalid, "start func returned the engine itself as its worker")
	}
	if err != nil {
		return nil, filter(m.Filter, get.explain(err))
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

// kill calls w's Kill on a goroutine of its own, so that a Kill that blocks
// holds up only its own worker's stop. Wait waits for it.
func (e *engine) kill(w Worker) {
	e.goroutines.Go(func() { killQuietly(w) })
}

// killQuietly kills w; a panicking Kill changes nothing: Wait decides.
func killQuietly(w Worker) {
	defer func() { _ = recover() }()
	w.Kill()
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
