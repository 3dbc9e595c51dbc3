package dependency_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/juju/loggo"

	"github.com/seedworks/dependency"
)

// The benchmarks measure each workload on the engine and, in the same
// iterations, its floor: the same number of workers started by bare
// goroutines, each waited for by one goroutine, which is the least any
// engine must do. Absolute times depend on the machine and on what else
// runs on it; the ratio to the floor ("x-floor") is what to compare.
//
// Each reports the engine's time per manifold (ns/manifold), its Start
// calls per iteration (starts) and its ratio to the floor: the median over
// iterations of the engine's time over the floor's, each pair measured back
// to back, so that a burst of load from elsewhere on the machine skews one
// pair, not the result. The Start calls are checked exactly: a wasted start
// is a bug, not a slow run. Each benchmark measures in a process of its own
// (see alone).
//
// Run them with: go test -run '^$' -bench . -benchtime 3x

// BenchmarkWide installs n independent manifolds as one batch, runs them
// until they all run, then stops the engine.
func BenchmarkWide(b *testing.B) {
	if !alone(b) {
		return
	}
	const n = 10_000
	manifolds, counter := benchManifolds(n, func(int) []string { return nil })
	benchLife(b, n, n, func() (time.Duration, int) {
		return timeEngine(b, counter, n, func(engine dependency.Engine) error {
			return dependency.Install(engine, manifolds)
		})
	})
}

// BenchmarkChain installs a chain of n manifolds, each needing the previous
// one, as one batch (a map, so in no particular order), runs it until every
// manifold runs, then stops the engine. The 100,000 chain also reports its
// time against the 10,000 chain's, measured in the same iterations
// ("x-chain10k"): linear scaling is 10.
func BenchmarkChain(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			if n > 10_000 && testing.Short() {
				b.Skip("the 100,000 chain is slow; skipped with -short")
			}
			if !alone(b) {
				return
			}
			benchChain(b, n)
		})
	}
}

func benchChain(b *testing.B, n int) {
	manifolds, counter := benchManifolds(n, chainInputs)
	small, smallCounter := benchManifolds(10_000, chainInputs)
	var toSmall []float64
	benchLife(b, n, n, func() (time.Duration, int) {
		elapsed, starts := timeEngine(b, counter, n, func(engine dependency.Engine) error {
			return dependency.Install(engine, manifolds)
		})
		if n > 10_000 {
			smallElapsed, _ := timeEngine(b, smallCounter, 10_000, func(engine dependency.Engine) error {
				return dependency.Install(engine, small)
			})
			toSmall = append(toSmall, float64(elapsed)/float64(smallElapsed))
		}
		return elapsed, starts
	})
	if len(toSmall) > 0 {
		b.ReportMetric(median(toSmall), "x-chain10k")
	}
}

// BenchmarkChainSeq installs the chain one Install call at a time, root
// first, runs it until every manifold runs, then stops the engine.
func BenchmarkChainSeq(b *testing.B) {
	if !alone(b) {
		return
	}
	const n = 10_000
	manifolds, counter := benchManifolds(n, chainInputs)
	benchLife(b, n, n, func() (time.Duration, int) {
		return timeEngine(b, counter, n, func(engine dependency.Engine) error {
			for i := range n {
				if err := engine.Install(benchName(i), manifolds[benchName(i)]); err != nil {
					return err
				}
			}
			return nil
		})
	})
}

// BenchmarkFanout runs one root and n dependents, then fails the root (with
// no error delay) and measures until the root and every dependent run
// again: n+1 Start calls. Its floor is n+1 workers.
func BenchmarkFanout(b *testing.B) {
	if !alone(b) {
		return
	}
	const n = 10_000
	quietLogs(b)
	benchLife(b, n, n+1, func() (time.Duration, int) {
		return timeFanout(b, n)
	})
}

