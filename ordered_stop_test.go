package dependency_test

// Ordered stop: with EngineConfig.OrderedStop, every stop the engine makes
// itself kills an input's worker only once the dependent workers started
// with it have stopped. The workers of these tests write what they see to
// one log (a start returning them, each Kill call, their stop), and the
// tests assert the order of those entries on the fake clock.

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// stopTime is how long the workers of most tests here take to stop once
// killed, on the fake clock.
const stopTime = time.Second

// stuck, as a stop time, makes a worker ignore Kill: only fail stops it.
const stuck time.Duration = -1

// stopLog makes manifolds whose workers write to it what happens to them,
// as they see it: "start a" when a start returns a worker of a, "kill a" at
// each Kill call, "stop a" just before its Wait returns. Each entry has the
// fake clock's time since the log was last taken.
type stopLog struct {
	mu      sync.Mutex
	since   time.Time
	entries []stopEntry
	live    map[string]*stopWorker
	starts  map[string]int
}

// stopEntry is one line of a stopLog.
type stopEntry struct {
	at   time.Duration
	what string // "start a", "kill a" or "stop a"
}

// newStopLog returns an empty log. It must be called inside the bubble.
func newStopLog() *stopLog {
	return &stopLog{since: time.Now(), live: make(map[string]*stopWorker), starts: make(map[string]int)}
}

// manifold returns a manifold named name whose workers take stop (or
// stuck) to stop once killed. Its start gets every input it can, and its
// workers output themselves as a *stopWorker.
func (l *stopLog) manifold(name string, stop time.Duration, inputs ...string) dependency.Manifold {
	return dependency.Manifold{
		Inputs: inputs,
		Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
			seen := make(map[string]*stopWorker)
			for _, input := range inputs {
				var in *stopWorker
				if get(input, &in) == nil {
					seen[input] = in
				}
			}
			return l.started(name, seen, stop), nil
		},
		Output: func(in dependency.Worker, out any) error {
			target, ok := out.(**stopWorker)
			if !ok {
				return fmt.Errorf("out is %T, want **stopWorker", out)
			}
			*target = in.(*stopWorker)
			return nil
		},
	}
}

func (l *stopLog) started(name string, inputs map[string]*stopWorker, stop time.Duration) *stopWorker {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.starts[name]++
	w := &stopWorker{
		log: l, name: name, seq: l.starts[name], inputs: inputs,
		killed: make(chan struct{}), end: make(chan error, 1), done: make(chan struct{}),
	}
	l.live[name] = w
	l.addLocked("start", name)
	go w.run(stop)
	return w
}

func (l *stopLog) add(verb, name string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addLocked(verb, name)
}

func (l *stopLog) addLocked(verb, name string) {
	l.entries = append(l.entries, stopEntry{time.Since(l.since), verb + " " + name})
}

func (l *stopLog) stopped(w *stopWorker) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addLocked("stop", w.name)
	if l.live[w.name] == w {
		delete(l.live, w.name)
	}
}

// take returns the entries so far, forgets them, and times later entries
// from now.
func (l *stopLog) take() []stopEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	entries := l.entries
	l.entries, l.since = nil, time.Now()
	return entries
}

// worker returns the live worker of name, or nil.
func (l *stopLog) worker(name string) *stopWorker {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[name]
}

// startCount returns how many workers of name have started.
func (l *stopLog) startCount(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.starts[name]
}

// stopAll makes every live worker stop by itself, stuck ones too, so that
// a test can end its bubble whatever the engine left running.
func (l *stopLog) stopAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, w := range l.live {
		w.fail(nil)
	}
}

// checkCurrent fails t unless every live worker runs on the live worker of
// each of its inputs (none where none is live).
func (l *stopLog) checkCurrent(t *testing.T, inputs map[string][]string) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, name := range slices.Sorted(maps.Keys(l.live)) {
		w := l.live[name]
		for _, input := range inputs[name] {
			if got, want := w.inputs[input], l.live[input]; got != want {
				t.Errorf("%q start %d runs on %q start %d, want start %d (0: none)", name, w.seq, input, got.seqOrZero(), want.seqOrZero())
			}
		}
	}
}

