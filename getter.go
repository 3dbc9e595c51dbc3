package dependency

import (
	"fmt"
	"reflect"
	"sync"

	"github.com/juju/errors"
)

// getter is the snapshot a start func gets its resources from: each
// declared input's worker (nil if none was running) and Output func, as they
// were when the start launched. It records every request, for the report,
// and expires when the start func returns.
type getter struct {
	owner     string
	resources []resource

	mu       sync.Mutex // a start func may hand its getter to goroutines of its own
	expired  bool
	requests []ResourceRequest
	missing  error // why the last ErrMissing it returned was returned
}

type resource struct {
	name   string
	worker Worker
	output OutputFunc
}

// ResourceRequest is one call of a start's resource getter: the input asked
// for, the type of out ("" for a nil out, a presence check), and what the
// getter returned. Where the getter returned ErrMissing itself, Err says
// why and wraps ErrMissing, as in `input "auth" not running: dependency not
// available`.
type ResourceRequest struct {
	Name string
	Type string
	Err  error
}

// newGetter takes the snapshot of n's inputs as they are now.
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

// getResource implements GetResourceFunc. Each missing case returns the
// ErrMissing value itself, so that classic code comparing with == works;
// the reason is kept in the recorded request.
func (g *getter) getResource(name string, out any) error {
	g.mu.Lock()
	expired := g.expired
	g.mu.Unlock()
	if expired {
		return failure(ErrExpired, "%q manifold: resource getter for %q used after its start returned", g.owner, name)
	}
	returned, reason := g.lookup(name, out)
	g.record(name, out, returned, reason)
	return returned
}

// lookup returns what the getter returns for name and out, and the error
// that says why.
func (g *getter) lookup(name string, out any) (returned, reason error) {
	for _, r := range g.resources {
		if r.name == name {
			return r.get(out)
		}
	}
	return ErrMissing, mistakeError("%q asked for %q, which is not among its Inputs (add it to Inputs)", g.owner, name)
}

func (r resource) get(out any) (returned, reason error) {
	switch {
	case r.worker == nil:
		return missingBecause("input %q not running", r.name)
	case out == nil:
		return nil, nil // a presence check: Output is not asked
	case r.output == nil:
		return ErrMissing, mistakeError("input %q has no Output, so it cannot give %s", r.name, askedFor(out))
	}
	err := r.output.call(r.name, r.worker, out)
	return err, err
}

// missingBecause returns ErrMissing itself and the error that says why.
func missingBecause(format string, args ...any) (returned, reason error) {
	return ErrMissing, missingError(format, args...)
}

// missingError returns an error that says why a resource is missing and
// wraps ErrMissing: "<why>: dependency not available".
func missingError(format string, args ...any) error {
	return failure(ErrMissing, format+": %v", append(args, ErrMissing)...)
}

// mistakeError is missingError for a resource that a start can never get
// as it asks: it wraps ErrMistake too.
func mistakeError(format string, args ...any) error {
	return fmt.Errorf("%w%w", missingError(format, args...), errors.Hide(ErrMistake))
}

// call calls the Output func; a panic in it becomes the error.
func (output OutputFunc) call(input string, worker Worker, out any) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = newPanicError(fmt.Sprintf("output func of %q", input), v)
		}
	}()
	return output(worker, out)
}

// record keeps a request for the report, unless the getter has expired
// meanwhile: its requests are then the loop's to read.
func (g *getter) record(name string, out any, returned, reason error) {
	request := ResourceRequest{Name: name, Err: reason}
	if out != nil {
		t := reflect.TypeOf(out)
		if t.Kind() == reflect.Pointer {
			t = t.Elem() // the type asked for: Get[*Config] passes a **Config
		}
		request.Type = t.String()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.expired {
		return
	}
	g.requests = append(g.requests, request)
	if returned == ErrMissing {
		g.missing = reason
	}
}

// expire makes every later request fail with ErrExpired, and returns the
// requests made until then, which nothing changes any more.
func (g *getter) expire() []ResourceRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expired = true
	return g.requests
}

// explain returns err, or, when err is ErrMissing itself, the reason of the
// last ErrMissing the getter returned, which wraps it.
func (g *getter) explain(err error) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err == ErrMissing && g.missing != nil {
		return g.missing
	}
	return err
}
