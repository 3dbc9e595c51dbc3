package dependency_test

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

// epoch is the fake clock's time when a synctest bubble starts.
var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// startMixedGraph installs manifolds in every kind of state and lets them
// settle for a second of fake time:
//   - "config" runs, and reports {"version": 3};
//   - "api" runs on config;
//   - "db" runs on config without "secrets", which is not installed;
//   - "auth" failed to start and waits out its error delay;
//   - "web" requires api and auth, so it stopped with ErrMissing.
//
// It must be called inside a synctest bubble.
func startMixedGraph(t *testing.T, h *harness) dependency.Engine {
	t.Helper()
	h.failStart("auth", func() error { return errFailed })
	engine := dependency.NewEngine(nil, time.Minute, 10*time.Millisecond)
	err := dependency.Install(engine, dependency.Manifolds{
		"config": reporting(h.manifold("config"), map[string]any{"version": 3}),
		"api":    h.manifold("api", "config"),
		"db":     h.manifold("db", "config", "secrets"),
		"auth":   h.manifold("auth"),
		"web":    h.requiring("web", "api", "auth"),
	})
	if err != nil {
		t.Fatalf("Install = %v, want nil", err)
	}
	time.Sleep(time.Second)
	synctest.Wait()
	return engine
}

func TestReportJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := startMixedGraph(t, h)
		data, err := json.Marshal(engine.Report())
		if err != nil {
			t.Fatalf("json.Marshal(Report()) = %v, want nil", err)
		}

		// The raw JSON, as an operator reads it.
		var raw struct {
			State     string                    `json:"state"`
			Error     *string                   `json:"error"`
			Manifolds map[string]map[string]any `json:"manifolds"`
		}
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatalf("json.Unmarshal(%s) = %v, want nil", data, err)
		}
		if raw.State != "started" || raw.Error != nil {
			t.Errorf("engine state, error = %q, %v; want \"started\" and no error in %s", raw.State, raw.Error, data)
		}
		config := raw.Manifolds["config"]
		started, _ := config["started"].(string)
		if at, err := time.Parse(time.RFC3339, started); err != nil || !at.Equal(epoch) {
			t.Errorf("manifolds.config.started = %q, want %v in RFC 3339", started, epoch)
		}
		delete(config, "started")
		want := map[string]any{
			"state":       "started",
			"start_count": 1.0,
			"worker":      map[string]any{"version": 3.0},
		}
		if !jsonEqual(config, want) {
			t.Errorf("manifolds.config = %v, want %v", config, want)
		}
		web := raw.Manifolds["web"]
		if web["state"] != "stopped" || web["started"] != nil || web["worker"] != nil {
			t.Errorf("manifolds.web = %v, want stopped, without started time or worker", web)
		}
		if msg, _ := web["error"].(string); !strings.Contains(msg, `"auth"`) {
			t.Errorf("manifolds.web.error = %q, want the missing input \"auth\" named", msg)
		}
		if !jsonEqual(web["inputs"], []any{"api", "auth"}) || !jsonEqual(web["missing"], []any{"auth"}) {
			t.Errorf("manifolds.web inputs, missing = %v, %v; want [api auth], [auth]", web["inputs"], web["missing"])
		}
		if auth := raw.Manifolds["auth"]; auth["state"] != "starting" || auth["error"] != errFailed.Error() {
			t.Errorf("manifolds.auth = %v, want starting with error %q", auth, errFailed)
		}

		// Decoding gives back the report.
		var got dependency.Report
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("json.Unmarshal into Report = %v, want nil", err)
		}
		if got.State != dependency.StateStarted || got.Err != nil || len(got.Manifolds) != 5 {
			t.Fatalf("decoded report = %+v, want started, no error, 5 manifolds", got)
		}
		c := got.Manifolds["config"]
		if c.State != dependency.StateStarted || c.StartCount != 1 || !c.Started.Equal(epoch) || c.Err != nil {
			t.Errorf("decoded config = %+v, want started once at %v, no error", c, epoch)
		}
		if v := c.Worker["version"]; v != 3.0 {
			t.Errorf("decoded config.Worker[\"version\"] = %v, want 3", v)
		}
		a := got.Manifolds["auth"]
		if a.State != dependency.StateStarting || a.Err == nil || a.Err.Error() != errFailed.Error() {
			t.Errorf("decoded auth = %+v, want starting with error %q", a, errFailed)
		}
		if d := got.Manifolds["db"]; !slices.Equal(d.Inputs, []string{"config", "secrets"}) || !slices.Equal(d.Missing, []string{"secrets"}) {
			t.Errorf("decoded db inputs, missing = %v, %v; want [config secrets], [secrets]", d.Inputs, d.Missing)
		}
		stopEngine(t, engine, nil)
	})
}

