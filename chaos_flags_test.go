package dependency_test

// Flags in TestChaos: flag manifolds whose workers answer as drawn, and
// the model of each flag as the engine's loop knows it, kept by the
// engine's Observer.
//
// No start func of a gated manifold runs while one of its flags is closed.
// The engine decides to launch a start on its loop, and the start func is
// called later, on a goroutine of its own; so the check compares, at that
// call, each flag against the loop's view in the loop's order: the worker
// of the flag that the engine last reported started (EventStarted), unless
// it has reported it stopped or the flag uninstalled since, must be a Flag
// that answered true. A start the engine launched with every flag open is
// called before the loop can see a flag close: a flag closes in the loop's
// view only by an event of its own worker (which reaches the loop through
// the campaign's gate, opened only once every goroutine, the started start
// func among them, is blocked) or by an Uninstall of the flag, which never
// launches a start gated on it. So the check has no false positives, and
// a start launched on a flag that was closed, or about to start, in the
// loop's view fails it.
//
// With OrderedStop, the engine kills a flag's worker that it stops for
// good (on shutdown, or after the flag's Uninstall) only once every
// manifold whose current start the flag admitted has stopped. A start
// records the flag workers that admitted it; a flag's next worker that
// the engine reports started takes them over, as the engine keeps them
// admitted while a flag restarts. A worker that arrives once the engine
// is stopping is killed at once, admitting nothing.

import (
	"fmt"
	"slices"

	"github.com/seedworks/dependency"
)

// observe is the engine's Observer. It runs on the engine's loop, in the
// loop's order, and keeps each record's started worker.
func (c *chaos) observe(ev dependency.Event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.events = append(c.events, fmt.Sprintf("%v %q %v", ev.Kind, ev.Manifold, ev.Err))
	if len(c.events) > 30 {
		c.events = c.events[1:]
	}
	r := c.records[ev.Manifold]
	if r == nil {
		return // "fatal"
	}
	switch ev.Kind {
	case dependency.EventStarted:
		r.started = r.live // the worker whose start returned last: its end has not passed the gate
		if !c.shuttingDown {
			c.handOver(ev.Manifold, r.live)
		}
	case dependency.EventStopped, dependency.EventUninstalled:
		r.started = nil
	}
}

// handOver makes w, flag's new worker, the one that admitted the workers
// and starts that flag's earlier workers admitted. Its caller holds c.mu.
func (c *chaos) handOver(flag string, w *chaosWorker) {
	for _, r := range c.records {
		if r.live != nil {
			if _, ok := r.live.admittedBy[flag]; ok {
				r.live.admittedBy[flag] = w
			}
		}
		if _, ok := r.admitting[flag]; ok {
			r.admitting[flag] = w
		}
	}
}

// checkAdmitted records a problem for each of flags that is closed in the
// loop's view as a start func of name is called, and returns the workers
// of those that admitted it. Its caller holds c.mu.
func (c *chaos) checkAdmitted(name string, flags []string) map[string]*chaosWorker {
	if len(flags) == 0 {
		return nil
	}
	admitted := make(map[string]*chaosWorker, len(flags))
	for _, flag := range flags {
		w := c.records[flag].started
		if !w.open() {
			c.problem("%q: its start func was called while its flag %q was closed: %s", name, flag, flagState(w))
			continue
		}
		admitted[flag] = w
	}
	return admitted
}

// flagState says why w, the worker of a flag that the engine last
// reported started, leaves it closed.
func flagState(w *chaosWorker) string {
	switch {
	case w == nil:
		return "no worker of it runs"
	case !w.flag:
		return "its worker is not a Flag"
	case !w.answer:
		return "its worker answered false"
	}
	return "open"
}

