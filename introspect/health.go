package introspect

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/seedworks/dependency"
)

// The probes and the status table: what an operator, a supervisor or
// Kubernetes asks of an engine, in plain text.

// condition is what a manifold's report says of it, for an operator:
// whether it counts as ready, a word for its condition, and why.
type condition struct {
	ready bool
	word  string // running, stopping, gated, mistake, waiting, completed, failed, starting, stopped
	why   string // who gates it, what it waits for, its error and when it restarts
}

// conditionOf reads m at now. A manifold is ready when it runs, when a flag
// keeps it off on purpose, or when it has completed; a nested engine's
// manifold also needs every manifold of that engine ready.
func conditionOf(m dependency.ManifoldReport, now time.Time) condition {
	c := conditionAlone(m, now)
	if c.ready && m.Engine != nil && !ready(*m.Engine, now) {
		c.ready, c.why = false, "its engine is not ready"
	}
	return c
}

func conditionAlone(m dependency.ManifoldReport, now time.Time) condition {
	due := ""
	if !m.Due.IsZero() {
		due = "starts " + untilText(m.Due.Sub(now))
	}
	switch off := offOf(m); {
	case m.State == dependency.StateStarted:
		return condition{ready: true, word: "running"}
	case m.State == dependency.StateStopping:
		return condition{word: "stopping"}
	case off == gated:
		return condition{ready: true, word: "gated", why: "by " + strings.Join(m.Gated, ", ")}
	case off == mistake:
		return condition{word: "mistake", why: errorText(m.Err)}
	case off == waiting && len(m.Missing) > 0:
		return condition{word: "waiting", why: joinWhy(due, "for "+strings.Join(m.Missing, ", "))}
	case off == waiting:
		return condition{word: "waiting", why: joinWhy(due, "for an input")}
	case m.State == dependency.StateStopped && m.Err == nil && m.StartCount > 0:
		return condition{ready: true, word: "completed"}
	case m.Err != nil:
		return condition{word: "failed", why: joinWhy(due, errorText(m.Err))}
	case m.State == dependency.StateStarting:
		return condition{word: "starting", why: due}
	}
	return condition{word: "stopped"}
}

func joinWhy(a, b string) string {
	return strings.Join(slices.DeleteFunc([]string{a, b}, func(s string) bool { return s == "" }), ": ")
}

// ready reports whether an engine is ready: it runs, it is settled, and
// every manifold is ready.
func ready(r dependency.Report, now time.Time) bool {
	if r.State != dependency.StateStarted || !r.Settled {
		return false
	}
	for _, m := range r.Manifolds {
		if !conditionOf(m, now).ready {
			return false
		}
	}
	return true
}

// errorText returns err's message on one line; a panicking Error method
// gives the panic's text.
func errorText(err error) (text string) {
	defer func() {
		if p := recover(); p != nil {
			text = fmt.Sprintf("Error method panicked: %v", p)
		}
	}()
	return cut(err.Error(), 1<<16)
}

// serveLivez answers 200 while the engine runs, and 503 once it has begun
// to stop, saying why: Wait's error, or that it stopped.
func serveLivez(w http.ResponseWriter, r dependency.Report) {
	noStore(w, "text/plain; charset=utf-8")
	if r.State == dependency.StateStarted {
		_, _ = io.WriteString(w, "ok\n")
		return
	}
	w.WriteHeader(http.StatusServiceUnavailable)
	why := r.State.String()
	if r.Err != nil {
		why += ": " + errorText(r.Err)
	}
	_, _ = io.WriteString(w, why+"\n")
}

// serveReadyz answers 200 when the engine is ready, and 503 otherwise,
// naming each manifold that is not ready with its condition; with
// ?verbose, every manifold, marked [+] or [-], as Kubernetes' probes do.
// A nested engine's manifolds are named ENGINE/MANIFOLD.
func serveReadyz(w http.ResponseWriter, req *http.Request, r dependency.Report, now time.Time) {
	_, verbose := req.URL.Query()["verbose"]
	var b strings.Builder
	ok := ready(r, now)
	writeChecks(&b, "", r, now, verbose)
	noStore(w, "text/plain; charset=utf-8")
	switch {
	case ok && !verbose:
		_, _ = io.WriteString(w, "ok\n")
		return
	case ok:
		b.WriteString("readyz check passed\n")
	default:
		w.WriteHeader(http.StatusServiceUnavailable)
		b.WriteString("readyz check failed\n")
	}
	_, _ = io.WriteString(w, b.String())
}

