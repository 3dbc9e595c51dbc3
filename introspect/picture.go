package introspect

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seedworks/dependency"
)

// Sizes in pixels. Text is monospaced, so that a line's width follows from
// its length: charWidth is a little more than a 12px monospace font needs.
const (
	charWidth  = 7.4
	lineHeight = 16
	padX       = 8  // inside a box, left and right of its text
	padY       = 6  // inside a box, above and below its text
	layerGap   = 40 // between the bottom of a layer and the top of the next
	margin     = 16 // around the whole picture
	maxChars   = 40 // in a line of a box; longer text is cut or wrapped
	errorLines = 3  // of an error's text in a box, at most
	minWidth   = 14 * charWidth
	titleChars = 100 // in a line of the picture's title
)

// picture is a drawing of an engine's report, in pixels from the top left
// corner. Boxes and arrows of nested engines are in it too, with the same
// origin.
type picture struct {
	width, height float64
	now           time.Time // when the report was drawn, for countdowns
	state         dependency.State
	err           error
	title         []string // lines above the graph: the engine's state, its error, what is left out
	total, drawn  int      // manifolds in the report and drawn, nested ones included
	absent        int      // inputs not installed in the report, a box for each in a full picture
	boxes         []box    // a nested engine's box comes before the boxes inside it
	arrows        []arrow
}

// box is one manifold, or an input or flag that is not installed.
type box struct {
	path       []string // the names of the engines' manifolds that hold it, then its own
	x, y, w, h float64  // top left corner and size
	report     dependency.ManifoldReport
	absent     bool    // an input or flag that is not installed
	off        offKind // why its manifold does not run, when not for a failure
	engine     bool    // it holds a nested engine's boxes
	depth      int     // how many nested engines' boxes hold it
	lines      []line  // its text, top down
}

// line is a line of text in a box.
type line struct {
	text  string
	class string    // "name", "state", "answer", "due", "error" or "note"
	due   time.Time // for "due": when the start it counts down to is due
	verb  string    // for "due": "starts" or "restarts"
}

// arrow runs from an input's or flag's box down to its dependent's,
// through points.
type arrow struct {
	from, to []string // paths of the boxes
	points   []point
	missing  bool // the input has no running worker
	flag     bool // it runs from a flag to a manifold gated on it
	back     bool // it closes a cycle, so it cannot point down
	depth    int  // of the boxes it joins
}

type point struct{ x, y float64 }

// draw lays out report as it is at now: a box per manifold, an arrow per
// input, nested engines inside their manifolds' boxes. An engine that
// would need more than readableLimit boxes, counting nested engines' and
// those of inputs that are not installed, is drawn only in part; the title
// says which part.
func draw(report dependency.Report, now time.Time) *picture {
	return drawUpTo(report, now, readableLimit)
}

// drawUpTo is draw with another limit.
func drawUpTo(report dependency.Report, now time.Time, limit int) *picture {
	p := &picture{now: now, state: report.State, err: report.Err, total: countManifolds(report), absent: countAbsent(report)}
	var sel *selection
	if p.total+p.absent > limit {
		budget := limit
		sel = chooseReadable(report, &budget)
	}
	p.title = p.titleLines(report, sel)
	s := layOut(report, sel, nil, 0, now)
	top := margin + float64(len(p.title))*lineHeight + padY
	s.translate(margin, top)
	p.boxes, p.arrows = s.boxes, s.arrows
	p.width = max(s.w+2*margin, float64(longestLine(p.title))*charWidth+2*margin)
	p.height = top + s.h + margin
	for _, b := range p.boxes {
		if !b.absent {
			p.drawn++
		}
	}
	return p
}

// titleLines says what the picture shows: the engine's state and size, its
// error, and what is left out.
func (p *picture) titleLines(report dependency.Report, sel *selection) []string {
	head := fmt.Sprintf("engine %s · %s", report.State, plural(len(report.Manifolds), "manifold"))
	if nested := p.total - len(report.Manifolds); nested > 0 {
		head += fmt.Sprintf(", %d more in nested engines", nested)
	}
	lines := []string{head}
	if report.Err != nil {
		lines = append(lines, wrap("error: "+report.Err.Error(), titleChars, errorLines)...)
	}
	if sel != nil {
		lines = append(lines, wrap(sel.note(p.total, p.absent), titleChars, 5)...)
	}
	return lines
}

// newBox makes the box of manifold m, sized to its text.
func newBox(path []string, m dependency.ManifoldReport, absent bool, depth int, now time.Time) box {
	b := box{path: path, report: m, absent: absent, depth: depth}
	b.lines = append(b.lines, line{text: cut(path[len(path)-1], maxChars), class: "name"})
	if absent {
		b.lines = append(b.lines, line{text: "not installed", class: "state"})
	} else {
		b.off = offOf(m)
		b.lines = append(b.lines, line{text: fmt.Sprintf("%s · %s", m.State, plural(m.StartCount, "start")), class: "state"})
	}
	if m.Flag != nil {
		b.lines = append(b.lines, line{text: "flag " + answerWord(*m.Flag), class: "answer"})
	}
	b.lines = append(b.lines, b.offLines()...)
	if !m.Due.IsZero() {
		verb := "starts"
		if m.StartCount > 0 || m.Err != nil {
			verb = "restarts"
		}
		b.lines = append(b.lines, line{text: verb + " " + untilText(m.Due.Sub(now)), class: "due", due: m.Due, verb: verb})
	}
	if m.Err != nil && b.off != gated {
		class := "error"
		if b.off == waiting {
			class = "note" // waiting is no fault: not red
		}
		for _, text := range wrap(m.Err.Error(), maxChars, errorLines) {
			b.lines = append(b.lines, line{text: text, class: class})
		}
	}
	b.w = max(minWidth, float64(longestLine(b.sizingTexts()))*charWidth+2*padX)
	b.h = float64(len(b.lines))*lineHeight + 2*padY
	return b
}

