package dependency_test

// Misbehaving user code never crashes the engine: a Logger that panics, error
// values whose methods panic, a caller that reuses the Inputs slice it
// installed, and code that calls runtime.Goexit on a start goroutine.

import (
	"errors"
	"runtime"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// panicLogger is a Logger whose chosen methods panic; the others drop the
// line.
type panicLogger struct {
	debug, info, warning, error bool
}

func (l panicLogger) Debugf(string, ...any)   { panicIf(l.debug, "Debugf") }
func (l panicLogger) Infof(string, ...any)    { panicIf(l.info, "Infof") }
func (l panicLogger) Warningf(string, ...any) { panicIf(l.warning, "Warningf") }
func (l panicLogger) Errorf(string, ...any)   { panicIf(l.error, "Errorf") }

func panicIf(yes bool, method string) {
	if yes {
		panic(method + " panicked on purpose")
	}
}

// A Logger that panics loses its lines and nothing else: a failing manifold
// is restarted after its error delay and its failures are counted (the
// backoff grows), Uninstall works and bounces the dependents, and Wait
// returns nil. (That the engine says so once on standard error is held by
// TestLoggerPanicFallsBackOnce.)
func TestGuardLoggerPanics(t *testing.T) {
	for _, test := range []struct {
		about    string
		logger   panicLogger
		observer func(dependency.Event)
	}{
		{about: "Debugf panics", logger: panicLogger{debug: true}},
		{about: "Infof panics", logger: panicLogger{info: true}},
		{about: "Errorf panics", logger: panicLogger{error: true}},
		{about: "every method panics", logger: panicLogger{true, true, true, true}},
		{
			about:    "Errorf panics while an Observer panic is logged",
			logger:   panicLogger{error: true},
			observer: func(dependency.Event) { panic("observer panicked on purpose") },
		},
	} {
		t.Run(test.about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				h.failStart("f", alwaysFail)
				engine := stopOnCleanup(t, newEngine(t, dependency.EngineConfig{
					ErrorDelay:    time.Second,
					BackoffFactor: 2,
					BounceDelay:   bounceDelay,
					Logger:        test.logger,
					Observer:      test.observer,
				}))
				mustInstallAll(t, engine, dependency.Manifolds{
					"a": h.manifold("a"),
					"d": h.manifold("d", "a"),
					"f": h.manifold("f"),
				})
				expectAttemptAfter(t, h, "f", time.Second)
				h.checkLive(t, map[string]int{"a": 1, "d": 1, "f": 0}) // d waited out its bounce delay
				expectAttemptAfter(t, h, "f", 2*time.Second)           // counted: the second failure waits twice as long
				if got := engine.Report().Manifolds["f"].Err; !errors.Is(got, errFailed) {
					t.Errorf("f: Err %v, want errFailed", got)
				}

				mustUninstall(t, engine, "a")
				advance(bounceDelay)
				h.checkLive(t, map[string]int{"a": 0, "d": 2})
				h.checkCurrent(t)
				report := engine.Report()
				if _, ok := report.Manifolds["a"]; ok {
					t.Errorf("a: in Report after Uninstall")
				}
				if got := report.Manifolds["d"].Missing; !slices.Equal(got, []string{"a"}) {
					t.Errorf("d: Missing %q, want [\"a\"]", got)
				}
				stopEngine(t, engine, nil)
			})
		})
	}
}

// A Logger that panics in the line that reports a recovered panic of
// IsFatal or WorstError: the rules of those panics hold all the same. A
// panicking IsFatal counts as fatal, and a panicking WorstError keeps the
// first fatal error.
func TestGuardLoggerPanicsReportingPanics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		errB := errors.New("b stopped")
		engine := stopOnCleanup(t, newEngine(t, dependency.EngineConfig{
			IsFatal:    func(error) bool { panic("IsFatal panicked on purpose") },
			WorstError: func(error, error) error { panic("WorstError panicked on purpose") },
			Logger:     panicLogger{error: true},
		}))
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return newFuncWorker(func(dying <-chan struct{}) error {
					<-dying
					return errB // fatal too, when the engine stops it
				}), nil
			},
		})
		synctest.Wait()
		h.worker("a").fail(errFailed)
		synctest.Wait()
		if got := engine.Report().State; got == dependency.StateStarted {
			t.Errorf("engine State %v after IsFatal panicked, want it stopping or stopped", got)
		}
		if err := engine.Wait(); !errors.Is(err, errFailed) || errors.Is(err, errB) {
			t.Errorf("Wait() = %v, want %v alone, the first fatal error", err, errFailed)
		}
	})
}

