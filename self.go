package dependency

import "sync"

// SelfManifold returns a manifold whose Output gives dependents the engine
// itself, through an *Engine, so that its workers can Install, Uninstall and
// Report; an out of another type gets an error wrapping ErrMissing. Its
// worker does nothing until it is killed.
func SelfManifold(engine Engine) Manifold {
	return Manifold{
		Start: func(GetResourceFunc) (Worker, error) {
			return newIdleWorker(), nil
		},
		Output: OutputOf(func(*idleWorker) Engine { return engine }),
	}
}

// idleWorker runs until it is killed.
type idleWorker struct {
	done chan struct{}
	once sync.Once
}

func newIdleWorker() *idleWorker { return &idleWorker{done: make(chan struct{})} }

func (w *idleWorker) Kill()       { w.once.Do(func() { close(w.done) }) }
func (w *idleWorker) Wait() error { <-w.done; return nil }
