package dependency_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// installedNames returns the names of the manifolds engine reports, sorted.
func installedNames(engine dependency.Engine) []string {
	return slices.Sorted(maps.Keys(engine.Report().Manifolds))
}

func TestInstallRefusesInvalidManifold(t *testing.T) {
	startContext := func(context.Context, dependency.GetResourceFunc) (dependency.Worker, error) {
		return nil, errFailed
	}
	for _, test := range []struct {
		about    string
		name     string
		manifold func(h *harness) dependency.Manifold
		want     string
	}{{
		about:    "empty name",
		name:     "",
		manifold: func(h *harness) dependency.Manifold { return h.manifold("") },
		want:     `cannot install manifold: empty name`,
	}, {
		about:    "no start func",
		name:     "a",
		manifold: func(*harness) dependency.Manifold { return dependency.Manifold{} },
		want:     `cannot install "a": no Start func`,
	}, {
		about: "both start funcs",
		name:  "a",
		manifold: func(h *harness) dependency.Manifold {
			m := h.manifold("a")
			m.StartContext = startContext
			return m
		},
		want: `cannot install "a": both Start and StartContext set`,
	}, {
		about:    "input naming the manifold itself",
		name:     "a",
		manifold: func(h *harness) dependency.Manifold { return h.manifold("a", "x", "a") },
		want:     `cannot install "a": input "a" is the manifold itself`,
	}, {
		about:    "repeated input",
		name:     "a",
		manifold: func(h *harness) dependency.Manifold { return h.manifold("a", "x", "b", "x") },
		want:     `cannot install "a": input "x" repeated`,
	}, {
		about:    "empty input name",
		name:     "a",
		manifold: func(h *harness) dependency.Manifold { return h.manifold("a", "") },
		want:     `cannot install "a": empty input name`,
	}} {
		t.Run(test.about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newTestEngine(t, nil)
				mustInstall(t, engine, "x", h.manifold("x"))
				synctest.Wait()

				err := engine.Install(test.name, test.manifold(h))
				if err == nil || err.Error() != test.want {
					t.Errorf("Install(%q) = %v, want %s", test.name, err, test.want)
				}
				if !errors.Is(err, dependency.ErrInvalid) {
					t.Errorf("Install(%q) = %v, want an error matching ErrInvalid", test.name, err)
				}
				synctest.Wait()
				if got, want := installedNames(engine), []string{"x"}; !slices.Equal(got, want) {
					t.Errorf("installed after the failure: %q, want %q", got, want)
				}
				h.checkLive(t, map[string]int{"x": 1, test.name: 0})

				// The name is still free, and x did not notice.
				mustInstall(t, engine, "a", h.manifold("a"))
				synctest.Wait()
				h.checkLive(t, map[string]int{"x": 1, "a": 1})
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestInstallRefusesCycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "a", h.manifold("a", "b"))
		mustInstall(t, engine, "b", h.manifold("b", "c"))
		advance(time.Hour)
		h.checkLive(t, map[string]int{"a": 2, "b": 1})

		err := engine.Install("c", h.manifold("c", "a"))
		const want = `cannot install "c": cycle "c" -> "a" -> "b" -> "c"`
		if err == nil || err.Error() != want {
			t.Errorf(`Install("c") = %v, want %s`, err, want)
		}
		if !errors.Is(err, dependency.ErrCycle) {
			t.Errorf(`Install("c") = %v, want an error matching ErrCycle`, err)
		}
		advance(time.Hour)
		if got, want := installedNames(engine), []string{"a", "b"}; !slices.Equal(got, want) {
			t.Errorf("installed after the failure: %q, want %q", got, want)
		}
		h.checkLive(t, map[string]int{"a": 2, "b": 1, "c": 0})

		// Installed without the cycle, c starts and bounces b, then a.
		mustInstall(t, engine, "c", h.manifold("c"))
		advance(time.Hour)
		h.checkLive(t, map[string]int{"a": 3, "b": 2, "c": 1})
		h.checkCurrent(t)
		stopEngine(t, engine, nil)
	})
}

func TestInstallRefusesInstalledName(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, other := newHarness(), newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()

		err := engine.Install("a", other.manifold("a"))
		const want = `"a" manifold already installed`
		if err == nil || err.Error() != want {
			t.Errorf(`Install("a") = %v, want %s`, err, want)
		}
		if !errors.Is(err, dependency.ErrAlreadyInstalled) {
			t.Errorf(`Install("a") = %v, want an error matching ErrAlreadyInstalled`, err)
		}
		advance(time.Hour)
		h.checkLive(t, map[string]int{"a": 1})
		if n := other.attemptCount("a"); n != 0 {
			t.Errorf("the refused manifold's start was called %d times, want 0", n)
		}
		stopEngine(t, engine, nil)
	})
}

