package main

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/juju/errors"

	"github.com/seedworks/dependency"
)

// printer writes one line per event the agent's engines report, for the
// person watching the agent. The root engine and the nested one print
// through the same printer; it keeps their lines whole.
type printer struct {
	mu  sync.Mutex
	out io.Writer
}

func newPrinter(out io.Writer) *printer {
	return &printer{out: out}
}

// printf writes one line, stamped with the time.
func (p *printer) printf(format string, args ...any) {
	line := time.Now().Format("15:04:05.000") + " " + fmt.Sprintf(format, args...) + "\n"
	p.mu.Lock()
	defer p.mu.Unlock()
	_, _ = io.WriteString(p.out, line)
}

// observer returns an EngineConfig.Observer for one engine; prefix goes
// before each manifold's name ("workload/" for the nested engine). The
// engine calls it on its loop goroutine, one event at a time, so the maps it
// keeps need no lock; it only prints, so it returns quickly.
func (p *printer) observer(prefix string) func(dependency.Event) {
	running := make(map[string]bool) // manifolds whose worker started
	bounced := make(map[string]bool) // manifolds the engine is restarting because an input changed
	failed := make(map[string]bool)  // manifolds whose last stop was a failure
	return func(ev dependency.Event) {
		name := prefix + ev.Manifold
		switch ev.Kind {
		case dependency.EventBounced:
			bounced[ev.Manifold] = true
		case dependency.EventStarted:
			running[ev.Manifold] = true
			p.printf("%-11s %s", "started", name)
		case dependency.EventStopped:
			wasRunning, wasBounced := running[ev.Manifold], bounced[ev.Manifold]
			delete(running, ev.Manifold)
			delete(bounced, ev.Manifold)
			failed[ev.Manifold] = isFailure(ev.Err) && !wasBounced
			p.printf("%-11s %s%s", stopVerb(wasRunning, failed[ev.Manifold]), name, stopReason(ev.Err, wasBounced))
		case dependency.EventScheduled:
			delete(bounced, ev.Manifold) // a bounce of an idle manifold ends here
			if failed[ev.Manifold] {
				delete(failed, ev.Manifold)
				p.printf("%-11s %s: restarts in %v", "waiting", name, ev.Delay.Round(time.Millisecond))
			}
		case dependency.EventUninstalled:
			p.printf("%-11s %s", "uninstalled", name)
		}
	}
}

// isFailure reports whether err counts as a failure, that the engine waits
// out its error delay for.
func isFailure(err error) bool {
	switch {
	case err == nil,
		errors.Is(err, dependency.ErrBounce),
		errors.Is(err, dependency.ErrMissing),
		errors.Is(err, dependency.ErrUninstall):
		return false
	}
	return true
}

// stopVerb names what happened: a failure, a start that did not get as far
// as a worker, or a stop.
func stopVerb(wasRunning, failed bool) string {
	switch {
	case failed:
		return "failed"
	case !wasRunning:
		return "not started"
	}
	return "stopped"
}

// stopReason says why a worker stopped, in the words of its error.
func stopReason(err error, bounced bool) string {
	switch {
	case err != nil:
		return ": " + err.Error()
	case bounced:
		return " (an input changed)"
	}
	return ""
}