// stopWorker runs until it is killed, and then takes its stop time to stop;
// or until fail stops it.
type stopWorker struct {
	log      *stopLog
	name     string
	seq      int                    // its start number for its manifold, from 1
	inputs   map[string]*stopWorker // the input workers its start got
	killed   chan struct{}
	killOnce sync.Once
	end      chan error
	done     chan struct{}
	err      error
}

func (w *stopWorker) run(stop time.Duration) {
	killed := w.killed
	if stop == stuck {
		killed = nil
	}
	select {
	case <-killed:
		time.Sleep(stop)
	case w.err = <-w.end:
	}
	w.log.stopped(w)
	close(w.done)
}

// Kill logs every call, so that a second one shows.
func (w *stopWorker) Kill() {
	w.log.add("kill", w.name)
	w.killOnce.Do(func() { close(w.killed) })
}

func (w *stopWorker) Wait() error {
	<-w.done
	return w.err
}

// fail makes the worker stop by itself with err (nil: complete).
func (w *stopWorker) fail(err error) {
	select {
	case w.end <- err:
	default:
	}
}

func (w *stopWorker) seqOrZero() int {
	if w == nil {
		return 0
	}
	return w.seq
}

// timeline writes entries as "0s: kill c; 1s: kill b, stop c", the entries
// of one instant sorted, for their order within an instant is the
// scheduler's (checkDependentsFirst checks the order that matters). With
// verbs, it keeps only the entries of those verbs.
func timeline(entries []stopEntry, verbs ...string) string {
	var instants []string
	var at time.Duration
	var now []string
	flush := func() {
		if len(now) > 0 {
			slices.Sort(now)
			instants = append(instants, fmt.Sprintf("%v: %s", at, strings.Join(now, ", ")))
		}
		now = nil
	}
	for _, e := range entries {
		verb, _, _ := strings.Cut(e.what, " ")
		if len(verbs) > 0 && !slices.Contains(verbs, verb) {
			continue
		}
		if e.at != at {
			flush()
			at = e.at
		}
		now = append(now, e.what)
	}
	flush()
	return strings.Join(instants, "; ")
}

// without returns the entries that are not about name.
func without(entries []stopEntry, name string) []stopEntry {
	return slices.DeleteFunc(slices.Clone(entries), func(e stopEntry) bool {
		_, about, _ := strings.Cut(e.what, " ")
		return about == name
	})
}

// checkDependentsFirst fails t if, in entries, an input was killed before
// a dependent of it that was killed too had stopped. inputs holds each
// manifold's inputs.
func checkDependentsFirst(t *testing.T, entries []stopEntry, inputs map[string][]string) {
	t.Helper()
	index := func(what string) int {
		return slices.IndexFunc(entries, func(e stopEntry) bool { return e.what == what })
	}
	for _, dependent := range slices.Sorted(maps.Keys(inputs)) {
		if index("kill "+dependent) < 0 {
			continue
		}
		for _, input := range inputs[dependent] {
			kill, stop := index("kill "+input), index("stop "+dependent)
			if kill >= 0 && (stop < 0 || kill < stop) {
				t.Errorf("%q was killed before its dependent %q had stopped", input, dependent)
			}
		}
	}
}

// checkRestartOrder fails t if, in entries, a manifold restarted before an
// input of it that restarted too.
func checkRestartOrder(t *testing.T, entries []stopEntry, inputs map[string][]string) {
	t.Helper()
	index := func(what string) int {
		return slices.IndexFunc(entries, func(e stopEntry) bool { return e.what == what })
	}
	for _, dependent := range slices.Sorted(maps.Keys(inputs)) {
		for _, input := range inputs[dependent] {
			in, d := index("start "+input), index("start "+dependent)
			if in >= 0 && d >= 0 && d < in {
				t.Errorf("%q restarted before its input %q", dependent, input)
			}
		}
	}
}

// stopShape is a graph whose root is "a", and what stopping all of it in
// order looks like when each worker takes stopTime.
type stopShape struct {
	name    string
	inputs  map[string][]string
	stopAll string // the timeline of its Kill and stop entries
	depth   int    // the longest chain: the stop takes depth * stopTime
}

