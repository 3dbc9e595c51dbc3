package dependency

import (
	"slices"
	"time"
)

// State is where an engine or a manifold is in its life.
type State int

const (
	StateStopped  State = iota // no worker, and none wanted now
	StateStarting              // a start is wanted, waiting out a delay, or running
	StateStarted               // the worker runs
	StateStopping              // the worker is to stop: asked to, or, with OrderedStop, once its dependents have
)

var stateNames = [...]string{"stopped", "starting", "started", "stopping"}

// String returns the state as a word: "stopped", "starting", "started" or
// "stopping".
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return "unknown"
	}
	return stateNames[s]
}

// Report describes an engine at one moment.
type Report struct {
	State     State // of the engine: StateStarted, StateStopping or StateStopped
	Err       error // the fatal error so far, if any
	Settled   bool  // the engine runs and nothing is pending, held back, starting or stopping (see WaitSettled)
	Manifolds map[string]ManifoldReport
}

// ManifoldReport describes one installed manifold.
type ManifoldReport struct {
	State      State
	Inputs     []string
	Flags      []string          // the flags it names (Manifold.Flags)
	Gated      []string          // its flags, sorted, that keep it from running now: not installed, not running, not a Flag, or answering false
	Flag       *bool             // as a flag: its worker's answer, kept while it restarts after a bounce; nil until a worker of it is a Flag
	Missing    []string          // declared inputs that have no running worker now
	StartCount int               // successful starts so far
	Failures   int               // failures of its start or worker so far (not a stop for ErrMissing, ErrBounce or a bounce)
	Bounces    int               // stops of its worker or start because an input changed
	Started    time.Time         // last successful start; zero if none
	Err        error             // last error from its start or worker; nil once it runs again
	Due        time.Time         // when a start waiting out a delay may launch; zero if none waits
	Resources  []ResourceRequest // what the last start asked its getter, in order
	WaitingFor []string          // with OrderedStop: the dependents, sorted, whose workers must stop before this one is killed
	Worker     map[string]any    // the worker's own report, when it implements Reporter
	Engine     *Report           // the worker's report when it is itself an Engine; nil otherwise
}

// EventKind says what happened to a manifold.
type EventKind int

const (
	EventInstalled   EventKind = iota // the manifold was installed
	EventStarted                      // its worker started
	EventStopped                      // its worker stopped, or its start failed; Err says why
	EventBounced                      // an input changed, so its running worker (or its start in flight) is stopped, to restart after the bounce delay
	EventUninstalled                  // the manifold was removed
	EventScheduled                    // a start was scheduled after Delay
)

var eventNames = [...]string{"installed", "started", "stopped", "bounced", "uninstalled", "scheduled"}

func (k EventKind) String() string {
	if k < 0 || int(k) >= len(eventNames) {
		return "unknown"
	}
	return eventNames[k]
}

// Event is one step in a manifold's life, passed to EngineConfig.Observer.
type Event struct {
	Kind     EventKind
	Manifold string
	Err      error         // why it stopped, for EventStopped
	Delay    time.Duration // for EventScheduled
	Time     time.Time
}

// reportReply is the loop's answer to a reportTicket: the report, and the
// workers whose own reports the caller adds, off the loop.
type reportReply struct {
	report    Report
	reporters map[string]Reporter
	engines   map[string]Engine // workers that are engines themselves
}

// report describes the engine now.
func (e *engine) report() reportReply {
	r := Report{State: StateStarted, Err: e.worst, Settled: e.busy == 0 && !e.dying, Manifolds: make(map[string]ManifoldReport, len(e.nodes))}
	if e.dying {
		r.State = StateStopping
	}
	reply := reportReply{report: r, reporters: make(map[string]Reporter), engines: make(map[string]Engine)}
	for name, n := range e.nodes {
		if n.manifold == nil {
			continue
		}
		r.Manifolds[name] = n.report()
		switch worker := n.worker.(type) {
		case Reporter:
			reply.reporters[name] = worker
		case Engine:
			reply.engines[name] = worker
		}
	}
	return reply
}

// clone returns a copy of r that shares no map or slice with it. Worker
// reports are left shared: the report of a stopped engine has none.
func (r Report) clone() Report {
	manifolds := make(map[string]ManifoldReport, len(r.Manifolds))
	for name, m := range r.Manifolds {
		m.Inputs, m.Missing, m.Resources = slices.Clone(m.Inputs), slices.Clone(m.Missing), slices.Clone(m.Resources)
		m.Flags, m.Gated, m.WaitingFor = slices.Clone(m.Flags), slices.Clone(m.Gated), slices.Clone(m.WaitingFor)
		if m.Flag != nil {
			open := *m.Flag
			m.Flag = &open
		}
		manifolds[name] = m
	}
	r.Manifolds = manifolds
	return r
}

// report describes n.
func (n *node) report() ManifoldReport {
	r := ManifoldReport{
		State:      n.publicState(),
		Inputs:     slices.Clone(n.manifold.Inputs),
		Flags:      slices.Clone(n.manifold.Flags),
		Gated:      n.closedFlags(),
		StartCount: n.history.startCount,
		Failures:   n.history.failed,
		Bounces:    n.history.bounced,
		Started:    n.history.startedAt,
		Err:        n.history.err,
		Resources:  slices.Clone(n.history.resources),
		WaitingFor: n.waitingFor(),
	}
	if n.pending() || n.state == heldBack {
		r.Due = n.due
	}
	if n.isFlag {
		open := n.open
		r.Flag = &open
	}
	for _, flag := range n.flags {
		if err := notAFlagError(flag); err != nil {
			r.Err = err // whatever its last start said: it cannot start until this is mended
		}
	}
	for _, input := range n.inputs {
		if input.manifold == nil || (input.state != running && input.state != draining) {
			r.Missing = append(r.Missing, input.name)
		}
	}
	return r
}

// withWorkerReports asks each reporter and each nested engine for its own
// report, on the caller's goroutine, and returns the report with them.
func (reply reportReply) withWorkerReports() Report {
	for name, reporter := range reply.reporters {
		m := reply.report.Manifolds[name]
		m.Worker = workerReport(reporter)
		reply.report.Manifolds[name] = m
	}
	for name, engine := range reply.engines {
		m := reply.report.Manifolds[name]
		nested := engine.Report()
		m.Engine = &nested
		reply.report.Manifolds[name] = m
	}
	return reply.report
}

// workerReport returns the reporter's report; a panic in it becomes the
// report's "error" entry.
func workerReport(reporter Reporter) (report map[string]any) {
	defer func() {
		if v := recover(); v != nil {
			report = map[string]any{"error": newPanicError("worker Report", v).Error()}
		}
	}()
	return reporter.Report()
}
