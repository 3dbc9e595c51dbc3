package introspect

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/seedworks/dependency"
)

// A gated manifold is drawn as deliberately off, never failed; a flag's
// box says its answer and its arrows are drawn apart from inputs'; a
// mistake is drawn failed, saying so; a wait for an input is not.
func TestPictureDrawsFlags(t *testing.T) {
	svg := draw(flagsReport(), epoch).svg()
	checkWellFormed(t, svg)
	groups, arrows := svgParts(t, svg)
	for path, want := range map[string]struct {
		class, text string
	}{
		"leader":   {"manifold started flag open", "flag open"},
		"upgraded": {"manifold started flag closed", "flag closed"},
		"elected":  {"manifold started", ""},
		"migrator": {"manifold stopped gated", "gated by upgraded, vault"},
		"asker":    {"manifold stopped mistake failed", "mistake in its start func"},
		"patient":  {"manifold stopped waiting", "waiting for vault"},
		"vault":    {"absent", "not installed"},
	} {
		g, ok := groups[path]
		if !ok {
			t.Errorf("no box %q in the picture", path)
			continue
		}
		if g.class != want.class {
			t.Errorf("box %q of class %q, want %q", path, g.class, want.class)
		}
		if want.text != "" && !slices.Contains(g.texts, want.text) {
			t.Errorf("box %q says %q, want it to say %q", path, g.texts, want.text)
		}
	}
	if texts := groups["migrator"].texts; slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, "lost") }) {
		t.Errorf("gated box says %q, want its last error left to the tooltip", texts)
	}
	for pair, want := range map[string]string{
		"leader -> elected":    "arrow flag", // an input and a flag: one arrow, a flag's
		"leader -> migrator":   "arrow flag",
		"upgraded -> migrator": "arrow flag",
		"vault -> migrator":    "arrow missing flag",
		"vault -> patient":     "arrow missing",
		"leader -> asker":      "arrow",
	} {
		if got := arrows[pair]; got != want {
			t.Errorf("arrow %s of class %q, want %q", pair, got, want)
		}
	}
}

// flagsReport has two flags, open and closed, manifolds gated on them and
// on a flag not installed, a mistake, and a manifold waiting for an input.
func flagsReport() dependency.Report {
	open, closed := true, false
	leader, upgraded := started(), started()
	leader.Flag, upgraded.Flag = &open, &closed
	elected := started("leader")
	elected.Flags = []string{"leader"}
	migrator := dependency.ManifoldReport{State: dependency.StateStopped, Flags: []string{"leader", "upgraded", "vault"},
		Gated: []string{"upgraded", "vault"}, StartCount: 1, Err: errors.New("connection lost")}
	asker := dependency.ManifoldReport{State: dependency.StateStopped, Inputs: []string{"leader"},
		Err: fmt.Errorf("cannot get %q as *Conn: %w%w", "leader", dependency.ErrMissing, dependency.ErrMistake)}
	patient := dependency.ManifoldReport{State: dependency.StateStopped, Inputs: []string{"vault"},
		Err: fmt.Errorf("%q not running: %w", "vault", dependency.ErrMissing)}
	return withMissing(map[string]dependency.ManifoldReport{
		"leader": leader, "upgraded": upgraded, "elected": elected,
		"migrator": migrator, "asker": asker, "patient": patient,
	})
}

// svgGroup is a box as the SVG draws it: its class and its lines.
type svgGroup struct {
	class string
	texts []string
}

// svgParts reads the boxes of an SVG picture by path and the classes of
// its arrows by "from -> to".
func svgParts(t *testing.T, svg string) (map[string]svgGroup, map[string]string) {
	t.Helper()
	groups, arrows := make(map[string]svgGroup), make(map[string]string)
	decoder := xml.NewDecoder(strings.NewReader(svg))
	var path string // of the group being read
	inText := false
	for {
		token, err := decoder.Token()
		if err == io.EOF {
			return groups, arrows
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v", err)
		}
		switch token := token.(type) {
		case xml.StartElement:
			attrs := make(map[string]string)
			for _, a := range token.Attr {
				attrs[a.Name.Local] = a.Value
			}
			switch token.Name.Local {
			case "g":
				path = attrs["data-path"]
				groups[path] = svgGroup{class: attrs["class"]}
			case "path":
				if attrs["data-from"] != "" {
					arrows[attrs["data-from"]+" -> "+attrs["data-to"]] = attrs["class"]
				}
			case "text":
				inText = path != ""
			}
		case xml.CharData:
			if inText {
				g := groups[path]
				g.texts = append(g.texts, string(token))
				groups[path] = g
			}
		case xml.EndElement:
			switch token.Name.Local {
			case "g":
				path = ""
			case "text":
				inText = false
			}
		}
	}
}

func TestLayoutProperties(t *testing.T) {
	for name, report := range layoutReports() {
		t.Run(name, func(t *testing.T) {
			checkPicture(t, report, draw(report, epoch))
		})
	}
}

