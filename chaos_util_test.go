package dependency_test

// The harness of TestChaos: a model of the graph, manifolds whose starts
// and workers report to it, and a gate that feeds their events to the
// engine in an order drawn from the seed.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// chaosKind is how a manifold's start treats its inputs.
type chaosKind int

const (
	tolerant   chaosKind = iota // takes the inputs it can get
	requiring                   // fails with ErrMissing unless every input runs
	contextual                  // like tolerant, through StartContext; may block until ctx is done
)

// chaosSpec is the test's model of one name of the graph. Only the test
// goroutine touches it.
type chaosSpec struct {
	name      string
	index     int
	installed bool
	version   int // of the manifold installed last; each Install makes a new one
	inputs    []string
	flags     []string // its Manifold.Flags: names before it, like inputs, so the graph stays acyclic
	kind      chaosKind
	filtered  bool // the manifold has a Filter that wraps every error
	flag      bool // its workers are Flags
}

// chaosVersion is what the manifold of one version of a spec was made
// with, for its start funcs.
type chaosVersion struct {
	name    string
	version int
	inputs  []string
	flags   []string
	kind    chaosKind
	flag    bool
}

// endKind is why a start or worker of a manifold ended.
type endKind int

const (
	endNone         endKind = iota
	endKilled               // the engine stopped it: killed, or its start's ctx was cancelled
	endCompleted            // the worker returned nil by itself
	endMissing              // the worker returned ErrMissing by itself
	endMissingInput         // the start found a required input missing
	endBounce               // returned ErrBounce
	endUninstall            // returned ErrUninstall
	endFailed               // any other error, or a panic
)

var endNames = [...]string{"none", "killed", "completed", "missing", "missing input", "bounce", "uninstall", "failed"}

func (k endKind) String() string { return endNames[k] }

// chaosRecord is what start funcs and workers of one name share with the
// test goroutine, guarded by chaos.mu.
type chaosRecord struct {
	live     *chaosWorker
	starting int           // start funcs running now
	starts   map[int]int   // workers returned by starts, by manifold version
	end      endKind       // how the last start or worker ended
	endOf    int           // the manifold version that ended so
	blocked  chan struct{} // closed to let a blocked start return its worker

	// holding is what a start in flight got from its inputs, once it has
	// asked them all: with OrderedStop, none of them may be killed.
	holding map[string]*chaosWorker
	// admitting is, for a start in flight, the worker of each of its flags
	// that admitted it: with OrderedStop, none of them may be killed on
	// shutdown.
	admitting map[string]*chaosWorker

	// started is the worker of this name that the engine last said
	// started (EventStarted), until it says that it stopped or that the
	// manifold was uninstalled: the flag as the engine's loop knows it,
	// kept by chaos.observe in the loop's order.
	started *chaosWorker
	answer  bool // what the next worker answers, if it is a Flag

	panicStart   bool   // the next start panics
	hostileStart error  // the next start fails with this error, whose methods panic
	panicOutput  string // the next Output call on this name's worker for this dependent panics
	blockNext    bool   // the next start blocks until ctx is done or blocked is closed
	ignoreCancel bool   // a blocked start returns a worker anyway when ctx is done
}

// chaos is one campaign: a random graph, its engine, and the model.
type chaos struct {
	t      *testing.T
	seed   uint64
	rng    *rand.Rand
	engine dependency.Engine
	specs  []*chaosSpec
	steps  []string // the latest operations, for failure messages

	orderedStop bool // the engine's EngineConfig.OrderedStop, drawn from the seed

	mu           sync.Mutex
	records      map[string]*chaosRecord
	problems     []string
	gated        []chaosGated // goroutines waiting at the gate
	events       []string     // the engine's latest events, for failure messages
	shuttingDown bool         // the campaign has asked the engine to stop; every Kill from now on is the shutdown's
}

func newChaos(t *testing.T, seed uint64) *chaos {
	c := &chaos{
		t:       t,
		seed:    seed,
		rng:     rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		records: make(map[string]*chaosRecord),
	}
	size := 20 + c.rng.IntN(181)
	for i := range size {
		s := &chaosSpec{name: fmt.Sprintf("m%03d", i), index: i}
		c.records[s.name] = &chaosRecord{starts: make(map[int]int)}
		c.redraw(s)
		c.specs = append(c.specs, s)
	}
	config := chaosConfig
	config.Logger = &chaosLogger{period: 5 + c.rng.Int64N(50)}
	config.Observer = c.observe
	c.orderedStop = c.rng.IntN(2) == 0
	config.OrderedStop = c.orderedStop
	engine, err := dependency.New(config)
	if err != nil {
		t.Fatalf("New(%+v) = %v, want nil", config, err)
	}
	c.engine = engine
	return c
}

