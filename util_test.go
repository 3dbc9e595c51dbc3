package dependency_test

// The harness every test shares, in this order: making engines, installing
// into them and stopping them, and the fake clock; testWorker and the
// harness that makes manifolds of them and tracks their workers; the other
// workers and manifold wrappers; and the recorders of items, events and log
// lines.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
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

// errFatal is the error tests make fatal, with isFatal.
var errFatal = errors.New("fatal")

func isFatal(err error) bool { return errors.Is(err, errFatal) }

// epoch is the fake clock's time when a synctest bubble starts.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// The delays of the engines newTestEngine makes.
const (
	errorDelay  = time.Second
	bounceDelay = 10 * time.Millisecond
)

// newTestEngine returns a classic engine with errorDelay and bounceDelay
// that is stopped when the test ends.
func newTestEngine(t *testing.T, isFatal dependency.IsFatalFunc) dependency.Engine {
	return stopOnCleanup(t, dependency.NewEngine(isFatal, errorDelay, bounceDelay))
}

// newEngine returns an engine made by New with config, or fails t. It
// discards the engine's log unless config has a Logger.
func newEngine(t *testing.T, config dependency.EngineConfig) dependency.Engine {
	t.Helper()
	if config.Logger == nil {
		config.Logger = discard{}
	}
	engine, err := dependency.New(config)
	if err != nil {
		t.Fatalf("New(%+v) = %v, want nil", config, err)
	}
	return engine
}

// mustInstall installs m under name or fails the test.
func mustInstall(t *testing.T, engine dependency.Engine, name string, m dependency.Manifold) {
	t.Helper()
	if err := engine.Install(name, m); err != nil {
		t.Fatalf("Install(%q) = %v, want nil", name, err)
	}
}

// mustUninstall uninstalls name or fails the test.
func mustUninstall(t *testing.T, engine dependency.Engine, name string) {
	t.Helper()
	if err := engine.Uninstall(name); err != nil {
		t.Fatalf("Uninstall(%q) = %v, want nil", name, err)
	}
}

// mustInstallAll installs manifolds as one batch, or fails the test.
func mustInstallAll(t *testing.T, engine dependency.Engine, manifolds dependency.Manifolds) {
	t.Helper()
	if err := dependency.Install(engine, manifolds); err != nil {
		t.Fatalf("Install(%s) = %v, want nil", strings.Join(slices.Sorted(maps.Keys(manifolds)), ", "), err)
	}
}

// installChain installs, as one batch, a manifold made by manifold for each
// of names, each taking the name before it as its only input, or fails the
// test. Pass h.manifold or h.requiring.
func installChain(t *testing.T, engine dependency.Engine, manifold func(name string, inputs ...string) dependency.Manifold, names ...string) {
	t.Helper()
	manifolds := make(dependency.Manifolds, len(names))
	for i, name := range names {
		manifolds[name] = manifold(name, names[max(i-1, 0):i]...)
	}
	mustInstallAll(t, engine, manifolds)
}

// stopOnCleanup makes sure engine has stopped when the test ends, also
// when it ends early, and returns engine.
func stopOnCleanup(t *testing.T, engine dependency.Engine) dependency.Engine {
	t.Cleanup(func() {
		engine.Kill()
		_ = engine.Wait()
	})
	return engine
}

// stopEngine kills engine and checks that Wait returns want.
func stopEngine(t *testing.T, engine dependency.Engine, want error) {
	t.Helper()
	engine.Kill()
	if err := engine.Wait(); !errors.Is(err, want) || (want == nil && err != nil) {
		t.Errorf("Wait() = %v, want %v", err, want)
	}
}

// killInBackground kills engine and returns a channel that gets what its
// Wait returns, called on a goroutine of its own.
func killInBackground(engine dependency.Engine) <-chan error {
	engine.Kill()
	waited := make(chan error, 1)
	go func() { waited <- engine.Wait() }()
	return waited
}

