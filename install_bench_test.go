package dependency_test

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seedworks/dependency"
)

// benchmarkInstall installs n manifolds forming a binary tree (each needs
// its parent) with install, then waits until every one of them runs and no
// start is pending. Run it with -benchtime 1x: it measures time, it does
// not judge it.
func benchmarkInstall(b *testing.B, n int, install func(dependency.Engine, []string, dependency.Manifolds) error) {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("m%05d", i)
	}
	for b.Loop() {
		var starts, live atomic.Int64
		manifolds := make(dependency.Manifolds, n)
		for i, name := range names {
			m := dependency.Manifold{
				Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
					starts.Add(1)
					live.Add(1)
					return newFuncWorker(func(dying <-chan struct{}) error {
						<-dying
						live.Add(-1)
						return nil
					}), nil
				},
			}
			if i > 0 {
				m.Inputs = []string{names[(i-1)/2]}
			}
			manifolds[name] = m
		}
		engine := dependency.NewEngine(nil, time.Second, 0)
		began := time.Now()
		if err := install(engine, names, manifolds); err != nil {
			b.Fatalf("Install = %v, want nil", err)
		}
		installed := time.Since(began)
		// Report costs as much as an install; ask only when it may say yes.
		for live.Load() != int64(n) || !allStarted(engine.Report(), n) {
			time.Sleep(100 * time.Microsecond)
		}
		b.StopTimer()
		b.ReportMetric(float64(installed.Milliseconds()), "install-ms/op")
		b.ReportMetric(float64(starts.Load()), "starts/op")
		engine.Kill()
		if err := engine.Wait(); err != nil {
			b.Fatalf("Wait() = %v, want nil", err)
		}
		b.StartTimer()
	}
}

// allStarted reports whether all n manifolds of report run.
func allStarted(report dependency.Report, n int) bool {
	if len(report.Manifolds) != n {
		return false
	}
	for _, m := range report.Manifolds {
		if m.State != dependency.StateStarted {
			return false
		}
	}
	return true
}

func BenchmarkInstall10000(b *testing.B) {
	const n = 10000
	b.Run("batch", func(b *testing.B) {
		benchmarkInstall(b, n, func(engine dependency.Engine, _ []string, manifolds dependency.Manifolds) error {
			return dependency.Install(engine, manifolds)
		})
	})
	b.Run("one by one, inputs first", func(b *testing.B) {
		benchmarkInstall(b, n, func(engine dependency.Engine, names []string, manifolds dependency.Manifolds) error {
			for _, name := range names {
				if err := engine.Install(name, manifolds[name]); err != nil {
					return err
				}
			}
			return nil
		})
	})
	b.Run("one by one, dependents first", func(b *testing.B) {
		benchmarkInstall(b, n, func(engine dependency.Engine, names []string, manifolds dependency.Manifolds) error {
			for i := len(names) - 1; i >= 0; i-- {
				if err := engine.Install(names[i], manifolds[names[i]]); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