// redraw gives s new random inputs and flags among the names before it, a
// kind, a filter, and whether it is a flag. The graph stays acyclic because
// inputs and flags always precede.
func (c *chaos) redraw(s *chaosSpec) {
	fanIn := c.rng.IntN(min(s.index, 4) + 1)
	if c.rng.IntN(20) == 0 {
		fanIn = c.rng.IntN(min(s.index, 30) + 1)
	}
	picked := make(map[int]bool)
	s.inputs = nil
	for len(s.inputs) < fanIn && len(picked) < s.index {
		j := c.rng.IntN(s.index)
		if c.rng.IntN(2) == 0 {
			j = s.index - 1 - c.rng.IntN(min(s.index, 5))
		}
		if !picked[j] {
			s.inputs = append(s.inputs, c.specs[j].name)
		}
		picked[j] = true
	}
	s.kind = chaosKind(c.rng.IntN(4) % 3) // tolerant twice as often
	s.filtered = c.rng.IntN(3) == 0
	s.flag = c.rng.IntN(5) == 0
	c.drawFlags(s)
	answer := c.rng.IntN(3) > 0
	c.mu.Lock()
	c.records[s.name].answer = answer
	c.mu.Unlock()
}

// drawFlags gives a third of the specs up to two flags, mostly among the
// flags before them, and some of its inputs too; a flag may be gated
// itself, and a gated manifold an input.
func (c *chaos) drawFlags(s *chaosSpec) {
	s.flags = nil
	if s.index == 0 || c.rng.IntN(3) > 0 {
		return
	}
	var flags []string
	for _, f := range c.specs[:s.index] {
		if f.flag {
			flags = append(flags, f.name)
		}
	}
	for range 1 + c.rng.IntN(2) {
		var name string
		switch {
		case len(s.inputs) > 0 && c.rng.IntN(4) == 0:
			name = s.inputs[c.rng.IntN(len(s.inputs))]
		case len(flags) > 0 && c.rng.IntN(5) > 0:
			name = flags[c.rng.IntN(len(flags))]
		default:
			name = c.specs[c.rng.IntN(s.index)].name // most likely not a flag: gated for good
		}
		if !slices.Contains(s.flags, name) {
			s.flags = append(s.flags, name)
		}
	}
}

// chaosGated is a goroutine waiting at the gate.
type chaosGated struct {
	key     string // unique among those waiting: one start or worker per name
	release chan struct{}
}

// gate holds the calling goroutine (a start func returning, a worker
// ending) until settle lets it go. The engine's loop sees these events one
// at a time in an order drawn from the seed, so that a seed replays exactly
// while the campaign still tries many orders.
func (c *chaos) gate(key string) {
	release := make(chan struct{})
	c.mu.Lock()
	c.gated = append(c.gated, chaosGated{key, release})
	c.mu.Unlock()
	<-release
}

// settle lets the goroutines at the gate go one at a time, in random order,
// until the bubble is still and nobody waits at the gate.
func (c *chaos) settle() {
	for {
		synctest.Wait()
		c.mu.Lock()
		if len(c.gated) == 0 {
			c.mu.Unlock()
			return
		}
		// The order of arrival at the gate is not deterministic, but
		// the set of keys is.
		slices.SortFunc(c.gated, func(a, b chaosGated) int { return strings.Compare(a.key, b.key) })
		i := c.rng.IntN(len(c.gated))
		next := c.gated[i]
		c.gated = slices.Delete(c.gated, i, i+1)
		c.mu.Unlock()
		close(next.release)
	}
}

// wait returns the engine's Wait error, letting goroutines through the gate
// meanwhile; ok is false if Wait blocks with nobody left at the gate.
func (c *chaos) wait() (err error, ok bool) {
	done := make(chan error, 1)
	go func() { done <- c.engine.Wait() }()
	c.settle()
	select {
	case err := <-done:
		return err, true
	default:
		return nil, false
	}
}

// advance moves the fake clock on by d, one tick at a time, settling at
// every tick.
func (c *chaos) advance(d time.Duration) {
	for range d / chaosTick {
		time.Sleep(chaosTick)
		c.settle()
	}
}

// step records what the campaign does, for the failure message.
func (c *chaos) step(format string, args ...any) {
	c.steps = append(c.steps, fmt.Sprintf(format, args...))
	if len(c.steps) > 30 {
		c.steps = c.steps[1:]
	}
}

