package dependency_test

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

var (
	chaosSeed  = flag.Uint64("chaos.seed", 0, "run only this seed of TestChaos (replays a failure)")
	chaosSeeds = flag.Int("chaos.seeds", 0, "run this many random seeds of TestChaos besides the fixed ones")
)

// chaosFixedSeeds run every time; one random seed runs beside them.
var chaosFixedSeeds = []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}

// chaosOps is how many random operations one seed drives.
const chaosOps = 2000

// chaosConfig is the engine's configuration in every campaign, but for the
// Logger, which each campaign makes its own (see chaosLogger). Jitter stays
// 0: it draws from the process's random source, and a seed must replay.
var chaosConfig = dependency.EngineConfig{
	// IsFatal asks errors.Is, as users' IsFatal funcs do; so the hostile
	// errors the campaign injects hold the engine to handing IsFatal only
	// errors it can read without a panic.
	IsFatal:          func(err error) bool { return errors.Is(err, errFatal) },
	ErrorDelay:       time.Second,
	BounceDelay:      10 * time.Millisecond,
	BackoffFactor:    2,
	BackoffResetTime: 10 * time.Second,
	MaxDelay:         4 * time.Second,
}

// chaosQuietStep is longer than any delay the engine can wait out.
const chaosQuietStep = 4*time.Second + chaosTick

// chaosTick divides every delay and every sleep of the campaign, so that the
// clock can advance one tick at a time and stop at every instant where
// something happens.
const chaosTick = 10 * time.Millisecond

// TestChaos drives random graphs through thousands of random faults on the
// fake clock and checks the engine's invariants after every step. A failure
// names its seed; `go test -run TestChaos -chaos.seed N` replays it.
func TestChaos(t *testing.T) {
	seeds := slices.Clone(chaosFixedSeeds)
	if *chaosSeed != 0 {
		seeds = []uint64{*chaosSeed}
	} else {
		for range 1 + *chaosSeeds {
			seeds = append(seeds, rand.Uint64()|1)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			t.Logf("seed %d; replay with: go test -run TestChaos -chaos.seed %d", seed, seed)
			synctest.Test(t, func(t *testing.T) {
				newChaos(t, seed).run()
			})
		})
	}
}

// run builds the graph, drives the operations and stops the engine.
func (c *chaos) run() {
	begin := time.Now()
	c.installAll()
	killAt := chaosOps/2 + c.rng.IntN(chaosOps/2)
	for i := range killAt {
		if i%500 == 499 {
			c.quiet()
			continue
		}
		c.operate()
		c.settle()
		c.check()
	}
	c.stop()
	total := 0
	for _, r := range c.records {
		for _, n := range r.starts {
			total += n
		}
	}
	c.t.Logf("%d manifolds, %d operations, %d starts, %v on the fake clock, OrderedStop %v", len(c.specs), killAt, total, time.Since(begin), c.orderedStop)
}

// installAll installs most of the graph in random order, some of it in
// batches, leaving a few names for later.
func (c *chaos) installAll() {
	order := c.rng.Perm(len(c.specs))
	for len(order) > 0 {
		n := 1
		if c.rng.IntN(3) == 0 {
			n = 2 + c.rng.IntN(9)
		}
		n = min(n, len(order))
		var batch []*chaosSpec
		for _, i := range order[:n] {
			if c.rng.IntN(10) > 0 {
				batch = append(batch, c.specs[i])
			}
		}
		order = order[n:]
		switch {
		case len(batch) == 1:
			c.install(batch[0])
		case len(batch) > 1:
			c.installBatch(batch, false)
		}
		c.settle()
		c.check()
	}
}

// install installs a new version of s, which is not installed.
func (c *chaos) install(s *chaosSpec) {
	s.version++
	c.step("Install(%q) inputs %q flags %q kind %d flag %v", s.name, s.inputs, s.flags, s.kind, s.flag)
	if err := c.engine.Install(s.name, c.manifold(s)); err != nil {
		c.fatalf("Install(%q) = %v, want nil", s.name, err)
	}
	s.installed = true
}

