package main

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/juju/errors"

	"github.com/seedworks/dependency"
)

// metrics counts what the agent's workers did. It outlives their bounces:
// the "metrics" manifold has no inputs, so it is never bounced.
type metrics struct {
	mu     sync.Mutex
	counts map[string]int
}

// Add adds n to the named count. It is safe for concurrent use.
func (m *metrics) Add(name string, n int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counts[name] += n
}

// metricsWorker holds a metrics until it is killed.
type metricsWorker struct {
	*task
	metrics *metrics
}

func startMetricsWorker() *metricsWorker {
	return &metricsWorker{
		task: startTask(func(dying <-chan struct{}) error {
			<-dying
			return nil
		}),
		metrics: &metrics{counts: make(map[string]int)},
	}
}

// Report is part of the dependency.Reporter interface: it shows in /report.
func (w *metricsWorker) Report() map[string]any {
	w.metrics.mu.Lock()
	defer w.metrics.mu.Unlock()
	report := make(map[string]any, len(w.metrics.counts))
	for name, n := range w.metrics.counts {
		report[name] = n
	}
	return report
}

// callEvery returns a task that makes an API call each interval and counts
// it. A call on a dropped connection is skipped rather than returned as an
// error: the engine is about to bounce this worker anyway, and a failure
// would only add noise. m may be nil: the count is then not kept.
func callEvery(conn *apiConn, m *metrics, interval time.Duration, method, counter string) *task {
	return startTask(func(dying <-chan struct{}) error {
		return every(dying, interval, func() error {
			if conn.Call(method) == nil && m != nil {
				m.Add(counter, 1)
			}
			return nil
		})
	})
}

// janitorInterval is how often the janitor sweeps.
const janitorInterval = time.Second

// startJanitor returns a task that counts a sweep in m each interval: the
// work only the leader does. m may be nil: the count is then not kept.
func startJanitor(m *metrics, interval time.Duration) *task {
	return startTask(func(dying <-chan struct{}) error {
		return every(dying, interval, func() error {
			if m != nil {
				m.Add("sweeps", 1)
			}
			return nil
		})
	})
}

// upgradeSteps is how many steps the upgrader runs before uninstalling itself.
const upgradeSteps = 5

// upgradeProgress is the upgrader's state. It lives as long as the manifold
// (not its worker), so an upgrade interrupted by a bounce resumes where it
// left off. It is the resource the "upgrader" manifold gives dependents.
type upgradeProgress struct {
	done atomic.Int32
}

// String says how far the upgrade has got.
func (p *upgradeProgress) String() string {
	return fmt.Sprintf("upgrading (%d/%d steps)", p.done.Load(), upgradeSteps)
}

// upgradeWorker runs the remaining upgrade steps, one per interval, and then
// stops with ErrUninstall: its work is done for the life of the agent, so
// the engine removes the manifold and bounces its dependents, which then run
// without it.
type upgradeWorker struct {
	*task
	progress *upgradeProgress
}

func startUpgradeWorker(conn *apiConn, progress *upgradeProgress, interval time.Duration) *upgradeWorker {
	w := &upgradeWorker{progress: progress}
	w.task = startTask(func(dying <-chan struct{}) error {
		return every(dying, interval, func() error {
			step := progress.done.Load() + 1
			if err := conn.Call(fmt.Sprintf("UpgradeStep%d", step)); err != nil {
				return nil // the connection dropped: a bounce will restart this step
			}
			if progress.done.Add(1) == upgradeSteps {
				return errors.Annotatef(dependency.ErrUninstall, "all %d upgrade steps done", upgradeSteps)
			}
			return nil
		})
	})
	return w
}

// statusWorker tells the API how the agent is doing, once a second: whether
// an upgrade is running and how many manifolds are started.
type statusWorker struct {
	*task
	status atomic.Value // string: the last status sent
}

// startStatusWorker sends the status through conn. progress is nil when the
// upgrader is not installed (any more): the optional input is absent and
// the agent is ready.
func startStatusWorker(conn *apiConn, engine dependency.Engine, progress *upgradeProgress) *statusWorker {
	w := &statusWorker{}
	w.status.Store("")
	send := func() error {
		status := statusLine(engine.Report(), progress)
		if conn.Call("SetStatus") == nil {
			w.status.Store(status)
		}
		return nil
	}
	w.task = startTask(func(dying <-chan struct{}) error {
		_ = send()
		return every(dying, time.Second, send)
	})
	return w
}

// statusLine summarises the engine's report for the API.
func statusLine(report dependency.Report, progress *upgradeProgress) string {
	started := 0
	for _, m := range report.Manifolds {
		if m.State == dependency.StateStarted {
			started++
		}
	}
	phase := "ready"
	if progress != nil {
		phase = progress.String()
	}
	return fmt.Sprintf("%s, %d/%d manifolds started", phase, started, len(report.Manifolds))
}

// Report is part of the dependency.Reporter interface: it shows in /report.
func (w *statusWorker) Report() map[string]any {
	return map[string]any{"status": w.status.Load()}
}