// fatalf fails the campaign with the seed and the latest steps, after
// stopping the engine so that the bubble ends cleanly. Its caller must not
// hold c.mu.
func (c *chaos) fatalf(format string, args ...any) {
	c.t.Helper()
	c.mu.Lock()
	events := strings.Join(c.events, "\n\t")
	c.mu.Unlock()
	c.t.Errorf("seed %d (OrderedStop %v): %s\nlatest steps:\n\t%s\nlatest events:\n\t%s", c.seed, c.orderedStop, fmt.Sprintf(format, args...), strings.Join(c.steps, "\n\t"), events)
	c.engine.Kill()
	c.mu.Lock()
	for _, r := range c.records {
		if r.blocked != nil {
			close(r.blocked)
			r.blocked = nil
		}
	}
	c.mu.Unlock()
	c.wait()
	c.t.FailNow()
}

// failIf fails the campaign if there are problems.
func (c *chaos) failIf(problems []string) {
	c.t.Helper()
	if len(problems) > 0 {
		c.fatalf("%s", strings.Join(problems, "\n"))
	}
}

// problem records a broken invariant seen on an engine goroutine. Its
// caller holds c.mu.
func (c *chaos) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// manifold makes the manifold for s's current version.
func (c *chaos) manifold(s *chaosSpec) dependency.Manifold {
	v := chaosVersion{s.name, s.version, slices.Clone(s.inputs), slices.Clone(s.flags), s.kind, s.flag}
	name := s.name
	start := func(ctx context.Context, get dependency.GetResourceFunc) (dependency.Worker, error) {
		defer c.gate(name)
		return c.start(ctx, v, get)
	}
	m := dependency.Manifold{Inputs: v.inputs, Flags: v.flags, Output: c.output}
	if v.kind == contextual {
		m.StartContext = start
	} else {
		m.Start = func(get dependency.GetResourceFunc) (dependency.Worker, error) {
			return start(context.Background(), get)
		}
	}
	if s.filtered {
		m.Filter = func(err error) error { return fmt.Errorf("filtered %q: %w", name, err) }
	}
	return m
}

// start is every manifold's start func.
func (c *chaos) start(ctx context.Context, v chaosVersion, get dependency.GetResourceFunc) (dependency.Worker, error) {
	name, version, inputs, kind := v.name, v.version, v.inputs, v.kind
	c.mu.Lock()
	r := c.records[name]
	if r.starting > 0 || r.live != nil {
		c.problem("%q: a start began while another start or worker was alive", name)
	}
	r.starting++
	r.admitting = c.checkAdmitted(name, v.flags)
	admittedBy, answer := r.admitting, r.answer
	panicNow, block, ignoreCancel := r.panicStart, r.blockNext && kind == contextual, r.ignoreCancel
	hostile := r.hostileStart
	r.panicStart, r.hostileStart = false, nil
	if block {
		r.blockNext = false
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		r.starting--
		r.holding, r.admitting = nil, nil
		c.mu.Unlock()
	}()

	if panicNow {
		c.ended(name, version, endFailed)
		panic(fmt.Sprintf("start of %q panicked on purpose", name))
	}
	if hostile != nil {
		c.ended(name, version, endFailed)
		return nil, hostile
	}
	seen := make(map[string]*chaosWorker, len(inputs))
	for _, input := range inputs {
		out := chaosOut{caller: name}
		switch err := get(input, &out); {
		case err == nil:
			seen[input] = out.worker
		case errors.Is(err, dependency.ErrMissing) && kind != requiring:
			seen[input] = nil
		case errors.Is(err, dependency.ErrMissing):
			c.ended(name, version, endMissingInput)
			return nil, err
		case errors.Is(err, dependency.ErrPanic):
			c.ended(name, version, endFailed)
			return nil, err
		default:
			c.mu.Lock()
			c.problem("%q: get(%q) = %v, want nil, ErrMissing or ErrPanic", name, input, err)
			c.mu.Unlock()
			return nil, err
		}
	}
	c.mu.Lock()
	r.holding = seen
	c.mu.Unlock()
	if block {
		release := make(chan struct{})
		c.mu.Lock()
		r.blocked = release
		c.mu.Unlock()
		select {
		case <-ctx.Done():
			c.mu.Lock()
			r.blocked = nil
			c.mu.Unlock()
			if !ignoreCancel {
				c.ended(name, version, endKilled)
				return nil, ctx.Err()
			}
		case <-release:
		}
	}
	w := &chaosWorker{
		c: c, name: name, version: version, inputs: inputs, seen: seen,
		flag: v.flag, answer: answer, admittedBy: admittedBy,
		stop: make(chan chaosStop, 1), kill: make(chan struct{}), done: make(chan struct{}),
	}
	c.mu.Lock()
	r.live = w
	r.starts[version]++
	c.mu.Unlock()
	go w.run()
	if w.flag {
		return chaosFlag{w}, nil
	}
	return w, nil
}