// installBatch installs new versions of the specs in one batch; with bad,
// it adds an invalid member and expects nothing to be installed.
func (c *chaos) installBatch(specs []*chaosSpec, bad bool) {
	manifolds := make(dependency.Manifolds)
	var names []string
	for _, s := range specs {
		s.version++
		manifolds[s.name] = c.manifold(s)
		names = append(names, s.name)
	}
	if bad {
		manifolds["bad"] = dependency.Manifold{Inputs: []string{names[0]}}
	}
	c.step("Install(engine, %q) bad=%v", names, bad)
	err := dependency.Install(c.engine, manifolds)
	if bad {
		if !errors.Is(err, dependency.ErrInvalid) {
			c.fatalf("Install(engine, %q plus one without Start) = %v, want ErrInvalid", names, err)
		}
		return
	}
	if err != nil {
		c.fatalf("Install(engine, %q) = %v, want nil", names, err)
	}
	for _, s := range specs {
		s.installed = true
	}
}

// pick returns a random spec that satisfies ok, or nil.
func (c *chaos) pick(ok func(*chaosSpec, *chaosRecord) bool) *chaosSpec {
	c.mu.Lock()
	var found []*chaosSpec
	for _, s := range c.specs {
		if ok(s, c.records[s.name]) {
			found = append(found, s)
		}
	}
	c.mu.Unlock()
	if len(found) == 0 {
		return nil
	}
	return found[c.rng.IntN(len(found))]
}

func isInstalled(s *chaosSpec, _ *chaosRecord) bool   { return s.installed }
func isUninstalled(s *chaosSpec, _ *chaosRecord) bool { return !s.installed }
func isRunning(s *chaosSpec, r *chaosRecord) bool     { return s.installed && r.live != nil }

// fail stops s's live worker with err, which means kind.
func (c *chaos) fail(s *chaosSpec, err error, kind endKind) {
	c.mu.Lock()
	w := c.records[s.name].live
	c.mu.Unlock()
	c.step("worker of %q returns %v", s.name, err)
	w.stop <- chaosStop{err, kind}
	if kind == endUninstall {
		s.installed = false
	}
}

// wrap returns err as it is or wrapped.
func (c *chaos) wrap(err error) error {
	if c.rng.IntN(2) == 0 {
		return err
	}
	return fmt.Errorf("wrapped: %w", err)
}

// operate performs one random operation, without waiting for it to settle.
func (c *chaos) operate() {
	switch op := c.rng.IntN(100); {
	case op < 30:
		c.injectFailure()
	case op < 38:
		if s := c.pick(isInstalled); s != nil {
			c.uninstall(s, "")
		}
	case op < 40:
		name := "ghost"
		if s := c.pick(isUninstalled); s != nil {
			name = s.name
		}
		c.step("Uninstall(%q) of a name not installed", name)
		if err := c.engine.Uninstall(name); !errors.Is(err, dependency.ErrNotInstalled) {
			c.fatalf("Uninstall(%q) = %v, want ErrNotInstalled", name, err)
		}
	case op < 48:
		if s := c.pick(isUninstalled); s != nil {
			if c.rng.IntN(2) == 0 {
				c.redraw(s)
			}
			c.install(s)
		}
	case op < 52:
		s := c.pick(func(s *chaosSpec, r *chaosRecord) bool { return s.installed && r.blocked != nil })
		if s == nil || c.rng.IntN(2) == 0 {
			s = c.pick(isInstalled)
		}
		if s != nil {
			c.reinstall(s)
		}
	case op < 54:
		if s := c.pick(isInstalled); s != nil {
			c.step("Install(%q) again", s.name)
			if err := c.engine.Install(s.name, c.manifold(s)); !errors.Is(err, dependency.ErrAlreadyInstalled) {
				c.fatalf("Install(%q) of an installed name = %v, want ErrAlreadyInstalled", s.name, err)
			}
		}
	case op < 57:
		c.installCycle()
	case op < 60:
		var batch []*chaosSpec
		for range 2 + c.rng.IntN(6) {
			if s := c.pick(isUninstalled); s != nil && !slices.Contains(batch, s) {
				batch = append(batch, s)
			}
		}
		if len(batch) > 0 {
			c.installBatch(batch, c.rng.IntN(4) == 0)
		}
	case op < 62:
		c.injectPanic()
	case op < 65:
		c.injectHostileStart()
	case op < 70:
		if s := c.pick(func(s *chaosSpec, r *chaosRecord) bool { return s.installed && s.kind == contextual }); s != nil {
			c.mu.Lock()
			r := c.records[s.name]
			r.blockNext, r.ignoreCancel = true, c.rng.IntN(3) == 0
			live := r.live != nil
			c.mu.Unlock()
			c.step("next start of %q blocks until ctx is done", s.name)
			if live {
				c.fail(s, dependency.ErrBounce, endBounce)
			}
		}
	case op < 75:
		if s := c.pick(func(_ *chaosSpec, r *chaosRecord) bool { return r.blocked != nil }); s != nil {
			c.step("blocked start of %q returns", s.name)
			c.release(s)
		}
	case op < 80:
		c.step("Report()")
		c.engine.Report()
	case op < 86:
		c.flipFlag()
	default:
		d := []time.Duration{0, chaosTick, 10 * chaosTick, time.Second, 3 * time.Second}[c.rng.IntN(5)]
		c.step("sleep %v", d)
		c.advance(d)
	}
}