// BenchmarkEngines runs n engines, each installing a chain of three
// manifolds as one batch, until every manifold runs, then stops them all.
func BenchmarkEngines(b *testing.B) {
	if !alone(b) {
		return
	}
	const n = 1_000
	manifolds, counter := benchManifolds(3, chainInputs)
	benchLife(b, 3*n, 3*n, func() (time.Duration, int) {
		counter.expect(3 * n)
		runtime.GC()
		begin := time.Now()
		engines := make([]dependency.Engine, n)
		for i := range engines {
			engines[i] = newBenchEngine()
			if err := dependency.Install(engines[i], manifolds); err != nil {
				b.Fatalf("Install = %v, want nil", err)
			}
		}
		<-counter.reached
		for _, engine := range engines {
			engine.Kill()
		}
		for _, engine := range engines {
			if err := engine.Wait(); err != nil {
				b.Fatalf("Wait() = %v, want nil", err)
			}
		}
		elapsed := time.Since(begin)
		return elapsed, checkStarts(b, counter, 3*n)
	})
}

// BenchmarkMemory runs n independent manifolds and measures what each idle
// running manifold holds, bytes of heap and stack and goroutines, against n
// workers of the floor. Both sides' goroutines start on 2 KiB stacks: by
// default the runtime starts them on stacks the size of the average its
// last collection saw in use, and in one process the ratio moved between
// 0.72x and 1.15x with what had run before it.
func BenchmarkMemory(b *testing.B) {
	if !alone(b, fixedStacks) {
		return
	}
	const n = 10_000
	manifolds, counter := benchManifolds(n, func(int) []string { return nil })
	engineMemory := func() (bytes, goroutines float64) {
		counter.expect(n)
		var engine dependency.Engine
		bytes, goroutines = idleCost(n, func() {
			engine = newBenchEngine()
			if err := dependency.Install(engine, manifolds); err != nil {
				b.Fatalf("Install = %v, want nil", err)
			}
			<-counter.reached
		})
		stopBenchEngine(b, engine)
		checkStarts(b, counter, n)
		return bytes, goroutines
	}
	floorMemory := func() (bytes, goroutines float64) {
		var stop func()
		bytes, goroutines = idleCost(n, func() { stop = startFloor(n) })
		stop()
		return bytes, goroutines
	}
	// Warm up: the goroutines and stacks the runtime keeps for reuse after a
	// first run would otherwise favour whichever side runs second.
	engineMemory()
	floorMemory()
	b.ResetTimer()
	var engineBytes, engineGoroutines, floorBytes, floorGoroutines float64
	for range b.N {
		bytes, goroutines := engineMemory()
		engineBytes += bytes
		engineGoroutines += goroutines
		bytes, goroutines = floorMemory()
		floorBytes += bytes
		floorGoroutines += goroutines
	}
	b.ReportMetric(engineBytes/float64(b.N), "bytes/manifold")
	b.ReportMetric(floorBytes/float64(b.N), "floor-bytes/manifold")
	b.ReportMetric(engineGoroutines/float64(b.N), "goroutines/manifold")
	b.ReportMetric(engineBytes/floorBytes, "x-floor-bytes")
	b.ReportMetric(engineGoroutines/floorGoroutines, "x-floor-goroutines")
	b.ReportMetric(float64(n), "starts")
}

// fixedStacks is the GODEBUG setting that makes the runtime start every
// goroutine on a 2 KiB stack.
const fixedStacks = "adaptivestackstart=0"

// aloneEnv marks the child process in which a benchmark measures.
const aloneEnv = "DEPENDENCY_BENCH_ALONE"

// alone reports whether b runs in a process of its own. If not, it runs b
// again in one, a child of the test binary with the godebug settings added
// to its GODEBUG, reports the child's metrics as b's, and returns false.
//
// A benchmark measured after another inherits the runtime's state from it:
// once 100,000 goroutines had run and ended, the floor of 3,000 workers
// took typically half as long again as in a fresh process, with the
// garbage collector on or off, and the engines benchmark went from 7-14x
// its floor to 3-4x. Alone, no benchmark's result depends on which ran before it.
func alone(b *testing.B, godebug ...string) bool {
	if os.Getenv(aloneEnv) != "" {
		return true
	}
	if env := os.Getenv("GODEBUG"); env != "" {
		godebug = append([]string{env}, godebug...)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench="+benchPattern(b.Name()), fmt.Sprintf("-test.benchtime=%dx", b.N))
	cmd.Env = append(os.Environ(), aloneEnv+"=1", "GODEBUG="+strings.Join(godebug, ","),
		fmt.Sprintf("GOMAXPROCS=%d", runtime.GOMAXPROCS(0)))
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("%v running %v:\n%s", err, cmd.Args, out)
	}
	metrics, ok := benchMetrics(out, b.Name())
	if !ok {
		b.Fatalf("no result for %s in:\n%s", b.Name(), out)
	}
	for unit, value := range metrics {
		b.ReportMetric(value, unit)
	}
	return false
}

