package introspect

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"go.uber.org/goleak"

	"github.com/seedworks/dependency"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestSVGStyleHash(t *testing.T) {
	sum := sha256.Sum256([]byte(svgStyle))
	if want := "sha256-" + base64.StdEncoding.EncodeToString(sum[:]); svgStyleHash != want {
		t.Errorf("svgStyleHash = %q, want %q: the page's CSP would block the picture's style", svgStyleHash, want)
	}
}

// fixedEngine is an Engine whose Report is always the same, for tests of
// what the handler makes of a report. It counts the calls that would
// change an engine.
type fixedEngine struct {
	report  dependency.Report
	changes int
}

func (e *fixedEngine) Kill()                                     { e.changes++ }
func (e *fixedEngine) Wait() error                               { return nil }
func (e *fixedEngine) Install(string, dependency.Manifold) error { e.changes++; return nil }
func (e *fixedEngine) Uninstall(string) error                    { e.changes++; return nil }
func (e *fixedEngine) Report() dependency.Report                 { return e.report }

func TestHandlerServes(t *testing.T) {
	engine := &fixedEngine{report: agentReport()}
	mux := http.NewServeMux()
	mux.Handle("/debug/engine/", http.StripPrefix("/debug/engine", Handler(engine)))
	for _, tc := range []struct {
		path, contentType, contains string
	}{
		{"/debug/engine/", "text/html; charset=utf-8", `<script src="page.js"></script>`},
		{"/debug/engine/page.js", "text/javascript; charset=utf-8", "graph.svg"},
		{"/debug/engine/page.css", "text/css; charset=utf-8", "#graph"},
		{"/debug/engine/report", "application/json", `"api-caller": {`},
		{"/debug/engine/graph.dot", "text/vnd.graphviz; charset=utf-8", `"config" -> "api-caller"`},
		{"/debug/engine/graph.svg", "image/svg+xml", `data-path="workload/consumer"`},
	} {
		resp := get(t, mux, http.MethodGet, tc.path)
		if resp.Code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", tc.path, resp.Code)
		}
		if got := resp.Header().Get("Content-Type"); got != tc.contentType {
			t.Errorf("GET %s: Content-Type = %q, want %q", tc.path, got, tc.contentType)
		}
		if body := resp.Body.String(); !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: body lacks %q; body:\n%s", tc.path, tc.contains, body)
		}
	}
	if engine.changes != 0 {
		t.Errorf("engine changed %d times by GET requests, want 0", engine.changes)
	}
}

func TestHandlerReportIsTheEngines(t *testing.T) {
	engine := &fixedEngine{report: agentReport()}
	var got dependency.Report
	body := get(t, Handler(engine), http.MethodGet, "/report").Body.Bytes()
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("GET /report: %v; body %s", err, body)
	}
	workload := got.Manifolds["workload"]
	if workload.Engine == nil || workload.Engine.Manifolds["consumer"].Err == nil {
		t.Errorf("GET /report: workload = %+v, want its nested engine with consumer's error", workload)
	}
	if due := got.Manifolds["api-caller"].Due; !due.Equal(epoch.Add(2 * time.Second)) {
		t.Errorf("GET /report: api-caller due %v, want %v", due, epoch.Add(2*time.Second))
	}
}

// panickingJSON is a worker report's value whose MarshalJSON panics.
type panickingJSON struct{}

func (panickingJSON) MarshalJSON() ([]byte, error) { panic("no JSON today") }

func TestHandlerAnswersHostileReports(t *testing.T) {
	report := agentReport()
	report.State = dependency.State(9)
	config := report.Manifolds["config"]
	config.State = dependency.State(-1)
	config.Worker = map[string]any{"p": panickingJSON{}}
	config.Err = panickingIs{} // asked whether it is a mistake or a wait
	report.Manifolds["config"] = config
	handler := Handler(&fixedEngine{report: report})
	for _, path := range []string{"/report", "/graph.dot", "/graph.svg"} {
		resp := get(t, handler, http.MethodGet, path)
		if resp.Code != http.StatusOK || !strings.Contains(resp.Body.String(), "unknown") {
			t.Errorf("GET %s of a report with unknown states, a panicking worker report and error = %d, want 200 saying \"unknown\"; body:\n%s", path, resp.Code, resp.Body)
		}
	}
}

