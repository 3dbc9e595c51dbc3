package dependency

import (
	"slices"
	"time"
)

// waitGoroutines waits for the engine's last goroutines (a worker's Kill
// call may still be returning) for no longer than StopTimeout, answering
// Report meanwhile. When every Kill call has returned, the usual case, only
// start goroutines remain, each past its last message: it waits for those
// directly, with no goroutine to wait for them and nothing to serve. It
// must only be called from the loop goroutine.
func (e *engine) waitGoroutines() error {
	if e.kills.done() {
		e.goroutines.Wait()
		return nil
	}
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

// finish returns Wait's error. It must only be called from the loop
// goroutine.
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

// stop makes err (if not nil) a candidate for Wait's error and shuts the
// engine down. It must only be called from the loop goroutine.
func (e *engine) stop(err error) {
	if err != nil {
		e.worst = e.config.worse(e.worst, err)
	}
	e.shutDown()
}

// failInternal stops the engine because its own state is inconsistent.
// It must only be called from the loop goroutine.
func (e *engine) failInternal(format string, args ...any) {
	err := failure(ErrInternal, "internal engine error: "+format, args...)
	e.config.Logger.Errorf("%v", err)
	if e.internal == nil {
		e.internal = err
	}
	e.shutDown()
}

// shutDown stops every worker and cancels every pending start. It stops
// them in the order their nodes were made, which is about the order their
// workers started, rather than in the map's random order: each stop then
// touches memory (node, worker, goroutine stack) made just after the last
// one's, which halves the time to stop tens of thousands. It must only be
// called from the loop goroutine.
func (e *engine) shutDown() {
	if e.dying {
		return
	}
	e.dying = true
	e.tomb.Kill(nil)
	e.config.Logger.Debugf("engine stopping")
	for n := e.first; n != nil; n = n.next {
		e.requestStop(n)
	}
	if e.config.StopTimeout > 0 {
		e.stopDue = time.After(e.config.StopTimeout)
	}
}

// stopTimedOut logs every worker still running and returns the error that
// names them. It must only be called from the loop goroutine.
func (e *engine) stopTimedOut() error {
	var stuck []string
	for name, n := range e.nodes {
		if n.state == starting || n.state == running {
			stuck = append(stuck, name)
			e.config.Logger.Errorf("%q manifold worker did not stop within %v; abandoned", name, e.config.StopTimeout)
		}
	}
	if len(stuck) == 0 {
		return failure(ErrStopTimeout, "worker Kill calls did not return within %v", e.config.StopTimeout)
	}
	slices.Sort(stuck)
	return failure(ErrStopTimeout, "workers did not stop within %v: %s", e.config.StopTimeout, quoteAll(stuck, ", "))
}

// abandonRunMessages makes start goroutines that report after the loop
// returned (after StopTimeout) kill their worker themselves, and kills the
// workers whose start the loop never took in and those still queued for
// the killer; like them, these goroutines are abandoned. It must only be
// called from the loop goroutine, as it returns.
func (e *engine) abandonRunMessages() {
	for _, w := range e.kills.abandon() {
		go killQuietly(w)
	}
	for r := e.inbox.close(); r != nil; r = r.next {
		if !r.stopped() {
			go killQuietly(r.worker)
		}
	}
}

// kill asks for w's Kill call, which the killers make once the loop's turn
// ends. It must only be called from the loop goroutine.
func (e *engine) kill(w Worker) {
	e.toKill = append(e.toKill, w)
}

// handOverKills hands the Kill calls of the turn to the killer all at once,
// so that the loop does not contend with it for the queue's lock once per
// call; or, once the queue has stalled, starts a goroutine for each. It
// must only be called from the loop goroutine.
func (e *engine) handOverKills() {
	if len(e.toKill) == 0 {
		return
	}
	start, alone := e.kills.push(e.toKill, time.Now())
	if start {
		e.startKiller()
	}
	e.killEach(alone)
	if alone == nil && e.killCheck == nil {
		e.killCheck = time.After(killStall)
	}
	if cap(e.toKill) > 1024 {
		e.toKill = nil // a burst's array is not kept for the next
	} else {
		clear(e.toKill) // the queue has them now
		e.toKill = e.toKill[:0]
	}
}

// gotKillCheck stalls the kill queue if its first call has waited too long
// for its turn, and otherwise checks again when it might have. It must
// only be called from the loop goroutine.
func (e *engine) gotKillCheck() {
	now := time.Now()
	e.killCheck = nil
	alone, again := e.kills.check(now)
	e.killEach(alone)
	if !again.IsZero() {
		e.killCheck = time.After(again.Sub(now))
	}
}

// startKiller starts the killer goroutine. It must only be called from the
// loop goroutine.
func (e *engine) startKiller() {
	e.goroutines.Add(1)
	go func() {
		defer e.goroutines.Done()
		for w := e.kills.next(); w != nil; w = e.kills.next() {
			killQuietly(w)
		}
	}()
}

// killEach kills every worker on a goroutine of its own. It must only be
// called from the loop goroutine.
func (e *engine) killEach(workers []Worker) {
	for _, w := range workers {
		e.goroutines.Add(1)
		go func() {
			defer e.goroutines.Done()
			killQuietly(w)
		}()
	}
}

// killQuietly kills w; a panicking Kill changes nothing: Wait decides.
func killQuietly(w Worker) {
	defer func() { _ = recover() }()
	w.Kill()
}
