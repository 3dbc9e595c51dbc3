package dependency_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seedworks/dependency"
)

// The agent graph is shaped like a Juju machine agent's: an agent config,
// an API connection made from it, flags that gate most workers on the
// connection, and 80 workers. TestAgentGraph runs it on the fake clock and
// BenchmarkAgent in real time; both start every manifold with a real
// latency, spent in time.Sleep, as a start that dials or reads would.

// agentNode is one manifold of the agent graph: its start's latency and
// its inputs.
type agentNode struct {
	name    string
	latency time.Duration
	inputs  []string
}

// agentWorkers is how many plain workers the agent graph has besides its
// nine named manifolds.
const agentWorkers = 80

// agentNodes returns the agent graph, inputs before dependents.
func agentNodes() []agentNode {
	const ms = time.Millisecond
	nodes := []agentNode{
		{"agent", ms, nil},
		{"clock", 0, nil},
		{"api-config-watcher", 0, []string{"agent"}},
		{"api-caller", 5 * ms, []string{"agent", "api-config-watcher"}},
		{"upgrade-steps-flag", ms, []string{"agent"}},
		{"upgrade-check-flag", ms, []string{"api-caller"}},
		{"migration-fortress", 0, nil},
		{"migration-inactive-flag", ms, []string{"api-caller", "migration-fortress"}},
		{"is-controller-flag", ms, []string{"agent"}},
	}
	gates := [4][]string{
		{"migration-fortress", "migration-inactive-flag"},
		{"upgrade-steps-flag", "upgrade-check-flag"},
		{"migration-inactive-flag", "upgrade-steps-flag", "upgrade-check-flag"},
		{"is-controller-flag", "clock"},
	}
	for i := range agentWorkers {
		inputs := slices.Concat([]string{"agent", "api-caller"}, gates[i%4])
		if i%10 == 9 {
			inputs = append(inputs, fmt.Sprintf("w%d", i-1))
		}
		nodes = append(nodes, agentNode{fmt.Sprintf("w%d", i), ms, inputs})
	}
	return nodes
}

// isFlag reports whether the agent graph's manifold name gives a bool.
func isFlag(name string) bool {
	return len(name) > 5 && name[len(name)-5:] == "-flag"
}

// agentRun records what the agent graph's manifolds do: when each worker
// started, the latency each start spent, and which worker of each runs.
type agentRun struct {
	mu      sync.Mutex
	starts  map[string][]time.Time // when each worker began to run
	calls   int                    // start func calls
	spent   map[string]time.Duration
	current map[string]*agentWorker
	started chan string // if not nil, gets the name of each worker that starts
}

func newAgentRun(started chan string) *agentRun {
	return &agentRun{
		starts:  make(map[string][]time.Time),
		spent:   make(map[string]time.Duration),
		current: make(map[string]*agentWorker),
		started: started,
	}
}

// agentWorker runs until it is killed or made to fail; a flag's worker
// gives its answer as a bool.
type agentWorker struct {
	dependency.Worker
	answer bool
	failed chan error
}

func newAgentWorker() *agentWorker {
	w := &agentWorker{answer: true, failed: make(chan error, 1)}
	w.Worker = dependency.NewWorker(func(ctx context.Context) error {
		select {
		case <-ctx.Done():
			return nil
		case err := <-w.failed:
			return err
		}
	})
	return w
}

// manifolds returns the agent graph's manifolds, recording into r.
func (r *agentRun) manifolds() dependency.Manifolds {
	manifolds := make(dependency.Manifolds)
	for _, n := range agentNodes() {
		m := dependency.Manifold{
			Inputs: n.inputs,
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				return r.start(n, get)
			},
		}
		if isFlag(n.name) {
			m.Output = dependency.OutputOf(func(w *agentWorker) bool { return w.answer })
		}
		manifolds[n.name] = m
	}
	return manifolds
}

// start takes every input, a flag's answer included, then spends the
// latency and starts the worker.
func (r *agentRun) start(n agentNode, get dependency.GetResourceFunc) (dependency.Worker, error) {
	r.mu.Lock()
	r.calls++
	r.mu.Unlock()
	for _, input := range n.inputs {
		if !isFlag(input) {
			if err := get(input, nil); err != nil {
				return nil, err
			}
			continue
		}
		open, err := dependency.Get[bool](get, input)
		if err != nil {
			return nil, err
		}
		if !open {
			return nil, dependency.ErrMissing
		}
	}
	began := time.Now()
	time.Sleep(n.latency)
	w := newAgentWorker()
	r.mu.Lock()
	now := time.Now()
	r.starts[n.name] = append(r.starts[n.name], now)
	r.spent[n.name] = now.Sub(began)
	r.current[n.name] = w
	r.mu.Unlock()
	if r.started != nil {
		r.started <- n.name
	}
	return w, nil
}

// fail makes the running worker of name stop with err.
func (r *agentRun) fail(name string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.current[name].failed <- err
}

