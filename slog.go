package dependency

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// SlogLogger returns a Logger that writes the engine's lines to l, at
// slog.LevelDebug, LevelInfo, LevelWarn and LevelError for Debugf, Infof,
// Warningf and Errorf. A line about one manifold carries its name as the
// attribute "manifold". DEBUG lines are not formatted at all when l does not take them.
// A nil l means slog.Default(), as it is when a line is written.
func SlogLogger(l *slog.Logger) Logger {
	return slogLogger{l}
}

// slogLogger is the Logger SlogLogger returns.
type slogLogger struct {
	l *slog.Logger // nil: slog.Default()
}

var _ manifoldLogger = slogLogger{}

func (s slogLogger) Debugf(format string, args ...any)   { s.logf(slog.LevelDebug, format, args) }
func (s slogLogger) Infof(format string, args ...any)    { s.logf(slog.LevelInfo, format, args) }
func (s slogLogger) Warningf(format string, args ...any) { s.logf(slog.LevelWarn, format, args) }
func (s slogLogger) Errorf(format string, args ...any)   { s.logf(slog.LevelError, format, args) }

// IsDebugEnabled reports whether the slog logger takes DEBUG lines, so that
// the engine need not format the ones it would drop.
func (s slogLogger) IsDebugEnabled() bool {
	return s.logger().Enabled(context.Background(), slog.LevelDebug)
}

// logManifold writes msg at level with the attribute manifold=<manifold>.
func (s slogLogger) logManifold(level slog.Level, manifold, msg string) {
	if l := s.logger(); l.Enabled(context.Background(), level) {
		write(l, level, msg, slog.String("manifold", manifold))
	}
}

// logf formats and writes a line at level, if the slog logger takes it.
// It must only be called from the exported methods.
func (s slogLogger) logf(level slog.Level, format string, args []any) {
	if l := s.logger(); l.Enabled(context.Background(), level) {
		write(l, level, fmt.Sprintf(format, args...))
	}
}

// write hands l's handler a record of msg and attrs at level.
func write(l *slog.Logger, level slog.Level, msg string, attrs ...slog.Attr) {
	r := slog.NewRecord(time.Now(), level, msg, 0)
	r.AddAttrs(attrs...)
	_ = l.Handler().Handle(context.Background(), r)
}

func (s slogLogger) logger() *slog.Logger {
	if s.l == nil {
		return slog.Default()
	}
	return s.l
}
