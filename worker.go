package dependency

import (
	"context"

	"github.com/juju/errors"
)

// NewWorker returns a Worker that runs run on a goroutine of its own, started
// before NewWorker returns.
//
// Kill cancels run's ctx and returns at once; ctx is cancelled by nothing
// else while run runs. Wait blocks until run has returned and returns its
// error, except that an error wrapping context.Canceled becomes nil when the
// worker was killed, since that is how a killed run says it stopped; a run
// that returns context.Canceled without a Kill keeps its error. A panic in
// run is recovered and Wait returns it as a *PanicError (which wraps
// ErrPanic); a run that calls runtime.Goexit gets an error wrapping ErrPanic
// too. Kill and Wait may be called from any goroutine, any number of
// times, before or after run returns. A nil run makes a worker that has
// already stopped with an error wrapping ErrMistake that says so.
func NewWorker(run func(ctx context.Context) error) Worker {
	if run == nil {
		run = func(context.Context) error {
			return failure(ErrMistake, "NewWorker was given a nil run func")
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &runWorker{cancel: cancel, done: make(chan struct{})}
	go w.run(ctx, run)
	return w
}

// runWorker is the Worker NewWorker returns.
type runWorker struct {
	cancel context.CancelFunc
	done   chan struct{} // closed once err is set
	err    error
}

// run calls f with ctx, records its outcome as Wait's error and closes done.
func (w *runWorker) run(ctx context.Context, f func(context.Context) error) {
	defer close(w.done)
	defer w.cancel()                  // releases ctx once run has returned, even by a panic
	w.err = goexitError("worker run") // unless f returns or panics
	defer func() {
		if v := recover(); v != nil {
			w.err = newPanicError("worker run", v)
		}
	}()
	err := f(ctx)
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		err = nil // only Kill cancels ctx before run returns
	}
	w.err = err
}

// Kill cancels run's context.
func (w *runWorker) Kill() { w.cancel() }

// Wait returns run's error once run has returned.
func (w *runWorker) Wait() error {
	<-w.done
	return w.err
}