// checkWaiting fails t at once if Wait has already returned on waited;
// while says when it must still be waiting, for the message.
func checkWaiting(t *testing.T, waited <-chan error, while string) {
	t.Helper()
	select {
	case err := <-waited:
		t.Fatalf("Wait() = %v %s, want it to wait", err, while)
	default:
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

// advance moves the bubble's fake clock on by d and lets every goroutine
// settle. It must be called inside synctest.Test.
func advance(d time.Duration) {
	time.Sleep(d)
	synctest.Wait()
}

// testWorker runs until it is killed, or until the test stops it with an
// error. It remembers the input workers its start saw.
type testWorker struct {
	name   string
	seq    int                    // this worker's start number for its manifold, from 1
	inputs map[string]*testWorker // the running input workers its start got
	ctx    context.Context        // the StartContext ctx its start got; nil for Start
	tomb   tomb.Tomb
	stop   chan error
}

// newTestWorker starts a worker that calls onStop just before Wait returns.
// A stubborn worker ignores Kill: only fail stops it.
func newTestWorker(name string, seq int, inputs map[string]*testWorker, ctx context.Context, stubborn bool, onStop func(*testWorker)) *testWorker {
	w := &testWorker{name: name, seq: seq, inputs: inputs, ctx: ctx, stop: make(chan error, 1)}
	dying := w.tomb.Dying()
	if stubborn {
		dying = nil
	}
	w.tomb.Go(func() error {
		defer onStop(w)
		select {
		case <-dying:
			return nil
		case err := <-w.stop:
			return err
		}
	})
	return w
}

func (w *testWorker) Kill()       { w.tomb.Kill(nil) }
func (w *testWorker) Wait() error { return w.tomb.Wait() }

// String names the worker by manifold and start number, for messages.
func (w *testWorker) String() string {
	if w == nil {
		return "no worker"
	}
	return fmt.Sprintf("%s start %d", w.name, w.seq)
}

// seqOrZero returns w's start number, or 0 for no worker.
func (w *testWorker) seqOrZero() int {
	if w == nil {
		return 0
	}
	return w.seq
}

// fail makes the worker stop with err (nil: complete).
func (w *testWorker) fail(err error) {
	select {
	case w.stop <- err:
	default:
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

// harness makes manifolds whose workers it tracks: how often each started,
// which worker of each is alive, and whether two were ever alive at once.
type harness struct {
	mu       sync.Mutex
	attempts map[string]int // calls of each start func
	starts   map[string]int // workers started
	live     map[string]*testWorker
	inputs   map[string][]string // declared inputs of each manifold made
	doubled  []string            // manifolds that had two live workers at once
	startFn  map[string]func() error
	stubborn map[string]bool // manifolds whose workers ignore Kill
}

func newHarness() *harness {
	return &harness{
		attempts: make(map[string]int),
		starts:   make(map[string]int),
		live:     make(map[string]*testWorker),
		inputs:   make(map[string][]string),
		startFn:  make(map[string]func() error),
		stubborn: make(map[string]bool),
	}
}

// manifold returns a manifold named name (for the harness's records) with
// the given inputs. Its start gets every input, skipping missing ones, and
// returns a testWorker that outputs itself as a *testWorker.
func (h *harness) manifold(name string, inputs ...string) dependency.Manifold {
	h.mu.Lock()
	h.inputs[name] = inputs
	h.mu.Unlock()
	return dependency.Manifold{
		Inputs: inputs,
		Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
			return h.startTolerant(name, inputs, get, nil)
		},
		Output: outputTestWorker,
	}
}

// startTolerant is the start of manifold and withContext.
func (h *harness) startTolerant(name string, inputs []string, get dependency.GetResourceFunc, ctx context.Context) (dependency.Worker, error) {
	h.attempted(name)
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
	return h.started(name, seen, ctx)
}

// withContext returns a manifold like manifold's that uses StartContext;
// its workers remember the ctx in testWorker.ctx.
func (h *harness) withContext(name string, inputs ...string) dependency.Manifold {
	m := h.manifold(name, inputs...)
	m.Start = nil
	m.StartContext = func(ctx context.Context, get dependency.GetResourceFunc) (dependency.Worker, error) {
		return h.startTolerant(name, inputs, get, ctx)
	}
	return m
}

// blocking returns a manifold whose StartContext counts as an attempt and
// then blocks until its ctx is done, returning the ctx's error.
func (h *harness) blocking(name string, inputs ...string) dependency.Manifold {
	return dependency.Manifold{
		Inputs: inputs,
		StartContext: func(ctx context.Context, get dependency.GetResourceFunc) (dependency.Worker, error) {
			h.attempted(name)
			<-ctx.Done()
			return nil, fmt.Errorf("%q start: %w", name, ctx.Err())
		},
	}
}

// requiring returns a manifold like manifold's, whose start fails with
// ErrMissing unless every input is running.
func (h *harness) requiring(name string, inputs ...string) dependency.Manifold {
	m := h.manifold(name, inputs...)
	m.Start = func(get dependency.GetResourceFunc) (dependency.Worker, error) {
		h.attempted(name)
		seen := make(map[string]*testWorker)
		for _, input := range inputs {
			var in *testWorker
			if err := get(input, &in); err != nil {
				return nil, err
			}
			seen[input] = in
		}
		return h.started(name, seen, nil)
	}
	return m
}

// ignoreKill makes the workers of name started from now on ignore Kill;
// only testWorker.fail stops them.
func (h *harness) ignoreKill(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stubborn[name] = true
}

// failStart makes the next starts of name fail with what f returns, until f
// returns nil.
func (h *harness) failStart(name string, f func() error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.startFn[name] = f
}

// alwaysFail is a start failure for harness.failStart that never ends.
func alwaysFail() error { return errFailed }

func (h *harness) attempted(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.attempts[name]++
}

func (h *harness) started(name string, inputs map[string]*testWorker, ctx context.Context) (dependency.Worker, error) {
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
	w := newTestWorker(name, h.starts[name], inputs, ctx, h.stubborn[name], h.stopped)
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

// attemptCount returns how often the start func of name was called,
// whether it returned a worker or not.
func (h *harness) attemptCount(name string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.attempts[name]
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

// checkLive fails t unless the live worker of each name in want is the
// one with that start number (0: no live worker).
func (h *harness) checkLive(t *testing.T, want map[string]int) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		got := 0
		if w := h.live[name]; w != nil {
			got = w.seq
		}
		if got != want[name] {
			t.Errorf("live worker of %q is start %d, want %d (0: none)", name, got, want[name])
		}
	}
}

// checkAttempts fails t unless the start func of each name in want was
// called that many times.
func (h *harness) checkAttempts(t *testing.T, want map[string]int) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if got := h.attempts[name]; got != want[name] {
			t.Errorf("starts of %q tried = %d, want %d", name, got, want[name])
		}
	}
}

// checkCurrent fails t if a live worker holds an input worker other than
// the input's live one: one it started before, or none while one runs.
// It is meant for moments when everything has settled.
func (h *harness) checkCurrent(t *testing.T) {
	t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(h.live)) {
		w := h.live[name]
		for _, input := range h.inputs[name] {
			if got, want := w.inputs[input], h.live[input]; got != want {
				t.Errorf("%q start %d runs on %q start %d, want start %d (0: none)",
					name, w.seq, input, got.seqOrZero(), want.seqOrZero())
			}
		}
	}
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

// expectAttemptAfter advances the bubble's clock by d (> 0) and fails t
// unless name's next start is called exactly then: not 1ns before. It must
// be called inside a synctest bubble.
func expectAttemptAfter(t *testing.T, h *harness, name string, d time.Duration) {
	t.Helper()
	synctest.Wait()
	before := h.attemptCount(name)
	advance(d - 1)
	if got := h.attemptCount(name); got != before {
		t.Fatalf("start %d of %q came before %v", before+1, name, d)
	}
	advance(time.Nanosecond)
	if got := h.attemptCount(name); got != before+1 {
		t.Fatalf("start calls of %q after %v = %d, want %d", name, d, got, before+1)
	}
}

// gateStart returns m with a start that first waits until release is
// closed, so a test can hold a start in flight.
func gateStart(m dependency.Manifold, release <-chan struct{}) dependency.Manifold {
	start := m.Start
	m.Start = func(get dependency.GetResourceFunc) (dependency.Worker, error) {
		<-release
		return start(get)
	}
	return m
}

// funcWorker runs its body until the body returns; Kill closes the
// channel the body is given.
type funcWorker struct {
	tomb tomb.Tomb
}

// newFuncWorker starts a worker running body, whose return is Wait's
// error.
func newFuncWorker(body func(dying <-chan struct{}) error) *funcWorker {
	w := &funcWorker{}
	w.tomb.Go(func() error { return body(w.tomb.Dying()) })
	return w
}

func (w *funcWorker) Kill()       { w.tomb.Kill(nil) }
func (w *funcWorker) Wait() error { return w.tomb.Wait() }

// idleWorker runs until it is killed, or stopped with an error: the least
// a worker can be, a channel closed when it stops.
type idleWorker struct {
	done chan struct{}
	once sync.Once
	err  error
}

func newIdleWorker() *idleWorker { return &idleWorker{done: make(chan struct{})} }

func (w *idleWorker) Kill() { w.stop(nil) }

func (w *idleWorker) Wait() error {
	<-w.done
	return w.err
}

// stop makes Wait return err (nil: a clean stop); only the first stop or
// Kill counts.
func (w *idleWorker) stop(err error) {
	w.once.Do(func() {
		w.err = err
		close(w.done)
	})
}

// badWorker is a worker whose Kill and Wait misbehave as the test says.
type badWorker struct {
	kill func()
	wait func() error
}

func (w *badWorker) Kill()       { w.kill() }
func (w *badWorker) Wait() error { return w.wait() }

// startWith returns a manifold whose start returns w.
func startWith(w dependency.Worker) dependency.Manifold {
	return dependency.Manifold{
		Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { return w, nil },
	}
}

// stuckWorker returns a worker whose Kill blocks until release is closed,
// and which stops only then.
func stuckWorker(release chan struct{}) *badWorker {
	done := make(chan struct{})
	var once sync.Once
	return &badWorker{
		kill: func() {
			<-release
			once.Do(func() { close(done) })
		},
		wait: func() error { <-done; return nil },
	}
}

// record is a list that start funcs and workers append to and tests read,
// from any goroutine.
type record[T any] struct {
	mu    sync.Mutex
	items []T
}

func (r *record[T]) add(item T) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.items = append(r.items, item)
}

