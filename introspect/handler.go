package introspect

import (
	"embed"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/seedworks/dependency"
)

// page holds the page's HTML, script and style, served as they are.
//
//go:embed page.html page.js page.css
var page embed.FS

// pageCSP lets the page run only its own script, fetch only from its own
// server and style itself with its own style sheet and the picture's.
const pageCSP = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; " +
	"style-src 'self' '" + svgStyleHash + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// svgCSP is for /graph.svg opened alone: its inline style sheet and nothing
// else.
const svgCSP = "default-src 'none'; style-src '" + svgStyleHash + "'; frame-ancestors 'self'"

// Handler returns a handler that serves engine's report, graph and page,
// as the package doc describes. It serves at the root: to mount it under a
// prefix, strip the prefix with http.StripPrefix. It only reads engine
// (which must not be nil), through Report, once per request; it keeps no
// state between requests and starts no goroutine.
func Handler(engine dependency.Engine) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", serveFile("page.html", "text/html; charset=utf-8"))
	mux.HandleFunc("GET /page.js", serveFile("page.js", "text/javascript; charset=utf-8"))
	mux.HandleFunc("GET /page.css", serveFile("page.css", "text/css; charset=utf-8"))
	mux.HandleFunc("GET /report", func(w http.ResponseWriter, r *http.Request) {
		serveReport(w, engine.Report())
	})
	mux.HandleFunc("GET /graph.dot", func(w http.ResponseWriter, r *http.Request) {
		noStore(w, "text/vnd.graphviz; charset=utf-8")
		_, _ = w.Write([]byte(engine.Report().DOT()))
	})
	mux.HandleFunc("GET /graph.svg", func(w http.ResponseWriter, r *http.Request) {
		serveSVG(w, r, engine.Report())
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" {
			toDirectory(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// toDirectory redirects a request for the prefix itself, as in
// "/debug/engine" with the prefix "/debug/engine" stripped, to the prefix
// with a slash, where the page's relative links work.
func toDirectory(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	requested, _, _ := strings.Cut(r.RequestURI, "?")
	w.Header().Set("Location", path.Base(requested)+"/")
	w.WriteHeader(http.StatusMovedPermanently)
}

// serveFile serves one of the page's files.
func serveFile(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		data, err := page.ReadFile(name)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-cache")
		if name == "page.html" {
			h.Set("Content-Security-Policy", pageCSP)
			h.Set("Referrer-Policy", "no-referrer")
		}
		_, _ = w.Write(data)
	}
}

// serveReport writes report as indented JSON.
func serveReport(w http.ResponseWriter, report dependency.Report) {
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	noStore(w, "application/json")
	_, _ = w.Write(append(data, '\n'))
}

// serveSVG writes report's picture, with its tag as ETag. To a request
// whose If-None-Match holds the tag it answers 304 Not Modified instead,
// without drawing: the page asks so each second, and an engine's picture
// changes far more rarely, while putting a big one in place costs the
// browser much more than drawing it costs the server.
func serveSVG(w http.ResponseWriter, r *http.Request, report dependency.Report) {
	etag := tagOf(report)
	noStore(w, "image/svg+xml")
	h := w.Header()
	h.Set("Content-Security-Policy", svgCSP)
	h.Set("ETag", etag)
	if noneMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = io.WriteString(w, draw(report, time.Now()).svg())
}

// noStore sets the headers of a response that is out of date at once.
func noStore(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}