// injectFailure stops a random live worker with a random error.
func (c *chaos) injectFailure() {
	s := c.pick(isRunning)
	if s == nil {
		return
	}
	switch c.rng.IntN(12) {
	case 0, 1, 2, 3:
		c.fail(s, c.wrap(errFailed), endFailed)
	case 4, 5:
		c.fail(s, nil, endCompleted)
	case 6:
		c.fail(s, c.wrap(dependency.ErrMissing), endMissing)
	case 7, 8:
		c.fail(s, c.wrap(dependency.ErrBounce), endBounce)
	case 9:
		c.fail(s, c.wrap(dependency.ErrUninstall), endUninstall)
	case 10, 11:
		c.fail(s, c.wrap(c.hostile()), endFailed)
	}
}

// hostile returns a random error whose Is, As, Unwrap or Error method
// panics. The engine must take it for a failure like any other.
func (c *chaos) hostile() error {
	return hostileErrors[c.rng.IntN(len(hostileErrors))].err
}

// injectHostileStart makes the next start of a manifold fail with a hostile
// error, and restarts its worker so that it happens soon.
func (c *chaos) injectHostileStart() {
	s := c.pick(isInstalled)
	if s == nil {
		return
	}
	err := c.wrap(c.hostile())
	c.mu.Lock()
	r := c.records[s.name]
	r.hostileStart = err
	live := r.live != nil
	c.mu.Unlock()
	c.step("next start of %q fails with %v", s.name, err)
	if live {
		c.fail(s, errFailed, endFailed)
	}
}

// injectPanic makes the next start of a manifold, or the next Output call
// on its worker, panic, and restarts its worker so that it happens soon.
func (c *chaos) injectPanic() {
	s := c.pick(isInstalled)
	if s == nil {
		return
	}
	var dependents []string
	for _, d := range c.specs[s.index+1:] {
		if d.installed && slices.Contains(d.inputs, s.name) {
			dependents = append(dependents, d.name)
		}
	}
	c.mu.Lock()
	r := c.records[s.name]
	if len(dependents) > 0 && c.rng.IntN(2) == 0 {
		r.panicOutput = dependents[c.rng.IntN(len(dependents))]
		c.step("next Output of %q for %q panics", s.name, r.panicOutput)
	} else {
		r.panicStart = true
		c.step("next start of %q panics", s.name)
	}
	live := r.live != nil
	c.mu.Unlock()
	if live {
		c.fail(s, errFailed, endFailed)
	}
}

// reinstall uninstalls s and installs it again while its old worker, or
// its cancelled start, is still stopping: their ends wait at the gate.
func (c *chaos) reinstall(s *chaosSpec) {
	c.uninstall(s, " to reinstall")
	c.install(s)
}

// release lets the blocked start of s return its worker.
func (c *chaos) release(s *chaosSpec) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.records[s.name]
	close(r.blocked)
	r.blocked = nil
}