func TestReportJSONStoppedEngine(t *testing.T) {
	r := dependency.Report{State: dependency.StateStopped, Err: errFailed}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal(%+v) = %v, want nil", r, err)
	}
	want := `{"state":"stopped","error":"worker failed","manifolds":{}}`
	if string(data) != want {
		t.Errorf("json.Marshal(%+v) = %s, want %s", r, data, want)
	}
}

func TestReportJSONUnmarshallableWorkerReport(t *testing.T) {
	r := dependency.Report{Manifolds: map[string]dependency.ManifoldReport{
		"a": {State: dependency.StateStarted, Worker: map[string]any{"f": func() {}}},
		"b": {State: dependency.StateStarted, Worker: map[string]any{"ok": true}},
	}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal = %v, want nil", err)
	}
	var got dependency.Report
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v, want nil", data, err)
	}
	if msg, _ := got.Manifolds["a"].Worker["error"].(string); !strings.HasPrefix(msg, "cannot marshal worker report") {
		t.Errorf("a's worker report = %v, want an error saying it cannot be marshalled", got.Manifolds["a"].Worker)
	}
	if ok := got.Manifolds["b"].Worker["ok"]; ok != true {
		t.Errorf("b's worker report = %v, want {ok: true}", got.Manifolds["b"].Worker)
	}

	data, err = json.Marshal(r.Manifolds["a"])
	if err != nil {
		t.Fatalf("json.Marshal(a's report) = %v, want nil", err)
	}
	var a dependency.ManifoldReport
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v, want nil", data, err)
	}
	if msg, _ := a.Worker["error"].(string); !strings.HasPrefix(msg, "cannot marshal worker report") {
		t.Errorf("a's worker report alone = %v, want an error saying it cannot be marshalled", a.Worker)
	}
}

func TestStateText(t *testing.T) {
	for _, s := range []dependency.State{dependency.StateStopped, dependency.StateStarting, dependency.StateStarted, dependency.StateStopping} {
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("json.Marshal(%v) = %v, want nil", s, err)
		}
		if want := `"` + s.String() + `"`; string(data) != want {
			t.Errorf("json.Marshal(%v) = %s, want %s", s, data, want)
		}
		var got dependency.State
		if err := json.Unmarshal(data, &got); err != nil || got != s {
			t.Errorf("json.Unmarshal(%s) = %v, %v; want %v, nil", data, got, err, s)
		}
	}
	var s dependency.State
	if err := json.Unmarshal([]byte(`"running"`), &s); err == nil {
		t.Errorf("json.Unmarshal(\"running\") = nil error, want one: not a state")
	}
	if _, err := json.Marshal(dependency.State(7)); err == nil {
		t.Errorf("json.Marshal(State(7)) = nil error, want one: not a state")
	}
}

func TestReportDOT(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := startMixedGraph(t, h)
		dot := engine.Report().DOT()
		stopEngine(t, engine, nil)

		golden := filepath.Join("testdata", "mixed-graph.dot")
		if *updateGolden {
			if err := os.WriteFile(golden, []byte(dot), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("reading the golden file: %v (run go test -run TestReportDOT -update to write it)", err)
		}
		if dot != string(want) {
			t.Errorf("DOT() =\n%s\nwant (%s)\n%s", dot, golden, want)
		}

		g, err := parseDOT(dot)
		if err != nil {
			t.Fatalf("parsing DOT(): %v\n%s", err, dot)
		}
		wantNodes := map[string]map[string]string{
			"api":     {"label": "api\nstarted", "fillcolor": "palegreen"},
			"auth":    {"label": "auth\nstarting", "fillcolor": "khaki", "color": "red", "penwidth": "2"},
			"config":  {"label": "config\nstarted", "fillcolor": "palegreen"},
			"db":      {"label": "db\nstarted", "fillcolor": "palegreen"},
			"web":     {"label": "web\nstopped", "fillcolor": "lightgrey", "color": "red", "penwidth": "2"},
			"secrets": {"label": "secrets\nnot installed", "style": "rounded,dashed", "color": "grey50", "fontcolor": "grey50"},
		}
		if !jsonEqual(g.nodes, wantNodes) {
			t.Errorf("DOT() nodes = %v, want %v", g.nodes, wantNodes)
		}
		wantEdges := []dotEdge{
			{"config", "api", ""},
			{"config", "db", ""},
			{"secrets", "db", "dashed"},
			{"api", "web", ""},
			{"auth", "web", "dashed"},
		}
		if !slices.Equal(g.edges, wantEdges) {
			t.Errorf("DOT() edges = %v, want %v", g.edges, wantEdges)
		}
	})
}

