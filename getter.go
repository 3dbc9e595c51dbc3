package dependency

import (
	"fmt"
	"sync/atomic"
)

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

// newGetter takes the snapshot of n's inputs as they are now. It must only
// be called from the loop goroutine.
func newGetter(n *node) *getter {
	g := &getter{owner: n.name, resources: make([]resource, len(n.inputs))}
	for i, input := range n.inputs {
		g.resources[i] = resource{name: input.name}
		if input.manifold != nil {
			g.resources[i].worker, g.resources[i].output = input.worker, input.manifold.Output
		}
	}
	return g
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