// installCycle tries to install a manifold that would close a cycle, and
// expects ErrCycle and no change.
func (c *chaos) installCycle() {
	target := c.pick(isUninstalled)
	if target == nil {
		return
	}
	// Installed manifolds that need target, directly or through others,
	// as an input or a flag.
	needs := map[string]bool{target.name: true}
	var closers []*chaosSpec
	for _, s := range c.specs[target.index+1:] {
		if !s.installed {
			continue
		}
		for _, input := range slices.Concat(s.inputs, s.flags) {
			if needs[input] {
				needs[s.name] = true
				closers = append(closers, s)
				break
			}
		}
	}
	if len(closers) == 0 {
		return
	}
	closer := closers[c.rng.IntN(len(closers))]
	m := c.manifold(target)
	as := "input"
	if c.rng.IntN(3) == 0 {
		as, m.Flags = "flag", append(slices.Clone(target.flags), closer.name)
	} else {
		m.Inputs = append(slices.Clone(target.inputs), closer.name)
	}
	c.step("Install(%q) with %s %q, closing a cycle", target.name, as, closer.name)
	if err := c.engine.Install(target.name, m); !errors.Is(err, dependency.ErrCycle) {
		c.fatalf("Install(%q) with %s %q = %v, want ErrCycle", target.name, as, closer.name, err)
	}
}

// check verifies the invariants of a settled engine.
func (c *chaos) check() {
	c.t.Helper()
	report := c.engine.Report()
	c.mu.Lock()
	problems := slices.Clone(c.problems)
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	installed := 0
	for _, s := range c.specs {
		r := c.records[s.name]
		if w := r.live; w != nil {
			if !s.installed || w.version != s.version {
				add("%q: a worker of version %d runs; installed %v, version %d", s.name, w.version, s.installed, s.version)
			}
			for _, input := range w.inputs {
				if got, want := w.seen[input], c.records[input].live; got != want {
					add("%q runs on %q's worker %p, want its live worker %p", s.name, input, got, want)
				}
			}
		}
		if !s.installed {
			if _, ok := report.Manifolds[s.name]; ok {
				add("%q: in Report, but not installed", s.name)
			}
			continue
		}
		installed++
		mr, ok := report.Manifolds[s.name]
		if !ok {
			add("%q: installed, but not in Report", s.name)
			continue
		}
		running := r.live != nil && r.live.version == s.version
		switch {
		case running && mr.State != dependency.StateStarted:
			add("%q: Report state %v, want started: its worker runs", s.name, mr.State)
		case !running && mr.State == dependency.StateStarted:
			add("%q: Report state started, but no worker runs", s.name)
		case mr.State == dependency.StateStopping:
			add("%q: Report state stopping in a settled engine", s.name)
		case r.blocked != nil && mr.State != dependency.StateStarting:
			add("%q: Report state %v, want starting: its start is blocked", s.name, mr.State)
		}
		if got, want := mr.StartCount, r.starts[s.version]; got != want {
			add("%q: Report StartCount %d, want %d", s.name, got, want)
		}
		if !slices.Equal(mr.Inputs, s.inputs) {
			add("%q: Report Inputs %q, want %q", s.name, mr.Inputs, s.inputs)
		}
		if !slices.Equal(mr.Flags, s.flags) {
			add("%q: Report Flags %q, want %q", s.name, mr.Flags, s.flags)
		}
		var missing []string
		for _, input := range s.inputs {
			if c.records[input].live == nil {
				missing = append(missing, input)
			}
		}
		if !slices.Equal(mr.Missing, missing) {
			add("%q: Report Missing %q, want %q", s.name, mr.Missing, missing)
		}
	}
	if len(report.Manifolds) != installed {
		add("Report has %d manifolds, want %d", len(report.Manifolds), installed)
	}
	if report.State != dependency.StateStarted {
		add("Report state %v, want started", report.State)
	}
	c.mu.Unlock()
	c.failIf(problems)
}