// checkFlagKill records a problem if w is the worker of a flag stopped
// for good (on shutdown, or after Uninstall) and is killed while a worker
// or a start that it admitted is alive. It is called with OrderedStop
// only; its caller holds c.mu.
func (c *chaos) checkFlagKill(w *chaosWorker) {
	if !c.shuttingDown && !w.forGood {
		return
	}
	for name, r := range c.records {
		if r.live != nil && r.live.admittedBy[w.name] == w {
			c.problem("flag %q: its worker was killed for good while %q's worker, which it admitted, was alive", w.name, name)
		}
		if r.admitting[w.name] == w {
			c.problem("flag %q: its worker was killed for good while a start of %q that it admitted was in flight", w.name, name)
		}
	}
}

// uninstall uninstalls s, whose live worker the engine then stops for
// good.
func (c *chaos) uninstall(s *chaosSpec, why string) {
	c.step("Uninstall(%q)%s", s.name, why)
	c.mu.Lock()
	if w := c.records[s.name].live; w != nil {
		w.forGood = true
	}
	c.mu.Unlock()
	if err := c.engine.Uninstall(s.name); err != nil {
		c.fatalf("Uninstall(%q) = %v, want nil", s.name, err)
	}
	s.installed = false
}

// flipFlag draws the answer of a flag's next worker and, mostly, stops
// its worker so that the next one answers soon: with ErrBounce, which
// keeps the flag's answer while it restarts, or failing or completing,
// which close it.
func (c *chaos) flipFlag() {
	s := c.pick(func(s *chaosSpec, _ *chaosRecord) bool { return s.installed && s.flag })
	if s == nil {
		return
	}
	answer := c.rng.IntN(2) == 0
	c.mu.Lock()
	r := c.records[s.name]
	r.answer = answer
	live := r.live != nil
	c.mu.Unlock()
	c.step("next worker of flag %q answers %v", s.name, answer)
	if !live {
		return
	}
	switch c.rng.IntN(6) {
	case 0, 1, 2:
		c.fail(s, c.wrap(dependency.ErrBounce), endBounce)
	case 3:
		c.fail(s, c.wrap(errFailed), endFailed)
	case 4:
		c.fail(s, nil, endCompleted)
	}
}

// closedFlags returns the flags of s, sorted, that keep it from running
// in a quiet engine: not installed, or without a live worker that is a
// Flag answering true. Its caller holds c.mu.
func (c *chaos) closedFlags(s *chaosSpec) []string {
	var closed []string
	for _, flag := range s.flags {
		if !c.spec(flag).installed || !c.records[flag].live.open() {
			closed = append(closed, flag)
		}
	}
	slices.Sort(closed)
	return closed
}

// spec returns the spec named name.
func (c *chaos) spec(name string) *chaosSpec {
	return c.specs[slices.IndexFunc(c.specs, func(s *chaosSpec) bool { return s.name == name })]
}

// checkQuietFlags adds a problem for each installed manifold whose report,
// in a quiet engine, does not give the flags that gate it, or, as a flag
// with a live worker, that worker's answer. Its caller holds c.mu.
func (c *chaos) checkQuietFlags(report dependency.Report, add func(string, ...any)) {
	for _, s := range c.specs {
		mr, ok := report.Manifolds[s.name]
		if !s.installed || !ok {
			continue
		}
		if want := c.closedFlags(s); !slices.Equal(mr.Gated, want) {
			add("%q: Report Gated %q after quiet, want %q", s.name, mr.Gated, want)
		}
		w := c.records[s.name].live
		if w == nil {
			continue
		}
		switch {
		case w.flag && (mr.Flag == nil || *mr.Flag != w.answer):
			add("%q: Report Flag %v, want its worker's answer %v", s.name, flagText(mr.Flag), w.answer)
		case !w.flag && mr.Flag != nil:
			add("%q: Report Flag %v, want none: its worker is not a Flag", s.name, *mr.Flag)
		}
	}
}

func flagText(b *bool) string {
	if b == nil {
		return "none"
	}
	return fmt.Sprint(*b)
}
