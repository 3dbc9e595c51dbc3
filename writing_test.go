package dependency_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

// A manifold failing over and over, restarted at once each time, writes its
// first failure at once and then at most one ERROR line a second, each
// counting the failures it stands for; the Observer and Report still see
// every failure.
func TestFailureLogsLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logRecorder{}
		var stops int
		engine := newEngine(t, dependency.EngineConfig{
			BackoffFactor: 1, // no error delay
			Logger:        logs,
			Observer: func(ev dependency.Event) {
				if ev.Kind == dependency.EventStopped {
					stops++
				}
			},
		})
		attempts := 0
		mustInstall(t, engine, "db", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				attempts++
				if attempts > 10_000 {
					return newIdleWorker(), nil
				}
				time.Sleep(time.Millisecond) // one failure a millisecond of fake time
				return nil, errors.New("connection refused")
			},
		})
		time.Sleep(11 * time.Second)
		synctest.Wait()
		want := []string{`"db" manifold start failed: connection refused`}
		for range 9 {
			want = append(want, `"db" manifold failed 1,000 more times: connection refused`)
		}
		// The failures after the last line are logged when it starts.
		want = append(want, `"db" manifold failed 999 more times before it started: connection refused`)
		if got := logs.errorLines(); !slices.Equal(got, want) {
			t.Errorf("ERROR lines = %q, want %q", got, want)
		}
		if stops != 10_000 {
			t.Errorf("Observer saw %d stops, want 10,000", stops)
		}
		if got := engine.Report().Manifolds["db"].StartCount; got != 1 {
			t.Errorf("db StartCount = %d, want 1", got)
		}
		stopEngine(t, engine, nil)
	})
}

// A failure more than a second after the last logged one is logged as it
// is, with no count.
func TestFailureLogAfterQuiet(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logRecorder{}
		engine := newEngine(t, dependency.EngineConfig{Logger: logs, ErrorDelay: 2 * time.Second})
		mustInstall(t, engine, "db", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return nil, errors.New("refused")
			},
		})
		time.Sleep(5 * time.Second) // failures at 0, 2 and 4 seconds
		synctest.Wait()
		want := slices.Repeat([]string{`"db" manifold start failed: refused`}, 3)
		if got := logs.errorLines(); !slices.Equal(got, want) {
			t.Errorf("ERROR lines = %q, want %q", got, want)
		}
		stopEngine(t, engine, nil)
	})
}

// A start that returns the getter's ErrMissing is reported, and logged,
// with the reason, while errors.Is still finds ErrMissing.
func TestStartErrMissingCarriesReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &logRecorder{}
		engine := newEngine(t, dependency.EngineConfig{Logger: logs})
		var got error
		mustInstall(t, engine, "web", dependency.Manifold{
			Inputs: []string{"auth"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				got = get("auth", nil)
				return nil, got
			},
		})
		synctest.Wait()
		if got != dependency.ErrMissing {
			t.Fatalf(`get("auth", nil) = %v, want ErrMissing itself`, got)
		}
		err := engine.Report().Manifolds["web"].Err
		want := `input "auth" not running: dependency not available`
		if err == nil || err.Error() != want || !errors.Is(err, dependency.ErrMissing) {
			t.Errorf("web's Err = %v, want %q matching ErrMissing", err, want)
		}
		line := `"web" manifold missing a dependency: ` + want
		if !slices.ContainsFunc(logs.take(), func(l logLine) bool { return l.level == "DEBUG" && l.text == line }) {
			t.Errorf("no DEBUG line %q", line)
		}
		stopEngine(t, engine, nil)
	})
}

// A fatal error's line says whether the start failed or the worker did.
func TestFatalLogSaysStartOrWorker(t *testing.T) {
	for _, test := range []struct {
		about string
		start func() (dependency.Worker, error)
		want  string
	}{{
		about: "start",
		start: func() (dependency.Worker, error) { return nil, errFatal },
		want:  `"m" manifold start returned fatal error: ` + errFatal.Error(),
	}, {
		about: "worker",
		start: func() (dependency.Worker, error) {
			w := newIdleWorker()
			w.stop(errFatal)
			return w, nil
		},
		want: `"m" manifold worker returned fatal error: ` + errFatal.Error(),
	}} {
		t.Run(test.about, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				logs := &logRecorder{}
				engine := newEngine(t, dependency.EngineConfig{Logger: logs, IsFatal: isFatal})
				mustInstall(t, engine, "m", dependency.Manifold{
					Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { return test.start() },
				})
				if err := engine.Wait(); !errors.Is(err, errFatal) {
					t.Fatalf("Wait() = %v, want errFatal", err)
				}
				if got := logs.errorLines(); !slices.Contains(got, test.want) {
					t.Errorf("ERROR lines = %q, want one %q", got, test.want)
				}
			})
		})
	}
}

// Through SlogLogger, a line about a manifold carries its name as the
// attribute "manifold".
func TestSlogLoggerThroughEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		logger := slog.New(slog.NewJSONHandler(&out, nil))
		engine := newEngine(t, dependency.EngineConfig{Logger: dependency.SlogLogger(logger), ErrorDelay: time.Hour})
		mustInstall(t, engine, "db", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { return nil, errors.New("refused") },
		})
		synctest.Wait()
		stopEngine(t, engine, nil)
		var record struct {
			Level, Msg, Manifold string
		}
		if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &record); err != nil {
			t.Fatalf("log = %q, want one JSON record: %v", out.String(), err)
		}
		if record.Level != "ERROR" || record.Msg != `"db" manifold start failed: refused` || record.Manifold != "db" {
			t.Errorf("record = %+v, want an ERROR about db with manifold=db", record)
		}
	})
}

// The line that says a manifold restarted too often, and so stops the
// engine, carries the manifold's name as the attribute "manifold" too.
func TestTooManyRestartsLineNamesManifold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var out bytes.Buffer
		logger := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelError}))
		engine := newEngine(t, dependency.EngineConfig{
			Logger:        dependency.SlogLogger(logger),
			ErrorDelay:    time.Second,
			MaxRestarts:   1,
			RestartPeriod: time.Minute,
		})
		mustInstall(t, engine, "db", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { return nil, errors.New("refused") },
		})
		advance(time.Minute)
		if err := engine.Wait(); !errors.Is(err, dependency.ErrTooManyRestarts) {
			t.Fatalf("Wait() = %v, want ErrTooManyRestarts", err)
		}
		found := false
		for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
			var record struct{ Msg, Manifold string }
			if err := json.Unmarshal(line, &record); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			if strings.Contains(record.Msg, "stopping the engine") {
				found = true
				if record.Manifold != "db" {
					t.Errorf("record = %+v, want manifold=db", record)
				}
			}
		}
		if !found {
			t.Errorf("log = %q, want a line that says the engine stops", out.String())
		}
	})
}