func TestHandlerIsReadOnly(t *testing.T) {
	engine := &fixedEngine{report: agentReport()}
	handler := Handler(engine)
	for _, method := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		for _, path := range []string{"/", "/report", "/graph.dot", "/graph.svg", ""} {
			if resp := get(t, handler, method, path); resp.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %q = %d, want 405", method, path, resp.Code)
			}
		}
	}
	if resp := get(t, handler, http.MethodHead, "/report"); resp.Code != http.StatusOK {
		t.Errorf("HEAD /report = %d, want 200", resp.Code)
	}
	if engine.changes != 0 {
		t.Errorf("engine changed %d times, want 0", engine.changes)
	}
}

func TestHandlerUnknownPath(t *testing.T) {
	if resp := get(t, Handler(&fixedEngine{}), http.MethodGet, "/secret"); resp.Code != http.StatusNotFound {
		t.Errorf("GET /secret = %d, want 404", resp.Code)
	}
}

func TestHandlerUnderEveryMount(t *testing.T) {
	for _, mount := range []struct {
		patterns     []string
		prefix, page string
	}{
		{[]string{"/"}, "/", "/"},
		{[]string{"/"}, "", "/"},
		{[]string{"/debug/engine/"}, "/debug/engine", "/debug/engine/"},
		{[]string{"/debug/engine/"}, "/debug/engine/", "/debug/engine/"},
		{[]string{"/debug/engine", "/debug/engine/"}, "/debug/engine", "/debug/engine/"},
		{[]string{"/a:b", "/a:b/"}, "/a:b", "/a:b/"},
	} {
		mux := http.NewServeMux()
		for _, pattern := range mount.patterns {
			mux.Handle(pattern, http.StripPrefix(mount.prefix, Handler(&fixedEngine{report: agentReport()})))
		}
		for _, file := range []string{"", "page.js", "page.css", "report", "graph.dot", "graph.svg"} {
			if resp := get(t, mux, http.MethodGet, mount.page+file); resp.Code != http.StatusOK {
				t.Errorf("mounted at %q with prefix %q: GET %s = %d, want 200", mount.patterns, mount.prefix, mount.page+file, resp.Code)
			}
		}
		bare := strings.TrimSuffix(mount.page, "/")
		if !slices.Contains(mount.patterns, bare) {
			continue // no request reaches the handler for the bare prefix
		}
		resp := get(t, mux, http.MethodGet, bare)
		to, err := url.Parse("http://127.0.0.1" + bare)
		if err == nil {
			to, err = to.Parse(resp.Header().Get("Location"))
		}
		if resp.Code != http.StatusMovedPermanently || err != nil || to.Host != "127.0.0.1" || to.Scheme != "http" || to.Path != mount.page {
			t.Errorf("mounted at %q with prefix %q: GET %s = %d to %q (%v), want 301 to %s on the same host", mount.patterns, mount.prefix, bare, resp.Code, resp.Header().Get("Location"), err, mount.page)
		}
	}
}

func TestHandlerAnswersOddPathsInside(t *testing.T) {
	// Served without a ServeMux in front, so that no one cleans the paths.
	handler := http.StripPrefix("/debug/engine", Handler(&fixedEngine{report: agentReport()}))
	for path, want := range map[string]int{
		"/debug/engine//page.js":         http.StatusOK,
		"/debug/engine/./report":         http.StatusOK,
		"/debug/engine/x/../graph.dot":   http.StatusOK,
		"/debug/engine//":                http.StatusOK,
		"/debug/engine/../../etc/passwd": http.StatusNotFound,
		"/debug/engine//nothing":         http.StatusNotFound,
	} {
		resp := get(t, handler, http.MethodGet, path)
		if resp.Code != want {
			t.Errorf("GET %s = %d to %q, want %d", path, resp.Code, resp.Header().Get("Location"), want)
		}
	}
}