func TestLayoutSameReportSamePicture(t *testing.T) {
	for name, report := range layoutReports() {
		t.Run(name, func(t *testing.T) {
			first := draw(report, epoch).svg()
			// A copy built afresh, whose maps iterate in another order.
			again := draw(rebuilt(report), epoch).svg()
			if first != again {
				t.Errorf("draw(copy of report) differs from draw(report):\n%s\nwant\n%s", again, first)
			}
		})
	}
}

func TestLayoutWithCycles(t *testing.T) {
	// No engine reports a cycle, but a report decoded from JSON may have
	// one: it is drawn all the same, with an arrow marked back.
	report := withMissing(map[string]dependency.ManifoldReport{
		"a": started("c"), "b": started("a"), "c": started("b"), "d": started("d", "a"),
	})
	p := draw(report, epoch)
	checkDrawnOnce(t, report, p)
	checkNoOverlap(t, p)
	checkWellFormed(t, p.svg())
	back := 0
	for _, a := range p.arrows {
		if a.back {
			back++
		}
	}
	if back != 2 {
		t.Errorf("back arrows = %d, want 2: one closing a -> b -> c -> a, and d's input d", back)
	}
}

func TestLayoutDrawsInputsAboveDependents(t *testing.T) {
	p := draw(agentReport(), epoch)
	config, status := findBox(t, p, "config"), findBox(t, p, "status")
	api := findBox(t, p, "api-caller")
	if !(config.y+config.h < api.y && api.y+api.h < status.y) {
		t.Errorf("config at y %v, api-caller at %v, status at %v: want each below the one before", config.y, api.y, status.y)
	}
}

func TestLayoutSetsUnjoinedPartsInRows(t *testing.T) {
	manifolds := make(map[string]dependency.ManifoldReport)
	for i := range 40 {
		manifolds[fmt.Sprintf("alone%02d", i)] = started()
	}
	manifolds["pair-a"], manifolds["pair-b"] = started(), started("pair-a")
	report := withMissing(manifolds)
	p := draw(report, epoch)
	checkPicture(t, report, p)
	if p.width > rowWidth+2*margin {
		t.Errorf("picture of 41 parts is %v wide, want at most %v", p.width, rowWidth+2*margin)
	}
	a, b := findBox(t, p, "pair-a"), findBox(t, p, "pair-b")
	if first := findBox(t, p, "alone00"); !(a.y < first.y || a.y == first.y && a.x < first.x) {
		t.Errorf("pair-a at (%v, %v), alone00 at (%v, %v): want the largest part first", a.x, a.y, first.x, first.y)
	}
	if b.y <= a.y {
		t.Errorf("pair-b at y %v, its input pair-a at %v: want it below", b.y, a.y)
	}
}

// checkPicture checks what every picture of an acyclic report must hold.
func checkPicture(t *testing.T, report dependency.Report, p *picture) {
	t.Helper()
	checkDrawnOnce(t, report, p)
	checkArrows(t, report, p)
	checkNoOverlap(t, p)
	checkWellFormed(t, p.svg())
	for _, b := range p.boxes {
		if b.x < 0 || b.y < 0 || b.x+b.w > p.width || b.y+b.h > p.height {
			t.Errorf("box %q at (%v, %v) size %v x %v lies outside the picture of %v x %v", b.path, b.x, b.y, b.w, b.h, p.width, p.height)
		}
	}
}

// checkDrawnOnce checks that every manifold, nested ones included, has
// exactly one box, and each input that is not installed one per engine.
func checkDrawnOnce(t *testing.T, report dependency.Report, p *picture) {
	t.Helper()
	want := manifoldPaths(report, "")
	var got []string
	for _, b := range p.boxes {
		got = append(got, pathKey(b.path))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("boxes %q, want %q", got, want)
	}
}

// manifoldPaths lists every manifold and absent input or flag of report, nested
// ones included, as pathKey writes them.
func manifoldPaths(report dependency.Report, prefix string) []string {
	var paths []string
	seen := make(map[string]bool)
	for name, m := range report.Manifolds {
		paths = append(paths, prefix+name)
		if m.Engine != nil {
			paths = append(paths, manifoldPaths(*m.Engine, prefix+name+"\x00")...)
		}
		for input := range links(m) {
			if _, installed := report.Manifolds[input]; !installed && !seen[input] {
				seen[input] = true
				paths = append(paths, prefix+input)
			}
		}
	}
	slices.Sort(paths)
	return paths
}

// pathKey joins a box's path with a byte no test name holds.
func pathKey(path []string) string { return strings.Join(path, "\x00") }