// all returns a copy of the items added so far.
func (r *record[T]) all() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.items)
}

func (r *record[T]) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.items)
}

// eventLog records the events an engine passes to EngineConfig.Observer,
// from the loop goroutine, for the test goroutine to read.
type eventLog struct {
	mu     sync.Mutex
	events []dependency.Event
}

// observe is an EngineConfig.Observer.
func (l *eventLog) observe(ev dependency.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

// take returns the events so far and forgets them.
func (l *eventLog) take() []dependency.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	events := l.events
	l.events = nil
	return events
}

// of returns the events of kind that name went through, in order.
func (l *eventLog) of(name string, kind dependency.EventKind) []dependency.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var events []dependency.Event
	for _, ev := range l.events {
		if ev.Kind == kind && ev.Manifold == name {
			events = append(events, ev)
		}
	}
	return events
}

// delays returns the Delay of every EventScheduled of name, in order.
func (l *eventLog) delays(name string) []time.Duration {
	var delays []time.Duration
	for _, ev := range l.of(name, dependency.EventScheduled) {
		delays = append(delays, ev.Delay)
	}
	return delays
}

// logLine is one line written to a logRecorder.
type logLine struct {
	level string // "DEBUG", "INFO", "WARNING" or "ERROR"
	text  string
}

// logRecorder is a dependency.Logger that keeps every line.
type logRecorder struct {
	mu    sync.Mutex
	lines []logLine
}

