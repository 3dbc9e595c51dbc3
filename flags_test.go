package dependency_test

// Flags: manifolds gated on the answers of flag manifolds' workers.

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// flagAnswers holds the answer each flag manifold's next worker gives.
type flagAnswers struct {
	mu      sync.Mutex
	answers map[string]bool
}

func newFlagAnswers() *flagAnswers {
	return &flagAnswers{answers: make(map[string]bool)}
}

// openFlags returns the answers of flags that answer true, named, and
// false, others.
func openFlags(names ...string) *flagAnswers {
	a := newFlagAnswers()
	for _, name := range names {
		a.set(name, true)
	}
	return a
}

func (a *flagAnswers) set(name string, answer bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.answers[name] = answer
}

func (a *flagAnswers) get(name string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.answers[name]
}

// testFlag is a harness worker that is a Flag.
type testFlag struct {
	*testWorker
	answer bool
}

func (f *testFlag) Check() bool { return f.answer }

// flag returns a manifold of the harness whose workers are Flags that
// answer what answers holds for name when each starts.
func (h *harness) flag(name string, answers *flagAnswers, inputs ...string) dependency.Manifold {
	m := h.manifold(name, inputs...)
	start := m.Start
	m.Start = func(get dependency.GetResourceFunc) (dependency.Worker, error) {
		w, err := start(get)
		if err != nil {
			return nil, err
		}
		return &testFlag{w.(*testWorker), answers.get(name)}, nil
	}
	m.Output = nil
	return m
}

// gatedOn returns m with flags as its Flags.
func gatedOn(m dependency.Manifold, flags ...string) dependency.Manifold {
	m.Flags = flags
	return m
}

// checkGated fails t unless the report says name is gated by want.
func checkGated(t *testing.T, engine dependency.Engine, name string, want ...string) {
	t.Helper()
	m := engine.Report().Manifolds[name]
	if !slices.Equal(m.Gated, want) || (len(want) > 0 && m.State != dependency.StateStopped) {
		t.Errorf("%q is %v, gated by %q; want gated by %q", name, m.State, m.Gated, want)
	}
}

// A gated manifold's start func is not called while its flag is closed,
// nor while its flag is not installed; when the flag opens, it starts at
// once.
func TestFlagGatesStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), newFlagAnswers()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "g", gatedOn(h.manifold("g"), "f"))
		advance(time.Hour)
		h.checkAttempts(t, map[string]int{"g": 0})
		checkGated(t, engine, "g", "f")

		mustInstall(t, engine, "f", h.flag("f", answers)) // answers false
		advance(time.Hour)
		h.checkAttempts(t, map[string]int{"f": 1, "g": 0})
		checkGated(t, engine, "g", "f")

		answers.set("f", true)
		h.worker("f").fail(dependency.ErrBounce) // the next worker answers true
		advance(bounceDelay)
		h.checkLive(t, map[string]int{"f": 2, "g": 1})
		checkGated(t, engine, "g")
		if flag := engine.Report().Manifolds["f"].Flag; flag == nil || !*flag {
			t.Errorf("Report() f Flag = %v, want true", flag)
		}
		stopEngine(t, engine, nil)
	})
}

// Installed in one batch, a flag starts first: the gated manifold is held
// back while its flag starts, and started once, when the flag is open.
func TestFlagBatchStartsFlagFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), openFlags("f")
		engine := newTestEngine(t, nil)
		mustInstallAll(t, engine, dependency.Manifolds{
			"f": h.flag("f", answers),
			"g": gatedOn(h.manifold("g"), "f"),
			"h": gatedOn(h.manifold("h", "g"), "f"),
		})
		synctest.Wait()
		h.checkLive(t, map[string]int{"f": 1, "g": 1, "h": 1})
		h.checkAttempts(t, map[string]int{"f": 1, "g": 1, "h": 1})
		stopEngine(t, engine, nil)
	})
}

