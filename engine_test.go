package dependency_test

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

func TestChainStartsInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		installChain(t, engine, h.requiring, "a", "b", "c")
		// Each is held back while its input starts, then starts at once:
		// there is no worker to bounce.
		synctest.Wait()
		h.checkLive(t, map[string]int{"a": 1, "b": 1, "c": 1})
		h.checkCurrent(t)
		h.checkAttempts(t, map[string]int{"a": 1, "b": 1, "c": 1})
		stopEngine(t, engine, nil)
	})
}

func TestChainRestartsInOrderAfterRootFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		installChain(t, engine, h.requiring, "a", "b", "c")
		advance(time.Hour)
		h.checkLive(t, map[string]int{"a": 1, "b": 1, "c": 1})

		// b and c stop, try again after the bounce delay and miss their
		// inputs; a restarts after the error delay, then at once b, then c.
		h.worker("a").fail(errFailed)
		synctest.Wait()
		h.checkLive(t, map[string]int{"a": 0, "b": 0, "c": 0})
		advance(bounceDelay)
		h.checkAttempts(t, map[string]int{"a": 1, "b": 2, "c": 2})
		advance(errorDelay - bounceDelay - 1)
		h.checkLive(t, map[string]int{"a": 0, "b": 0, "c": 0})
		advance(1)
		h.checkLive(t, map[string]int{"a": 2, "b": 2, "c": 2})
		h.checkCurrent(t)
		h.checkAttempts(t, map[string]int{"a": 2, "b": 3, "c": 3})
		stopEngine(t, engine, nil)
	})
}

func TestWorkerErrorRestartsAfterErrorDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		h.worker("a").fail(errFailed)
		advance(errorDelay - 1)
		h.checkLive(t, map[string]int{"a": 0})
		advance(1)
		h.checkLive(t, map[string]int{"a": 2})
		stopEngine(t, engine, nil)
	})
}

func TestStopWaitsForInputChange(t *testing.T) {
	for _, err := range []error{nil, dependency.ErrMissing} {
		t.Run(fmt.Sprintf("%v", err), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newTestEngine(t, nil)
				mustInstall(t, engine, "a", h.manifold("a"))
				mustInstall(t, engine, "b", h.manifold("b", "a"))
				mustInstall(t, engine, "c", h.manifold("c"))
				advance(time.Hour)
				h.checkLive(t, map[string]int{"a": 1, "b": 1, "c": 1})

				h.worker("b").fail(err)
				h.worker("c").fail(err)
				advance(time.Hour)
				h.checkLive(t, map[string]int{"a": 1, "b": 0, "c": 0})

				// a completes: a change for b, which starts at once,
				// without it.
				h.worker("a").fail(nil)
				synctest.Wait()
				h.checkLive(t, map[string]int{"a": 0, "b": 2, "c": 0})
				advance(time.Hour)
				h.checkLive(t, map[string]int{"a": 0, "b": 2, "c": 0})
				h.checkCurrent(t)
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestMissingInputWaitsForInputChange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "b", h.requiring("b", "a"))
		advance(time.Hour)
		h.checkAttempts(t, map[string]int{"b": 1})
		h.checkLive(t, map[string]int{"b": 0})

		h.failStart("a", func() error { return errFailed })
		mustInstall(t, engine, "a", h.manifold("a"))
		advance(errorDelay + bounceDelay) // a start that fails is no change
		h.checkAttempts(t, map[string]int{"b": 1})

		// a starts: b, which has no worker, starts at once.
		h.failStart("a", func() error { return nil })
		advance(errorDelay - bounceDelay)
		h.checkLive(t, map[string]int{"a": 1, "b": 1})
		h.checkCurrent(t)
		stopEngine(t, engine, nil)
	})
}

