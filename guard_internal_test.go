package dependency

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// panickyLogger panics on every line.
type panickyLogger struct{}

func (panickyLogger) Debugf(string, ...any)   { panic("no debug") }
func (panickyLogger) Infof(string, ...any)    { panic("no info") }
func (panickyLogger) Warningf(string, ...any) { panic("no warning") }
func (panickyLogger) Errorf(string, ...any)   { panic("no error") }

// A Logger that panics on every line is reported once through the
// fallback, however many lines it loses.
func TestLoggerPanicFallsBackOnce(t *testing.T) {
	var fallback bytes.Buffer
	fallbackLog = &fallback
	defer func() { fallbackLog = os.Stderr }()
	synctest.Test(t, func(t *testing.T) {
		e, err := New(EngineConfig{Logger: panickyLogger{}, ErrorDelay: time.Second})
		if err != nil {
			t.Fatalf("New() = %v, want nil", err)
		}
		failing := Manifold{Start: func(GetResourceFunc) (Worker, error) { return nil, errTest }}
		if err := e.Install("a", failing); err != nil {
			t.Fatalf(`Install("a") = %v, want nil`, err)
		}
		time.Sleep(5 * time.Second) // five failures, each an ERROR line lost
		e.Kill()
		if err := e.Wait(); err != nil {
			t.Fatalf("Wait() = %v, want nil", err)
		}
	})
	lines := strings.Split(strings.TrimSpace(fallback.String()), "\n")
	want := "dependency: the engine's Logger panicked (no debug); the lines it panics on are lost"
	if len(lines) != 1 || lines[0] != want {
		t.Errorf("fallback log = %q, want one line %q", fallback.String(), want)
	}
}

var errTest = errorString("test failure")

type errorString string

func (s errorString) Error() string { return string(s) }