// benchPattern returns the -test.bench pattern that matches exactly the
// benchmark named name.
func benchPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, part := range parts {
		parts[i] = "^" + regexp.QuoteMeta(part) + "$"
	}
	return strings.Join(parts, "/")
}

// benchMetrics returns the metrics, by unit, of benchmark name's result
// line in out, leaving out ns/op, which measures the child's run alone.
func benchMetrics(out []byte, name string) (map[string]float64, bool) {
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) < 2 || (fields[0] != name && !strings.HasPrefix(fields[0], name+"-")) {
			continue
		}
		metrics := make(map[string]float64)
		for i := 2; i+1 < len(fields); i += 2 {
			value, err := strconv.ParseFloat(fields[i], 64)
			if err != nil || fields[i+1] == "ns/op" {
				continue
			}
			metrics[fields[i+1]] = value
		}
		return metrics, true
	}
	return nil, false
}

// benchLife runs b.N iterations of the engine's workload, each followed by
// the floor of floorWorkers workers, and reports the engine's time per
// manifold, its Start calls per iteration and its ratio to the floor.
func benchLife(b *testing.B, manifolds, floorWorkers int, engine func() (time.Duration, int)) {
	var engineTime, floorTime time.Duration
	var starts int
	var ratios []float64
	for range b.N {
		elapsed, n := engine()
		floor := timeFloor(floorWorkers)
		engineTime += elapsed
		floorTime += floor
		starts += n
		ratios = append(ratios, float64(elapsed)/float64(floor))
	}
	b.ReportMetric(float64(engineTime)/float64(b.N*manifolds), "ns/manifold")
	b.ReportMetric(float64(floorTime)/float64(b.N*manifolds), "floor-ns/manifold")
	b.ReportMetric(median(ratios), "x-floor")
	b.ReportMetric(float64(starts)/float64(b.N), "starts")
}

// timeEngine makes an engine, installs its manifolds with install, waits
// until n Start calls have happened, and stops the engine. It returns the
// time all that took, and the Start calls, which must be exactly n.
func timeEngine(b *testing.B, counter *startCounter, n int, install func(dependency.Engine) error) (time.Duration, int) {
	counter.expect(n)
	runtime.GC()
	begin := time.Now()
	engine := newBenchEngine()
	if err := install(engine); err != nil {
		b.Fatalf("Install = %v, want nil", err)
	}
	<-counter.reached
	stopBenchEngine(b, engine)
	elapsed := time.Since(begin)
	return elapsed, checkStarts(b, counter, n)
}

// timeFanout runs a root and n dependents, fails the root, and returns the
// time until the root and every dependent were started again, and the
// Start calls since the root failed, which must be exactly n+1.
func timeFanout(b *testing.B, n int) (time.Duration, int) {
	var root atomic.Pointer[idleWorker]
	counter := newStartCounter()
	manifolds := dependency.Manifolds{
		"root": {Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
			w := newIdleWorker()
			root.Store(w)
			counter.started()
			return w, nil
		}},
	}
	for i := range n {
		manifolds[benchName(i)] = dependency.Manifold{Inputs: []string{"root"}, Start: counter.start}
	}
	engine := newBenchEngine()
	counter.expect(n + 1)
	if err := dependency.Install(engine, manifolds); err != nil {
		b.Fatalf("Install = %v, want nil", err)
	}
	<-counter.reached
	counter.expect(n + 1)
	runtime.GC()
	begin := time.Now()
	root.Load().stop(errFailed)
	<-counter.reached
	elapsed := time.Since(begin)
	stopBenchEngine(b, engine)
	return elapsed, checkStarts(b, counter, n+1)
}

// timeFloor starts n workers on bare goroutines, each waiting for its
// worker, waits until all run, stops them all and returns the time it took.
func timeFloor(n int) time.Duration {
	runtime.GC()
	begin := time.Now()
	startFloor(n)()
	return time.Since(begin)
}

