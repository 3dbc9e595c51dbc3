package introspect

import (
	"embed"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
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
// prefix, strip the prefix with http.StripPrefix, with or without a slash
// at its end. It only reads engine (which must not be nil), through
// Report, once per request; it keeps no state between requests and starts
// no goroutine.
func Handler(engine dependency.Engine) http.Handler {
	return handler{engine}
}

// handler is what Handler returns.
type handler struct{ engine dependency.Engine }

// ServeHTTP answers a request for one of the handler's files. It cleans the
// path itself rather than redirect to the clean one, since under a prefix
// a redirect to the path it sees would leave the mount.
func (h handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		fail(w, http.StatusMethodNotAllowed)
		return
	}
	switch path.Clean("/" + r.URL.Path) {
	case "/":
		if !atDirectory(r) {
			toDirectory(w, r)
			return
		}
		serveFile(w, "page.html", "text/html; charset=utf-8")
	case "/page.js":
		serveFile(w, "page.js", "text/javascript; charset=utf-8")
	case "/page.css":
		serveFile(w, "page.css", "text/css; charset=utf-8")
	case "/report":
		serveReport(w, h.engine.Report())
	case "/graph.dot":
		noStore(w, "text/vnd.graphviz; charset=utf-8")
		_, _ = io.WriteString(w, h.engine.Report().DOT())
	case "/graph.svg":
		serveSVG(w, r, h.engine.Report())
	case "/livez":
		serveLivez(w, h.engine.Report())
	case "/readyz":
		serveReadyz(w, r, h.engine.Report(), time.Now())
	case "/status":
		serveStatus(w, h.engine.Report(), time.Now())
	default:
		fail(w, http.StatusNotFound)
	}
}

// atDirectory reports whether the request's own path, before any prefix
// was stripped, ends in a slash (or is empty), so that the page's relative
// links resolve under the mount. Only a request for the prefix itself, as
// in "/debug/engine" with the prefix "/debug/engine" stripped, does not.
func atDirectory(r *http.Request) bool {
	requested := requestedPath(r)
	return requested == "" || strings.HasSuffix(requested, "/")
}

// requestedPath is the path of the request line, escaped as the client
// sent it, also when the request line holds a whole URL.
func requestedPath(r *http.Request) string {
	u, err := url.ParseRequestURI(r.RequestURI)
	if err != nil {
		return "" // as a handler called directly, with no request line, sees it
	}
	return u.EscapedPath()
}

// toDirectory redirects a request for the prefix itself to the prefix with
// a slash. The target is relative to the request's own path, so that it
// stays under the mount and on the host, and begins with "./" so that a
// last segment holding a colon cannot read as a scheme.
func toDirectory(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Location", "./"+path.Base(requestedPath(r))+"/")
	w.WriteHeader(http.StatusMovedPermanently)
}

// serveFile serves one of the page's files.
func serveFile(w http.ResponseWriter, name, contentType string) {
	data, err := page.ReadFile(name)
	if err != nil {
		fail(w, http.StatusInternalServerError)
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

// serveReport writes report as indented JSON.
func serveReport(w http.ResponseWriter, report dependency.Report) {
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		fail(w, http.StatusInternalServerError)
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
	if inIfNoneMatch(r.Header.Values("If-None-Match"), etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	_, _ = io.WriteString(w, draw(report, time.Now()).svg())
}

// fail answers with an error status and its text: the handler's one error
// path. It says no more than the status, for what went wrong may be
// private.
func fail(w http.ResponseWriter, code int) {
	noStore(w, "text/plain; charset=utf-8")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, http.StatusText(code)+"\n")
}

// noStore sets the headers of a response that is out of date at once.
func noStore(w http.ResponseWriter, contentType string) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
}