// quiet lets every blocked start return, advances the clock until nothing
// is pending, and checks that every manifold that should run does.
func (c *chaos) quiet() {
	c.t.Helper()
	c.step("quiet")
	var report dependency.Report
	for i := 0; ; i++ {
		c.mu.Lock()
		for _, s := range c.specs {
			r := c.records[s.name]
			r.blockNext = false
			if r.blocked != nil {
				close(r.blocked)
				r.blocked = nil
			}
		}
		c.mu.Unlock()
		c.advance(chaosQuietStep)
		var busy []string
		report = c.engine.Report()
		for name, mr := range report.Manifolds {
			if mr.State != dependency.StateStarted && mr.State != dependency.StateStopped {
				busy = append(busy, fmt.Sprintf("%q %v", name, mr.State))
			}
		}
		if len(busy) == 0 {
			break
		}
		if i == 100 {
			slices.Sort(busy)
			c.fatalf("engine still busy after %v without faults: %s", 100*chaosQuietStep, strings.Join(busy, ", "))
		}
	}
	c.check()
	c.mu.Lock()
	var problems []string
	c.checkQuietFlags(report, func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) })
	for _, s := range c.specs {
		r := c.records[s.name]
		if !s.installed || r.live != nil || len(c.closedFlags(s)) > 0 {
			continue
		}
		end := r.end
		if r.endOf != s.version {
			end = endNone
		}
		switch end {
		case endCompleted, endMissing:
			continue
		case endMissingInput:
			if slices.ContainsFunc(s.inputs, func(input string) bool { return c.records[input].live == nil }) {
				continue
			}
		}
		problems = append(problems, fmt.Sprintf("%q: not running after quiet; its inputs run, its flags are open, and its last start or worker ended %v", s.name, end))
	}
	c.mu.Unlock()
	c.failIf(problems)
}

// stop ends the campaign at a random moment, by Kill or by a fatal error,
// and checks that everything stopped.
func (c *chaos) stop() {
	c.t.Helper()
	if c.rng.IntN(2) == 0 {
		c.operate() // not settled: Kill lands in the middle of it
	}
	// Every Kill the engine asked for so far has been called, so those
	// called from now on are the shutdown's.
	synctest.Wait()
	c.mu.Lock()
	c.shuttingDown = true
	c.mu.Unlock()
	wantErr := error(nil)
	if c.rng.IntN(4) == 0 {
		c.step("Install(\"fatal\"), whose start fails with a fatal error")
		err := c.engine.Install("fatal", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return nil, fmt.Errorf("wrapped: %w", errFatal)
			},
		})
		if err != nil {
			c.fatalf(`Install("fatal") = %v, want nil`, err)
		}
		wantErr = errFatal
	} else {
		c.step("Kill()")
		c.engine.Kill()
	}
	if wantErr == nil {
		if s := c.pick(isUninstalled); s != nil {
			if err := c.engine.Install(s.name, c.manifold(s)); !errors.Is(err, dependency.ErrShuttingDown) {
				c.fatalf("Install(%q) after Kill = %v, want ErrShuttingDown", s.name, err)
			}
		}
	}
	c.engine.Report()
	err, ok := c.wait()
	if !ok {
		c.fatalf("Wait() blocks with no worker or start left to end")
	}
	if !errors.Is(err, wantErr) || (wantErr == nil && err != nil) {
		c.fatalf("Wait() = %v, want %v", err, wantErr)
	}
	report := c.engine.Report()
	if report.State != dependency.StateStopped {
		c.fatalf("Report state after Wait = %v, want stopped", report.State)
	}
	for name, mr := range report.Manifolds {
		if mr.State != dependency.StateStopped {
			c.fatalf("%q: Report state after Wait = %v, want stopped", name, mr.State)
		}
	}
	c.mu.Lock()
	problems := slices.Clone(c.problems)
	for _, s := range c.specs {
		r := c.records[s.name]
		if r.live != nil || r.starting > 0 || r.blocked != nil {
			problems = append(problems, fmt.Sprintf("%q: after Wait, live worker %v, starts running %d, blocked %v", s.name, r.live != nil, r.starting, r.blocked != nil))
		}
	}
	c.mu.Unlock()
	c.failIf(problems)
}
