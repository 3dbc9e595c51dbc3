package dependency

import (
	stderrors "errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
)

// shutDown stops every worker and cancels every pending start.
func (e *engine) shutDown() {
	if e.dying {
		return
	}
	e.dying = true
	e.tomb.Kill(nil)
	e.logf(slog.LevelDebug, "", "engine stopping")
	for _, n := range e.nodes {
		e.requestStop(n)
	}
	if e.config.StopTimeout > 0 {
		e.stopDue = time.After(e.config.StopTimeout)
	}
}

// stop makes err (if not nil) a candidate for Wait's error and shuts the
// engine down.
func (e *engine) stop(err error) {
	if err != nil {
		e.worst = e.worse(e.worst, err)
	}
	e.shutDown()
}

// failInternal stops the engine because its own state is inconsistent.
func (e *engine) failInternal(format string, args ...any) {
	err := failure(ErrInternal, "internal engine error: "+format, args...)
	e.logf(slog.LevelError, "", "%v", err)
	if e.internal == nil {
		e.internal = err
	}
	e.shutDown()
}

// waitGoroutines waits for the engine's last goroutines, each start
// goroutine past its stoppedTicket and a Kill call perhaps still returning,
// for no longer than StopTimeout, answering Report meanwhile.
func (e *engine) waitGoroutines() error {
	done := make(chan struct{})
	go func() {
		e.goroutines.Wait()
		close(done)
	}()
	for {
		select {
		case <-done:
			return nil
		case t := <-e.tickets:
			t.handle(e) // only Report can still succeed
		case <-e.stopDue:
			return e.stopTimedOut()
		}
	}
}

// abandon hands the start goroutines' tickets, when the loop returns at
// StopTimeout, to a goroutine that kills each worker still starting and
// ends once the last start goroutine has stopped, so that none of them
// blocks on tickets nobody reads. Wait does not wait for it. The loop calls
// it as it returns: from then on the goroutine owns e.reports.
func (e *engine) abandon() {
	live := e.live
	go func() {
		for live > 0 {
			switch t := (<-e.reports).(type) {
			case startedTicket:
				go killQuietly(t.worker) // one that blocks must not stop the reading
			case stoppedTicket:
				live--
			}
		}
	}()
}

// stopTimedOut logs every worker still running and returns the error that
// names them; it kills the workers still draining for stuck dependents,
// whose turn would never come.
func (e *engine) stopTimedOut() error {
	var stuck []string
	for name, n := range e.nodes {
		switch n.state {
		case starting, running, stopping:
			stuck = append(stuck, fmt.Sprintf("%q", name))
			e.logf(slog.LevelError, name, "worker did not stop within %v; abandoned", e.config.StopTimeout)
		case draining:
			waiting := quoteAll(n.waitingFor(), ", ")
			stuck = append(stuck, fmt.Sprintf("%q (waiting for %s)", name, waiting))
			e.logf(slog.LevelError, name, "worker still waiting for %s to stop after %v; killed and abandoned", waiting, e.config.StopTimeout)
			e.stopNow(n)
		}
	}
	if len(stuck) == 0 {
		return failure(ErrStopTimeout, "worker Kill calls did not return within %v", e.config.StopTimeout)
	}
	slices.Sort(stuck)
	return failure(ErrStopTimeout, "workers did not stop within %v: %s", e.config.StopTimeout, strings.Join(stuck, ", "))
}

// finish returns Wait's error.
func (e *engine) finish(timeout error) error {
	return filter(e.config.Filter, joinErrors(e.worst, e.internal, timeout))
}

// finalReport returns the report of the stopped engine, with Wait's error.
// It reads the loop's state, which is safe once the loop has returned:
// nothing changes that state any more. Built on the first call, it costs
// nothing to an engine whose last report nobody asks for.
func (e *engine) finalReport() Report {
	e.finalOnce.Do(func() {
		e.final = e.report().report // without worker reports: the engine has stopped
		e.final.State = StateStopped
		e.final.Err = e.tomb.Err()
	})
	return e.final
}

// joinErrors returns the only non-nil error as it is, several joined, or
// nil.
func joinErrors(errs ...error) error {
	var found []error
	for _, err := range errs {
		if err != nil {
			found = append(found, err)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return stderrors.Join(found...)
}