// An error whose Is, As or Unwrap (or Error) method panics, returned by a
// start func or by a worker's Wait, makes that stop a failure: it is
// restarted after the error delay, counted (the backoff grows), and its
// Report shows an error. The engine goes on serving, and Wait returns nil.
func TestGuardErrorMethodsPanic(t *testing.T) {
	for _, hostile := range hostileErrors {
		for _, from := range []string{"start", "worker"} {
			t.Run(hostile.method+" panics, from the "+from, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					h := newHarness()
					engine := stopOnCleanup(t, newEngine(t, dependency.EngineConfig{
						ErrorDelay:    time.Second,
						BackoffFactor: 2,
					}))
					fail := func() { h.worker("h").fail(hostile.err) }
					if from == "start" {
						h.failStart("h", func() error { return hostile.err })
						fail = func() {}
					}
					mustInstall(t, engine, "h", h.manifold("h"))
					synctest.Wait()
					fail()
					synctest.Wait()
					report := engine.Report().Manifolds["h"]
					if !errors.Is(report.Err, dependency.ErrPanic) {
						t.Errorf("h: Err %v after its %s returned an error whose %s panics, want one wrapping ErrPanic", report.Err, from, hostile.method)
					}
					if report.State != dependency.StateStarting {
						t.Errorf("h: State %v, want starting: a failure is restarted", report.State)
					}
					expectAttemptAfter(t, h, "h", time.Second)
					synctest.Wait()
					fail()
					expectAttemptAfter(t, h, "h", 2*time.Second) // counted: the second failure waits twice as long

					mustInstall(t, engine, "other", h.manifold("other"))
					synctest.Wait()
					h.checkLive(t, map[string]int{"other": 1})
					stopEngine(t, engine, nil)
				})
			})
		}
	}
}

// An error whose methods panic never reaches IsFatal, WorstError or Filter
// funcs: they get the *PanicError in its place, which they may ask what
// they like. So an IsFatal that asks errors.Is and errors.As about it does
// not panic, finds it not fatal, and Wait returns nil.
func TestGuardErrorMethodsPanicFatal(t *testing.T) {
	asksIs := func(err error) bool {
		var p *dependency.PanicError
		return errors.Is(err, errFatal) || errors.As(err, &p) && p.Value == "never"
	}
	for _, hostile := range hostileErrors {
		t.Run(hostile.method+" panics, IsFatal asks errors.Is", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := stopOnCleanup(t, newEngine(t, dependency.EngineConfig{
					IsFatal: asksIs,
					Filter: func(err error) error {
						asksIs(err)
						return err
					},
					ErrorDelay: time.Second,
				}))
				mustInstall(t, engine, "h", h.manifold("h"))
				synctest.Wait()
				h.worker("h").fail(hostile.err)
				advance(time.Second)
				engine.Kill()
				if err := engine.Wait(); err != nil {
					t.Errorf("Wait() = %v, want nil: IsFatal got a readable error, and it is not fatal", err)
				}
				checkStopped(t, engine, h)
			})
		})
		t.Run(hostile.method+" panics, WorstError asks errors.Is", func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := stopOnCleanup(t, newEngine(t, dependency.EngineConfig{
					IsFatal: func(error) bool { return true },
					WorstError: func(err0, err1 error) error {
						if asksIs(err1) {
							return err1
						}
						return err0
					},
				}))
				mustInstall(t, engine, "h", h.manifold("h"))
				mustInstall(t, engine, "also", dependency.Manifold{
					Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
						return newFuncWorker(func(dying <-chan struct{}) error {
							<-dying
							return hostile.err // a second fatal error, as the engine stops
						}), nil
					},
				})
				synctest.Wait()
				h.worker("h").fail(hostile.err)
				synctest.Wait()
				if err := engine.Wait(); err == nil {
					t.Errorf("Wait() = nil, want a fatal error: IsFatal says every error is")
				}
				checkStopped(t, engine, h)
			})
		})
	}
}

// checkStopped fails t unless the engine, whose Wait has returned, reports
// itself and every manifold stopped, and no worker of h is alive.
func checkStopped(t *testing.T, engine dependency.Engine, h *harness) {
	t.Helper()
	report := engine.Report()
	if report.State != dependency.StateStopped {
		t.Errorf("engine State after Wait %v, want stopped", report.State)
	}
	for name, m := range report.Manifolds {
		if m.State != dependency.StateStopped {
			t.Errorf("%q: State after Wait %v, want stopped", name, m.State)
		}
	}
	if n := h.liveCount(); n != 0 {
		t.Errorf("%d workers alive after Wait, want 0", n)
	}
}

// Install keeps its own copy of the Inputs slice: a caller that reuses its
// buffer afterwards changes neither what Report and DOT say the inputs are
// nor what the engine runs on.
func TestGuardInstallCopiesInputs(t *testing.T) {
	for _, batch := range []bool{false, true} {
		about := "Install"
		if batch {
			about = "Install of a batch"
		}
		t.Run(about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newTestEngine(t, nil)
				inputs := []string{"a"}
				b := h.manifold("b", "a")
				b.Inputs = inputs // the caller's buffer, not the harness's
				if batch {
					mustInstallAll(t, engine, dependency.Manifolds{"b": b})
				} else {
					mustInstall(t, engine, "b", b)
				}
				inputs[0] = "zzz"
				synctest.Wait()
				checkInputs(t, engine, []string{"a"}, []dotEdge{{"a", "b", "dashed"}})

				mustInstall(t, engine, "a", h.manifold("a"))
				advance(bounceDelay)
				h.checkLive(t, map[string]int{"a": 1, "b": 2})
				h.checkCurrent(t)
				checkInputs(t, engine, nil, []dotEdge{{"a", "b", ""}})
				stopEngine(t, engine, nil)
			})
		})
	}
}