func TestBouncedWorkerRestartsAfterBounceDelay(t *testing.T) {
	for _, err := range []error{nil, errFailed, dependency.ErrMissing} {
		t.Run(fmt.Sprintf("%v", err), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newTestEngine(t, nil)
				mustInstall(t, engine, "a", h.manifold("a"))
				synctest.Wait()
				// b returns err when the engine stops it.
				var starts record[bool]
				mustInstall(t, engine, "b", dependency.Manifold{
					Inputs: []string{"a"},
					Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
						starts.add(true)
						return newFuncWorker(func(dying <-chan struct{}) error {
							<-dying
							return err
						}), nil
					},
				})
				synctest.Wait()

				h.worker("a").fail(errFailed)
				advance(bounceDelay - 1)
				if n := starts.len(); n != 1 {
					t.Errorf("starts of b before the bounce delay = %d, want 1", n)
				}
				advance(1)
				if n := starts.len(); n != 2 {
					t.Errorf("starts of b after the bounce delay = %d, want 2", n)
				}
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestZeroBounceDelay(t *testing.T) {
	t.Run("input starts", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness()
			engine := dependency.NewEngine(nil, time.Second, 0)
			// b is held back while a starts, then bounced with no delay.
			installChain(t, engine, h.manifold, "a", "b")
			synctest.Wait()
			h.checkLive(t, map[string]int{"a": 1, "b": 1})
			if b := h.worker("b"); b == nil || b.seq != 1 || b.inputs["a"] != h.worker("a") {
				t.Errorf("b = %+v, want its first worker, running on a", b)
			}
			stopEngine(t, engine, nil)
		})
	})
	t.Run("starting input uninstalled", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h := newHarness()
			engine := dependency.NewEngine(nil, time.Second, 0)
			mustInstallAll(t, engine, dependency.Manifolds{
				"a": h.blocking("a"),
				"b": h.manifold("b", "a"),
			})
			synctest.Wait()
			mustUninstall(t, engine, "a")
			synctest.Wait()
			if b := h.worker("b"); b == nil || b.seq != 1 || b.inputs["a"] != nil {
				t.Errorf("b = %+v, want its first worker, running without a", b)
			}
			stopEngine(t, engine, nil)
		})
	})
}

// A start held back by an input whose start is in flight launches when that
// input starts, also with no bounce delay and no time passing.
func TestHeldStartLaunchesWhenInputStartsWithoutBounceDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 0)
		gate := make(chan struct{})
		mustInstall(t, engine, "a", gateStart(h.manifold("a"), gate))
		mustInstall(t, engine, "b", h.manifold("b", "a"))
		synctest.Wait()
		if n := h.startCount("b"); n != 0 {
			t.Fatalf("starts of \"b\" while \"a\" starts = %d, want 0", n)
		}
		close(gate)
		synctest.Wait()
		if n := h.startCount("b"); n != 1 {
			t.Errorf("starts of \"b\" after \"a\" started = %d, want 1", n)
		}
		if b := h.worker("b"); b == nil || b.inputs["a"] != h.worker("a") {
			t.Errorf("b = %v, want running on a's worker", b)
		}
		stopEngine(t, engine, nil)
	})
}

var stormSeed = flag.Uint64("storm.seed", 0, "seed of TestStorm (0: new)")

