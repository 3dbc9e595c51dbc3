package dependency

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// recordHandler is a slog.Handler that keeps the records at or above its
// level.
type recordHandler struct {
	level   slog.Level
	mu      sync.Mutex
	records []slog.Record
}

func (h *recordHandler) Enabled(_ context.Context, level slog.Level) bool { return level >= h.level }

func (h *recordHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	return nil
}

func (h *recordHandler) WithAttrs([]slog.Attr) slog.Handler { panic("not used by SlogLogger") }
func (h *recordHandler) WithGroup(string) slog.Handler      { panic("not used by SlogLogger") }

// line is what a test checks of a record.
type line struct {
	level slog.Level
	msg   string
	attrs string // key=value pairs, space separated
}

func (h *recordHandler) lines() []line {
	h.mu.Lock()
	defer h.mu.Unlock()
	var lines []line
	for _, r := range h.records {
		var attrs []string
		r.Attrs(func(a slog.Attr) bool {
			attrs = append(attrs, a.String())
			return true
		})
		lines = append(lines, line{r.Level, r.Message, strings.Join(attrs, " ")})
	}
	return lines
}

func TestSlogLoggerLevels(t *testing.T) {
	h := &recordHandler{level: slog.LevelDebug}
	l := SlogLogger(slog.New(h))
	l.Debugf("%q manifold started", "a")
	l.Infof("%q manifold uninstalled", "b")
	l.Warningf("%d workers left", 2)
	l.Errorf("%q manifold start failed: %v", "c", "refused")
	l.(manifoldLogger).logManifold(slog.LevelError, "db", "start failed: refused")

	want := []line{
		{slog.LevelDebug, `"a" manifold started`, ""},
		{slog.LevelInfo, `"b" manifold uninstalled`, ""},
		{slog.LevelWarn, "2 workers left", ""},
		{slog.LevelError, `"c" manifold start failed: refused`, ""},
		{slog.LevelError, "start failed: refused", "manifold=db"},
	}
	got := h.lines()
	if len(got) != len(want) {
		t.Fatalf("records = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// countingStringer counts how often it was formatted.
type countingStringer struct{ calls *int }

func (s countingStringer) String() string {
	*s.calls++
	return "formatted"
}

func TestSlogLoggerBelowLevel(t *testing.T) {
	h := &recordHandler{level: slog.LevelWarn}
	l := SlogLogger(slog.New(h))
	var calls int
	l.Debugf("%v", countingStringer{&calls})
	l.Infof("%v", countingStringer{&calls})
	l.(manifoldLogger).logManifold(slog.LevelInfo, "db", "started")
	l.Warningf("%v", countingStringer{&calls})

	if got := h.lines(); len(got) != 1 || got[0].msg != "formatted" {
		t.Errorf("records = %v, want only the WARN line", got)
	}
	if calls != 1 {
		t.Errorf("lines formatted = %d, want 1", calls)
	}
}

func TestSlogLoggerIsDebugEnabled(t *testing.T) {
	for level, want := range map[slog.Level]bool{slog.LevelDebug: true, slog.LevelInfo: false} {
		l := SlogLogger(slog.New(&recordHandler{level: level})).(interface{ IsDebugEnabled() bool })
		if got := l.IsDebugEnabled(); got != want {
			t.Errorf("IsDebugEnabled() at handler level %v = %v, want %v", level, got, want)
		}
	}
}

func TestSlogLoggerJSON(t *testing.T) {
	var buf bytes.Buffer
	l := SlogLogger(slog.New(slog.NewJSONHandler(&buf, nil)))
	l.(manifoldLogger).logManifold(slog.LevelWarn, "api", "worker failed 3 more times")

	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("json.Unmarshal(%q) = %v, want nil", buf.String(), err)
	}
	want := map[string]any{"level": "WARN", "msg": "worker failed 3 more times", "manifold": "api"}
	for key, value := range want {
		if got[key] != value {
			t.Errorf("record[%q] = %v, want %v; record %s", key, got[key], value, buf.String())
		}
	}
}

func TestSlogLoggerNilIsDefault(t *testing.T) {
	h := &recordHandler{level: slog.LevelInfo}
	// SetDefault also redirects package log, which setting the old
	// default back does not undo.
	defer func(l *slog.Logger, w io.Writer, flags int) {
		slog.SetDefault(l)
		log.SetOutput(w)
		log.SetFlags(flags)
	}(slog.Default(), log.Writer(), log.Flags())
	l := SlogLogger(nil) // the default is read when a line is written
	slog.SetDefault(slog.New(h))
	l.Infof("%s", "hello")

	if got := h.lines(); len(got) != 1 || got[0].msg != "hello" {
		t.Errorf("records of the default logger = %v, want one saying hello", got)
	}
}
