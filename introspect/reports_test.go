package introspect

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/seedworks/dependency"
)

// The reports the layout tests draw, made by hand, as an engine would.

// epoch is the time the test reports are drawn at.
var epoch = time.Date(2026, 11, 27, 5, 30, 0, 0, time.UTC)

// started is a manifold running since its first start.
func started(inputs ...string) dependency.ManifoldReport {
	return dependency.ManifoldReport{State: dependency.StateStarted, Inputs: inputs, StartCount: 1, Started: epoch.Add(-time.Minute)}
}

// failed is a manifold whose worker failed and that restarts after wait.
func failed(err string, wait time.Duration, inputs ...string) dependency.ManifoldReport {
	return dependency.ManifoldReport{State: dependency.StateStarting, Inputs: inputs, StartCount: 2, Err: errors.New(err), Due: epoch.Add(wait)}
}

// nested is a started manifold whose worker is an engine with manifolds.
func nested(manifolds map[string]dependency.ManifoldReport, inputs ...string) dependency.ManifoldReport {
	m := started(inputs...)
	m.Engine = &dependency.Report{State: dependency.StateStarted, Manifolds: manifolds}
	return m
}

// withMissing sets each manifold's Missing from its inputs' states, as an
// engine does.
func withMissing(manifolds map[string]dependency.ManifoldReport) dependency.Report {
	for name, m := range manifolds {
		m.Missing = nil
		for _, input := range m.Inputs {
			if in, ok := manifolds[input]; !ok || in.State != dependency.StateStarted {
				m.Missing = append(m.Missing, input)
			}
		}
		manifolds[name] = m
	}
	return dependency.Report{State: dependency.StateStarted, Manifolds: manifolds}
}

// agentReport is the example agent's graph, with a failed API connection.
func agentReport() dependency.Report {
	return withMissing(map[string]dependency.ManifoldReport{
		"self":       started(),
		"config":     started(),
		"metrics":    started(),
		"api-caller": failed("dial api.example.invalid:17070: connection refused", 2*time.Second, "config"),
		"heartbeat":  started("config", "api-caller", "metrics"),
		"log-sender": started("config", "api-caller", "metrics"),
		"upgrader":   started("api-caller"),
		"status":     started("self", "api-caller", "upgrader"),
		"workload": nested(withMissing(map[string]dependency.ManifoldReport{
			"queue":    started(),
			"producer": started("queue"),
			"consumer": failed("job 15: exit status 1", 400*time.Millisecond, "queue"),
		}).Manifolds, "config", "api-caller"),
	})
}

// layoutReports are graphs of the shapes the layout must handle.
func layoutReports() map[string]dependency.Report {
	reports := map[string]dependency.Report{
		"empty": {State: dependency.StateStopped},
		"one":   withMissing(map[string]dependency.ManifoldReport{"only": started()}),
		"agent": agentReport(),
		"chain": withMissing(map[string]dependency.ManifoldReport{
			"a": started(), "b": started("a"), "c": started("b"), "d": started("c"),
		}),
		"long edges": withMissing(map[string]dependency.ManifoldReport{
			"a": started(), "b": started("a"), "c": started("b"), "d": started("c"),
			"e": started("a", "d"), "f": started("a", "b", "c", "d", "e"),
		}),
		"not installed": withMissing(map[string]dependency.ManifoldReport{
			"web": started("api", "auth"), "api": started(),
		}),
		"nested twice": withMissing(map[string]dependency.ManifoldReport{
			"root": started(),
			"outer": nested(map[string]dependency.ManifoldReport{
				"x": started(),
				"inner": nested(map[string]dependency.ManifoldReport{
					"p": started(), "q": started("p"),
				}, "x"),
			}, "root"),
			"empty engine": nested(nil, "root"),
			"after":        started("outer"),
		}),
		"awkward names": withMissing(map[string]dependency.ManifoldReport{
			"<b>&\"x\"": started(),
			"名前":        started("<b>&\"x\""),
			"a name much longer than any box is wide, so that it is cut short": started("名前"),
			"ctl\x00\x1f\xff": failed("line one\nline two\tand a tab, \x00 and some more text that goes on and on and on and on past three lines of forty characters", time.Minute, "名前"),
		}),
	}
	reports["flags"] = flagsReport()
	fan := map[string]dependency.ManifoldReport{"hub": started()}
	for i := range 30 {
		fan[fmt.Sprintf("spoke%02d", i)] = started("hub")
	}
	reports["fan"] = withMissing(fan)
	for _, n := range []int{20, 60, 200} {
		reports["random "+strconv.Itoa(n)] = randomReport(n, uint64(n))
	}
	return reports
}

// randomReport is an acyclic graph of n manifolds, each with up to three
// inputs among the twenty before it; one in fifty has failed, one in
// forty is a nested engine of four manifolds.
func randomReport(n int, seed uint64) dependency.Report {
	rng := rand.New(rand.NewPCG(seed, 1))
	manifolds := make(map[string]dependency.ManifoldReport, n)
	name := func(i int) string { return fmt.Sprintf("m%05d", i) }
	for i := range n {
		var inputs []string
		for range rng.IntN(4) {
			if i > 0 {
				inputs = append(inputs, name(i-1-rng.IntN(min(i, 20))))
			}
		}
		slices.Sort(inputs)
		inputs = slices.Compact(inputs)
		m := started(inputs...)
		switch {
		case rng.IntN(50) == 0:
			m = failed("worker failed: connection reset by peer", time.Duration(rng.IntN(10))*time.Second, inputs...)
		case rng.IntN(40) == 0:
			m = nested(withMissing(map[string]dependency.ManifoldReport{
				"a": started(), "b": started("a"), "c": started("a"), "d": started("b", "c"),
			}).Manifolds, inputs...)
		}
		manifolds[name(i)] = m
	}
	return withMissing(manifolds)
}