func TestReportDOTQuotesNames(t *testing.T) {
	name := "say \"hi\"\\\nthere"
	r := dependency.Report{Manifolds: map[string]dependency.ManifoldReport{
		name: {State: dependency.StateStarted, Inputs: []string{"plain"}},
	}}
	g, err := parseDOT(r.DOT())
	if err != nil {
		t.Fatalf("parsing DOT(): %v\n%s", err, r.DOT())
	}
	if label := g.nodes[name]["label"]; label != name+"\nstarted" {
		t.Errorf("label of %q = %q, want %q", name, label, name+"\nstarted")
	}
	if want := []dotEdge{{"plain", name, ""}}; !slices.Equal(g.edges, want) {
		t.Errorf("edges = %q, want %q", g.edges, want)
	}
}

// jsonEqual reports whether a and b marshal to the same JSON, which sorts
// map keys.
func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}

// dotGraph is what parseDOT reads from DOT(): the attributes of each node
// statement, and the edges in order.
type dotGraph struct {
	nodes map[string]map[string]string
	edges []dotEdge
}

type dotEdge struct {
	from, to string
	style    string
}

// parseDOT reads the subset of DOT that Report.DOT writes: one digraph of
// node statements, edge statements and one default node statement. Quoted
// strings lose their quotes; \" and \\ become " and \, and \n a newline.
func parseDOT(text string) (dotGraph, error) {
	tokens, err := dotTokens(text)
	if err != nil {
		return dotGraph{}, err
	}
	g := dotGraph{nodes: make(map[string]map[string]string)}
	if len(tokens) < 3 || tokens[0] != "digraph" || tokens[2] != "{" || tokens[len(tokens)-1] != "}" {
		return g, fmt.Errorf("want digraph NAME { ... }, got %q", tokens)
	}
	stmts := tokens[3 : len(tokens)-1]
	for len(stmts) > 0 {
		end := slices.Index(stmts, ";")
		if end < 0 {
			return g, fmt.Errorf("statement %q not ended by ;", stmts)
		}
		stmt := stmts[:end]
		stmts = stmts[end+1:]
		var attrs map[string]string
		if i := slices.Index(stmt, "["); i >= 0 {
			if attrs, err = dotAttrs(stmt[i:]); err != nil {
				return g, err
			}
			stmt = stmt[:i]
		}
		switch {
		case len(stmt) == 1 && stmt[0] == "node":
		case len(stmt) == 1:
			if _, dup := g.nodes[stmt[0]]; dup {
				return g, fmt.Errorf("node %q declared twice", stmt[0])
			}
			g.nodes[stmt[0]] = attrs
		case len(stmt) == 3 && stmt[1] == "->":
			g.edges = append(g.edges, dotEdge{stmt[0], stmt[2], attrs["style"]})
		default:
			return g, fmt.Errorf("unexpected statement %q", stmt)
		}
	}
	return g, nil
}

// dotAttrs reads [k=v, k=v].
func dotAttrs(tokens []string) (map[string]string, error) {
	attrs := make(map[string]string)
	if tokens[len(tokens)-1] != "]" {
		return nil, fmt.Errorf("attributes %q not ended by ]", tokens)
	}
	tokens = tokens[1 : len(tokens)-1]
	for len(tokens) > 0 {
		if len(tokens) < 3 || tokens[1] != "=" {
			return nil, fmt.Errorf("want key=value, got %q", tokens)
		}
		attrs[tokens[0]] = tokens[2]
		tokens = tokens[3:]
		if len(tokens) > 0 {
			if tokens[0] != "," {
				return nil, fmt.Errorf("want , between attributes, got %q", tokens)
			}
			tokens = tokens[1:]
		}
	}
	return attrs, nil
}