// startCalls returns how many times start funcs were called.
func (r *agentRun) startCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls
}

// startTimes returns when each worker of name started.
func (r *agentRun) startTimes(name string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.starts[name])
}

// latencies returns the latency each manifold's last start spent.
func (r *agentRun) latencies() map[string]time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	spent := make(map[string]time.Duration, len(r.spent))
	for name, d := range r.spent {
		spent[name] = d
	}
	return spent
}

// criticalPaths returns, for each manifold of the agent graph, the largest
// sum of latencies along any path of inputs from root down to it, both
// included; for root "" every path counts. Manifolds that no such path
// reaches are left out.
func criticalPaths(latency map[string]time.Duration, root string) map[string]time.Duration {
	paths := make(map[string]time.Duration)
	for _, n := range agentNodes() { // inputs before dependents
		longest, reached := time.Duration(0), root == "" || n.name == root
		for _, input := range n.inputs {
			if p, ok := paths[input]; ok {
				longest, reached = max(longest, p), true
			}
		}
		if reached {
			paths[n.name] = longest + latency[n.name]
		}
	}
	return paths
}

// nominalLatencies returns the latencies the agent graph declares.
func nominalLatencies() map[string]time.Duration {
	latency := make(map[string]time.Duration)
	for _, n := range agentNodes() {
		latency[n.name] = n.latency
	}
	return latency
}

// longest returns the largest of paths.
func longest(paths map[string]time.Duration) time.Duration {
	var d time.Duration
	for _, p := range paths {
		d = max(d, p)
	}
	return d
}

// BenchmarkAgent boots the agent graph in real time, until every worker
// runs, then fails api-caller's worker, until every worker below it runs
// again. It reports boot over the critical path measured in the same run
// (boot-x-path: 1 is the limit), recovery less the error delay over the
// critical path below api-caller (recovery-x-path), and the start calls of
// a boot, which must be one per manifold.
func BenchmarkAgent(b *testing.B) {
	if !measureHere(b) {
		return
	}
	quietLogs(b)
	var boots, recoveries, bootMs, recoveryMs []float64
	calls := 0
	for range b.N {
		life := agentLife(b)
		boots = append(boots, float64(life.boot)/float64(life.bootPath))
		recoveries = append(recoveries, float64(life.recovery-agentErrorDelay)/float64(life.recoveryPath))
		bootMs = append(bootMs, float64(life.boot)/float64(time.Millisecond))
		recoveryMs = append(recoveryMs, float64(life.recovery)/float64(time.Millisecond))
		calls += life.calls
	}
	b.ReportMetric(median(boots), "boot-x-path")
	b.ReportMetric(median(recoveries), "recovery-x-path")
	b.ReportMetric(median(bootMs), "ms/boot")
	b.ReportMetric(median(recoveryMs), "ms/recovery")
	b.ReportMetric(float64(calls)/float64(b.N), "starts/boot")
}

// agentErrorDelay is the agent graph's error delay in BenchmarkAgent.
const agentErrorDelay = 100 * time.Millisecond

// agentTimes is what one life of the agent graph took: its boot and its
// recovery after api-caller's failure, their critical paths from the
// latencies the starts spent, and the start calls of the boot.
type agentTimes struct {
	boot, bootPath, recovery, recoveryPath time.Duration
	calls                                  int
}

// agentLife boots the agent graph, drops api-caller, and returns how long
// each took.
func agentLife(b *testing.B) (life agentTimes) {
	nodes := agentNodes()
	started := make(chan string, 4*len(nodes)) // a boot and a recovery start each manifold at most once
	run := newAgentRun(started)
	engine, err := dependency.New(dependency.EngineConfig{ErrorDelay: agentErrorDelay, BounceDelay: 10 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		engine.Kill()
		if err := engine.Wait(); err != nil {
			b.Fatalf("Wait() = %v, want nil", err)
		}
	}()

	begin := time.Now()
	if err := dependency.Install(engine, run.manifolds()); err != nil {
		b.Fatal(err)
	}
	awaitStarts(started, criticalPaths(nominalLatencies(), ""))
	life.boot = time.Since(begin)
	if life.calls = run.startCalls(); life.calls != len(nodes) {
		b.Fatalf("start calls at boot = %d, want %d", life.calls, len(nodes))
	}
	life.bootPath = longest(criticalPaths(run.latencies(), ""))

	dropped := time.Now()
	run.fail("api-caller", errFailed)
	awaitStarts(started, criticalPaths(nominalLatencies(), "api-caller"))
	life.recovery = time.Since(dropped)
	life.recoveryPath = longest(criticalPaths(run.latencies(), "api-caller"))
	return life
}

// awaitStarts reads started until every name of names has started.
func awaitStarts[V any](started <-chan string, names map[string]V) {
	waiting := len(names)
	seen := make(map[string]bool, waiting)
	for waiting > 0 {
		name := <-started
		if _, ok := names[name]; ok && !seen[name] {
			seen[name] = true
			waiting--
		}
	}
}