func TestHandlerPageHeaders(t *testing.T) {
	resp := get(t, Handler(&fixedEngine{}), http.MethodGet, "/")
	csp := resp.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", svgStyleHash} {
		if !strings.Contains(csp, want) {
			t.Errorf("GET /: Content-Security-Policy = %q, want it to hold %q", csp, want)
		}
	}
}

func TestHandlerSVGOfRealEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine, err := dependency.New(dependency.EngineConfig{ErrorDelay: 3 * time.Second, Logger: discard{}})
		if err != nil {
			t.Fatalf("New() = %v, want nil", err)
		}
		defer func() {
			engine.Kill()
			_ = engine.Wait()
		}()
		err = dependency.Install(engine, dependency.Manifolds{
			"a": {Start: idleStart},
			"b": {Inputs: []string{"a"}, Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return nil, errBroken
			}},
		})
		if err != nil {
			t.Fatalf("Install() = %v, want nil", err)
		}
		synctest.Wait()
		svg := get(t, Handler(engine), http.MethodGet, "/graph.svg").Body.String()
		for _, want := range []string{
			`<g class="manifold started" data-state="started" data-path="a">`,
			`<g class="manifold starting failed" data-state="starting" data-path="b">`,
			`>restarts in 3.0s</text>`,
			`<path class="arrow" data-from="a" data-to="b"`,
		} {
			if !strings.Contains(svg, want) {
				t.Errorf("GET /graph.svg lacks %s; SVG:\n%s", want, svg)
			}
		}
	})
}

func TestHandlerSVGNotModified(t *testing.T) {
	engine := &fixedEngine{report: agentReport()}
	handler := Handler(engine)
	first := get(t, handler, http.MethodGet, "/graph.svg")
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatalf("GET /graph.svg: no ETag")
	}
	again := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/graph.svg", nil)
	again.Header.Set("If-None-Match", etag)
	resp := httptest.NewRecorder()
	handler.ServeHTTP(resp, again)
	if resp.Code != http.StatusNotModified || resp.Body.Len() != 0 {
		t.Errorf("GET /graph.svg with If-None-Match %s = %d with %d bytes, want 304 with none", etag, resp.Code, resp.Body.Len())
	}

	engine.report.Manifolds["config"] = failed("config file gone", time.Second)
	resp = httptest.NewRecorder()
	handler.ServeHTTP(resp, again)
	if resp.Code != http.StatusOK || resp.Header().Get("ETag") == etag {
		t.Errorf("GET /graph.svg of a changed report with If-None-Match %s = %d with ETag %s, want 200 with another", etag, resp.Code, resp.Header().Get("ETag"))
	}
}

func TestHandlerSVGIfNoneMatch(t *testing.T) {
	handler := Handler(&fixedEngine{report: agentReport()})
	etag := get(t, handler, http.MethodGet, "/graph.svg").Header().Get("ETag")
	opaque := strings.TrimPrefix(etag, "W/")
	for _, tc := range []struct {
		fields []string
		want   int
	}{
		{[]string{etag}, http.StatusNotModified},
		{[]string{opaque}, http.StatusNotModified},
		{[]string{"W/" + opaque}, http.StatusNotModified},
		{[]string{`"x",` + etag}, http.StatusNotModified},
		{[]string{`"x",` + "\t" + etag}, http.StatusNotModified},
		{[]string{`"x" ,  W/` + opaque + ` , "y"`}, http.StatusNotModified},
		{[]string{`"x"`, etag}, http.StatusNotModified},
		{[]string{"*"}, http.StatusNotModified},
		{[]string{`"x", "y"`}, http.StatusOK},
		{[]string{`"` + strings.Trim(opaque, `"`) + `x"`}, http.StatusOK},
		{[]string{strings.Trim(opaque, `"`)}, http.StatusOK}, // not quoted, so not a tag
		{nil, http.StatusOK},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/graph.svg", nil)
		for _, field := range tc.fields {
			req.Header.Add("If-None-Match", field)
		}
		resp := httptest.NewRecorder()
		handler.ServeHTTP(resp, req)
		if resp.Code != tc.want {
			t.Errorf("GET /graph.svg with If-None-Match %q (ETag %s) = %d, want %d", tc.fields, etag, resp.Code, tc.want)
		}
	}
}

