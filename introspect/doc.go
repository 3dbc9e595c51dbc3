// Package introspect serves a live picture of a dependency engine over
// HTTP, as net/http/pprof serves profiles: mount Handler on a debug server
// and open it in a browser.
//
//	mux.Handle("/debug/engine/", http.StripPrefix("/debug/engine", introspect.Handler(engine)))
//
// The handler answers GET (and HEAD) only, and changes nothing in the
// engine, but what it shows (manifold names, error text, the workers' own
// reports) may be private: serve it on a loopback address, or behind
// authentication, never openly. The prefix may end in a slash or not; a
// request for the prefix itself is redirected to it with a slash, and a
// path with "//" or dot segments is answered under the prefix (404 if it
// names nothing), never redirected out of it.
//
// Under the prefix it serves:
//
//   - "/": a page that draws the graph and redraws it each second in
//     place, counting down to each pending restart, and says when the
//     engine has stopped or the server no longer answers. It needs nothing
//     from the network: its script and style are served from here too.
//   - "/report": the engine's dependency.Report as JSON.
//   - "/graph.dot": the graph in Graphviz's DOT language (Report.DOT).
//   - "/graph.svg": the page's picture alone, as SVG, with a weak ETag
//     summed from what the picture shows of the report, so that it changes
//     whenever the picture does, the clock aside: a request whose
//     If-None-Match holds it (in any field, compared weakly) or "*" gets
//     304 Not Modified, as the page's do, without the picture being drawn.
//   - "/livez": 200 "ok" while the engine runs; 503 once it has begun to
//     stop, with its state and Wait's error, if any.
//   - "/readyz": 200 "ok" when the engine is ready: settled
//     (dependency.WaitSettled), and every manifold running, gated by a
//     flag, or completed, a nested engine's manifold only if that engine
//     is ready too; otherwise 503, naming each manifold that is not ready
//     with its condition (waiting for an input, failed and when it
//     restarts, a mistake, starting, stopping). With "?verbose" it lists
//     every manifold, marked [+] or [-], as Kubernetes' own probes do; a
//     nested engine's manifolds are named ENGINE/MANIFOLD.
//   - "/status": a table of every manifold for a terminal, as systemctl
//     status gives one: its condition, starts, time since its last start,
//     and why it is not running, with the time until a pending restart;
//     nested engines' manifolds are indented under theirs. It fits 80
//     columns, a long reason wrapping under its column.
//
// The picture is drawn in layers, each manifold below its inputs and flags:
// a box per manifold, filled by its state and outlined in red while it has
// an error, with its start count, its error and, while it waits to
// restart, when it will; an arrow from each input to its dependent, dashed
// while the input is not running; a dotted blue arrow from each flag to
// the manifold it gates; a dashed box for an input or flag that is not
// installed. A flag's box says its answer, "flag open" or "flag closed". A
// manifold that does not run for a reason other than a failure is drawn as
// one of three: gated, deliberately off, as a grey dashed box saying which
// flags gate it; waiting for an input that is not running or not
// installed, saying so; neither is outlined in red. The third, a mistake
// (its error wraps dependency.ErrMistake), is drawn in red and says so. A
// manifold whose worker is itself an engine is drawn as a box holding that
// engine's manifolds. Parts of the graph that no arrow joins are set side
// by side in rows. Past 500 boxes, counting nested engines' and those of
// inputs and flags that are not installed, the picture shows only the
// manifolds that are not started or have an error, then their inputs and
// flags that are not installed, then their other inputs, flags and
// dependents, 500 boxes at most, and says what it leaves out; a tooltip
// lists at most 20 inputs.
//
// Importing the package costs nothing until a request comes: it has no
// init work, starts no goroutine and writes no file. Each request reads one
// Report; one for the picture lays it out afresh, unless its tag matches.
package introspect