var stopShapes = []stopShape{{
	name:    "chain",
	inputs:  map[string][]string{"a": nil, "b": {"a"}, "c": {"b"}},
	stopAll: "0s: kill c; 1s: kill b, stop c; 2s: kill a, stop b; 3s: stop a",
	depth:   3,
}, {
	name:    "diamond",
	inputs:  map[string][]string{"a": nil, "b": {"a"}, "c": {"a"}, "d": {"b", "c"}},
	stopAll: "0s: kill d; 1s: kill b, kill c, stop d; 2s: kill a, stop b, stop c; 3s: stop a",
	depth:   3,
}, {
	name:    "fan-out",
	inputs:  map[string][]string{"a": nil, "b": {"a"}, "c": {"a"}, "d": {"a"}},
	stopAll: "0s: kill b, kill c, kill d; 1s: kill a, stop b, stop c, stop d; 2s: stop a",
	depth:   2,
}, {
	name:    "fan-in",
	inputs:  map[string][]string{"a": nil, "b": nil, "c": {"a", "b"}},
	stopAll: "0s: kill c; 1s: kill a, kill b, stop c; 2s: stop a, stop b",
	depth:   2,
}}

// manifolds returns the shape's manifolds, each taking stopTime to stop;
// the root "a" gets rootInputs as well.
func (s stopShape) manifolds(l *stopLog, rootInputs ...string) dependency.Manifolds {
	manifolds := make(dependency.Manifolds, len(s.inputs))
	for name, inputs := range s.inputs {
		if name == "a" {
			inputs = append(slices.Clone(inputs), rootInputs...)
		}
		manifolds[name] = l.manifold(name, stopTime, inputs...)
	}
	return manifolds
}

// startAll installs manifolds as one batch and waits until each has a
// live worker, or fails t.
func startAll(t *testing.T, engine dependency.Engine, l *stopLog, manifolds dependency.Manifolds) {
	t.Helper()
	mustInstallAll(t, engine, manifolds)
	advance(time.Second) // longer than the bounce delays of any chain here
	for _, name := range slices.Sorted(maps.Keys(manifolds)) {
		if l.worker(name) == nil {
			t.Fatalf("%q has no worker after Install", name)
		}
	}
}

// orderedConfig is the configuration of the engines here, with OrderedStop
// as given.
func orderedConfig(ordered bool) dependency.EngineConfig {
	return dependency.EngineConfig{
		OrderedStop:   ordered,
		IsFatal:       isFatal,
		ErrorDelay:    errorDelay,
		BounceDelay:   bounceDelay,
		MaxRestarts:   1,
		RestartPeriod: time.Hour,
	}
}

// Shutdown, however it comes, stops dependents before their inputs, and
// independent branches concurrently.
func TestOrderedStopShutdown(t *testing.T) {
	for _, kind := range []struct {
		about   string
		prepare func(l *stopLog) // before the log is taken
		stop    func(engine dependency.Engine, l *stopLog)
		want    error
	}{{
		about: "Kill",
		stop:  func(engine dependency.Engine, _ *stopLog) { engine.Kill() },
	}, {
		about: "fatal error",
		stop:  func(_ dependency.Engine, l *stopLog) { l.worker("f").fail(errFatal) },
		want:  errFatal,
	}, {
		about: "too many restarts",
		prepare: func(l *stopLog) {
			l.worker("f").fail(errFailed)
			advance(errorDelay)
		},
		stop: func(_ dependency.Engine, l *stopLog) { l.worker("f").fail(errFailed) },
		want: dependency.ErrTooManyRestarts,
	}} {
		for _, shape := range stopShapes {
			t.Run(kind.about+", "+shape.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					l := newStopLog()
					engine := stopOnCleanup(t, newEngine(t, orderedConfig(true)))
					manifolds := shape.manifolds(l)
					manifolds["f"] = l.manifold("f", 0) // fails, when the kind says
					startAll(t, engine, l, manifolds)
					if kind.prepare != nil {
						kind.prepare(l)
					}
					l.take()

					began := time.Now()
					kind.stop(engine, l)
					err := engine.Wait()
					took := time.Since(began)
					if !errors.Is(err, kind.want) || (kind.want == nil && err != nil) {
						t.Errorf("Wait() = %v, want %v", err, kind.want)
					}
					entries := without(l.take(), "f")
					if got := timeline(entries); got != shape.stopAll {
						t.Errorf("stop timeline:\n%s\nwant\n%s", got, shape.stopAll)
					}
					checkDependentsFirst(t, entries, shape.inputs)
					if want := time.Duration(shape.depth) * stopTime; took != want {
						t.Errorf("Wait returned after %v, want %v: %d workers, one after another", took, want, shape.depth)
					}
				})
			})
		}
	}
}

