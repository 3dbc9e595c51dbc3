package dependency_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"unicode/utf8"

	"github.com/seedworks/dependency"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

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
			"web":     {"label": "web\nstopped\nwaiting", "fillcolor": "lightgrey"},
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

// A gated manifold is drawn as deliberately off, a flag with its answer,
// a flag's edge dotted apart from inputs' edges, and a mistake in red.
func TestReportDOTFlags(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, answers := newHarness(), newFlagAnswers()
		answers.set("open", true)
		engine := newTestEngine(t, nil)
		mustInstallAll(t, engine, dependency.Manifolds{
			"open":     h.flag("open", answers),
			"closed":   h.flag("closed", answers),
			"admitted": gatedOn(h.manifold("admitted", "open"), "open"),
			"gated":    gatedOn(h.manifold("gated"), "open", "closed", "absent"),
			"mistaken": h.requiring("mistaken", "open"), // open's worker is no *testWorker
		})
		synctest.Wait()
		dot := engine.Report().DOT()
		stopEngine(t, engine, nil)

		g, err := parseDOT(dot)
		if err != nil {
			t.Fatalf("parsing DOT(): %v\n%s", err, dot)
		}
		wantNodes := map[string]map[string]string{
			"open":     {"label": "open\nstarted\nflag open", "fillcolor": "palegreen"},
			"closed":   {"label": "closed\nstarted\nflag closed", "fillcolor": "palegreen"},
			"admitted": {"label": "admitted\nstarted", "fillcolor": "palegreen"},
			"gated":    {"label": "gated\nstopped\ngated by absent, closed", "style": "rounded,filled,dashed", "fillcolor": "white", "color": "grey50"},
			"mistaken": {"label": "mistaken\nstopped\nmistake", "fillcolor": "lightgrey", "color": "red", "penwidth": "2"},
			"absent":   {"label": "absent\nnot installed", "style": "rounded,dashed", "color": "grey50", "fontcolor": "grey50"},
		}
		if !jsonEqual(g.nodes, wantNodes) {
			t.Errorf("DOT() nodes = %v, want %v\n%s", g.nodes, wantNodes, dot)
		}
		wantEdges := []dotEdge{
			{"open", "admitted", ""},
			{"open", "admitted", "dotted"},
			{"absent", "gated", "dotted"},
			{"closed", "gated", "dotted"},
			{"open", "gated", "dotted"},
			{"open", "mistaken", ""},
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

func TestReportDOTReplacesWhatIsNotText(t *testing.T) {
	name := "bad\xff\x00nul\ttab\x7f"
	r := dependency.Report{Manifolds: map[string]dependency.ManifoldReport{
		name: {State: dependency.State(9), Inputs: []string{"in\x01put"}},
	}}
	dot := r.DOT()
	if !utf8.ValidString(dot) || strings.ContainsFunc(dot, func(r rune) bool { return r < ' ' && r != '\n' && r != '\t' || r == 0x7f }) {
		t.Errorf("DOT() = %q, want valid UTF-8 without control characters but newlines and indenting tabs", dot)
	}
	g, err := parseDOT(dot)
	if err != nil {
		t.Fatalf("parsing DOT(): %v\n%s", err, dot)
	}
	const shown = "bad\ufffd\ufffdnul\ufffdtab\ufffd"
	if label := g.nodes[shown]["label"]; label != shown+"\nunknown" {
		t.Errorf("label of %q = %q, want %q", shown, label, shown+"\nunknown")
	}
	if want := []dotEdge{{"in\ufffdput", shown, ""}}; !slices.Equal(g.edges, want) {
		t.Errorf("edges = %q, want %q", g.edges, want)
	}
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
