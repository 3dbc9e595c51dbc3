package dependency

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/juju/errors"
)

// The loop calls code that is not the engine's (the Logger, the Observer,
// IsFatal and WorstError) only through these helpers, and Filter through
// run.go's filter as it builds Wait's error, so that a panic there becomes
// a logged line or an error and the engine goes on by its rules. Methods of the errors that starts and workers return are asked
// once, off the loop, by judge.

// logf writes a line about manifold (none if "") at level through the
// configured Logger. A panicking Logger loses the line, and the engine says
// so once through fallbackLog.
func (e *engine) logf(level slog.Level, manifold, format string, args ...any) {
	defer func() {
		if v := recover(); v != nil {
			e.loggerPanicked(v)
		}
	}()
	logger := e.config.Logger
	if d, ok := logger.(debugEnabler); ok && level == slog.LevelDebug && !d.IsDebugEnabled() {
		return // lines nobody reads cost no formatting
	}
	if manifold != "" {
		format, args = "%q manifold "+format, append([]any{manifold}, args...)
		if m, ok := logger.(manifoldLogger); ok {
			m.logManifold(level, manifold, fmt.Sprintf(format, args...))
			return
		}
	}
	switch level {
	case slog.LevelDebug:
		logger.Debugf(format, args...)
	case slog.LevelInfo:
		logger.Infof(format, args...)
	case slog.LevelWarn:
		logger.Warningf(format, args...)
	default:
		logger.Errorf(format, args...)
	}
}

// fallbackLog receives the line that says the configured Logger panicked;
// a variable so that the package's own tests can read it.
var fallbackLog io.Writer = os.Stderr

// loggerPanicked writes, the first time only, that the Logger panicked.
func (e *engine) loggerPanicked(v any) {
	if e.loggerFailed {
		return
	}
	e.loggerFailed = true
	fmt.Fprintf(fallbackLog, "dependency: the engine's Logger panicked (%v); the lines it panics on are lost\n", v)
}

// debugEnabler is implemented by loggers, loggo's among them, that say
// whether they want DEBUG lines.
type debugEnabler interface {
	IsDebugEnabled() bool
}

// manifoldLogger is implemented by loggers that take the manifold a line is
// about as a field of its own rather than only in the text.
type manifoldLogger interface {
	logManifold(level slog.Level, manifold, msg string)
}

// observe passes ev to the configured observer, if any; a panic in it is
// logged.
func (e *engine) observe(ev Event) {
	if e.config.Observer == nil {
		return
	}
	ev.Time = time.Now()
	defer func() {
		if v := recover(); v != nil {
			e.logf(slog.LevelError, ev.Manifold, "observer panicked on %v: %v", ev.Kind, v)
		}
	}()
	e.config.Observer(ev)
}

// isFatal reports whether err, of manifold, must stop the engine. A panic
// in IsFatal is logged and counts as fatal: the engine cannot tell, and
// must not crash.
func (e *engine) isFatal(manifold string, err error) (fatal bool) {
	if err == nil || e.config.IsFatal == nil {
		return false
	}
	defer func() {
		if v := recover(); v != nil {
			e.logf(slog.LevelError, manifold, "IsFatal panicked on %q: %v", err, v)
			fatal = true
		}
	}()
	return e.config.IsFatal(err)
}

// worse returns the fatal error to keep when err arrives after worst. A
// panic in WorstError is logged and keeps worst.
func (e *engine) worse(worst, err error) (kept error) {
	switch {
	case worst == nil:
		return err
	case e.config.WorstError == nil:
		return worst
	}
	defer func() {
		if v := recover(); v != nil {
			e.logf(slog.LevelError, "", "WorstError panicked on %q and %q: %v", worst, err, v)
			kept = worst
		}
	}()
	return e.config.WorstError(worst, err)
}

// stopKind is what the error of a stop asks of the restart rules.
type stopKind uint8

const (
	completed stopKind = iota // nil: not restarted until an input changes
	missing                   // ErrMissing: likewise
	mistake                   // ErrMissing for a mistake (ErrMistake): likewise, but logged at ERROR
	bounce                    // ErrBounce: restarted after the bounce delay
	uninstall                 // ErrUninstall: the manifold is removed
	failed                    // anything else: restarted after the error delay
)

// judge returns what err asks of the restart rules, asking err itself (its
// Error, Is, As and Unwrap methods) on the caller's goroutine, never the loop's.
// If one of its methods panics, the stop is a failure and a *PanicError
// takes err's place, so that no later code calls those methods again.
func judge(err error) (kind stopKind, judged error) {
	if err == nil {
		return completed, nil
	}
	defer func() {
		if v := recover(); v != nil {
			kind, judged = failed, newPanicError("error method", v)
		}
	}()
	_ = err.Error()
	var p *PanicError
	_ = errors.As(err, &p)
	switch {
	case errors.Is(err, ErrUninstall):
		return uninstall, err
	case errors.Is(err, ErrMissing) && errors.Is(err, ErrMistake):
		return mistake, err
	case errors.Is(err, ErrMissing):
		return missing, err
	case errors.Is(err, ErrBounce):
		return bounce, err
	}
	return failed, err
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