// A flag that restarts after a bounce with the same answer leaves the
// manifolds it admitted running; a changed answer stops or starts them.
func TestFlagOnlyChangeOfAnswerMatters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), openFlags("f")
		engine := newTestEngine(t, nil)
		mustInstallAll(t, engine, dependency.Manifolds{
			"c": h.manifold("c"),
			"f": h.flag("f", answers, "c"),
			"g": gatedOn(h.manifold("g"), "f"),
		})
		synctest.Wait()
		h.checkLive(t, map[string]int{"c": 1, "f": 1, "g": 1})

		h.worker("c").fail(dependency.ErrBounce) // f is bounced by its input
		advance(time.Hour)
		h.checkLive(t, map[string]int{"c": 2, "f": 2, "g": 1})

		h.worker("f").fail(dependency.ErrBounce) // and by itself
		advance(time.Hour)
		h.checkLive(t, map[string]int{"f": 3, "g": 1})

		answers.set("f", false)
		h.worker("f").fail(dependency.ErrBounce)
		advance(bounceDelay - 1)
		h.checkLive(t, map[string]int{"f": 0, "g": 1}) // running on the answer it had
		advance(1)
		h.checkLive(t, map[string]int{"f": 4, "g": 0})
		checkGated(t, engine, "g", "f")

		answers.set("f", true)
		h.worker("f").fail(dependency.ErrBounce)
		advance(bounceDelay)
		h.checkLive(t, map[string]int{"f": 5, "g": 2})
		h.checkAttempts(t, map[string]int{"g": 2})
		stopEngine(t, engine, nil)
	})
}

// A flag that stops otherwise than for a bounce (it fails, completes or is
// uninstalled) counts as closed.
func TestFlagStoppedCountsAsClosed(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(h *harness, engine dependency.Engine)
	}{
		{"failed", func(h *harness, _ dependency.Engine) { h.worker("f").fail(errFailed) }},
		{"completed", func(h *harness, _ dependency.Engine) { h.worker("f").fail(nil) }},
		{"uninstalled", func(h *harness, engine dependency.Engine) { mustUninstall(t, engine, "f") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, answers := newHarness(), openFlags("f")
				engine := newTestEngine(t, nil)
				mustInstallAll(t, engine, dependency.Manifolds{
					"f": h.flag("f", answers),
					"g": gatedOn(h.manifold("g"), "f"),
				})
				synctest.Wait()
				tc.stop(h, engine)
				synctest.Wait()
				h.checkLive(t, map[string]int{"f": 0, "g": 0})
				checkGated(t, engine, "g", "f")
				advance(bounceDelay)
				h.checkAttempts(t, map[string]int{"g": 1})
				stopEngine(t, engine, nil)
			})
		})
	}
}

// A cycle through a flag is refused like one through inputs.
func TestFlagCycleRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "a", gatedOn(h.manifold("a"), "b"))
		err := engine.Install("b", h.manifold("b", "a"))
		if !errors.Is(err, dependency.ErrCycle) || err.Error() != `cannot install "b": cycle "b" -> "a" -> "b"` {
			t.Errorf("Install(\"b\") = %v, want the cycle b -> a -> b", err)
		}
		err = dependency.Install(engine, dependency.Manifolds{
			"x": gatedOn(h.manifold("x"), "y"),
			"y": gatedOn(h.manifold("y"), "x"),
		})
		if !errors.Is(err, dependency.ErrCycle) {
			t.Errorf("Install(x, y) = %v, want ErrCycle", err)
		}
		for _, bad := range []dependency.Manifold{
			gatedOn(h.manifold("z"), "z"),
			gatedOn(h.manifold("z"), "q", "q"),
			gatedOn(h.manifold("z"), ""),
		} {
			if err := engine.Install("z", bad); !errors.Is(err, dependency.ErrInvalid) {
				t.Errorf("Install(\"z\") with Flags %q = %v, want ErrInvalid", bad.Flags, err)
			}
		}
		stopEngine(t, engine, nil)
	})
}

// A flag is not a resource: the getter offers it only if it is among the
// manifold's Inputs too.
func TestFlagIsNotAResource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), openFlags("f")
		engine := newTestEngine(t, nil)
		got := make(chan [2]error, 1)
		mustInstallAll(t, engine, dependency.Manifolds{
			"f":  h.flag("f", answers),
			"in": gatedOn(h.manifold("in"), "f"),
			"g": gatedOn(dependency.Manifold{
				Inputs: []string{"in"},
				Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
					got <- [2]error{get("f", nil), get("in", nil)}
					return h.started("g", nil, nil)
				},
			}, "f"),
		})
		synctest.Wait()
		if errs := <-got; errs[0] != dependency.ErrMissing || errs[1] != nil {
			t.Errorf("get(f), get(in) = %v, want ErrMissing, nil", errs)
		}
		stopEngine(t, engine, nil)
	})
}

