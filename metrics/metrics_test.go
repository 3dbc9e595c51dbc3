package metrics_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seedworks/dependency"
	"github.com/seedworks/dependency/metrics"
)

// worker runs until it is killed, or fails with what is sent on fail.
func worker(fail <-chan error) dependency.Worker {
	return dependency.NewWorker(func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return nil
		case err := <-fail:
			return err
		}
	})
}

// manifold returns a manifold whose workers fail with what is sent on fail.
func manifold(fail <-chan error, inputs ...string) dependency.Manifold {
	return dependency.Manifold{
		Inputs: inputs,
		Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
			return worker(fail), nil
		},
	}
}

// TestCollector scrapes an engine with a failed manifold waiting to
// restart, a bounced dependent, a gated manifold and a nested engine: each
// metric says what the engine did, and the metrics pass Prometheus' lint.
func TestCollector(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
		nested := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
		failDB := make(chan error, 1)
		if err := dependency.Install(engine, dependency.Manifolds{
			"db":    manifold(failDB),
			"api":   manifold(nil, "db"),
			"gated": {Flags: []string{"leader"}, Start: manifold(nil).Start},
			"workload": {Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return nested, nil
			}},
		}); err != nil {
			t.Fatal(err)
		}
		if err := nested.Install("inner", manifold(nil)); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		failDB <- errors.New("refused")
		synctest.Wait()
		time.Sleep(250 * time.Millisecond)
		synctest.Wait()

		c := metrics.NewCollector(engine, "agent", prometheus.Labels{"host": "h1"})
		want := `
# HELP dependency_engine_up Whether the engine runs (1) or has begun to stop (0).
# TYPE dependency_engine_up gauge
dependency_engine_up{engine="agent",host="h1"} 1
dependency_engine_up{engine="agent/workload",host="h1"} 1
# HELP dependency_manifold_failures_total Failures of the manifold's start or worker.
# TYPE dependency_manifold_failures_total counter
dependency_manifold_failures_total{engine="agent",host="h1",manifold="api"} 0
dependency_manifold_failures_total{engine="agent",host="h1",manifold="db"} 1
dependency_manifold_failures_total{engine="agent",host="h1",manifold="gated"} 0
dependency_manifold_failures_total{engine="agent",host="h1",manifold="workload"} 0
dependency_manifold_failures_total{engine="agent/workload",host="h1",manifold="inner"} 0
# HELP dependency_manifold_bounces_total Stops of the manifold's worker or start because an input changed.
# TYPE dependency_manifold_bounces_total counter
dependency_manifold_bounces_total{engine="agent",host="h1",manifold="api"} 1
dependency_manifold_bounces_total{engine="agent",host="h1",manifold="db"} 0
dependency_manifold_bounces_total{engine="agent",host="h1",manifold="gated"} 0
dependency_manifold_bounces_total{engine="agent",host="h1",manifold="workload"} 0
dependency_manifold_bounces_total{engine="agent/workload",host="h1",manifold="inner"} 0
# HELP dependency_manifold_starts_total Workers of the manifold started.
# TYPE dependency_manifold_starts_total counter
dependency_manifold_starts_total{engine="agent",host="h1",manifold="api"} 2
dependency_manifold_starts_total{engine="agent",host="h1",manifold="db"} 1
dependency_manifold_starts_total{engine="agent",host="h1",manifold="gated"} 0
dependency_manifold_starts_total{engine="agent",host="h1",manifold="workload"} 1
dependency_manifold_starts_total{engine="agent/workload",host="h1",manifold="inner"} 1
# HELP dependency_manifold_restart_due_seconds Seconds until the manifold's pending start may launch.
# TYPE dependency_manifold_restart_due_seconds gauge
dependency_manifold_restart_due_seconds{engine="agent",host="h1",manifold="db"} 0.75
`
		if err := testutil.CollectAndCompare(c, strings.NewReader(want),
			"dependency_engine_up", "dependency_manifold_failures_total", "dependency_manifold_bounces_total",
			"dependency_manifold_starts_total", "dependency_manifold_restart_due_seconds"); err != nil {
			t.Error(err)
		}
		checkStates(t, c, map[string]string{"agent db": "starting", "agent api": "started", "agent gated": "gated", "agent workload": "started", "agent/workload inner": "started"})
		if problems, err := testutil.CollectAndLint(c); err != nil || len(problems) > 0 {
			t.Errorf("CollectAndLint() = %v, %v; want no problems", problems, err)
		}

		engine.Kill()
		if err := engine.Wait(); err != nil {
			t.Fatal(err)
		}
		if err := testutil.CollectAndCompare(c, strings.NewReader(`
# HELP dependency_engine_up Whether the engine runs (1) or has begun to stop (0).
# TYPE dependency_engine_up gauge
dependency_engine_up{engine="agent",host="h1"} 0
`), "dependency_engine_up"); err != nil {
			t.Error(err)
		}
		nested.Kill()
		_ = nested.Wait()
	})
}

// checkStates fails t unless, for each "ENGINE MANIFOLD" of want, the
// state gauge is 1 for the state given and 0 for the others, and the
// engine's count of manifolds by state agrees.
func checkStates(t *testing.T, c prometheus.Collector, want map[string]string) {
	t.Helper()
	registry := prometheus.NewPedanticRegistry()
	registry.MustRegister(c)
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[string]string)
	counts := make(map[string]float64)
	for _, family := range families {
		for _, m := range family.GetMetric() {
			labels := make(map[string]string)
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			switch family.GetName() {
			case "dependency_manifold_state":
				if m.GetGauge().GetValue() == 1 {
					key := labels["engine"] + " " + labels["manifold"]
					if got[key] != "" {
						t.Errorf("%s is in two states, %s and %s", key, got[key], labels["state"])
					}
					got[key] = labels["state"]
				}
			case "dependency_engine_manifolds":
				counts[labels["engine"]+" "+labels["state"]] = m.GetGauge().GetValue()
			}
		}
	}
	wantCounts := make(map[string]float64)
	for key, state := range want {
		if got[key] != state {
			t.Errorf("state of %s = %q, want %q", key, got[key], state)
		}
		wantCounts[strings.Fields(key)[0]+" "+state]++
	}
	for key, n := range wantCounts {
		if counts[key] != n {
			t.Errorf("dependency_engine_manifolds{%s} = %v, want %v", key, counts[key], n)
		}
	}
}