// writeChecks writes a line for the engine of r, under prefix, if it does
// not run or is not settled, and for each of its manifolds that is not
// ready, or for every one if verbose.
func writeChecks(b *strings.Builder, prefix string, r dependency.Report, now time.Time, verbose bool) {
	engine := strings.TrimLeft(strings.TrimSuffix(prefix, "/")+" engine", " ")
	switch {
	case r.State != dependency.StateStarted:
		fmt.Fprintf(b, "[-]%s %v\n", cut(engine, maxStatusName), r.State)
	case !r.Settled:
		fmt.Fprintf(b, "[-]%s not settled\n", cut(engine, maxStatusName))
	}
	for _, name := range sortedNames(r) {
		m := r.Manifolds[name]
		c := conditionAlone(m, now)
		if c.ready && !verbose {
			if m.Engine != nil {
				writeChecks(b, prefix+name+"/", *m.Engine, now, verbose)
			}
			continue
		}
		mark := "[+]"
		if !c.ready {
			mark = "[-]"
		}
		fmt.Fprintf(b, "%s%s %s\n", mark, cut(prefix+name, maxStatusName), joinWhy(c.word, c.why))
		if m.Engine != nil {
			writeChecks(b, prefix+name+"/", *m.Engine, now, verbose)
		}
	}
}

// maxStatusName is the most characters of a name the probes and the status
// table write.
const maxStatusName = 64

// Status columns: the table fits 80 columns for names of up to 22
// characters; a longer reason wraps under its column.
const (
	nameColumn   = 22
	stateColumn  = 9
	startsColumn = 6
	sinceColumn  = 6
	whyStart     = nameColumn + 1 + stateColumn + 1 + startsColumn + 1 + sinceColumn + 2
	whyColumn    = 80 - whyStart
)

// serveStatus writes a table of every manifold, for a terminal: name,
// condition, starts, time since its last start, and why; nested engines'
// manifolds are indented under theirs.
func serveStatus(w http.ResponseWriter, r dependency.Report, now time.Time) {
	var b strings.Builder
	engine := r.State.String()
	switch {
	case r.State == dependency.StateStarted && r.Settled:
		engine = "running, settled"
	case r.State == dependency.StateStarted:
		engine = "running, not settled"
	}
	fmt.Fprintf(&b, "engine: %s, %s", engine, plural(countManifolds(r), "manifold"))
	if r.Err != nil {
		fmt.Fprintf(&b, "; error: %s", cut(errorText(r.Err), 200))
	}
	fmt.Fprintf(&b, "\n\n%-*s %-*s %*s %*s  %s\n", nameColumn, "MANIFOLD", stateColumn, "STATE", startsColumn, "STARTS", sinceColumn, "SINCE", "WHY")
	writeRows(&b, "", r, now)
	noStore(w, "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, b.String())
}

// writeRows writes the rows of r's manifolds, each name after indent.
func writeRows(b *strings.Builder, indent string, r dependency.Report, now time.Time) {
	for _, name := range sortedNames(r) {
		m := r.Manifolds[name]
		c := conditionAlone(m, now)
		since := "-"
		if !m.Started.IsZero() {
			since = sinceText(now.Sub(m.Started))
		}
		label := cut(indent+name, maxStatusName)
		if columns(label) > nameColumn {
			b.WriteString(label + "\n")
			label = ""
		}
		why := wrap(c.why, whyColumn, 8)
		if len(why) == 0 {
			why = []string{""}
		}
		row := fmt.Sprintf("%s%s %-*s %*d %*s  %s", label, strings.Repeat(" ", nameColumn-columns(label)),
			stateColumn, c.word, startsColumn, m.StartCount, sinceColumn, since, why[0])
		b.WriteString(strings.TrimRight(row, " ") + "\n")
		for _, more := range why[1:] {
			fmt.Fprintf(b, "%*s%s\n", whyStart, "", more)
		}
		if m.Engine != nil {
			writeRows(b, indent+"  ", *m.Engine, now)
		}
	}
}

// sinceText says how long ago, in two units at most: "4.2s", "2m05s",
// "3h07m", "12d05h".
func sinceText(d time.Duration) string {
	return strings.TrimPrefix(untilText(d), "in ")
}
