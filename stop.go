package dependency

import (
	"slices"
	"time"
)

// waitGoroutines waits for the engine's last goroutines (a worker's Kill
// call may still be returning) for no longer than StopTimeout, answering
// Report meanwhile. Once every killer has made its last call, the usual
// case, it waits for them directly, without a goroutine to wait for it. It must only be called from the loop goroutine.
func (e *engine) waitGoroutines() error {
	if e.kills.done() {
		// Only start goroutines remain, each past its last message and
		// running no more code of the workers': nothing to serve meanwhile.
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
// workers whose start the loop never took in; like them, these goroutines
// are abandoned. It must only be called from the loop goroutine, as it
// returns.
func (e *engine) abandonRunMessages() {
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

// handOverKills queues the Kill calls of the turn for the killers, all at
// once, so that the loop does not contend with them for the queue's lock
// once per call. It must only be called from the loop goroutine.
func (e *engine) handOverKills() {
	if len(e.toKill) == 0 {
		return
	}
	if gen, start := e.kills.push(e.toKill); start {
		e.startKiller(gen)
	}
	clear(e.toKill) // the queue has them now
	e.toKill = e.toKill[:0]
	if e.killCheck == nil {
		e.killCheck = time.After(killStall)
	}
}

// gotKillCheck gives up on a killer stuck in a Kill call, starts a fresh
// one for the workers queued behind it, and checks again later while a
// killer runs. It must only be called from the loop goroutine.
func (e *engine) gotKillCheck() {
	now := time.Now()
	e.killCheck = nil
	gen, start, again := e.kills.check(now)
	if start {
		e.startKiller(gen)
	}
	if !again.IsZero() {
		e.killCheck = time.After(again.Sub(now))
	}
}

// startKiller starts a killer goroutine of generation gen. It must only be
// called from the loop goroutine.
func (e *engine) startKiller(gen uint64) {
	e.goroutines.Add(1)
	go func() {
		defer e.goroutines.Done()
		for w := e.kills.next(gen); w != nil; w = e.kills.next(gen) {
			killQuietly(w)
		}
	}()
}

// killQuietly kills w; a panicking Kill changes nothing: Wait decides.
func killQuietly(w Worker) {
	defer func() { _ = recover() }()
	w.Kill()
}
