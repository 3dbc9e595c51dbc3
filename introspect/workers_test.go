package introspect

import (
	"errors"
	"sync"

	"github.com/seedworks/dependency"
)

// errBroken is the error the tests' failing workers return.
var errBroken = errors.New("broken")

// idleWorker runs until it is killed.
type idleWorker struct {
	once sync.Once
	done chan struct{}
}

func (w *idleWorker) Kill()       { w.once.Do(func() { close(w.done) }) }
func (w *idleWorker) Wait() error { <-w.done; return nil }

func idleStart(dependency.GetResourceFunc) (dependency.Worker, error) {
	return &idleWorker{done: make(chan struct{})}, nil
}

// discard is a Logger that drops every line, so that the failures the
// tests cause do not fill their output.
type discard struct{}

func (discard) Debugf(string, ...any)   {}
func (discard) Infof(string, ...any)    {}
func (discard) Warningf(string, ...any) {}
func (discard) Errorf(string, ...any)   {}