// dotTokens splits DOT text into words, unquoted strings and punctuation.
func dotTokens(text string) ([]string, error) {
	var tokens []string
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case c == '-' && strings.HasPrefix(text[i:], "->"):
			tokens = append(tokens, "->")
			i += 2
		case strings.IndexByte("{}[];=,", c) >= 0:
			tokens = append(tokens, string(c))
			i++
		case c == '"':
			var s strings.Builder
			for i++; ; i++ {
				if i >= len(text) {
					return nil, fmt.Errorf("unterminated string")
				}
				if text[i] == '"' {
					i++
					break
				}
				if text[i] == '\\' && i+1 < len(text) {
					i++
					switch text[i] {
					case 'n':
						s.WriteByte('\n')
					case '"', '\\':
						s.WriteByte(text[i])
					default:
						return nil, fmt.Errorf("unexpected escape \\%c", text[i])
					}
					continue
				}
				s.WriteByte(text[i])
			}
			tokens = append(tokens, s.String())
		default:
			j := i
			for j < len(text) && strings.IndexByte(" \t\n{}[];=,\"", text[j]) < 0 {
				j++
			}
			tokens = append(tokens, text[i:j])
			i = j
		}
	}
	return tokens, nil
}

// errDoomed is the fatal error that stops the engine in report tests.
var errDoomed = errors.New("doomed")

func isDoomed(err error) bool { return errors.Is(err, errDoomed) }

// wantManifold is what checkReport expects of one manifold.
type wantManifold struct {
	state      dependency.State
	missing    []string
	startCount int
	started    time.Duration // after epoch; ignored when startCount is 0
	err        error         // matched with errors.Is; nil: no error
}

// checkManifold fails t unless r reports name as want says.
func checkManifold(t *testing.T, r dependency.Report, name string, want wantManifold) {
	t.Helper()
	m, ok := r.Manifolds[name]
	if !ok {
		t.Errorf("Report() has no %q, want %v", name, want.state)
		return
	}
	if m.State != want.state {
		t.Errorf("Report() %q State = %v, want %v", name, m.State, want.state)
	}
	if !slices.Equal(m.Missing, want.missing) {
		t.Errorf("Report() %q Missing = %q, want %q", name, m.Missing, want.missing)
	}
	if m.StartCount != want.startCount {
		t.Errorf("Report() %q StartCount = %d, want %d", name, m.StartCount, want.startCount)
	}
	wantStarted := time.Time{}
	if want.startCount > 0 {
		wantStarted = epoch.Add(want.started)
	}
	if !m.Started.Equal(wantStarted) {
		t.Errorf("Report() %q Started = %v, want %v", name, m.Started, wantStarted)
	}
	switch {
	case want.err == nil && m.Err != nil:
		t.Errorf("Report() %q Err = %v, want nil", name, m.Err)
	case want.err != nil && !errors.Is(m.Err, want.err):
		t.Errorf("Report() %q Err = %v, want %v", name, m.Err, want.err)
	}
}

