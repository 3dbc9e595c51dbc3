package dependency_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seedworks/dependency"
)

// BenchmarkOrderedStop times only the shutdown of a running engine: Kill,
// then Wait. With OrderedStop a chain stops one link after another, so
// its time per manifold ("stop-ns/manifold") should not grow with N; and
// independent manifolds stop all at once, so "wide" should cost about the
// same with OrderedStop as without.
func BenchmarkOrderedStop(b *testing.B) {
	for _, shape := range []struct {
		name   string
		inputs func(int) []string
	}{
		{"chain", chainInputs},
		{"wide", func(int) []string { return nil }},
	} {
		for _, n := range []int{10_000, 100_000} {
			for _, ordered := range []bool{true, false} {
				name := fmt.Sprintf("%s/N=%d/ordered=%v", shape.name, n, ordered)
				b.Run(name, func(b *testing.B) {
					if n > 10_000 && testing.Short() {
						b.Skip("100,000 manifolds are slow; skipped with -short")
					}
					benchStop(b, n, shape.inputs, ordered)
				})
			}
		}
	}
}

// benchStop runs b.N engines of n manifolds, each to the point where every
// worker runs, and reports the time their shutdowns took per manifold.
func benchStop(b *testing.B, n int, inputs func(int) []string, ordered bool) {
	manifolds, counter := benchManifolds(n, inputs)
	var stopping time.Duration
	for range b.N {
		counter.expect(n)
		engine, err := dependency.New(dependency.EngineConfig{OrderedStop: ordered})
		if err != nil {
			b.Fatalf("New() = %v, want nil", err)
		}
		if err := dependency.Install(engine, manifolds); err != nil {
			b.Fatalf("Install = %v, want nil", err)
		}
		<-counter.reached
		begin := time.Now()
		stopBenchEngine(b, engine)
		stopping += time.Since(begin)
	}
	b.ReportMetric(float64(stopping)/float64(b.N*n), "stop-ns/manifold")
}