// startFloor starts n workers, each on a goroutine of its own that then
// waits for it, and returns once all run. The returned func kills them and
// returns once every goroutine has finished.
func startFloor(n int) (stop func()) {
	counter := newStartCounter()
	counter.expect(n)
	workers := make([]*idleWorker, n)
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range workers {
		go func() {
			defer wg.Done()
			w := newIdleWorker()
			workers[i] = w
			counter.started()
			_ = w.Wait()
		}()
	}
	<-counter.reached
	return func() {
		for _, w := range workers {
			w.Kill()
		}
		wg.Wait()
	}
}

// idleCost returns the bytes (live heap and stacks) and goroutines that
// run added, per n.
func idleCost(n int, run func()) (bytes, goroutines float64) {
	before, goroutinesBefore := liveBytes(), runtime.NumGoroutine()
	run()
	after, goroutinesAfter := liveBytes(), runtime.NumGoroutine()
	return float64(after-before) / float64(n), float64(goroutinesAfter-goroutinesBefore) / float64(n)
}

// liveBytes returns the bytes of live heap objects and goroutine stacks.
func liveBytes() int64 {
	var stats runtime.MemStats
	runtime.GC()
	runtime.GC() // the second cycle also shrinks stacks the first found oversized
	runtime.ReadMemStats(&stats)
	return int64(stats.HeapAlloc + stats.StackInuse)
}

// newBenchEngine returns an engine that restarts at once after a failure
// or a bounce, so that the benchmarks measure the engine, not its delays.
func newBenchEngine() dependency.Engine {
	engine, err := dependency.New(dependency.EngineConfig{})
	if err != nil {
		panic(err)
	}
	return engine
}

// quietLogs keeps the engine's error lines, logged as usual, out of the
// benchmark's output until b ends.
func quietLogs(b *testing.B) {
	module := loggo.GetLogger("dependency")
	level := module.LogLevel()
	module.SetLogLevel(loggo.CRITICAL)
	b.Cleanup(func() { module.SetLogLevel(level) })
}

func stopBenchEngine(b *testing.B, engine dependency.Engine) {
	b.Helper()
	engine.Kill()
	if err := engine.Wait(); err != nil {
		b.Fatalf("Wait() = %v, want nil", err)
	}
}

// checkStarts fails b unless exactly want Start calls happened since the
// counter's last expect, and returns them.
func checkStarts(b *testing.B, counter *startCounter, want int) int {
	b.Helper()
	got := counter.sinceExpect()
	if got != want {
		b.Fatalf("Start calls = %d, want %d", got, want)
	}
	return got
}

// median returns the middle value of xs (the mean of the two middle ones
// for an even count).
func median(xs []float64) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	mid := len(xs) / 2
	if len(xs)%2 == 0 {
		return (xs[mid-1] + xs[mid]) / 2
	}
	return xs[mid]
}

// benchManifolds returns n manifolds named by benchName, with the inputs
// inputs(i) returns, whose Start calls counter.start.
func benchManifolds(n int, inputs func(i int) []string) (dependency.Manifolds, *startCounter) {
	counter := newStartCounter()
	manifolds := make(dependency.Manifolds, n)
	for i := range n {
		manifolds[benchName(i)] = dependency.Manifold{Inputs: inputs(i), Start: counter.start}
	}
	return manifolds, counter
}

// chainInputs makes each manifold of a chain need the previous one.
func chainInputs(i int) []string {
	if i == 0 {
		return nil
	}
	return []string{benchName(i - 1)}
}

func benchName(i int) string { return fmt.Sprintf("m%06d", i) }

// startCounter counts Start calls, and closes reached when the number
// expect asked for have happened.
type startCounter struct {
	count   atomic.Int64
	base    int64
	want    int64
	reached chan struct{}
}

func newStartCounter() *startCounter { return &startCounter{} }

// expect arms reached for n more Start calls. It must only be called while
// no Start call is in flight.
func (c *startCounter) expect(n int) {
	c.base = c.count.Load()
	c.want = c.base + int64(n)
	c.reached = make(chan struct{})
}

// sinceExpect returns the Start calls since the last expect.
func (c *startCounter) sinceExpect() int {
	return int(c.count.Load() - c.base)
}

func (c *startCounter) started() {
	if c.count.Add(1) == c.want {
		close(c.reached)
	}
}

// start is a StartFunc returning an idleWorker.
func (c *startCounter) start(dependency.GetResourceFunc) (dependency.Worker, error) {
	c.started()
	return newIdleWorker(), nil
}
