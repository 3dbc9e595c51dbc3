package dependency_test

import (
	"fmt"
	"path"
	"runtime"
	"slices"
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
// is a bug, not a slow run.
//
// Each measures in a child process of its own (see bench_child_test.go).
// Run them with: go test -run '^$' -bench . -benchtime 3x

// BenchmarkWide installs n independent manifolds as one batch, runs them
// until they all run, then stops the engine.
func BenchmarkWide(b *testing.B) {
	if !measureHere(b) {
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
// time against the 10,000 chain's ("x-chain10k": linear scaling is 10).
func BenchmarkChain(b *testing.B) {
	const small = 10_000
	for _, n := range []int{small, 100_000} {
		b.Run(chainName(n), func(b *testing.B) {
			if n > small && testing.Short() {
				b.Skip("the 100,000 chain is slow; skipped with -short")
			}
			if !measureHere(b) {
				if n > small {
					b.ReportMetric(chainScaling(b, n, small), "x-chain10k")
				}
				return
			}
			manifolds, counter := benchManifolds(n, chainInputs)
			benchLife(b, n, n, func() (time.Duration, int) {
				return timeEngine(b, counter, n, func(engine dependency.Engine) error {
					return dependency.Install(engine, manifolds)
				})
			})
		})
	}
}

func chainName(n int) string { return fmt.Sprintf("N=%d", n) }

// chainScaling returns the time of the chain of n against the time of the
// small chain: the median over b.N pairs, each chain measured once in a
// fresh process, the two in turn. In one process, the small chain measured
// after the long one was quicker than alone.
func chainScaling(b *testing.B, n, small int) float64 {
	parent := path.Dir(b.Name())
	var ratios []float64
	for range b.N {
		smallTime := measureInChild(b, parent+"/"+chainName(small), 1)["ns/manifold"] * float64(small)
		longTime := measureInChild(b, b.Name(), 1)["ns/manifold"] * float64(n)
		ratios = append(ratios, longTime/smallTime)
	}
	return median(ratios)
}

// BenchmarkChainSeq installs the chain one Install call at a time, root
// first, runs it until every manifold runs, then stops the engine.
func BenchmarkChainSeq(b *testing.B) {
	if !measureHere(b) {
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
	if !measureHere(b) {
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
	if !measureHere(b) {
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
// workers of the floor. Its child sets fixedStacks, so that both sides'
// goroutines start on stacks of the same size whatever ran before.
func BenchmarkMemory(b *testing.B) {
	if !measureHere(b, fixedStacks) {
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
	engine, err := dependency.New(dependency.EngineConfig{BackoffFactor: 1}) // no error delay
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