func TestReportLifecycle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
		if r := engine.Report(); r.State != dependency.StateStarted || r.Err != nil || len(r.Manifolds) != 0 {
			t.Errorf("Report() of a new engine = %+v, want started, no error, no manifolds", r)
		}

		// a's start is held in flight; b waits for it.
		gate, hold := make(chan struct{}), make(chan struct{})
		err := dependency.Install(engine, dependency.Manifolds{
			"a": gateStart(h.manifold("a"), gate),
			"b": holdStop(h.requiring("b", "a"), hold),
		})
		if err != nil {
			t.Fatalf("Install = %v, want nil", err)
		}
		synctest.Wait()
		r := engine.Report()
		checkManifold(t, r, "a", wantManifold{state: dependency.StateStarting})
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStarting, missing: []string{"a"}})
		if inputs := r.Manifolds["b"].Inputs; !slices.Equal(inputs, []string{"a"}) {
			t.Errorf("Report() b Inputs = %q, want [a]", inputs)
		}

		// a starts at once, b after the bounce delay.
		close(gate)
		synctest.Wait()
		r = engine.Report()
		checkManifold(t, r, "a", wantManifold{state: dependency.StateStarted, startCount: 1})
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStarting})
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		checkManifold(t, engine.Report(), "b", wantManifold{state: dependency.StateStarted, startCount: 1, started: 10 * time.Millisecond})

		// a fails: it waits out its error delay with its error reported,
		// and b is bounced, stopping until hold is closed.
		h.worker("a").fail(errFailed)
		synctest.Wait()
		r = engine.Report()
		checkManifold(t, r, "a", wantManifold{state: dependency.StateStarting, startCount: 1, err: errFailed})
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStopping, missing: []string{"a"}, startCount: 1, started: 10 * time.Millisecond})
		close(hold)
		synctest.Wait()
		checkManifold(t, engine.Report(), "b", wantManifold{state: dependency.StateStarting, missing: []string{"a"}, startCount: 1, started: 10 * time.Millisecond})

		// b restarts without a, which it requires.
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		checkManifold(t, engine.Report(), "b", wantManifold{state: dependency.StateStopped, missing: []string{"a"}, startCount: 1, started: 10 * time.Millisecond, err: dependency.ErrMissing})

		// a restarts after its error delay, clearing its error; b keeps its
		// error until it runs again.
		time.Sleep(990 * time.Millisecond)
		synctest.Wait()
		r = engine.Report()
		checkManifold(t, r, "a", wantManifold{state: dependency.StateStarted, startCount: 2, started: 1010 * time.Millisecond})
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStarting, startCount: 1, started: 10 * time.Millisecond, err: dependency.ErrMissing})
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		checkManifold(t, engine.Report(), "b", wantManifold{state: dependency.StateStarted, startCount: 2, started: 1020 * time.Millisecond})

		// Uninstalled, a leaves the report and is missing for b.
		if err := engine.Uninstall("a"); err != nil {
			t.Fatalf("Uninstall(\"a\") = %v, want nil", err)
		}
		time.Sleep(10 * time.Millisecond)
		synctest.Wait()
		r = engine.Report()
		if _, ok := r.Manifolds["a"]; ok || len(r.Manifolds) != 1 {
			t.Errorf("Report() after Uninstall(\"a\") lists %d manifolds, want only b", len(r.Manifolds))
		}
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStopped, missing: []string{"a"}, startCount: 2, started: 1020 * time.Millisecond, err: dependency.ErrMissing})

		stopEngine(t, engine, nil)
		r = engine.Report()
		if r.State != dependency.StateStopped || r.Err != nil {
			t.Errorf("Report() after Wait = %v, %v; want stopped, nil", r.State, r.Err)
		}
		checkManifold(t, r, "b", wantManifold{state: dependency.StateStopped, missing: []string{"a"}, startCount: 2, started: 1020 * time.Millisecond, err: dependency.ErrMissing})
	})
}

func TestReportWhileStoppingAndStopped(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(isDoomed, time.Second, 10*time.Millisecond)
		hold := make(chan struct{})
		mustInstall(t, engine, "slow", holdStop(h.manifold("slow"), hold))
		mustInstall(t, engine, "doomed", h.manifold("doomed"))
		synctest.Wait()

		// A fatal error stops the engine; slow keeps stopping until hold
		// is closed.
		h.worker("doomed").fail(errDoomed)
		synctest.Wait()
		r := engine.Report()
		if r.State != dependency.StateStopping || !errors.Is(r.Err, errDoomed) {
			t.Errorf("Report() while stopping = %v, %v; want stopping, %v", r.State, r.Err, errDoomed)
		}
		checkManifold(t, r, "slow", wantManifold{state: dependency.StateStopping, startCount: 1})
		checkManifold(t, r, "doomed", wantManifold{state: dependency.StateStopped, startCount: 1, err: errDoomed})

		close(hold)
		waitErr := engine.Wait()
		if !errors.Is(waitErr, errDoomed) {
			t.Fatalf("Wait() = %v, want %v", waitErr, errDoomed)
		}
		for range 2 {
			r = engine.Report()
			if r.State != dependency.StateStopped || r.Err != waitErr {
				t.Errorf("Report() after Wait = %v, %v; want stopped, Wait's error %v", r.State, r.Err, waitErr)
			}
			checkManifold(t, r, "slow", wantManifold{state: dependency.StateStopped, startCount: 1})
		}
	})
}

func TestReportErrorUntilRunsAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
		errStart := errors.New("start failed")
		failures := 0
		h.failStart("a", func() error {
			if failures++; failures <= 2 {
				return errStart
			}
			return nil
		})
		mustInstall(t, engine, "a", h.manifold("a"))

		// The failed start's error stays through the retries that fail too.
		for i := range 2 {
			synctest.Wait()
			checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStarting, err: errStart})
			if i == 0 {
				time.Sleep(time.Second)
			}
		}
		time.Sleep(time.Second)
		synctest.Wait()
		checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStarted, startCount: 1, started: 2 * time.Second})

		// The worker's error stays until it runs again.
		h.worker("a").fail(errFailed)
		synctest.Wait()
		checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStarting, startCount: 1, started: 2 * time.Second, err: errFailed})
		time.Sleep(time.Second - time.Nanosecond)
		synctest.Wait()
		checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStarting, startCount: 1, started: 2 * time.Second, err: errFailed})
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStarted, startCount: 2, started: 3 * time.Second})

		// A worker that completes leaves no error.
		h.worker("a").fail(nil)
		synctest.Wait()
		checkManifold(t, engine.Report(), "a", wantManifold{state: dependency.StateStopped, startCount: 2, started: 3 * time.Second})
		stopEngine(t, engine, nil)
	})
}