// With OrderedStop off, as by default, Kill tells every worker to stop at
// once: an input is killed while its dependents still run.
func TestOrderedStopOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newStopLog()
		engine := stopOnCleanup(t, newEngine(t, orderedConfig(false)))
		startAll(t, engine, l, stopShapes[0].manifolds(l))
		l.take()
		stopEngine(t, engine, nil)
		want := "0s: kill a, kill b, kill c; 1s: stop a, stop b, stop c"
		if got := timeline(l.take()); got != want {
			t.Errorf("stop timeline:\n%s\nwant\n%s", got, want)
		}
	})
}

// The stops of a running engine: Uninstall of the root input "a", an
// ErrUninstall from a's worker, and the bounce of a when its own input
// changes. Dependents stop before their inputs; then every worker the
// engine stopped restarts exactly once, inputs before dependents, on its
// inputs' new workers.
func TestOrderedStopRestarting(t *testing.T) {
	for _, kind := range []struct {
		about     string
		stop      func(t *testing.T, engine dependency.Engine, l *stopLog)
		timelines map[string]string // of kill and stop entries, by shape
		gone      bool              // a is uninstalled, not restarted
	}{{
		about: "Uninstall of the input",
		stop:  func(t *testing.T, engine dependency.Engine, _ *stopLog) { mustUninstall(t, engine, "a") },
		timelines: map[string]string{
			"fan-in": "0s: kill c; 1s: kill a, stop c; 2s: stop a",
		},
		gone: true,
	}, {
		about: "ErrUninstall from the input's worker",
		stop: func(_ *testing.T, _ dependency.Engine, l *stopLog) {
			l.worker("a").fail(dependency.ErrUninstall)
		},
		timelines: map[string]string{
			"chain":   "0s: kill c, stop a; 1s: kill b, stop c; 2s: stop b",
			"diamond": "0s: kill d, stop a; 1s: kill b, kill c, stop d; 2s: stop b, stop c",
			"fan-out": "0s: kill b, kill c, kill d, stop a; 1s: stop b, stop c, stop d",
			"fan-in":  "0s: kill c, stop a; 1s: stop c",
		},
		gone: true,
	}, {
		about: "bounce of the input",
		stop: func(t *testing.T, engine dependency.Engine, l *stopLog) {
			mustInstall(t, engine, "x", l.manifold("x", stopTime)) // a's own input starts
		},
		timelines: map[string]string{
			"fan-in": "0s: kill c; 1s: kill a, stop c; 2s: stop a",
		},
	}} {
		for _, shape := range stopShapes {
			t.Run(kind.about+", "+shape.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					l := newStopLog()
					engine := stopOnCleanup(t, newEngine(t, orderedConfig(true)))
					startAll(t, engine, l, shape.manifolds(l, "x"))
					l.take()

					kind.stop(t, engine, l)
					advance(time.Minute)
					entries := l.take()
					want, ok := kind.timelines[shape.name]
					if !ok {
						want = shape.stopAll
					}
					if got := timeline(entries, "kill", "stop"); got != want {
						t.Errorf("stop timeline:\n%s\nwant\n%s", got, want)
					}
					inputs := maps.Clone(shape.inputs)
					inputs["a"] = []string{"x"}
					checkDependentsFirst(t, entries, inputs)
					checkRestartOrder(t, entries, inputs)
					for _, name := range slices.Sorted(maps.Keys(shape.inputs)) {
						stopped := strings.Contains(want, "stop "+name)
						wantStarts := 1
						if stopped && !(name == "a" && kind.gone) {
							wantStarts = 2
						}
						if got := l.startCount(name); got != wantStarts {
							t.Errorf("%q started %d times, want %d", name, got, wantStarts)
						}
					}
					l.checkCurrent(t, inputs)
				})
			})
		}
	}
}