// A name in Flags whose worker is not a Flag keeps the manifold gated, and
// is a mistake: logged at ERROR and reported as wrapping ErrMistake.
func TestFlagWorkerNotAFlag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, logs := newHarness(), &logRecorder{}
		engine := newEngine(t, dependency.EngineConfig{Logger: logs, ErrorDelay: time.Second})
		mustInstallAll(t, engine, dependency.Manifolds{
			"f": h.manifold("f"),
			"g": gatedOn(h.manifold("g"), "f"),
		})
		advance(time.Hour)
		h.checkAttempts(t, map[string]int{"g": 0})
		checkGated(t, engine, "g", "f")
		if err := engine.Report().Manifolds["g"].Err; !errors.Is(err, dependency.ErrMistake) {
			t.Errorf("g Err = %v, want ErrMistake", err)
		}
		if lines := logs.errorsNaming(`"f"`); len(lines) != 1 {
			t.Errorf("ERROR lines naming f = %q, want one", lines)
		}

		// Mended, f is a flag that answers false: g is gated, and no
		// mistake any more.
		mustUninstall(t, engine, "f")
		mustInstall(t, engine, "f", h.flag("f", newFlagAnswers()))
		advance(time.Hour)
		checkGated(t, engine, "g", "f")
		if err := engine.Report().Manifolds["g"].Err; err != nil {
			t.Errorf("g Err = %v once f is a Flag, want nil", err)
		}
		stopEngine(t, engine, nil)
	})
}

// While a flag is about to start, the manifolds gated on it that are due
// to start are held back, so that no start runs on an answer not known
// yet; those it admitted keep running.
func TestFlagHoldsBackWhileItStarts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), openFlags("f")
		engine := newTestEngine(t, nil)
		mustInstallAll(t, engine, dependency.Manifolds{
			"f": h.flag("f", answers),
			"g": gatedOn(h.manifold("g"), "f"),
			"k": gatedOn(h.manifold("k"), "f"),
		})
		synctest.Wait()
		h.worker("g").fail(dependency.ErrBounce) // due in bounceDelay
		h.worker("f").fail(dependency.ErrBounce) // due in bounceDelay too
		answers.set("f", false)
		advance(bounceDelay)
		h.checkLive(t, map[string]int{"f": 2, "g": 0, "k": 0})
		h.checkAttempts(t, map[string]int{"g": 1, "k": 1})
		stopEngine(t, engine, nil)
	})
}

// With OrderedStop, a flag stopped for good (on shutdown or Uninstall) is
// killed only once the manifolds it admitted have stopped; a flag
// restarting after a bounce is not held back.
func TestFlagOrderedStop(t *testing.T) {
	for _, tc := range []struct {
		name string
		stop func(t *testing.T, engine dependency.Engine)
	}{
		{"shutdown", func(_ *testing.T, engine dependency.Engine) { engine.Kill() }},
		{"uninstall", func(t *testing.T, engine dependency.Engine) { mustUninstall(t, engine, "f") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h, answers := newHarness(), openFlags("f")
				engine := newEngine(t, dependency.EngineConfig{OrderedStop: true, ErrorDelay: time.Second, BounceDelay: bounceDelay})
				h.ignoreKill("g") // g stops only when the test says so
				mustInstallAll(t, engine, dependency.Manifolds{
					"f": h.flag("f", answers),
					"g": gatedOn(h.manifold("g"), "f"),
				})
				synctest.Wait()
				tc.stop(t, engine)
				advance(time.Hour)
				h.checkLive(t, map[string]int{"f": 1, "g": 1})
				if waiting := engine.Report().Manifolds["f"].WaitingFor; tc.name == "uninstall" && waiting != nil {
					t.Errorf("f WaitingFor = %q after Uninstall, want none: it is no longer reported", waiting)
				}
				h.worker("g").fail(nil)
				synctest.Wait()
				h.checkLive(t, map[string]int{"f": 0, "g": 0})
				stopEngine(t, engine, nil)
			})
		})
	}
	t.Run("bounce", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			h, answers := newHarness(), openFlags("f")
			engine := newEngine(t, dependency.EngineConfig{OrderedStop: true, ErrorDelay: time.Second, BounceDelay: bounceDelay})
			mustInstallAll(t, engine, dependency.Manifolds{
				"c": h.manifold("c"),
				"f": h.flag("f", answers, "c"),
				"g": gatedOn(h.manifold("g"), "f"),
			})
			synctest.Wait()
			h.ignoreKill("g")
			h.worker("c").fail(dependency.ErrBounce)
			advance(time.Hour)
			h.checkLive(t, map[string]int{"c": 2, "f": 2, "g": 1})
			h.worker("g").fail(nil)
			stopEngine(t, engine, nil)
		})
	})
}