// TestStorm fails workers and starts at random on a layered graph and
// checks, whenever everything has settled, that no manifold ever had two
// live workers and that every live worker runs on its inputs' live workers.
func TestStorm(t *testing.T) {
	seed := *stormSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano()) // outside the bubble: real time
	}
	t.Logf("seed %d (rerun with -storm.seed %d)", seed, seed)
	synctest.Test(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(seed, seed))
		h := newHarness()
		// newEngine discards the log: hundreds of failures would flood the output.
		engine := stopOnCleanup(t, newEngine(t, dependency.EngineConfig{ErrorDelay: errorDelay, BounceDelay: bounceDelay}))

		const layers, width = 4, 5
		manifolds := make(dependency.Manifolds)
		var names []string
		for layer := range layers {
			for i := range width {
				name := fmt.Sprintf("L%d.%d", layer, i)
				names = append(names, name)
				var inputs []string
				if layer > 0 {
					for _, j := range rng.Perm(width)[:1+rng.IntN(3)] {
						inputs = append(inputs, fmt.Sprintf("L%d.%d", layer-1, j))
					}
				}
				if layer > 1 && rng.IntN(2) == 0 {
					inputs = append(inputs, fmt.Sprintf("L%d.%d", rng.IntN(layer-1), rng.IntN(width)))
				}
				if rng.IntN(2) == 0 {
					manifolds[name] = h.requiring(name, inputs...)
				} else {
					manifolds[name] = h.manifold(name, inputs...)
				}
			}
		}
		mustInstallAll(t, engine, manifolds)

		errs := []error{errFailed, errFailed, dependency.ErrBounce}
		for step := range 300 {
			advance(time.Duration(rng.IntN(50)) * time.Millisecond)
			for range 1 + rng.IntN(3) {
				name := names[rng.IntN(len(names))]
				if rng.IntN(4) == 0 {
					failures := rng.IntN(3)
					h.failStart(name, func() error {
						if failures == 0 {
							return nil
						}
						failures--
						return errFailed
					})
				} else if w := h.worker(name); w != nil {
					w.fail(errs[rng.IntN(len(errs))])
				}
			}
			synctest.Wait()
			h.checkCurrent(t)
			if t.Failed() {
				t.Fatalf("failed at step %d", step)
			}
		}

		advance(time.Hour)
		if n := h.liveCount(); n != len(names) {
			t.Errorf("%d workers alive after the storm, want %d", n, len(names))
		}
		h.checkCurrent(t)
		stopEngine(t, engine, nil)
		h.checkNoDoubles(t)
		if n := h.liveCount(); n != 0 {
			t.Errorf("%d workers alive after Wait, want 0", n)
		}
	})
}

func TestQuietLogs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		logs := &logRecorder{}
		engine := stopOnCleanup(t, newEngine(t, dependency.EngineConfig{
			ErrorDelay:  errorDelay,
			BounceDelay: bounceDelay,
			Logger:      logs,
		}))

		// b finds a missing, at install and after each change of a.
		mustInstall(t, engine, "b", h.requiring("b", "a"))
		synctest.Wait()
		lines := logs.take()
		if !logged(lines, "DEBUG", `"b"`, `"a"`, dependency.ErrMissing.Error()) {
			t.Errorf("no DEBUG line names b's missing input; got %q", lines)
		}
		checkQuiet(t, lines, 0)

		mustInstall(t, engine, "a", h.manifold("a"))
		advance(bounceDelay)
		h.checkLive(t, map[string]int{"a": 1, "b": 1})
		checkQuiet(t, logs.take(), 0)

		h.worker("a").fail(errFailed)
		advance(bounceDelay)
		h.checkLive(t, map[string]int{"a": 0, "b": 0})
		lines = logs.take()
		checkQuiet(t, lines, 1)
		if !logged(lines, "ERROR", `"a"`, errFailed.Error()) {
			t.Errorf("no ERROR line names a and its error; got %q", lines)
		}
		stopEngine(t, engine, nil)
	})
}

// logged reports whether one line at level contains every text.
func logged(lines []logLine, level string, texts ...string) bool {
	for _, line := range lines {
		if line.level == level && !slices.ContainsFunc(texts, func(text string) bool {
			return !strings.Contains(line.text, text)
		}) {
			return true
		}
	}
	return false
}

// checkQuiet fails t unless exactly want lines are above INFO.
func checkQuiet(t *testing.T, lines []logLine, want int) {
	t.Helper()
	loud := 0
	for _, line := range lines {
		if line.level == "WARNING" || line.level == "ERROR" {
			loud++
		}
	}
	if loud != want {
		t.Errorf("%d lines at WARNING or ERROR, want %d; got %q", loud, want, lines)
	}
}
