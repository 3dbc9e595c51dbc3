package dependency_test

// What the engine does with the errors workers and starts return: fatal
// errors, the choice between them, filters, and the ErrUninstall and
// ErrBounce requests.

import (
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

func TestFatalErrorStopsEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, isFatal)
		mustInstallAll(t, engine, dependency.Manifolds{
			"a": h.manifold("a"),
			"b": h.manifold("b", "a"),
			"c": h.manifold("c", "b"),
			"d": h.manifold("d"),
		})
		advance(time.Hour)
		h.checkLive(t, map[string]int{"a": 1, "b": 1, "c": 1, "d": 1})

		h.worker("b").fail(errFatal)
		if err := engine.Wait(); err != errFatal {
			t.Errorf("Wait() = %v, want %v", err, errFatal)
		}
		if n := h.liveCount(); n != 0 {
			t.Errorf("%d workers alive after Wait, want 0", n)
		}
		report := engine.Report()
		if report.State != dependency.StateStopped || report.Err != errFatal {
			t.Errorf("Report() = %v, %v, want %v, %v", report.State, report.Err, dependency.StateStopped, errFatal)
		}
		h.checkAttempts(t, map[string]int{"a": 1, "b": 1, "c": 1, "d": 1})
	})
}

func TestFirstFatalErrorWins(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		errFirst := fmt.Errorf("first: %w", errFatal)
		errLater := fmt.Errorf("later: %w", errFatal)
		var asked record[error]
		engine := newTestEngine(t, func(err error) bool {
			asked.add(err)
			return isFatal(err)
		})
		mustInstall(t, engine, "a", h.manifold("a"))
		// b fails fatally when the engine stops it.
		mustInstall(t, engine, "b", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return newFuncWorker(func(dying <-chan struct{}) error {
					<-dying
					return errLater
				}), nil
			},
		})
		synctest.Wait()

		h.worker("a").fail(errFirst)
		if err := engine.Wait(); err != errFirst {
			t.Errorf("Wait() = %v, want %v", err, errFirst)
		}
		got := asked.all()
		if len(got) != 2 || got[0] != errFirst || got[1] != errLater {
			t.Errorf("isFatal asked about %v, want [%v %v]", got, errFirst, errLater)
		}
	})
}

func TestWorstError(t *testing.T) {
	errFirst, errSecond := errors.New("first"), errors.New("second")
	for _, tc := range []struct {
		name  string
		worst dependency.WorstErrorFunc
		want  error
	}{
		{"first wins", nil, errFirst},
		{"chosen", func(err0, err1 error) error {
			if err0 != errFirst || err1 != errSecond {
				return fmt.Errorf("WorstError(%v, %v), want (first, second)", err0, err1)
			}
			return err1
		}, errSecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{
					IsFatal:    func(err error) bool { return err != nil },
					WorstError: tc.worst,
				})
				h.ignoreKill("b")
				mustInstall(t, engine, "a", h.manifold("a"))
				mustInstall(t, engine, "b", h.manifold("b"))
				synctest.Wait()
				h.worker("a").fail(errFirst)
				synctest.Wait()
				h.worker("b").fail(errSecond)
				if err := engine.Wait(); err != tc.want {
					t.Errorf("Wait() = %v, want %v", err, tc.want)
				}
			})
		})
	}
}

// A panic in IsFatal counts the error as fatal, and one in WorstError keeps
// the first fatal error: neither crashes the process.
func TestPanickingIsFatalAndWorstError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		var log logRecorder
		engine := newEngine(t, dependency.EngineConfig{
			IsFatal:    func(err error) bool { panic("no opinion") },
			WorstError: func(err0, err1 error) error { panic("no choice") },
			Logger:     &log,
		})
		h.ignoreKill("b") // so that it fails after the engine began to stop
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", h.manifold("b"))
		synctest.Wait()
		first, second := errors.New("first"), errors.New("second")
		h.worker("a").fail(first)
		synctest.Wait()
		h.worker("b").fail(second)
		if err := engine.Wait(); err != first {
			t.Errorf("Wait() = %v, want %v", err, first)
		}
		if lines := log.errorsNaming("panicked"); len(lines) != 3 {
			t.Errorf("ERROR lines naming the panics = %q, want 3 (IsFatal twice, WorstError once)", lines)
		}
	})
}

func TestEngineFilter(t *testing.T) {
	for _, tc := range []struct {
		name   string
		filter dependency.FilterFunc
		stop   func(h *harness, engine dependency.Engine)
		want   string // Wait's error; "" for nil
		calls  int
	}{
		{
			name:   "wraps the fatal error",
			filter: func(err error) error { return fmt.Errorf("engine: %w", err) },
			stop:   func(h *harness, engine dependency.Engine) { h.worker("a").fail(errFailed) },
			want:   "engine: worker failed",
			calls:  1,
		}, {
			name:   "drops the fatal error",
			filter: func(err error) error { return nil },
			stop:   func(h *harness, engine dependency.Engine) { h.worker("a").fail(errFailed) },
			calls:  1,
		}, {
			name:   "not called without an error",
			filter: func(err error) error { return fmt.Errorf("engine: %w", err) },
			stop:   func(h *harness, engine dependency.Engine) { engine.Kill() },
			calls:  0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				calls := 0
				engine := newEngine(t, dependency.EngineConfig{
					IsFatal: func(err error) bool { return errors.Is(err, errFailed) },
					Filter: func(err error) error {
						calls++
						return tc.filter(err)
					},
				})
				mustInstall(t, engine, "a", h.manifold("a"))
				synctest.Wait()
				tc.stop(h, engine)
				err := engine.Wait()
				switch {
				case tc.want == "" && err != nil,
					tc.want != "" && (err == nil || err.Error() != tc.want || !errors.Is(err, errFailed)):
					t.Errorf("Wait() = %v, want %q", err, tc.want)
				}
				if calls != tc.calls {
					t.Errorf("Filter called %d times, want %d", calls, tc.calls)
				}
				if got := engine.Report().Err; !errors.Is(got, err) {
					t.Errorf("Report().Err = %v, want %v", got, err)
				}
			})
		})
	}
}

func TestEngineFilterPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newEngine(t, dependency.EngineConfig{
			IsFatal: func(err error) bool { return errors.Is(err, errFailed) },
			Filter:  func(err error) error { panic("filter broke") },
		})
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		h.worker("a").fail(errFailed)
		var panicked *dependency.PanicError
		if err := engine.Wait(); !errors.As(err, &panicked) || panicked.Value != "filter broke" {
			t.Errorf("Wait() = %v, want the filter's panic as a *PanicError", err)
		}
	})
}

func TestManifoldFilterDropsStartError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		var log eventLog
		engine := newEngine(t, dependency.EngineConfig{ErrorDelay: time.Second, BounceDelay: time.Second, Observer: log.observe})
		a := h.manifold("a")
		a.Filter = func(error) error { return nil }
		h.failStart("a", alwaysFail)
		mustInstallAll(t, engine, dependency.Manifolds{
			"a": a,
			"b": h.manifold("b", "a"),
		})
		advance(time.Hour)
		if started := log.of("a", dependency.EventStarted); len(started) != 0 {
			t.Errorf("a started %d times, want never: its start failed", len(started))
		}
		for _, ev := range log.of("a", dependency.EventStopped) {
			if ev.Err != nil {
				t.Errorf("a stopped with %v, want nil: the filter dropped its error", ev.Err)
			}
		}
		if got := h.attemptCount("a"); got != 1 {
			t.Errorf("start calls of a = %d, want 1: a filtered start error is a completion", got)
		}
		if got := h.startCount("b"); got != 1 {
			t.Errorf("starts of b = %d, want 1: a never ran, so b was not bounced", got)
		}
		if r := engine.Report().Manifolds["a"]; r.State != dependency.StateStopped || r.Err != nil {
			t.Errorf("Report() of a = %v, %v; want stopped, no error", r.State, r.Err)
		}
		stopEngine(t, engine, nil)
	})
}

// requestCases return ErrBounce or ErrUninstall from manifold "a", wrapped,
// in each way the engine must recognise.
var requestCases = []struct {
	name     string
	manifold func(h *harness, request error) dependency.Manifold
	request  func(h *harness, request error) // once "a" has started, or tried to
}{
	{
		name:     "from the worker",
		manifold: func(h *harness, request error) dependency.Manifold { return h.manifold("a") },
		request: func(h *harness, request error) {
			h.worker("a").fail(fmt.Errorf("worker says: %w", request))
		},
	}, {
		name: "from the start",
		manifold: func(h *harness, request error) dependency.Manifold {
			h.failStart("a", func() error { return fmt.Errorf("start says: %w", request) })
			return h.manifold("a")
		},
		request: func(h *harness, request error) {},
	}, {
		name: "from Manifold.Filter",
		manifold: func(h *harness, request error) dependency.Manifold {
			m := h.manifold("a")
			m.Filter = func(err error) error {
				if errors.Is(err, errFailed) {
					return fmt.Errorf("filter says %v: %w", err, request)
				}
				return err
			}
			return m
		},
		request: func(h *harness, request error) { h.worker("a").fail(errFailed) },
	},
}

func TestErrUninstallRemovesManifold(t *testing.T) {
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{ErrorDelay: time.Second})
				mustInstall(t, engine, "a", tc.manifold(h, dependency.ErrUninstall))
				mustInstall(t, engine, "b", h.manifold("b", "a"))
				synctest.Wait()
				tc.request(h, dependency.ErrUninstall)
				advance(time.Hour)
				if _, ok := engine.Report().Manifolds["a"]; ok {
					t.Errorf("Report() lists a after it returned ErrUninstall")
				}
				if got := h.attemptCount("a"); got != 1 {
					t.Errorf("start calls of a = %d, want 1", got)
				}
				if b := h.worker("b"); b == nil || b.inputs["a"] != nil {
					t.Errorf("b = %+v, want running without a", b)
				}
				if err := engine.Uninstall("a"); !errors.Is(err, dependency.ErrNotInstalled) {
					t.Errorf(`Uninstall("a") = %v, want ErrNotInstalled`, err)
				}
				stopEngine(t, engine, nil)
			})
		})
	}
}

func TestErrBounceRestartsAfterBounceDelay(t *testing.T) {
	for _, tc := range requestCases {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness()
				engine := newEngine(t, dependency.EngineConfig{ErrorDelay: 10 * time.Second, BounceDelay: 3 * time.Second})
				mustInstall(t, engine, "a", tc.manifold(h, dependency.ErrBounce))
				synctest.Wait()
				tc.request(h, dependency.ErrBounce)
				expectAttemptAfter(t, h, "a", 3*time.Second)
				stopEngine(t, engine, nil)
			})
		})
	}
}