func TestReportMissing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Minute, 0)
		h.failStart("failing", func() error { return errFailed })
		err := dependency.Install(engine, dependency.Manifolds{
			"running":   h.manifold("running"),
			"completed": h.manifold("completed"),
			"failing":   h.manifold("failing"),
			"m":         h.manifold("m", "absent", "running", "failing", "completed"),
		})
		if err != nil {
			t.Fatalf("Install = %v, want nil", err)
		}
		synctest.Wait()
		h.worker("completed").fail(nil)
		synctest.Wait()
		// m started once its inputs had started, and again when completed
		// stopped. Missing keeps the order of Inputs.
		checkManifold(t, engine.Report(), "m", wantManifold{
			state:      dependency.StateStarted,
			missing:    []string{"absent", "failing", "completed"},
			startCount: 2,
		})
		stopEngine(t, engine, nil)
	})
}

func TestReportWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 0)
		mustInstall(t, engine, "reporting", reporting(h.manifold("reporting"), map[string]any{"jobs": 2}))
		mustInstall(t, engine, "silent", h.manifold("silent"))
		panicking := h.manifold("panicking")
		start := panicking.Start
		panicking.Start = func(get dependency.GetResourceFunc) (dependency.Worker, error) {
			w, err := start(get)
			return panickingReporter{w}, err
		}
		mustInstall(t, engine, "panicking", panicking)
		synctest.Wait()
		r := engine.Report()
		if got := r.Manifolds["reporting"].Worker; !jsonEqual(got, map[string]any{"jobs": 2}) {
			t.Errorf("Report() reporting Worker = %v, want map[jobs:2]", got)
		}
		if got := r.Manifolds["silent"].Worker; got != nil {
			t.Errorf("Report() silent Worker = %v, want nil: its worker is no Reporter", got)
		}
		msg, _ := r.Manifolds["panicking"].Worker["error"].(string)
		if !strings.Contains(msg, "panicked: report exploded") {
			t.Errorf("Report() panicking Worker = %v, want an error entry carrying the panic", r.Manifolds["panicking"].Worker)
		}
		stopEngine(t, engine, nil)
	})
}

// panickingReporter is a worker whose Report panics.
type panickingReporter struct{ dependency.Worker }

func (panickingReporter) Report() map[string]any { panic("report exploded") }

// eventRecorder is an Observer that keeps every event.
type eventRecorder struct {
	mu     sync.Mutex
	events []dependency.Event
}

func (r *eventRecorder) observe(ev dependency.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

// take returns the events so far and forgets them.
func (r *eventRecorder) take() []dependency.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	events := r.events
	r.events = nil
	return events
}

// wantEvent is an Event as the observer tests write it: At is the time after
// epoch, and Err is matched with errors.Is.
type wantEvent struct {
	Kind     dependency.EventKind
	Manifold string
	Delay    time.Duration
	Err      error
	At       time.Duration
}

// checkEvents fails t unless got are the want events, in order.
func checkEvents(t *testing.T, got []dependency.Event, want []wantEvent) {
	t.Helper()
	matches := len(got) == len(want)
	for i := 0; matches && i < len(got); i++ {
		g, w := got[i], want[i]
		matches = g.Kind == w.Kind && g.Manifold == w.Manifold && g.Delay == w.Delay &&
			g.Time.Equal(epoch.Add(w.At)) && (g.Err == nil) == (w.Err == nil) && errors.Is(g.Err, w.Err)
	}
	if matches {
		return
	}
	var b strings.Builder
	for _, ev := range got {
		fmt.Fprintf(&b, "\t%v %q delay=%v err=%v at=%v\n", ev.Kind, ev.Manifold, ev.Delay, ev.Err, ev.Time.Sub(epoch))
	}
	b.WriteString("want:\n")
	for _, ev := range want {
		fmt.Fprintf(&b, "\t%v %q delay=%v err=%v at=%v\n", ev.Kind, ev.Manifold, ev.Delay, ev.Err, ev.At)
	}
	t.Errorf("events:\n%s", b.String())
}

