package metrics_test

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seedworks/dependency"
	"github.com/seedworks/dependency/metrics"
)

// An agent registers one collector per engine, naming it; its /metrics
// handler (promhttp.Handler) then serves them on each scrape.
func ExampleNewCollector() {
	engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
	registry := prometheus.NewRegistry()
	registry.MustRegister(metrics.NewCollector(engine, "agent", nil))

	up, _ := testutil.GatherAndCount(registry, "dependency_engine_up")
	fmt.Println("engines:", up)
	engine.Kill()
	fmt.Println("stopped:", engine.Wait())
	// Output:
	// engines: 1
	// stopped: <nil>
}