// A worker that stops by itself is not held back: while the engine waits
// for its dependents to stop, it stops at once, and nothing kills it.
func TestOrderedStopInputStopsByItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newStopLog()
		engine := stopOnCleanup(t, newEngine(t, orderedConfig(true)))
		startAll(t, engine, l, dependency.Manifolds{
			"a": l.manifold("a", stopTime),
			"b": l.manifold("b", 10*time.Second, "a"),
		})
		l.take()
		waited := killInBackground(engine)
		advance(2 * time.Second)
		if a := l.worker("a"); a != nil {
			a.fail(errFailed)
		} else {
			t.Errorf("a has no worker 2s after Kill, want it running until b has stopped")
		}
		advance(8 * time.Second)
		if err := <-waited; err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
		want := "0s: kill b; 2s: stop a; 10s: stop b"
		if got := timeline(l.take()); got != want {
			t.Errorf("stop timeline:\n%s\nwant\n%s", got, want)
		}
	})
}

// A worker that stops by itself has its dependents bounced as without
// OrderedStop: the logs of both engines are the same.
func TestOrderedStopDependentsOfStoppedBounceAsBefore(t *testing.T) {
	logs := make(map[bool]string)
	for _, ordered := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			l := newStopLog()
			config := orderedConfig(ordered)
			config.ErrorDelay = 5 * time.Second
			engine := stopOnCleanup(t, newEngine(t, config))
			startAll(t, engine, l, stopShapes[0].manifolds(l))
			l.take()
			l.worker("b").fail(errFailed)
			advance(time.Minute)
			logs[ordered] = timeline(l.take())
			stopEngine(t, engine, nil)
		})
	}
	want := "0s: kill c, stop b; 1s: stop c; 1.01s: start c; 5s: kill c, start b; 6s: stop c; 6.01s: start c"
	if logs[false] != want {
		t.Errorf("timeline without OrderedStop:\n%s\nwant\n%s", logs[false], want)
	}
	if logs[true] != logs[false] {
		t.Errorf("timeline with OrderedStop:\n%s\nwant it as without:\n%s", logs[true], logs[false])
	}
}

// Independent manifolds stop at once; a chain stops one link after another.
func TestOrderedStopConcurrency(t *testing.T) {
	chain := make(map[string][]string)
	var want []string
	const links = 10
	for i := range links {
		name := fmt.Sprintf("link%02d", i)
		if i > 0 {
			chain[name] = []string{fmt.Sprintf("link%02d", i-1)}
		} else {
			chain[name] = nil
		}
	}
	for i := links - 1; i >= 0; i-- {
		at := time.Duration(links-1-i) * stopTime
		kill := fmt.Sprintf("kill link%02d", i)
		if i < links-1 {
			kill += fmt.Sprintf(", stop link%02d", i+1)
		}
		want = append(want, fmt.Sprintf("%v: %s", at, kill))
	}
	want = append(want, fmt.Sprintf("%v: stop link00", links*stopTime))

	for _, test := range []struct {
		about  string
		inputs map[string][]string
		want   string
		took   time.Duration
	}{{
		about:  "three independent",
		inputs: map[string][]string{"a": nil, "b": nil, "c": nil},
		want:   "0s: kill a, kill b, kill c; 1s: stop a, stop b, stop c",
		took:   stopTime,
	}, {
		about:  "two chains",
		inputs: map[string][]string{"a1": nil, "a2": {"a1"}, "b1": nil, "b2": {"b1"}},
		want:   "0s: kill a2, kill b2; 1s: kill a1, kill b1, stop a2, stop b2; 2s: stop a1, stop b1",
		took:   2 * stopTime,
	}, {
		about:  fmt.Sprintf("chain of %d", links),
		inputs: chain,
		want:   strings.Join(want, "; "),
		took:   links * stopTime,
	}} {
		t.Run(test.about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newStopLog()
				engine := stopOnCleanup(t, newEngine(t, orderedConfig(true)))
				manifolds := make(dependency.Manifolds)
				for name, inputs := range test.inputs {
					manifolds[name] = l.manifold(name, stopTime, inputs...)
				}
				startAll(t, engine, l, manifolds)
				l.take()
				began := time.Now()
				stopEngine(t, engine, nil)
				if took := time.Since(began); took != test.took {
					t.Errorf("Wait returned after %v, want %v", took, test.took)
				}
				entries := l.take()
				if got := timeline(entries); got != test.want {
					t.Errorf("stop timeline:\n%s\nwant\n%s", got, test.want)
				}
				checkDependentsFirst(t, entries, test.inputs)
			})
		})
	}
}

