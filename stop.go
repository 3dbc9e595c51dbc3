package dependency

import (
	"slices"
	"sync"
	"time"
)

// waitGoroutines waits for the engine's last goroutines (a worker's Kill
// call may still be returning) for no longer than StopTimeout, answering
// Report meanwhile. It must only be called from the loop goroutine.
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

// kill asks w to stop off the loop goroutine, on a killer goroutine (see
// killers). It must only be called from the loop goroutine.
func (e *engine) kill(w Worker) {
	k := &e.killers
	k.mu.Lock()
	defer k.mu.Unlock()
	k.queue = append(k.queue, w)
	if k.free == 0 {
		e.startKiller()
	}
}

// killers holds the workers waiting for a killer goroutine to call their
// Kill. A Kill that blocks (breaking the Worker contract) must stall
// neither the loop nor the other workers' Kill calls. A goroutine for each
// Kill call would ensure that, but stopping ten thousand workers would
// start ten thousand goroutines. Instead, a killer about to call a Kill
// that may block first starts another killer if it is the last one free to
// take the workers still waiting: while workers wait, some killer is free
// to take them, however many Kill calls block, and a burst of Kill calls
// that return at once is served by a few killers (ten thousand by 4 to 22
// in BenchmarkWide).
type killers struct {
	mu    sync.Mutex
	queue []Worker // waiting for a killer, oldest first
	free  int      // killers running but not inside a Kill call
}

// startKiller starts a killer goroutine, free. It must be called with
// e.killers.mu held.
func (e *engine) startKiller() {
	e.killers.free++
	e.goroutines.Add(1)
	go e.killer()
}

// killer kills the waiting workers, one at a time, until none waits.
func (e *engine) killer() {
	defer e.goroutines.Done()
	k := &e.killers
	k.mu.Lock()
	defer k.mu.Unlock()
	for len(k.queue) > 0 {
		w := k.queue[0]
		k.queue[0] = nil
		k.queue = k.queue[1:]
		if len(k.queue) > 0 && k.free == 1 {
			e.startKiller() // to take the rest if this Kill blocks
		}
		k.free--
		k.mu.Unlock()
		killQuietly(w)
		k.mu.Lock()
		k.free++
	}
	k.queue = nil // let go of the array
	k.free--
}

// killQuietly kills w; a panicking Kill changes nothing: Wait decides.
func killQuietly(w Worker) {
	defer func() { _ = recover() }()
	w.Kill()
}