func TestPictureIgnoresTheClock(t *testing.T) {
	report := agentReport()
	report.Manifolds["slow"] = failed("backing off", 150*time.Minute)
	report.Manifolds["far"] = failed("backing off", 200*24*time.Hour)
	want := withoutClock(draw(report, epoch).svg())
	for _, d := range []time.Duration{300 * time.Millisecond, 30 * time.Minute, 51 * time.Minute, 60 * time.Minute, 5 * time.Hour, 100 * 24 * time.Hour, 400 * 24 * time.Hour} {
		if got := withoutClock(draw(report, epoch.Add(d)).svg()); got != want {
			t.Errorf("picture drawn %v later differs beyond the clock:\n%s\nwant\n%s", d, got, want)
		}
	}
}

// withoutClock returns the SVG document without what the clock alone
// changes: the time it was drawn and the countdowns' text.
func withoutClock(doc string) string {
	doc = regexp.MustCompile(` data-now="[^"]*"`).ReplaceAllString(doc, "")
	return regexp.MustCompile(`(<text class="due"[^>]*>)[^<]*`).ReplaceAllString(doc, "$1")
}

func TestPictureTagFollowsPicture(t *testing.T) {
	base := agentReport()
	changes := map[string]func(r *dependency.Report){
		"engine state": func(r *dependency.Report) { r.State = dependency.StateStopping },
		"engine error": func(r *dependency.Report) { r.Err = errBroken },
		"state": func(r *dependency.Report) {
			change(r, "config", func(m *dependency.ManifoldReport) { m.State = dependency.StateStopping })
		},
		"start count": func(r *dependency.Report) { change(r, "config", func(m *dependency.ManifoldReport) { m.StartCount++ }) },
		"started": func(r *dependency.Report) {
			change(r, "config", func(m *dependency.ManifoldReport) { m.Started = epoch })
		},
		"error": func(r *dependency.Report) {
			change(r, "config", func(m *dependency.ManifoldReport) { m.Err = errBroken })
		},
		"empty error": func(r *dependency.Report) {
			change(r, "config", func(m *dependency.ManifoldReport) { m.Err = errors.New("") })
		},
		"due": func(r *dependency.Report) {
			change(r, "api-caller", func(m *dependency.ManifoldReport) { m.Due = m.Due.Add(time.Second) })
		},
		"inputs": func(r *dependency.Report) {
			change(r, "status", func(m *dependency.ManifoldReport) { m.Inputs = m.Inputs[1:] })
		},
		"missing": func(r *dependency.Report) {
			change(r, "status", func(m *dependency.ManifoldReport) { m.Missing = nil })
		},
		"flags": func(r *dependency.Report) {
			change(r, "upgrader", func(m *dependency.ManifoldReport) { m.Flags = []string{"config"} })
		},
		"gated": func(r *dependency.Report) {
			change(r, "upgrader", func(m *dependency.ManifoldReport) { m.Gated = []string{"leader"} })
		},
		"flag answer": func(r *dependency.Report) {
			closed := false
			change(r, "config", func(m *dependency.ManifoldReport) { m.Flag = &closed })
		},
		"mistake": func(r *dependency.Report) {
			change(r, "api-caller", func(m *dependency.ManifoldReport) { m.Err = mistaken{m.Err} })
		},
		"name": func(r *dependency.Report) { r.Manifolds["new"] = started() },
		"nested": func(r *dependency.Report) {
			change(r.Manifolds["workload"].Engine, "queue", func(m *dependency.ManifoldReport) { m.StartCount++ })
		},
		"no nested": func(r *dependency.Report) {
			change(r, "workload", func(m *dependency.ManifoldReport) { m.Engine = nil })
		},
	}
	for name, changeIt := range changes {
		t.Run(name, func(t *testing.T) {
			r := rebuilt(base)
			changeIt(&r)
			if withoutClock(draw(r, epoch).svg()) == withoutClock(draw(base, epoch).svg()) {
				t.Fatalf("changing the %s leaves the picture as it was; the test needs a change that shows", name)
			}
			if tagOf(r) == tagOf(base) {
				t.Errorf("tag after changing the %s = %s, the same as before; want another", name, tagOf(r))
			}
		})
	}
	if tagOf(base) != tagOf(rebuilt(base)) {
		t.Errorf("tags of equal reports = %s and %s, want the same", tagOf(base), tagOf(rebuilt(base)))
	}
}