// A dependent stuck in its stop holds its inputs, which Report shows
// waiting for it, but not Wait beyond StopTimeout: Wait's error then names
// the stuck worker and the inputs still waiting for it.
func TestOrderedStopTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newStopLog()
		config := orderedConfig(true)
		config.StopTimeout = time.Minute
		engine := stopOnCleanup(t, newEngine(t, config))
		startAll(t, engine, l, dependency.Manifolds{
			"a": l.manifold("a", stopTime),
			"b": l.manifold("b", stopTime, "a"),
			"c": l.manifold("c", stuck, "b"),
		})
		l.take()
		defer synctest.Wait()
		defer l.stopAll() // what the engine abandoned, so that the bubble ends

		waited := killInBackground(engine)
		advance(config.StopTimeout / 2)
		checkWaiting(t, waited, "halfway to StopTimeout")
		report := engine.Report().Manifolds
		for name, want := range map[string][]string{"a": {"b"}, "b": {"c"}, "c": nil} {
			if got := report[name].WaitingFor; !slices.Equal(got, want) {
				t.Errorf("%q: WaitingFor %q halfway to StopTimeout, want %q", name, got, want)
			}
		}
		want := "0s: kill c"
		if got := timeline(l.take()); got != want {
			t.Errorf("stop timeline halfway to StopTimeout:\n%s\nwant\n%s", got, want)
		}

		advance(config.StopTimeout/2 - 1)
		checkWaiting(t, waited, "1ns before StopTimeout")
		advance(1)
		var err error
		select {
		case err = <-waited:
		default:
			t.Fatalf("Wait has not returned at StopTimeout")
		}
		if !errors.Is(err, dependency.ErrStopTimeout) {
			t.Fatalf("Wait() = %v, want ErrStopTimeout", err)
		}
		for _, name := range []string{"a", "b", "c"} {
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) {
				t.Errorf("Wait() = %v, want it to name %q", err, name)
			}
		}
		// The inputs still waiting are killed at StopTimeout, not left
		// running: their turn would never come.
		advance(stopTime)
		if got, want := timeline(l.take(), "kill", "stop"), "30s: kill a, kill b; 31s: stop a, stop b"; got != want { // since the log was taken halfway
			t.Errorf("timeline after StopTimeout:\n%s\nwant\n%s", got, want)
		}
	})
}

// Report says, of a manifold waiting to be stopped, which dependents it
// waits for, sorted, in the JSON too; the list shrinks as they stop.
func TestOrderedStopReportWaitingFor(t *testing.T) {
	for _, test := range []struct {
		about string
		stop  func(t *testing.T, engine dependency.Engine, l *stopLog)
	}{{
		about: "Kill",
		stop:  func(_ *testing.T, engine dependency.Engine, _ *stopLog) { engine.Kill() },
	}, {
		about: "bounce",
		stop: func(t *testing.T, engine dependency.Engine, l *stopLog) {
			mustInstall(t, engine, "x", l.manifold("x", 0))
		},
	}} {
		t.Run(test.about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l := newStopLog()
				engine := stopOnCleanup(t, newEngine(t, orderedConfig(true)))
				startAll(t, engine, l, dependency.Manifolds{
					"a": l.manifold("a", stopTime, "x"),
					"c": l.manifold("c", 2*stopTime, "a"),
					"b": l.manifold("b", stopTime, "a"),
				})
				test.stop(t, engine, l)
				synctest.Wait()
				checkWaitingFor(t, engine, []string{"b", "c"})
				advance(stopTime)
				checkWaitingFor(t, engine, []string{"c"})
				advance(stopTime)
				checkWaitingFor(t, engine, nil)
			})
		})
	}
}