func (r *logRecorder) Debugf(format string, args ...any)   { r.add("DEBUG", format, args) }
func (r *logRecorder) Infof(format string, args ...any)    { r.add("INFO", format, args) }
func (r *logRecorder) Warningf(format string, args ...any) { r.add("WARNING", format, args) }
func (r *logRecorder) Errorf(format string, args ...any)   { r.add("ERROR", format, args) }

func (r *logRecorder) add(level, format string, args []any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lines = append(r.lines, logLine{level, fmt.Sprintf(format, args...)})
}

// errorLines returns the text of every ERROR line, in order.
// at returns the lines logged at level, in order.
func (r *logRecorder) at(level string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	for _, line := range r.lines {
		if line.level == level {
			lines = append(lines, line.text)
		}
	}
	return lines
}

func (r *logRecorder) errorLines() []string {
	return r.errorsNaming("")
}

// errorsNaming returns the ERROR lines that contain word.
func (r *logRecorder) errorsNaming(word string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var lines []string
	for _, line := range r.lines {
		if line.level == "ERROR" && strings.Contains(line.text, word) {
			lines = append(lines, line.text)
		}
	}
	return lines
}

// take returns the lines written since the last take, and forgets them.
func (r *logRecorder) take() []logLine {
	r.mu.Lock()
	defer r.mu.Unlock()
	lines := r.lines
	r.lines = nil
	return lines
}

// discard is a Logger that drops every line.
type discard struct{}

func (discard) Debugf(string, ...any)   {}
func (discard) Infof(string, ...any)    {}
func (discard) Warningf(string, ...any) {}
func (discard) Errorf(string, ...any)   {}

// The hostile errors: each has one method that panics when called, as a
// user's error type might. They are pointers, so that comparing them with
// == never panics.
type (
	isPanics        struct{ msg string } // Is panics
	asPanics        struct{ msg string } // As panics
	unwrapPanics    struct{ msg string } // Unwrap() error panics
	unwrapAllPanics struct{ msg string } // Unwrap() []error panics
	errorPanics     struct{}             // Error panics
)

func (e *isPanics) Error() string        { return e.msg }
func (e *isPanics) Is(error) bool        { panic("Is panicked on purpose") }
func (e *asPanics) Error() string        { return e.msg }
func (e *asPanics) As(any) bool          { panic("As panicked on purpose") }
func (e *unwrapPanics) Error() string    { return e.msg }
func (e *unwrapPanics) Unwrap() error    { panic("Unwrap panicked on purpose") }
func (e *unwrapAllPanics) Error() string { return e.msg }
func (e *unwrapAllPanics) Unwrap() []error {
	panic("Unwrap panicked on purpose")
}
func (e *errorPanics) Error() string { panic("Error panicked on purpose") }

// hostileError names a hostile error by the method of it that panics.
type hostileError struct {
	method string
	err    error
}

// hostileErrors holds a hostile error of each kind.
var hostileErrors = []hostileError{
	{"Is", &isPanics{"Is panics"}},
	{"Unwrap", &unwrapPanics{"Unwrap panics"}},
	{"Unwrap []error", &unwrapAllPanics{"Unwrap []error panics"}},
	{"As", &asPanics{"As panics"}},
	{"Error", &errorPanics{}},
}
