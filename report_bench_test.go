package dependency_test

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seedworks/dependency"
)

// reportBenchSize is the size of the engine the report benchmarks describe.
const reportBenchSize = 10_000

// startBigEngine returns an engine running n manifolds, each of which (but
// the first) uses the one before it and the one at half its index, so the
// graph is as deep as it is wide. The engine is stopped when b ends.
func startBigEngine(b *testing.B, n int) dependency.Engine {
	b.Helper()
	engine := dependency.NewEngine(nil, time.Second, 0)
	b.Cleanup(func() {
		engine.Kill()
		if err := engine.Wait(); err != nil {
			b.Errorf("Wait() = %v, want nil", err)
		}
	})
	var running sync.WaitGroup
	running.Add(n)
	manifolds := make(dependency.Manifolds, n)
	for i := range n {
		var inputs []string
		if i > 0 {
			inputs = append(inputs, reportBenchName(i-1))
		}
		if i > 2 {
			inputs = append(inputs, reportBenchName(i/2))
		}
		var once sync.Once
		manifolds[reportBenchName(i)] = dependency.Manifold{
			Inputs: inputs,
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				once.Do(running.Done)
				return reportingWorker{newIdleWorker(), map[string]any{"index": i}}, nil
			},
		}
	}
	if err := dependency.Install(engine, manifolds); err != nil {
		b.Fatalf("Install = %v, want nil", err)
	}
	running.Wait()
	return engine
}

func reportBenchName(i int) string { return fmt.Sprintf("manifold-%05d", i) }

func BenchmarkReport(b *testing.B) {
	engine := startBigEngine(b, reportBenchSize)
	for b.Loop() {
		if r := engine.Report(); len(r.Manifolds) != reportBenchSize {
			b.Fatalf("Report() has %d manifolds, want %d", len(r.Manifolds), reportBenchSize)
		}
	}
}

func BenchmarkReportDOT(b *testing.B) {
	r := startBigEngine(b, reportBenchSize).Report()
	for b.Loop() {
		_ = r.DOT()
	}
}

func BenchmarkReportJSON(b *testing.B) {
	r := startBigEngine(b, reportBenchSize).Report()
	for b.Loop() {
		if _, err := json.Marshal(r); err != nil {
			b.Fatalf("json.Marshal = %v, want nil", err)
		}
	}
}
