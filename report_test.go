package dependency_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
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
