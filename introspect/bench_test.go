package introspect

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/seedworks/dependency"
)

// BenchmarkDraw measures what /graph.svg costs beyond the engine's Report:
// the layout and the SVG, for engines of 100, 1,000 and 10,000 manifolds
// (plus a tenth as many in nested engines; one in fifty failed). Past
// readableLimit only the failed ones and their neighbours are drawn.
func BenchmarkDraw(b *testing.B) {
	for _, n := range []int{100, 1000, 10000} {
		report := randomReport(n, 1)
		b.Run(fmt.Sprintf("manifolds=%d", n), func(b *testing.B) {
			size := 0
			for b.Loop() {
				size = len(draw(report, epoch).svg())
			}
			b.ReportMetric(float64(size), "svg-bytes")
		})
	}
}

// BenchmarkDrawEverything measures drawing every manifold, without the
// limit, to show what the limit saves.
func BenchmarkDrawEverything(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		report := randomReport(n, 1)
		b.Run(fmt.Sprintf("manifolds=%d", n), func(b *testing.B) {
			if testing.Short() && n > 1000 {
				b.Skip("slow; run without -short")
			}
			size := 0
			for b.Loop() {
				size = len(drawUpTo(report, epoch, math.MaxInt).svg())
			}
			b.ReportMetric(float64(size), "svg-bytes")
		})
	}
}

// BenchmarkDrawAbsentInputs measures a failing manifold with 20,000 inputs
// that are not installed: the limit holds for their boxes too.
func BenchmarkDrawAbsentInputs(b *testing.B) {
	report := withMissing(map[string]dependency.ManifoldReport{
		"failing": failed("inputs missing", time.Second, notInstalled(20000)...),
	})
	size := 0
	for b.Loop() {
		size = len(draw(report, epoch).svg())
	}
	b.ReportMetric(float64(size), "svg-bytes")
}