// checkArrows checks that there is one arrow per input, from the input's
// box down to its dependent's, each segment going down, and that no arrow
// passes through a box other than the two it joins and those holding them.
func checkArrows(t *testing.T, report dependency.Report, p *picture) {
	t.Helper()
	boxes := make(map[string]box)
	for _, b := range p.boxes {
		boxes[pathKey(b.path)] = b
	}
	want := inputPairs(report, "")
	var got []string
	for _, a := range p.arrows {
		got = append(got, pathKey(a.from)+" -> "+pathKey(a.to))
		from, to := boxes[pathKey(a.from)], boxes[pathKey(a.to)]
		first, last := a.points[0], a.points[len(a.points)-1]
		if first.y != from.y+from.h || first.x < from.x || first.x > from.x+from.w {
			t.Errorf("arrow %q -> %q starts at %v, want on the bottom of %q at %v", a.from, a.to, first, a.from, from)
		}
		if last.y != to.y || last.x < to.x || last.x > to.x+to.w {
			t.Errorf("arrow %q -> %q ends at %v, want on the top of %q at %v", a.from, a.to, last, a.to, to)
		}
		for i := 1; i < len(a.points); i++ {
			if a.points[i].y <= a.points[i-1].y {
				t.Errorf("arrow %q -> %q: segment %v to %v does not point down", a.from, a.to, a.points[i-1], a.points[i])
			}
		}
		for _, b := range p.boxes {
			if holds(b, from) || holds(b, to) {
				continue
			}
			for i := 1; i < len(a.points); i++ {
				if crosses(a.points[i-1], a.points[i], b) {
					t.Errorf("arrow %q -> %q: segment %v to %v passes through box %q", a.from, a.to, a.points[i-1], a.points[i], b.path)
				}
			}
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("arrows %q, want %q", got, want)
	}
}

// inputPairs lists "input -> dependent" for every input and flag of every
// manifold, once for a name it both takes and is gated on.
func inputPairs(report dependency.Report, prefix string) []string {
	var pairs []string
	for name, m := range report.Manifolds {
		var own []string
		for input := range links(m) {
			own = append(own, prefix+input+" -> "+prefix+name)
		}
		slices.Sort(own)
		pairs = append(pairs, slices.Compact(own)...)
		if m.Engine != nil {
			pairs = append(pairs, inputPairs(*m.Engine, prefix+name+"\x00")...)
		}
	}
	slices.Sort(pairs)
	return pairs
}

// holds reports whether outer is inner or a nested engine's box around it.
func holds(outer, inner box) bool {
	return len(outer.path) <= len(inner.path) && slices.Equal(outer.path, inner.path[:len(outer.path)])
}

// crosses reports whether the segment from p to q passes through the
// inside of b (touching its sides does not count).
func crosses(p, q point, b box) bool {
	// Clip the segment to b's rows, then see whether what is left has a
	// point strictly inside b's columns.
	top, bottom := b.y, b.y+b.h
	if q.y <= top || p.y >= bottom {
		return false
	}
	at := func(y float64) float64 { return p.x + (q.x-p.x)*(y-p.y)/(q.y-p.y) }
	y0, y1 := max(p.y, top), min(q.y, bottom)
	if y1-y0 < 1e-9 {
		return false
	}
	x0, x1 := at(y0), at(y1)
	return max(x0, x1) > b.x+1e-9 && min(x0, x1) < b.x+b.w-1e-9
}

// checkNoOverlap checks that no two boxes overlap unless one is a nested
// engine's holding the other, which must then lie wholly inside it.
func checkNoOverlap(t *testing.T, p *picture) {
	t.Helper()
	for i, a := range p.boxes {
		for _, b := range p.boxes[i+1:] {
			switch {
			case holds(a, b):
				if !inside(b, a) {
					t.Errorf("box %q is not inside the box %q of its engine", b.path, a.path)
				}
			case holds(b, a):
				if !inside(a, b) {
					t.Errorf("box %q is not inside the box %q of its engine", a.path, b.path)
				}
			case a.x < b.x+b.w && b.x < a.x+a.w && a.y < b.y+b.h && b.y < a.y+a.h:
				t.Errorf("boxes %q at (%v, %v) %v x %v and %q at (%v, %v) %v x %v overlap",
					a.path, a.x, a.y, a.w, a.h, b.path, b.x, b.y, b.w, b.h)
			}
		}
	}
}

// inside reports whether b lies within outer, padding included.
func inside(b, outer box) bool {
	return b.x >= outer.x+padX/2 && b.y >= outer.y+padY && b.x+b.w <= outer.x+outer.w-padX/2 && b.y+b.h <= outer.y+outer.h-padY/2
}

// checkWellFormed checks that the SVG parses as XML.
func checkWellFormed(t *testing.T, svg string) {
	t.Helper()
	decoder := xml.NewDecoder(strings.NewReader(svg))
	for {
		_, err := decoder.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("SVG does not parse: %v\n%s", err, svg)
		}
	}
}

func findBox(t *testing.T, p *picture, path ...string) box {
	t.Helper()
	for _, b := range p.boxes {
		if slices.Equal(b.path, path) {
			return b
		}
	}
	t.Fatalf("no box %q", path)
	return box{}
}

// rebuilt returns a deep copy of report with its maps built afresh.
func rebuilt(report dependency.Report) dependency.Report {
	copied := report
	copied.Manifolds = make(map[string]dependency.ManifoldReport, len(report.Manifolds))
	names := slices.Collect(maps.Keys(report.Manifolds))
	slices.Reverse(names)
	for _, name := range names {
		m := report.Manifolds[name]
		m.Inputs = slices.Clone(m.Inputs)
		if m.Engine != nil {
			inner := rebuilt(*m.Engine)
			m.Engine = &inner
		}
		copied.Manifolds[name] = m
	}
	return copied
}