func TestObserverBounceOfChain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		events := &eventRecorder{}
		const bounce = 10 * time.Millisecond
		engine, err := dependency.New(dependency.EngineConfig{
			ErrorDelay:  time.Second,
			BounceDelay: bounce,
			Observer:    events.observe,
		})
		if err != nil {
			t.Fatalf("New = %v, want nil", err)
		}
		err = dependency.Install(engine, dependency.Manifolds{
			"a": h.manifold("a"),
			"b": h.manifold("b", "a"),
			"c": h.manifold("c", "b"),
		})
		if err != nil {
			t.Fatalf("Install = %v, want nil", err)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if n := h.liveCount(); n != 3 {
			t.Fatalf("live workers = %d, want 3", n)
		}
		events.take()

		// a asks for a restart: b and c are stopped one after the other,
		// and start again one after the other.
		h.worker("a").fail(dependency.ErrBounce)
		time.Sleep(time.Second)
		synctest.Wait()
		const at = time.Second
		checkEvents(t, events.take(), []wantEvent{
			{Kind: dependency.EventStopped, Manifold: "a", Err: dependency.ErrBounce, At: at},
			{Kind: dependency.EventScheduled, Manifold: "a", Delay: bounce, At: at},
			{Kind: dependency.EventBounced, Manifold: "b", At: at},
			{Kind: dependency.EventStopped, Manifold: "b", At: at},
			{Kind: dependency.EventScheduled, Manifold: "b", Delay: bounce, At: at},
			{Kind: dependency.EventBounced, Manifold: "c", At: at},
			{Kind: dependency.EventStopped, Manifold: "c", At: at},
			{Kind: dependency.EventScheduled, Manifold: "c", Delay: bounce, At: at},
			{Kind: dependency.EventStarted, Manifold: "a", At: at + bounce},
			{Kind: dependency.EventBounced, Manifold: "b", At: at + bounce},
			{Kind: dependency.EventScheduled, Manifold: "b", Delay: bounce, At: at + bounce},
			{Kind: dependency.EventStarted, Manifold: "b", At: at + 2*bounce},
			{Kind: dependency.EventBounced, Manifold: "c", At: at + 2*bounce},
			{Kind: dependency.EventScheduled, Manifold: "c", Delay: bounce, At: at + 2*bounce},
			{Kind: dependency.EventStarted, Manifold: "c", At: at + 3*bounce},
		})
		for name, want := range map[string]int{"a": 2, "b": 2, "c": 2} {
			if n := h.startCount(name); n != want {
				t.Errorf("starts of %q = %d, want %d", name, n, want)
			}
		}
		stopEngine(t, engine, nil)
		h.checkNoDoubles(t)
	})
}

func TestObserverInstallAndUninstall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		events := &eventRecorder{}
		engine, err := dependency.New(dependency.EngineConfig{Observer: events.observe})
		if err != nil {
			t.Fatalf("New = %v, want nil", err)
		}
		mustInstall(t, engine, "a", h.manifold("a"))
		synctest.Wait()
		if err := engine.Uninstall("a"); err != nil {
			t.Fatalf("Uninstall(\"a\") = %v, want nil", err)
		}
		synctest.Wait()
		checkEvents(t, events.take(), []wantEvent{
			{Kind: dependency.EventInstalled, Manifold: "a"},
			{Kind: dependency.EventScheduled, Manifold: "a"},
			{Kind: dependency.EventStarted, Manifold: "a"},
			{Kind: dependency.EventUninstalled, Manifold: "a"},
			{Kind: dependency.EventStopped, Manifold: "a"},
		})
		stopEngine(t, engine, nil)
	})
}

func TestObserverPanicRecovered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		log := &errorLog{}
		engine, err := dependency.New(dependency.EngineConfig{
			Logger:   log,
			Observer: func(ev dependency.Event) { panic("observer exploded on " + ev.Kind.String()) },
		})
		if err != nil {
			t.Fatalf("New = %v, want nil", err)
		}
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", h.manifold("b", "a"))
		synctest.Wait()
		if b := h.worker("b"); b == nil || b.inputs["a"] != h.worker("a") {
			t.Errorf("b = %v, want running on a's worker despite the observer", b)
		}
		errorLines := log.take()
		want := `"a" manifold: observer panicked on installed: observer exploded on installed`
		if len(errorLines) == 0 || errorLines[0] != want {
			t.Errorf("first ERROR line = %q, want %q", errorLines, want)
		}
		if r := engine.Report(); r.State != dependency.StateStarted || r.Err != nil {
			t.Errorf("Report() = %v, %v; want started, nil", r.State, r.Err)
		}
		stopEngine(t, engine, nil)
	})
}