// checkInputs fails t unless Report says b's Inputs are ["a"] and its
// Missing inputs are missing, and the DOT picture draws exactly edges.
func checkInputs(t *testing.T, engine dependency.Engine, missing []string, edges []dotEdge) {
	t.Helper()
	report := engine.Report()
	b := report.Manifolds["b"]
	if !slices.Equal(b.Inputs, []string{"a"}) {
		t.Errorf("b: Inputs %q, want [\"a\"]", b.Inputs)
	}
	if !slices.Equal(b.Missing, missing) {
		t.Errorf("b: Missing %q, want %q", b.Missing, missing)
	}
	dot := report.DOT()
	g, err := parseDOT(dot)
	if err != nil {
		t.Fatalf("parsing DOT(): %v\n%s", err, dot)
	}
	if !slices.Equal(g.edges, edges) {
		t.Errorf("DOT() edges = %v, want %v", g.edges, edges)
	}
}

// A start func, an Output func or a worker's Wait that calls runtime.Goexit
// (as t.FailNow does) ends that start or worker with a failure whose error
// wraps ErrPanic: it is restarted after the error delay, and Kill and Wait
// return, with no StopTimeout set.
func TestGuardGoexit(t *testing.T) {
	for _, test := range []struct {
		about   string
		install func(h *harness) dependency.Manifolds
		failing string // the manifold whose start or worker calls Goexit
	}{{
		about: "start func",
		install: func(h *harness) dependency.Manifolds {
			return dependency.Manifolds{"g": {
				Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
					h.attempted("g")
					runtime.Goexit()
					return nil, nil
				},
			}}
		},
		failing: "g",
	}, {
		about: "Output func",
		install: func(h *harness) dependency.Manifolds {
			a := h.manifold("a")
			a.Output = func(dependency.Worker, any) error {
				runtime.Goexit()
				return nil
			}
			return dependency.Manifolds{"a": a, "g": h.manifold("g", "a")}
		},
		failing: "g",
	}, {
		about: "worker Wait",
		install: func(h *harness) dependency.Manifolds {
			return dependency.Manifolds{
				"g": {
					Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
						h.attempted("g")
						return &badWorker{kill: func() {}, wait: func() error { runtime.Goexit(); return nil }}, nil
					},
				},
				// Its worker's Wait calls Goexit only once the worker is killed.
				"onkill": {
					Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
						killed := make(chan struct{})
						return &badWorker{
							kill: func() { close(killed) },
							wait: func() error { <-killed; runtime.Goexit(); return nil },
						}, nil
					},
				},
			}
		},
		failing: "g",
	}, {
		about: "error method",
		install: func(h *harness) dependency.Manifolds {
			return dependency.Manifolds{"g": {
				Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
					h.attempted("g")
					return nil, &isGoexits{}
				},
			}}
		},
		failing: "g",
	}} {
		t.Run(test.about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{ErrorDelay: errorDelay})
				mustInstallAll(t, engine, test.install(h))
				synctest.Wait()
				if got := engine.Report().Manifolds[test.failing].Err; !errors.Is(got, dependency.ErrPanic) {
					t.Errorf("%q: Err %v, want an error wrapping ErrPanic", test.failing, got)
				}
				// Not expectAttemptAfter, which stops the test: the check of
				// Kill and Wait below must be reached too.
				advance(errorDelay)
				if got := h.attemptCount(test.failing); got != 2 {
					t.Errorf("start calls of %q after the error delay = %d, want 2", test.failing, got)
				}

				waited := killInBackground(engine)
				synctest.Wait() // the fake clock stands still: no timeout can help
				select {
				case err := <-waited:
					if err != nil {
						t.Errorf("Wait() = %v, want nil", err)
					}
				default:
					t.Fatalf("Wait() has not returned after Kill, with nothing left to stop and no StopTimeout set")
				}
			})
		})
	}
}

// isGoexits is an error whose Is method ends its goroutine.
type isGoexits struct{}

func (*isGoexits) Error() string { return "Is calls runtime.Goexit" }
func (*isGoexits) Is(error) bool { runtime.Goexit(); return false }

// A start func that returns a worker with its error is a failed start,
// and the engine kills that worker, which nothing else knows of.
func TestStartReturnsWorkerAndError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := newEngine(t, dependency.EngineConfig{ErrorDelay: time.Hour})
		killed := make(chan struct{})
		w := &badWorker{kill: func() { close(killed) }, wait: func() error { <-killed; return nil }}
		mustInstall(t, engine, "both", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { return w, errFailed },
		})
		synctest.Wait()
		select {
		case <-killed:
		default:
			t.Errorf("the worker a failed start returned was not killed")
			close(killed) // so that the test ends
		}
		if got := engine.Report().Manifolds["both"].Err; !errors.Is(got, errFailed) {
			t.Errorf("both: Err %v, want errFailed", got)
		}
		stopEngine(t, engine, nil)
	})
}
