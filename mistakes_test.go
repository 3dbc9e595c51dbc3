package dependency_test

// A manifold that does not run says why: gated (flags_test.go), waiting for
// an input, which is quiet, or a mistake in its own code, which is loud.

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// checkLines fails t unless the lines logged at level are want, in order.
func checkLines(t *testing.T, logs *logRecorder, level string, want ...string) {
	t.Helper()
	if got := logs.at(level); !slices.Equal(got, want) {
		t.Errorf("%s lines = %q, want %q", level, got, want)
	}
}

// A start that asks for a name not among its Inputs is logged at ERROR,
// once per start, saying what to do; the report's error wraps ErrMistake.
func TestMistakeNotAnInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, logs := newHarness(), &logRecorder{}
		engine := newEngine(t, dependency.EngineConfig{Logger: logs, ErrorDelay: time.Second})
		mustInstall(t, engine, "in", h.manifold("in"))
		mustInstall(t, engine, "m", dependency.Manifold{
			Inputs: []string{"in"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				return nil, get("db", nil)
			},
		})
		synctest.Wait()
		advance(time.Second)
		h.worker("in").fail(dependency.ErrBounce) // a change: m starts again
		advance(time.Second)
		line := `"m" manifold start failed: "m" asked for "db", which is not among its Inputs (add it to Inputs): dependency not available`
		checkLines(t, logs, "ERROR", line, line)
		if err := engine.Report().Manifolds["m"].Err; !errors.Is(err, dependency.ErrMistake) || !errors.Is(err, dependency.ErrMissing) {
			t.Errorf("m Err = %v, want ErrMistake and ErrMissing", err)
		}
		stopEngine(t, engine, nil)
	})
}

// An Output that cannot give the type asked is a mistake too, naming both
// types; the request's Type is the type asked for.
func TestMistakeWrongType(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logRecorder{}
		engine := newEngine(t, dependency.EngineConfig{Logger: logs, ErrorDelay: time.Second})
		type Config struct{}
		mustInstall(t, engine, "config", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return dependency.NewWorker(func(ctx context.Context) error { <-ctx.Done(); return nil }), nil
			},
			Output: dependency.OutputOf(func(dependency.Worker) *Config { return &Config{} }),
		})
		mustInstall(t, engine, "m", dependency.Manifold{
			Inputs: []string{"config"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				_, err := dependency.Get[Config](get, "config")
				return nil, err
			},
		})
		synctest.Wait()
		checkLines(t, logs, "ERROR", `"m" manifold start failed: input gives *dependency_test.Config; asked for dependency_test.Config: dependency not available`)
		resources := engine.Report().Manifolds["m"].Resources
		if len(resources) != 1 || resources[0].Type != "dependency_test.Config" {
			t.Errorf("m Resources = %v, want one request for dependency_test.Config", resources)
		}
		stopEngine(t, engine, nil)
	})
}

// Waiting is quiet: an input not installed is logged once, at INFO, when
// the manifold is installed; an input not running, only at DEBUG.
func TestWaitingIsQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, logs := newHarness(), &logRecorder{}
		engine := newEngine(t, dependency.EngineConfig{Logger: logs, ErrorDelay: time.Second})
		mustInstall(t, engine, "m", gatedOn(h.requiring("m", "db"), "leader"))
		mustInstall(t, engine, "n", h.requiring("n", "db"))
		advance(time.Hour)
		checkLines(t, logs, "INFO",
			`"m" manifold input "db" is not installed`,
			`"m" manifold flag "leader" is not installed: gated until it is`,
			`"n" manifold input "db" is not installed`)
		checkLines(t, logs, "ERROR")
		checkLines(t, logs, "WARNING")
		stopEngine(t, engine, nil)
	})
}

// A start func that returns neither a worker nor an error is told what to
// return instead.
func TestMistakeNeitherWorkerNorError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logRecorder{}
		engine := newEngine(t, dependency.EngineConfig{Logger: logs, ErrorDelay: time.Hour})
		mustInstall(t, engine, "m", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { return nil, nil },
		})
		synctest.Wait()
		checkLines(t, logs, "ERROR", `"m" manifold start failed: start func returned neither a worker nor an error (return ErrMissing for "not now", or gate the manifold with a flag)`)
		if err := engine.Report().Manifolds["m"].Err; !errors.Is(err, dependency.ErrMistake) || !errors.Is(err, dependency.ErrInvalid) {
			t.Errorf("m Err = %v, want ErrMistake and ErrInvalid", err)
		}
		stopEngine(t, engine, nil)
	})
}

// NewWorker(nil) makes a worker that has failed at once, saying why.
func TestNewWorkerNil(t *testing.T) {
	w := dependency.NewWorker(nil)
	err := w.Wait()
	if !errors.Is(err, dependency.ErrMistake) || !strings.Contains(err.Error(), "nil run func") {
		t.Errorf("NewWorker(nil).Wait() = %v, want an ErrMistake saying run is nil", err)
	}
}

// A resource request's Type names the type asked for, not the pointer to
// it that the getter is passed.
func TestResourceRequestTypeAsAsked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := newTestEngine(t, nil)
		mustInstall(t, engine, "in", h.manifold("in"))
		mustInstall(t, engine, "m", dependency.Manifold{
			Inputs: []string{"in"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				_, err := dependency.Get[*testWorker](get, "in")
				if err != nil {
					return nil, err
				}
				return h.started("m", nil, nil)
			},
		})
		synctest.Wait()
		resources := engine.Report().Manifolds["m"].Resources
		if len(resources) != 1 || resources[0].Type != "*dependency_test.testWorker" || resources[0].Err != nil {
			t.Errorf("m Resources = %v, want one request for *dependency_test.testWorker", resources)
		}
		stopEngine(t, engine, nil)
	})
}
