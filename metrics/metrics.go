// Package metrics exports a dependency engine to Prometheus: a
// prometheus.Collector that reads the engine's Report on each scrape, so
// that what it exports is what the engine did, counted by the engine.
//
// Register one per engine, naming it:
//
//	prometheus.MustRegister(metrics.NewCollector(engine, "agent", nil))
//
// It exports, with the labels engine and manifold, plus any constant labels
// given:
//
//	dependency_engine_up                      1 while the engine runs, else 0
//	dependency_engine_manifolds{state}        installed manifolds by state
//	dependency_manifold_state{state}          1 for the manifold's state, 0 for the others
//	dependency_manifold_starts_total          workers started
//	dependency_manifold_failures_total        failures of its start or worker
//	dependency_manifold_bounces_total         stops because an input changed
//	dependency_manifold_restart_due_seconds   seconds until a pending start, if one waits (0 once it is due)
//
// A state is one of stopped, starting, started, stopping, or gated (a
// stopped manifold that a flag keeps from running). The manifolds of an
// engine nested as a worker appear under the engine label NAME/MANIFOLD.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seedworks/dependency"
)

// States are the values of the state label, in this order.
var States = []string{"stopped", "starting", "started", "stopping", "gated"}

// collector is the Collector NewCollector returns.
type collector struct {
	engine                          dependency.Engine
	name                            string
	up, manifolds, state            *prometheus.Desc
	starts, failures, bounces, dueS *prometheus.Desc
}

// NewCollector returns a Collector of engine's metrics, labelled engine=name
// and with constLabels on every metric.
func NewCollector(engine dependency.Engine, name string, constLabels prometheus.Labels) prometheus.Collector {
	desc := func(metric, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("dependency_"+metric, help, append([]string{"engine"}, labels...), constLabels)
	}
	return &collector{
		engine:    engine,
		name:      name,
		up:        desc("engine_up", "Whether the engine runs (1) or has begun to stop (0)."),
		manifolds: desc("engine_manifolds", "Installed manifolds by state.", "state"),
		state:     desc("manifold_state", "1 for the state the manifold is in, 0 for the others.", "manifold", "state"),
		starts:    desc("manifold_starts_total", "Workers of the manifold started.", "manifold"),
		failures:  desc("manifold_failures_total", "Failures of the manifold's start or worker.", "manifold"),
		bounces:   desc("manifold_bounces_total", "Stops of the manifold's worker or start because an input changed.", "manifold"),
		dueS:      desc("manifold_restart_due_seconds", "Seconds until the manifold's pending start may launch.", "manifold"),
	}
}

// Describe is part of prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.manifolds, c.state, c.starts, c.failures, c.bounces, c.dueS} {
		ch <- d
	}
}

// Collect is part of prometheus.Collector: it takes one report of the
// engine, nested engines included.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	c.collect(ch, c.name, c.engine.Report())
}

// collect sends the metrics of one engine's report, then of those nested
// in it.
func (c *collector) collect(ch chan<- prometheus.Metric, engine string, r dependency.Report) {
	up := 0.0
	if r.State == dependency.StateStarted {
		up = 1
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, engine)
	byState := make(map[string]int, len(States))
	for name, m := range r.Manifolds {
		state := StateOf(m)
		byState[state]++
		for _, s := range States {
			ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, is(s == state), engine, name, s)
		}
		ch <- prometheus.MustNewConstMetric(c.starts, prometheus.CounterValue, float64(m.StartCount), engine, name)
		ch <- prometheus.MustNewConstMetric(c.failures, prometheus.CounterValue, float64(m.Failures), engine, name)
		ch <- prometheus.MustNewConstMetric(c.bounces, prometheus.CounterValue, float64(m.Bounces), engine, name)
		if !m.Due.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.dueS, prometheus.GaugeValue, max(time.Until(m.Due).Seconds(), 0), engine, name)
		}
		if m.Engine != nil {
			c.collect(ch, engine+"/"+name, *m.Engine)
		}
	}
	for _, s := range States {
		ch <- prometheus.MustNewConstMetric(c.manifolds, prometheus.GaugeValue, float64(byState[s]), engine, s)
	}
}

// StateOf returns the value of the state label for a manifold: its
// State's word, or "gated" for a stopped manifold that a flag keeps from
// running. A State out of range, from an engine of another package, is
// "stopped".
func StateOf(m dependency.ManifoldReport) string {
	switch {
	case m.State == dependency.StateStopped && len(m.Gated) > 0:
		return "gated"
	case m.State < dependency.StateStopped || m.State > dependency.StateStopping:
		return "stopped"
	}
	return m.State.String()
}

func is(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
