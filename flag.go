package dependency

import (
	"context"
	"sync"
)

// The two common flags: one whose answer a start func computes, and a gate
// that workers open and lock down while the engine runs.

// NewFlag returns a Flag worker that answers answer until it is killed.
// It is the worker of a flag manifold whose answer its start func computes
// from its inputs ("is this agent the leader?", from the config): when an
// input changes, the engine restarts it, and the new worker answers anew.
// Only a change of answer starts or stops the manifolds gated on it.
func NewFlag(answer bool) Flag {
	return &flagWorker{newIdleWorker(), answer}
}

type flagWorker struct {
	Worker
	answer bool
}

func (w *flagWorker) Check() bool { return w.answer }

// Gate is a flag that workers open and close while the engine runs: closed
// until a worker that holds it opens it (as when upgrade steps are done),
// and closed again by a worker that then waits until nothing gated on it
// runs (as for a migration's lockdown).
// Its state outlives the manifold's workers: each worker answers what the
// gate was when it started, and a change restarts the worker, after the
// engine's bounce delay, so that the next one answers anew. A Gate's
// methods may be called from any goroutine.
type Gate struct {
	mu     sync.Mutex
	open   bool
	worker *gateWorker   // the current worker; nil between workers and once told to restart
	empty  bool          // closed, and a closed worker found that nothing gated on it runs
	gone   chan struct{} // closed when empty becomes true; nil when nobody waits
}

// NewGate returns a closed gate.
func NewGate() *Gate {
	return &Gate{}
}

// Manifold returns the gate's flag manifold: the manifolds that list it
// among their Flags run only while it is open. It has no Output: the
// workers that open and lock down the gate hold the *Gate itself, for a
// manifold that took the gate as an input would be bounced each time the
// gate's worker restarts to answer anew, its Lockdown call with it.
// Install it in one engine.
func (g *Gate) Manifold() Manifold {
	return Manifold{
		Start: func(GetResourceFunc) (Worker, error) { return g.newWorker(), nil },
	}
}

// Open opens the gate: the manifolds gated on it may start.
func (g *Gate) Open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open, g.empty = true, false
	g.restartStale()
}

// Lockdown closes the gate and waits until no manifold gated on it runs:
// the engine has stopped every one it had admitted. It returns ctx's error
// if ctx is done first; the gate stays closed.
func (g *Gate) Lockdown(ctx context.Context) error {
	g.mu.Lock()
	g.open = false
	g.restartStale()
	if g.empty {
		g.mu.Unlock()
		return nil
	}
	if g.gone == nil {
		g.gone = make(chan struct{})
	}
	gone := g.gone
	g.mu.Unlock()
	select {
	case <-gone:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// restartStale asks the current worker to restart if its answer is not
// the gate's any more. g.mu must be held.
func (g *Gate) restartStale() {
	if g.worker != nil && g.worker.open != g.open {
		close(g.worker.restart)
		g.worker = nil
	}
}

// newWorker starts a worker that answers the gate's state now.
func (g *Gate) newWorker() *gateWorker {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := &gateWorker{gate: g, open: g.open, restart: make(chan struct{})}
	w.Worker = NewWorker(func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.restart:
			return ErrBounce
		}
	})
	g.worker = w
	return w
}

// gateWorker is a Gate's worker.
type gateWorker struct {
	Worker
	gate    *Gate
	open    bool
	restart chan struct{} // closed to restart it with the gate's new answer
}

func (w *gateWorker) Check() bool { return w.open }

// admittedGone is called by the engine, on its loop, when nothing w
// admitted runs while w answers false.
func (w *gateWorker) admittedGone() {
	g := w.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	if w.open || g.open {
		return
	}
	g.empty = true
	if g.gone != nil {
		close(g.gone)
		g.gone = nil
	}
}

// admittedWatcher is implemented by flag workers that want to know when,
// while they answer false, no manifold they admitted runs any more: a
// Gate's. The engine calls it on its loop goroutine, so it must return at
// once.
type admittedWatcher interface {
	admittedGone()
}