func TestInstallAfterKill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		engine.Kill()

		check := func(when string) {
			t.Helper()
			err := engine.Install("b", h.manifold("b"))
			if err == nil || err.Error() != "engine is shutting down" {
				t.Errorf(`Install("b") %s = %v, want engine is shutting down`, when, err)
			}
			if !errors.Is(err, dependency.ErrShuttingDown) {
				t.Errorf(`Install("b") %s = %v, want an error matching ErrShuttingDown`, when, err)
			}
		}
		check("after Kill")
		if err := engine.Wait(); err != nil {
			t.Errorf("Wait() = %v, want nil", err)
		}
		check("after Wait")
		if got, want := installedNames(engine), []string{"a"}; !slices.Equal(got, want) {
			t.Errorf("installed: %q, want %q", got, want)
		}
		if n := h.attemptCount("b"); n != 0 {
			t.Errorf("the refused manifold's start was called %d times, want 0", n)
		}
	})
}

func TestInputInstalledAfterDependent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "b", h.manifold("b", "a"))  // runs without a
		mustInstall(t, engine, "c", h.requiring("c", "a")) // fails: ErrMissing
		advance(time.Hour)
		h.checkLive(t, map[string]int{"b": 1, "c": 0})
		if b := h.worker("b"); b != nil && len(b.inputs) != 0 {
			t.Errorf("b got inputs %v, want none", b.inputs)
		}
		h.checkAttempts(t, map[string]int{"c": 1})

		// a starts: c, which has no worker, starts at once; b's worker
		// is bounced, and restarts after the bounce delay.
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		h.checkLive(t, map[string]int{"a": 1, "b": 0, "c": 1})
		advance(bounceDelay - 1)
		h.checkLive(t, map[string]int{"a": 1, "b": 0, "c": 1})
		advance(1)
		h.checkLive(t, map[string]int{"a": 1, "b": 2, "c": 1})
		h.checkCurrent(t)
		stopEngine(t, engine, nil)
	})
}

func TestInstallBatchIsAtomic(t *testing.T) {
	for _, test := range []struct {
		about string
		batch func(h *harness) dependency.Manifolds
		want  string
		kind  error
	}{{
		about: "invalid manifold",
		batch: func(h *harness) dependency.Manifolds {
			return dependency.Manifolds{"a": h.manifold("a"), "b": h.manifold("b", "a"), "c": {}}
		},
		want: `cannot install "c": no Start func`,
		kind: dependency.ErrInvalid,
	}, {
		about: "installed name",
		batch: func(h *harness) dependency.Manifolds {
			return dependency.Manifolds{"a": h.manifold("a"), "x": h.manifold("x")}
		},
		want: `"x" manifold already installed`,
		kind: dependency.ErrAlreadyInstalled,
	}, {
		about: "cycle within the batch",
		batch: func(h *harness) dependency.Manifolds {
			return dependency.Manifolds{"a": h.manifold("a", "b"), "b": h.manifold("b", "a"), "c": h.manifold("c")}
		},
		want: `cannot install "a": cycle "a" -> "b" -> "a"`,
		kind: dependency.ErrCycle,
	}, {
		about: "cycle through the engine",
		batch: func(h *harness) dependency.Manifolds {
			return dependency.Manifolds{"y": h.manifold("y", "z"), "z": h.manifold("z", "x")}
		},
		want: `cannot install "y": cycle "y" -> "z" -> "x" -> "y"`,
		kind: dependency.ErrCycle,
	}} {
		t.Run(test.about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newTestEngine(t, nil)
				mustInstall(t, engine, "x", h.manifold("x", "y"))
				synctest.Wait()

				err := dependency.Install(engine, test.batch(h))
				if err == nil || err.Error() != test.want {
					t.Errorf("Install = %v, want %s", err, test.want)
				}
				if !errors.Is(err, test.kind) {
					t.Errorf("Install = %v, want an error matching %v", err, test.kind)
				}
				advance(time.Hour)
				if got, want := installedNames(engine), []string{"x"}; !slices.Equal(got, want) {
					t.Errorf("installed after the failure: %q, want %q", got, want)
				}
				h.checkAttempts(t, map[string]int{"a": 0, "b": 0, "c": 0, "y": 0, "z": 0})
				h.checkLive(t, map[string]int{"x": 1})
				stopEngine(t, engine, nil)
			})
		})
	}
}