// holdEngine makes b the box of a nested engine, big enough for its sheet.
func (b *box) holdEngine(in *sheet, report dependency.Report, partial bool) {
	b.engine = true
	switch {
	case len(report.Manifolds) == 0:
		b.lines = append(b.lines, line{text: "no manifolds", class: "note"})
	case len(in.boxes) == 0 && partial:
		b.lines = append(b.lines, line{text: plural(len(report.Manifolds), "manifold") + ", all started", class: "note"})
	}
	b.w = max(b.w, float64(longestLine(b.sizingTexts()))*charWidth+2*padX, in.w+2*padX)
	b.h = float64(len(b.lines))*lineHeight + 2*padY
	if len(in.boxes) > 0 {
		b.h += in.h + padY
	}
}

// sizingTexts are the texts the box must be wide enough for: its lines,
// with a countdown as wide as a countdown can be, so that no clock changes
// the picture's geometry.
func (b *box) sizingTexts() []string {
	texts := make([]string, len(b.lines))
	for i, l := range b.lines {
		texts[i] = l.text
		if l.class == "due" {
			texts[i] = l.verb + " " + widestUntil
		}
	}
	return texts
}

// countManifolds counts report's manifolds, nested engines' included.
func countManifolds(report dependency.Report) int {
	n := len(report.Manifolds)
	for _, m := range report.Manifolds {
		if m.Engine != nil {
			n += countManifolds(*m.Engine)
		}
	}
	return n
}

// sortedNames returns the report's manifold names in order.
func sortedNames(report dependency.Report) []string {
	return slices.Sorted(maps.Keys(report.Manifolds))
}

// plural writes n and the noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// untilText says how long until a start is due, in two units at most
// and never wider than widestUntil: "in 4.2s", "in 35s", "in 2m05s",
// "in 3h07m", "in 12d05h", "in >99d", or "now" once it is past. The page's
// script counts down in the same words.
func untilText(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d <= 0:
		return "now"
	case d < 10*time.Second:
		return fmt.Sprintf("in %.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("in %ds", int(d.Seconds()))
	case d < 100*time.Minute:
		return fmt.Sprintf("in %dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 100*time.Hour:
		return fmt.Sprintf("in %dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d < 100*day:
		return fmt.Sprintf("in %dd%02dh", int(d/day), int(d.Hours())%24)
	}
	return "in >99d"
}

// widestUntil is as wide as untilText's widest answers.
const widestUntil = "in 99m59s"

// cut shortens text to at most n characters, ending it with "…" if it was
// longer, and turns control characters into spaces.
func cut(text string, n int) string {
	text = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, text)
	if utf8.RuneCountInString(text) <= n {
		return text
	}
	return string([]rune(text)[:n-1]) + "…"
}

// wrap breaks text into at most lines lines of at most n characters, at
// spaces where it can; a last line that cannot hold the rest ends with "…".
func wrap(text string, n, lines int) []string {
	var out []string
	rest := []rune(cut(text, n*lines))
	for len(rest) > 0 {
		if len(out) == lines-1 {
			return append(out, cut(string(rest), n))
		}
		end := min(n, len(rest))
		if space := lastSpace(rest[:min(n+1, len(rest))]); end < len(rest) && space > n/2 {
			end = space
		}
		out = append(out, strings.TrimRight(string(rest[:end]), " "))
		rest = []rune(strings.TrimLeft(string(rest[end:]), " "))
	}
	return out
}

func lastSpace(runes []rune) int {
	for i := len(runes) - 1; i >= 0; i-- {
		if runes[i] == ' ' {
			return i
		}
	}
	return -1
}

// longestLine is how many columns of the monospace font the longest of
// texts takes.
func longestLine(texts []string) int {
	n := 0
	for _, t := range texts {
		n = max(n, columns(t))
	}
	return n
}

// columns counts the columns text takes: two for each East Asian wide
// character, as monospace fonts draw them, one for any other.
func columns(text string) int {
	n := 0
	for _, r := range text {
		n++
		if wide(r) {
			n++
		}
	}
	return n
}

// wide reports whether r lies in one of the main blocks of East Asian wide
// characters: Hangul Jamo, CJK, Hangul syllables, fullwidth forms, emoji.
func wide(r rune) bool {
	return r >= 0x1100 && r <= 0x115F || r >= 0x2E80 && r <= 0xA4CF ||
		r >= 0xAC00 && r <= 0xD7A3 || r >= 0xF900 && r <= 0xFAFF ||
		r >= 0xFE30 && r <= 0xFE4F || r >= 0xFF00 && r <= 0xFF60 ||
		r >= 0xFFE0 && r <= 0xFFE6 || r >= 0x1F300 && r <= 0x1F64F ||
		r >= 0x1F900 && r <= 0x1F9FF || r >= 0x20000 && r <= 0x3FFFD
}