// A gate is closed until a worker opens it; Lockdown closes it and waits
// until nothing gated on it runs, or gives up with its context.
func TestGate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		gate := dependency.NewGate()
		engine := newTestEngine(t, nil)
		h.ignoreKill("g")
		mustInstallAll(t, engine, dependency.Manifolds{
			"gate": gate.Manifold(),
			"g":    gatedOn(h.manifold("g"), "gate"),
		})
		advance(time.Hour)
		h.checkAttempts(t, map[string]int{"g": 0})

		gate.Open()
		advance(bounceDelay)
		h.checkLive(t, map[string]int{"g": 1})

		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		locked := make(chan error, 1)
		go func() { locked <- gate.Lockdown(ctx) }()
		advance(time.Second)
		select {
		case err := <-locked:
			t.Fatalf("Lockdown() = %v while g runs, want it to wait", err)
		default:
		}
		h.worker("g").fail(nil) // g ignores Kill; it stops now
		synctest.Wait()
		if err := <-locked; err != nil {
			t.Errorf("Lockdown() = %v, want nil once g has stopped", err)
		}
		advance(time.Hour)
		h.checkAttempts(t, map[string]int{"g": 1})
		if err := gate.Lockdown(ctx); err != nil {
			t.Errorf("Lockdown() of a gate locked down = %v, want nil at once", err)
		}

		gate.Open()
		advance(bounceDelay)
		h.checkLive(t, map[string]int{"g": 2})
		short, cancelShort := context.WithTimeout(context.Background(), time.Second)
		defer cancelShort()
		if err := gate.Lockdown(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Lockdown(ctx) = %v while g ignores Kill, want ctx's error", err)
		}
		h.worker("g").fail(nil)
		stopEngine(t, engine, nil)
	})
}

// NewFlag answers what it was made with, until it is killed.
func TestNewFlag(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		for _, answer := range []bool{true, false} {
			flag := dependency.NewFlag(answer)
			if flag.Check() != answer {
				t.Errorf("NewFlag(%v).Check() = %v", answer, !answer)
			}
			flag.Kill()
			if err := flag.Wait(); err != nil {
				t.Errorf("NewFlag(%v).Wait() = %v, want nil", answer, err)
			}
		}
	})
}

// goexitFlag is a Flag whose Check ends its goroutine.
type goexitFlag struct{ dependency.Worker }

func (goexitFlag) Check() bool {
	runtime.Goexit()
	return true
}

// A flag whose Check calls runtime.Goexit is a failed start, and its
// worker, which the engine never made current, is stopped, not leaked.
func TestFlagCheckGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := newEngine(t, dependency.EngineConfig{ErrorDelay: time.Hour})
		stopped := make(chan struct{})
		mustInstall(t, engine, "f", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return goexitFlag{dependency.NewWorker(func(ctx context.Context) error {
					<-ctx.Done()
					close(stopped)
					return nil
				})}, nil
			},
		})
		synctest.Wait()
		select {
		case <-stopped:
		default:
			t.Fatal("the worker of a start whose Check called Goexit still runs")
		}
		if err := engine.Report().Manifolds["f"].Err; !errors.Is(err, dependency.ErrPanic) || !strings.Contains(err.Error(), "flag Check") {
			t.Errorf("f Err = %v, want ErrPanic naming the flag Check", err)
		}
		stopEngine(t, engine, nil)
	})
}
