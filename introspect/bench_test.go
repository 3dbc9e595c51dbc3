package introspect

import (
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
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

// BenchmarkHandlerSVG measures GET /graph.svg through the handler, for an
// engine of 10,000 manifolds and for a failing manifold with 20,000 inputs
// that are not installed: drawn afresh, and answered 304 by its tag.
func BenchmarkHandlerSVG(b *testing.B) {
	reports := map[string]dependency.Report{
		"manifolds=10000": randomReport(10000, 1),
		"absent=20000": withMissing(map[string]dependency.ManifoldReport{
			"failing": failed("inputs missing", time.Second, notInstalled(20000)...),
		}),
	}
	for name, report := range reports {
		handler := Handler(&fixedEngine{report: report})
		etag := get(b, handler, http.MethodGet, "/graph.svg").Header().Get("ETag")
		for _, match := range []string{"", etag} {
			kind := "drawn"
			if match != "" {
				kind = "not-modified"
			}
			b.Run(name+"/"+kind, func(b *testing.B) {
				req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/graph.svg", nil)
				req.Header.Set("If-None-Match", match)
				size := 0
				for b.Loop() {
					resp := httptest.NewRecorder()
					handler.ServeHTTP(resp, req)
					size = resp.Body.Len()
				}
				b.ReportMetric(float64(size), "body-bytes")
			})
		}
	}
}