func TestSelfManifold(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 0)
		seen := make(chan dependency.Report, 1)
		mustInstall(t, engine, "self", dependency.SelfManifold(engine))
		mustInstall(t, engine, "installer", dependency.Manifold{
			Inputs: []string{"self"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var self dependency.Engine
				if err := get("self", &self); err != nil {
					return nil, err
				}
				if err := self.Install("child", h.manifold("child")); err != nil {
					return nil, err
				}
				seen <- self.Report()
				return h.started("installer", nil)
			},
		})
		synctest.Wait()
		r := <-seen
		if got := r.Manifolds["self"].State; got != dependency.StateStarted {
			t.Errorf("installer's Report() self State = %v, want started", got)
		}
		if _, ok := r.Manifolds["child"]; !ok {
			t.Errorf("installer's Report() has no \"child\", want the manifold it installed")
		}
		if h.worker("child") == nil || h.worker("installer") == nil {
			t.Errorf("child, installer workers = %v, %v; want both running", h.worker("child"), h.worker("installer"))
		}

		// Asked for anything but an *Engine, its Output fails.
		mustInstall(t, engine, "wrong", dependency.Manifold{
			Inputs: []string{"self"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var n int
				return nil, get("self", &n)
			},
		})
		synctest.Wait()
		if err := engine.Report().Manifolds["wrong"].Err; err == nil || errors.Is(err, dependency.ErrMissing) {
			t.Errorf("\"wrong\" Err = %v, want a type error", err)
		}
		stopEngine(t, engine, nil)
	})
}

func TestErrMissingNamesInputAndReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 0)
		mustInstall(t, engine, "plain", dependency.Manifold{
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) { return h.started("plain", nil) },
		})
		synctest.Wait()
		errs := make(chan []error, 1)
		mustInstall(t, engine, "m", dependency.Manifold{
			Inputs: []string{"plain", "absent"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var n int
				errs <- []error{get("undeclared", nil), get("absent", nil), get("plain", &n), get("plain", nil)}
				return h.started("m", nil)
			},
		})
		synctest.Wait()
		got := <-errs
		for i, want := range []string{
			`"undeclared" is not an input of "m": dependency not available`,
			`input "absent" not running: dependency not available`,
			`input "plain" has no Output for *int: dependency not available`,
		} {
			if got[i] == nil || got[i].Error() != want || !errors.Is(got[i], dependency.ErrMissing) {
				t.Errorf("error %d = %v, want %q wrapping ErrMissing", i, got[i], want)
			}
		}
		if got[3] != nil {
			t.Errorf("get(\"plain\", nil) = %v, want nil: an input without Output serves a nil out", got[3])
		}
		stopEngine(t, engine, nil)
	})
}

// errorLog is a dependency.Logger that keeps the ERROR lines and drops the
// others.
type errorLog struct {
	mu    sync.Mutex
	lines []string
}

func (*errorLog) Debugf(string, ...any)   {}
func (*errorLog) Infof(string, ...any)    {}
func (*errorLog) Warningf(string, ...any) {}

func (l *errorLog) Errorf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

// take returns the lines so far and forgets them.
func (l *errorLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	l.lines = nil
	return lines
}

// Each Report after Wait is the caller's own: changing one changes no other.
func TestReportAfterWaitIsACopy(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := dependency.NewEngine(nil, time.Second, 0)
		mustInstall(t, engine, "a", h.manifold("a"))
		mustInstall(t, engine, "b", h.manifold("b", "a", "x"))
		synctest.Wait()
		stopEngine(t, engine, nil)

		first := engine.Report()
		delete(first.Manifolds, "a")
		first.Manifolds["b"].Inputs[0] = "changed"
		first.Manifolds["b"].Missing[0] = "changed"
		r := engine.Report()
		if _, ok := r.Manifolds["a"]; !ok {
			t.Errorf("Report() after a caller deleted \"a\" from its own has no \"a\", want it")
		}
		if b := r.Manifolds["b"]; !slices.Equal(b.Inputs, []string{"a", "x"}) || !slices.Equal(b.Missing, []string{"a", "x"}) {
			t.Errorf("Report() b Inputs, Missing = %q, %q after a caller changed its own; want [a x], [a x]", b.Inputs, b.Missing)
		}
	})
}
