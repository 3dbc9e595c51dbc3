package dependency_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"gopkg.in/tomb.v2"

	"github.com/seedworks/dependency"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// errFailed is the error tests inject into workers.
var errFailed = errors.New("worker failed")

// testWorker runs until it is killed, or until the test stops it with an
// error. It remembers the input workers its start saw.
type testWorker struct {
	name   string
	seq    int                    // this worker's start number for its manifold, from 1
	inputs map[string]*testWorker // the running input workers its start got
	tomb   tomb.Tomb
	stop   chan error
}

// newTestWorker starts a worker that calls onStop just before Wait returns.
func newTestWorker(name string, seq int, inputs map[string]*testWorker, onStop func(*testWorker)) *testWorker {
	w := &testWorker{name: name, seq: seq, inputs: inputs, stop: make(chan error, 1)}
	w.tomb.Go(func() error {
		defer onStop(w)
		select {
		case <-w.tomb.Dying():
			return nil
		case err := <-w.stop:
			return err
		}
	})
	return w
}

func (w *testWorker) Kill()       { w.tomb.Kill(nil) }
func (w *testWorker) Wait() error { return w.tomb.Wait() }

// fail makes the worker stop with err (nil: complete).
func (w *testWorker) fail(err error) {
	select {
	case w.stop <- err:
	default:
	}
}

// harness makes manifolds whose workers it tracks: how often each started,
// which worker of each is alive, and whether two were ever alive at once.
type harness struct {
	mu      sync.Mutex
	starts  map[string]int
	live    map[string]*testWorker
	doubled []string // manifolds that had two live workers at once
	startFn map[string]func() error
}

func newHarness() *harness {
	return &harness{
		starts:  make(map[string]int),
		live:    make(map[string]*testWorker),
		startFn: make(map[string]func() error),
	}
}

// manifold returns a manifold named name (for the harness's records) with
// the given inputs. Its start gets every input, skipping missing ones, and
// returns a testWorker that outputs itself as a *testWorker.
func (h *harness) manifold(name string, inputs ...string) dependency.Manifold {
	return dependency.Manifold{
		Inputs: inputs,
		Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
			seen := make(map[string]*testWorker)
			for _, input := range inputs {
				var in *testWorker
				switch err := get(input, &in); {
				case err == nil:
					seen[input] = in
				case !errors.Is(err, dependency.ErrMissing):
					return nil, err
				}
			}
			return h.started(name, seen)
		},
		Output: outputTestWorker,
	}
}

// requiring returns a manifold like manifold's, whose start fails with
// ErrMissing unless every input is running.
func (h *harness) requiring(name string, inputs ...string) dependency.Manifold {
	m := h.manifold(name, inputs...)
	m.Start = func(get dependency.GetResourceFunc) (dependency.Worker, error) {
		seen := make(map[string]*testWorker)
		for _, input := range inputs {
			var in *testWorker
			if err := get(input, &in); err != nil {
				return nil, err
			}
			seen[input] = in
		}
		return h.started(name, seen)
	}
	return m
}

// failStart makes the next starts of name fail with what f returns, until f
// returns nil.
func (h *harness) failStart(name string, f func() error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.startFn[name] = f
}

func (h *harness) started(name string, inputs map[string]*testWorker) (dependency.Worker, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if f := h.startFn[name]; f != nil {
		if err := f(); err != nil {
			return nil, err
		}
		delete(h.startFn, name)
	}
	h.starts[name]++
	if old := h.live[name]; old != nil {
		h.doubled = append(h.doubled, name)
	}
	w := newTestWorker(name, h.starts[name], inputs, h.stopped)
	h.live[name] = w
	return w, nil
}

func (h *harness) stopped(w *testWorker) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.live[w.name] == w {
		delete(h.live, w.name)
	}
}

func outputTestWorker(in dependency.Worker, out interface{}) error {
	target, ok := out.(**testWorker)
	if !ok {
		return fmt.Errorf("out is %T, want **testWorker", out)
	}
	*target = in.(*testWorker)
	return nil
}

// startCount returns how many workers of name have started.
func (h *harness) startCount(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.starts[name]
}

// worker returns the live worker of name, or nil.
func (h *harness) worker(name string) *testWorker {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.live[name]
}

// liveCount returns how many manifolds have a live worker.
func (h *harness) liveCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.live)
}

// checkNoDoubles fails t if any manifold ever had two live workers.
func (h *harness) checkNoDoubles(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.doubled) > 0 {
		t.Errorf("manifolds with two live workers at once: %v", h.doubled)
	}
}

// mustInstall installs m under name or fails the test.
func mustInstall(t *testing.T, engine dependency.Engine, name string, m dependency.Manifold) {
	t.Helper()
	if err := engine.Install(name, m); err != nil {
		t.Fatalf("Install(%q) = %v, want nil", name, err)
	}
}

// stopEngine kills engine and checks that Wait returns want.
func stopEngine(t *testing.T, engine dependency.Engine, want error) {
	t.Helper()
	engine.Kill()
	if err := engine.Wait(); !errors.Is(err, want) || (want == nil && err != nil) {
		t.Errorf("Wait() = %v, want %v", err, want)
	}
}

// withDeadline runs f and fails t if it has not returned within a generous
// real-time limit: a guard against deadlocks in tests outside a bubble.
func withDeadline(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not return within 30s", what)
	}
}