// mistaken is an error with the same text that wraps ErrMistake too.
type mistaken struct{ error }

func (mistaken) Is(target error) bool { return target == dependency.ErrMistake }

// panickingIs is an error whose Is method panics.
type panickingIs struct{}

func (panickingIs) Error() string { return "hostile" }
func (panickingIs) Is(error) bool { panic("no answer today") }
func (panickingIs) Unwrap() error { return dependency.ErrMissing }

// change changes the named manifold of r in place.
func change(r *dependency.Report, name string, f func(m *dependency.ManifoldReport)) {
	m := r.Manifolds[name]
	f(&m)
	r.Manifolds[name] = m
}

func TestHandlerNotModifiedDrawsNothing(t *testing.T) {
	handler := Handler(&fixedEngine{report: randomReport(400, 1)})
	first := get(t, handler, http.MethodGet, "/graph.svg")
	req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/graph.svg", nil)
	req.Header.Set("If-None-Match", first.Header().Get("ETag"))
	drawn := testing.AllocsPerRun(5, func() {
		handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "http://127.0.0.1/graph.svg", nil))
	})
	notModified := testing.AllocsPerRun(5, func() { handler.ServeHTTP(httptest.NewRecorder(), req) })
	if notModified*10 > drawn {
		t.Errorf("a 304 answer allocates %v times, a drawn picture %v: want the 304 to lay nothing out, and so allocate less than a tenth as often", notModified, drawn)
	}
}

// get serves one request to handler and returns the response.
func get(t testing.TB, handler http.Handler, method, path string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, "http://127.0.0.1"+path, nil)
	if path == "" {
		req.URL.Path = "" // as http.StripPrefix leaves the prefix itself
	}
	resp := httptest.NewRecorder()
	handler.ServeHTTP(resp, req)
	return resp
}

func TestUntilTextNeverWiderThanWidest(t *testing.T) {
	for d := time.Duration(-1); d < 400*24*time.Hour; d = d*3/2 + time.Millisecond {
		if got := untilText(d); columns(got) > columns(widestUntil) {
			t.Errorf("untilText(%v) = %q, wider than %q", d, got, widestUntil)
		}
	}
	for d, want := range map[time.Duration]string{
		4200 * time.Millisecond:         "in 4.2s",
		125 * time.Second:               "in 2m05s",
		99*time.Minute + 59*time.Second: "in 99m59s",
		100 * time.Minute:               "in 1h40m",
		50*time.Hour + 30*time.Minute:   "in 50h30m",
		12*24*time.Hour + 5*time.Hour:   "in 12d05h",
		100 * 24 * time.Hour:            "in >99d",
	} {
		if got := untilText(d); got != want {
			t.Errorf("untilText(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestPictureStylesEveryState(t *testing.T) {
	for _, state := range []dependency.State{dependency.StateStopped, dependency.StateStarting, dependency.StateStarted, dependency.StateStopping, dependency.State(9)} {
		if rule := ".introspect ." + state.String() + ">rect{fill:"; !strings.Contains(svgStyle, rule) {
			t.Errorf("svgStyle lacks %q: a box of state %v would be filled black", rule, state)
		}
	}
}