// A batch with several faults is refused with the same error each time,
// whatever order the map gives its members: the first fault in name order.
func TestInstallBatchErrorIgnoresMapOrder(t *testing.T) {
	h := newHarness()
	for _, test := range []struct {
		about string
		batch dependency.Manifolds
		want  string
	}{{
		about: "invalid manifolds",
		batch: dependency.Manifolds{"a": h.manifold("a"), "d": {}, "c": {}, "e": h.manifold("e", "e")},
		want:  `cannot install "c": no Start func`,
	}, {
		about: "installed names",
		batch: dependency.Manifolds{"a": h.manifold("a"), "y": h.manifold("y"), "x": h.manifold("x")},
		want:  `"x" manifold already installed`,
	}, {
		about: "cycles",
		batch: dependency.Manifolds{
			"q": h.manifold("q", "p"), "p": h.manifold("p", "q"),
			"b": h.manifold("b", "c"), "c": h.manifold("c", "b"),
		},
		want: `cannot install "b": cycle "b" -> "c" -> "b"`,
	}} {
		t.Run(test.about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				engine := newTestEngine(t, nil)
				mustInstall(t, engine, "x", h.manifold("x"))
				mustInstall(t, engine, "y", h.manifold("y"))
				for range 50 {
					if err := dependency.Install(engine, test.batch); err == nil || err.Error() != test.want {
						t.Fatalf("Install = %v, want %s", err, test.want)
					}
				}
				stopEngine(t, engine, nil)
			})
		})
	}
}

// A refused install names the same cycle whatever order an earlier batch
// was installed in, which decides the order in which the engine links the
// installed manifolds.
func TestInstallErrorIgnoresEarlierMapOrder(t *testing.T) {
	h := newHarness()
	batch := dependency.Manifolds{"a": h.manifold("a"), "b": h.manifold("b", "a", "z"), "c": h.manifold("c", "a", "z")}
	want := `cannot install "z": cycle "z" -> "b" -> "z"`
	for range 40 {
		synctest.Test(t, func(t *testing.T) {
			engine := newTestEngine(t, nil)
			mustInstallAll(t, engine, batch)
			if err := engine.Install("z", h.manifold("z", "c", "b")); err == nil || err.Error() != want {
				t.Fatalf("Install(%q) = %v, want %s", "z", err, want)
			}
			stopEngine(t, engine, nil)
		})
	}
}

func TestInstallBatchInDependencyOrder(t *testing.T) {
	for _, bounce := range []time.Duration{0, bounceDelay} {
		t.Run(fmt.Sprintf("bounce delay %v", bounce), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := stopOnCleanup(t, dependency.NewEngine(nil, errorDelay, bounce))
				// Each needs the next, so name order is the reverse of
				// dependency order; the last one, m099, needs nothing.
				const n = 100
				name := func(i int) string { return fmt.Sprintf("m%03d", i) }
				manifolds := make(dependency.Manifolds)
				for i := range n - 1 {
					manifolds[name(i)] = h.requiring(name(i), name(i+1))
				}
				manifolds[name(n-1)] = h.requiring(name(n - 1))
				mustInstallAll(t, engine, manifolds)
				advance(n * bounce)

				attempts := 0
				for i := range n {
					attempts += h.attemptCount(name(i))
				}
				if attempts != n {
					t.Errorf("start funcs called %d times, want %d", attempts, n)
				}
				want := make(map[string]int)
				for i := range n {
					want[name(i)] = 1
				}
				h.checkLive(t, want)
				h.checkCurrent(t)
				stopEngine(t, engine, nil)
			})
		})
	}
}

// otherEngine is an Engine of another implementation: it records the
// names given to Install, and fails to install failOn.
type otherEngine struct {
	dependency.Engine
	installed []string
	failOn    string
}

var errRefused = errors.New("refused")

func (e *otherEngine) Install(name string, m dependency.Manifold) error {
	e.installed = append(e.installed, name)
	if name == e.failOn {
		return errRefused
	}
	return e.Engine.Install(name, m)
}

func TestInstallOnOtherEngineOneByOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		manifolds := dependency.Manifolds{"c": h.manifold("c", "a"), "a": h.manifold("a"), "b": h.manifold("b")}

		engine := &otherEngine{Engine: newTestEngine(t, nil)}
		if err := dependency.Install(engine, manifolds); err != nil {
			t.Errorf("Install = %v, want nil", err)
		}
		if want := []string{"a", "b", "c"}; !slices.Equal(engine.installed, want) {
			t.Errorf("Install calls: %q, want %q", engine.installed, want)
		}
		stopEngine(t, engine, nil)

		engine = &otherEngine{Engine: newTestEngine(t, nil), failOn: "b"}
		if err := dependency.Install(engine, manifolds); err != errRefused {
			t.Errorf("Install = %v, want %v", err, errRefused)
		}
		if want := []string{"a", "b"}; !slices.Equal(engine.installed, want) {
			t.Errorf("Install calls: %q, want %q", engine.installed, want)
		}
		stopEngine(t, engine, nil)
	})
}
