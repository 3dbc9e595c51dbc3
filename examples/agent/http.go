package main

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/juju/errors"

	"github.com/seedworks/dependency"
)

// introspection serves the engine's report over HTTP on loopback. It is
// outside the engine, like a supervisor's debug endpoint, so that its address
// stays the same however often the workers restart, and it keeps answering
// while the engine stops.
type introspection struct {
	server   *http.Server
	listener net.Listener
	done     chan struct{} // closed when Serve has returned
}

// serveIntrospection listens on 127.0.0.1:port (0: a port the kernel picks)
// and serves engine's report there until close.
func serveIntrospection(engine dependency.Engine, port int) (*introspection, error) {
	listener, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, errors.Annotate(err, "cannot serve introspection")
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", pageHandler(engine))
	mux.HandleFunc("GET /report", reportHandler(engine))
	mux.HandleFunc("GET /graph.dot", graphHandler(engine))
	s := &introspection{
		server:   &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second},
		listener: listener,
		done:     make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		if err := s.server.Serve(listener); !errors.Is(err, http.ErrServerClosed) {
			logger.Errorf("introspection server stopped: %v", err)
		}
	}()
	return s, nil
}

// URL is the address of the page, for people to open.
func (s *introspection) URL() string {
	return "http://" + s.listener.Addr().String() + "/"
}

// close stops serving and waits for the server's goroutine to end.
func (s *introspection) close() {
	_ = s.server.Close()
	<-s.done
}

// reportHandler serves the engine's Report as JSON.
func reportHandler(engine dependency.Engine) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := json.MarshalIndent(engine.Report(), "", "  ")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(append(data, '\n'))
	}
}

// graphHandler serves the engine's graph in the DOT language: pipe it to
// `dot -Tpng` to draw it.
func graphHandler(engine dependency.Engine) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/vnd.graphviz; charset=utf-8")
		_, _ = w.Write([]byte(engine.Report().DOT()))
	}
}

// pageHandler serves a page listing every manifold with its state. The page
// reloads itself every second, so it needs no script.
func pageHandler(engine dependency.Engine) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, newPageData(engine.Report(), time.Now())); err != nil {
			logger.Errorf("cannot render introspection page: %v", err)
		}
	}
}

// pageData is what the page shows.
type pageData struct {
	State     string
	Err       error
	Manifolds []pageRow
}

// pageRow is one manifold's line on the page.
type pageRow struct {
	Name       string
	State      string
	StartCount int
	Uptime     string // since the last start, while started
	Inputs     string
	Missing    string
	Err        error
	Worker     string // the worker's own report, as key=value pairs
}

// newPageData orders the report's manifolds by name for the page.
func newPageData(report dependency.Report, now time.Time) pageData {
	data := pageData{State: report.State.String(), Err: report.Err}
	for name, m := range report.Manifolds {
		row := pageRow{
			Name:       name,
			State:      m.State.String(),
			StartCount: m.StartCount,
			Inputs:     strings.Join(m.Inputs, ", "),
			Missing:    strings.Join(m.Missing, ", "),
			Err:        m.Err,
			Worker:     keyValues(m.Worker),
		}
		if m.State == dependency.StateStarted && !m.Started.IsZero() {
			row.Uptime = now.Sub(m.Started).Round(time.Second).String()
		}
		data.Manifolds = append(data.Manifolds, row)
	}
	slices.SortFunc(data.Manifolds, func(a, b pageRow) int { return strings.Compare(a.Name, b.Name) })
	return data
}

// keyValues writes a worker's report as "key=value" pairs sorted by key.
func keyValues(report map[string]any) string {
	pairs := make([]string, 0, len(report))
	for k, v := range report {
		pairs = append(pairs, fmt.Sprintf("%s=%v", k, v))
	}
	slices.Sort(pairs)
	return strings.Join(pairs, " ")
}

// page is the introspection page. Each manifold's row carries its state as
// a class, for the colours.
var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="1">
<title>dependency agent</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: 0.3em 0.8em; border-bottom: 1px solid #ddd; vertical-align: top; }
td.state { font-weight: bold; }
tr.started td.state { color: #1a7f37; }
tr.starting td.state { color: #9a6700; }
tr.stopping td.state { color: #bc4c00; }
tr.stopped td.state { color: #57606a; }
td.error { color: #cf222e; }
.small { font-size: 0.85em; color: #57606a; }
</style>
</head>
<body>
<h1>dependency agent</h1>
<p>Engine <strong id="engine-state">{{.State}}</strong>{{with .Err}}: <span class="error">{{.}}</span>{{end}}.
Also: <a href="/report">/report</a> (JSON), <a href="/graph.dot">/graph.dot</a> (Graphviz).
This page reloads every second.</p>
<table id="manifolds">
<tr><th>manifold</th><th>state</th><th>starts</th><th>up</th><th>inputs</th><th>missing</th><th>last error</th><th>worker</th></tr>
{{range .Manifolds}}<tr class="{{.State}}" id="manifold-{{.Name}}">
<td>{{.Name}}</td><td class="state">{{.State}}</td><td>{{.StartCount}}</td><td>{{.Uptime}}</td>
<td class="small">{{.Inputs}}</td><td class="small">{{.Missing}}</td><td class="error">{{with .Err}}{{.}}{{end}}</td><td class="small">{{.Worker}}</td>
</tr>
{{end}}</table>
</body>
</html>
`))