// checkWaitingFor fails t unless Report, and its JSON, say that "a" waits
// for want, and "b" and "c" for nothing.
func checkWaitingFor(t *testing.T, engine dependency.Engine, want []string) {
	t.Helper()
	report := engine.Report()
	data, err := json.Marshal(report)
	if err != nil {
		t.Fatalf("json.Marshal(Report()) = %v, want nil", err)
	}
	var fromJSON struct {
		Manifolds map[string]struct {
			WaitingFor []string `json:"waiting_for"`
		} `json:"manifolds"`
	}
	if err := json.Unmarshal(data, &fromJSON); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v, want nil", data, err)
	}
	var back dependency.Report
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatalf("json.Unmarshal(%s) into a Report = %v, want nil", data, err)
	}
	for name, want := range map[string][]string{"a": want, "b": nil, "c": nil} {
		if got := report.Manifolds[name].WaitingFor; !slices.Equal(got, want) {
			t.Errorf("%q: WaitingFor %q, want %q", name, got, want)
		}
		if got := fromJSON.Manifolds[name].WaitingFor; !slices.Equal(got, want) {
			t.Errorf("%q: waiting_for in the JSON %q, want %q", name, got, want)
		}
		if got := back.Manifolds[name].WaitingFor; !slices.Equal(got, want) {
			t.Errorf("%q: WaitingFor read back from the JSON %q, want %q", name, got, want)
		}
	}
}

// A dependent whose restart falls due while its input waits for another
// dependent to stop is held back until the input has restarted: it starts
// once, on the input's new worker.
func TestOrderedStopHoldsBackRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newStopLog()
		engine := stopOnCleanup(t, newEngine(t, orderedConfig(true)))
		inputs := map[string][]string{"a": {"x"}, "quick": {"a"}, "slow": {"a"}}
		startAll(t, engine, l, dependency.Manifolds{
			"a":     l.manifold("a", stopTime, "x"),
			"quick": l.manifold("quick", 0, "a"),
			"slow":  l.manifold("slow", 2*stopTime, "a"),
		})
		l.take()

		mustInstall(t, engine, "x", l.manifold("x", 0)) // bounces a
		advance(stopTime)
		if w := l.worker("quick"); w != nil {
			t.Errorf("quick start %d runs while its input a waits to stop, want none", w.seq)
		}
		advance(time.Minute)
		entries := l.take()
		want := "0s: kill quick, kill slow, stop quick; 2s: kill a, stop slow; 3s: stop a"
		if got := timeline(entries, "kill", "stop"); got != want {
			t.Fatalf("stop timeline:\n%s\nwant\n%s", got, want)
		}
		for name, want := range map[string]int{"a": 2, "quick": 2, "slow": 2} {
			if got := l.startCount(name); got != want {
				t.Errorf("%q started %d times, want %d", name, got, want)
			}
		}
		checkRestartOrder(t, entries, inputs)
		l.checkCurrent(t, inputs)
	})
}

// A worker draining for its dependents that fails by itself meanwhile
// keeps its error: Report shows it, though it restarts as a bounced worker
// does, once its dependents have stopped.
func TestOrderedStopDrainingWorkerFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l := newStopLog()
		engine := stopOnCleanup(t, newEngine(t, orderedConfig(true)))
		startAll(t, engine, l, dependency.Manifolds{
			"a": l.manifold("a", stopTime, "x"),
			"b": l.manifold("b", 10*time.Second, "a"),
		})
		mustInstall(t, engine, "x", l.manifold("x", stopTime)) // a's input starts: a drains for b
		synctest.Wait()
		l.worker("a").fail(errFailed)
		synctest.Wait()
		if got := engine.Report().Manifolds["a"].Err; !errors.Is(got, errFailed) {
			t.Errorf("a: Err %v after it failed while draining, want errFailed", got)
		}
		advance(time.Minute)
		if got := l.startCount("a"); got != 2 {
			t.Errorf("a started %d times, want 2: restarted once b had stopped", got)
		}
	})
}