// ended records how a start of name ended.
func (c *chaos) ended(name string, version int, kind endKind) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.records[name]
	r.end, r.endOf = kind, version
}

// chaosOut is what a start asks its inputs' Output funcs for: it names the
// dependent, so that a panic can be aimed at one of them.
type chaosOut struct {
	caller string
	worker *chaosWorker
}

// output is every manifold's Output func: it gives out the *chaosWorker.
func (c *chaos) output(in dependency.Worker, out any) error {
	w := chaosWorkerOf(in)
	target, ok := out.(*chaosOut)
	if !ok {
		return fmt.Errorf("out is %T, want *chaosOut", out)
	}
	c.mu.Lock()
	r := c.records[w.name]
	panicNow := r.panicOutput != "" && r.panicOutput == target.caller
	if panicNow {
		r.panicOutput = ""
	}
	c.mu.Unlock()
	if panicNow {
		panic(fmt.Sprintf("output of %q for %q panicked on purpose", w.name, target.caller))
	}
	target.worker = w
	return nil
}

// chaosStop is an error a worker is told to stop with, and what it means.
type chaosStop struct {
	err  error
	kind endKind
}

// chaosWorker runs until it is killed or told to stop with an error. It
// remembers the input workers its start got (nil for those it went without).
type chaosWorker struct {
	c       *chaos
	name    string
	version int
	inputs  []string
	seen    map[string]*chaosWorker

	flag       bool                    // its start returned it as a chaosFlag
	answer     bool                    // its Check's answer, if it is a flag
	admittedBy map[string]*chaosWorker // the flag workers that admitted it, by flag name; see observe
	forGood    bool                    // its manifold was uninstalled: the engine stops it for good

	stop     chan chaosStop
	kill     chan struct{}
	killOnce sync.Once
	done     chan struct{}
	err      error
}

func (w *chaosWorker) run() {
	var stop chaosStop
	select {
	case <-w.kill:
		stop.kind = endKilled
	case stop = <-w.stop:
	}
	c := w.c
	c.gate(w.name)
	c.mu.Lock()
	r := c.records[w.name]
	if r.live == w {
		r.live = nil
	} else {
		c.problem("%q: worker %d of version %d ended while not the live one", w.name, r.starts[w.version], w.version)
	}
	r.end, r.endOf = stop.kind, w.version
	c.mu.Unlock()
	w.err = stop.err
	close(w.done)
}

// Kill is only called by the engine.
func (w *chaosWorker) Kill() {
	w.killOnce.Do(func() {
		w.c.checkKill(w)
		close(w.kill)
	})
}

func (w *chaosWorker) Wait() error { <-w.done; return w.err }

// open reports whether w, a worker the engine reported started, lets the
// manifolds gated on its name start: it is a Flag that answered true.
func (w *chaosWorker) open() bool { return w != nil && w.flag && w.answer }

// chaosFlag is the worker of a flag manifold.
type chaosFlag struct{ *chaosWorker }

func (f chaosFlag) Check() bool { return f.answer }

// chaosWorkerOf returns the *chaosWorker a start returned as in.
func chaosWorkerOf(in dependency.Worker) *chaosWorker {
	if f, ok := in.(chaosFlag); ok {
		return f.chaosWorker
	}
	return in.(*chaosWorker)
}

// checkKill records a problem if, with OrderedStop, the engine kills w
// while a worker started with it is alive, or a start that got it is in
// flight, or, as a flag stopped for good, while one it admitted is. It
// runs on the goroutine that calls Kill.
func (c *chaos) checkKill(w *chaosWorker) {
	if !c.orderedStop {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkFlagKill(w)
	for name, r := range c.records {
		if r.live != nil && r.live.seen[w.name] == w {
			c.problem("%q: its worker was killed while %q's worker, started with it, was alive", w.name, name)
		}
		if r.holding[w.name] == w {
			c.problem("%q: its worker was killed while a start of %q that got it was in flight", w.name, name)
		}
	}
}

// chaosLogger is a campaign's Logger: it drops every line, but panics
// instead on every period-th call, as a logger that breaks now and then
// might. The engine must lose those lines and nothing else.
type chaosLogger struct {
	period int64
	calls  atomic.Int64
}

func (l *chaosLogger) Debugf(string, ...any)   { l.line() }
func (l *chaosLogger) Infof(string, ...any)    { l.line() }
func (l *chaosLogger) Warningf(string, ...any) { l.line() }
func (l *chaosLogger) Errorf(string, ...any)   { l.line() }

func (l *chaosLogger) line() {
	if l.calls.Add(1)%l.period == 0 {
		panic("chaos logger panicked on purpose")
	}
}
