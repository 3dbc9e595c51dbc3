package introspect

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// svgStyle is the picture's style sheet, inside the SVG so that
// /graph.svg looks the same alone as in the page. Its rules apply only
// within the picture (class "introspect"). The page's Content-Security-
// Policy allows it by its hash, svgStyleHash, which a test keeps in step.
const svgStyle = `.introspect text{font:12px ui-monospace,"DejaVu Sans Mono",monospace;fill:#1f2328}` +
	`.introspect .name{font-weight:bold}` +
	`.introspect .title{font-size:13px}` +
	`.introspect .error{fill:#b3141f}` +
	`.introspect .note,.introspect .absent text{fill:#57606a}` +
	`.introspect .open .answer{fill:#1a7f37;font-weight:bold}` +
	`.introspect .closed .answer{fill:#57606a;font-weight:bold}` +
	`.introspect .manifold>rect{stroke:#57606a;stroke-width:1}` +
	`.introspect .started>rect{fill:#c9f2c9}` +
	`.introspect .starting>rect{fill:#f5e79e}` +
	`.introspect .stopping>rect{fill:#ffc680}` +
	`.introspect .stopped>rect{fill:#dcdcdc}` +
	`.introspect .unknown>rect{fill:#fff}` +
	`.introspect .engine>rect{fill-opacity:.45}` +
	`.introspect .failed>rect{stroke:#cf222e;stroke-width:3}` +
	`.introspect .absent>rect{fill:#fff;stroke:#8c959f;stroke-dasharray:4 3}` +
	`.introspect .gated>rect{fill:#f6f8fa;stroke:#8c959f;stroke-dasharray:8 3}` +
	`.introspect .gated text{fill:#57606a}` +
	`.introspect .arrow{fill:none;stroke:#424a53;stroke-width:1.2;marker-end:url(#introspect-arrowhead)}` +
	`.introspect .arrow.missing{stroke-dasharray:5 4}` +
	`.introspect .arrow.flag{stroke:#0969da;stroke-dasharray:2 3}` +
	`.introspect .arrow.back{stroke:#cf222e}` +
	`.introspect marker path{fill:#424a53}`

// svgStyleHash is the CSP source of svgStyle: "sha256-" and the base64 of
// its SHA-256.
const svgStyleHash = "sha256-MoW4R8/aR7q0f5i2MsH4PebWpqmHHG6MT4APCTCPduo="

// svg writes the picture as a standalone SVG document. Each manifold is a
// group of class "manifold" and its state, with data-path its names from
// the top engine joined by "/", and of these classes when they apply:
// "failed" while it has an error that is no wait for an input, "mistake"
// too for a mistake, "waiting" while it waits for an input, "gated"
// while a flag keeps it off (never "failed" then), "engine" when it holds
// a nested engine, and "flag" with "open" or "closed" for a flag. An
// input or flag that is not installed is of class "absent" instead. Each
// input is a path of class "arrow" ("missing" while the input is not
// running), and each flag one of class "arrow flag". The root carries the engine's state,
// the time it was drawn and how many manifolds it has and draws, for the
// page's script; a countdown's text carries when its start is due.
func (p *picture) svg() string {
	var b strings.Builder
	b.Grow(1024 + 512*len(p.boxes) + 128*len(p.arrows))
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="introspect" role="img"`)
	attr(&b, "width", num(p.width))
	attr(&b, "height", num(p.height))
	attr(&b, "viewBox", "0 0 "+num(p.width)+" "+num(p.height))
	attr(&b, "aria-label", "dependency graph")
	attr(&b, "data-state", p.state.String())
	if p.err != nil {
		attr(&b, "data-error", p.err.Error())
	}
	attr(&b, "data-now", p.now.UTC().Format(time.RFC3339Nano))
	attr(&b, "data-manifolds", strconv.Itoa(p.total))
	attr(&b, "data-drawn", strconv.Itoa(p.drawn))
	b.WriteString(">\n<style>" + svgStyle + "</style>\n")
	b.WriteString(`<defs><marker id="introspect-arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0L10,5L0,10z"/></marker></defs>` + "\n")
	for i, text := range p.title {
		class := "title"
		if i > 0 {
			class = "title note"
		}
		b.WriteString(`<text`)
		attr(&b, "class", class)
		attr(&b, "x", num(margin))
		attr(&b, "y", num(margin+float64(i)*lineHeight+12))
		b.WriteString(">")
		escape(&b, text)
		b.WriteString("</text>\n")
	}
	depth := 0
	for _, bx := range p.boxes {
		depth = max(depth, bx.depth)
	}
	// Each depth's arrows and then its boxes, so that a nested engine's box
	// lies under what it holds.
	for d := 0; d <= depth; d++ {
		for _, a := range p.arrows {
			if a.depth == d {
				writeArrow(&b, a)
			}
		}
		for _, bx := range p.boxes {
			if bx.depth == d {
				writeBox(&b, bx)
			}
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func writeArrow(b *strings.Builder, a arrow) {
	b.WriteString(`<path`)
	class := "arrow"
	if a.missing {
		class += " missing"
	}
	if a.flag {
		class += " flag"
	}
	if a.back {
		class += " back"
	}
	attr(b, "class", class)
	attr(b, "data-from", strings.Join(a.from, "/"))
	attr(b, "data-to", strings.Join(a.to, "/"))
	var d strings.Builder
	for i, pt := range a.points {
		if i == 0 {
			d.WriteString("M")
		} else {
			d.WriteString("L")
		}
		d.WriteString(num(pt.x) + "," + num(pt.y))
	}
	attr(b, "d", d.String())
	b.WriteString("/>\n")
}

func writeBox(b *strings.Builder, bx box) {
	m := bx.report
	b.WriteString(`<g`)
	if bx.absent {
		attr(b, "class", "absent")
	} else {
		class := "manifold " + m.State.String() + offClasses[bx.off]
		if m.Err != nil && bx.off != gated && bx.off != waiting {
			class += " failed"
		}
		if m.Flag != nil {
			class += " flag " + answerWord(*m.Flag)
		}
		if bx.engine {
			class += " engine"
		}
		attr(b, "class", class)
		attr(b, "data-state", m.State.String())
	}
	attr(b, "data-path", strings.Join(bx.path, "/"))
	b.WriteString("><title>")
	escape(b, bx.tooltip())
	b.WriteString("</title><rect")
	attr(b, "x", num(bx.x))
	attr(b, "y", num(bx.y))
	attr(b, "width", num(bx.w))
	attr(b, "height", num(bx.h))
	attr(b, "rx", "5")
	b.WriteString("/>")
	for i, l := range bx.lines {
		b.WriteString(`<text`)
		attr(b, "class", l.class)
		attr(b, "x", num(bx.x+padX))
		attr(b, "y", num(bx.y+padY+float64(i)*lineHeight+12))
		if l.class == "due" {
			attr(b, "data-due", l.due.UTC().Format(time.RFC3339Nano))
			attr(b, "data-verb", l.verb)
		}
		b.WriteString(">")
		escape(b, l.text)
		b.WriteString("</text>")
	}
	b.WriteString("</g>\n")
}

// tooltip is the whole of what the box may have cut short.
func (bx box) tooltip() string {
	m := bx.report
	lines := []string{strings.Join(bx.path, " / ")}
	if bx.absent {
		return lines[0] + "\nnot installed"
	}
	lines = append(lines, m.State.String()+", "+plural(m.StartCount, "start"))
	if m.Flag != nil {
		lines = append(lines, "a flag, answering "+answerWord(*m.Flag))
	}
	if len(m.Gated) > 0 {
		lines = append(lines, "gated, deliberately off, by "+listed(m.Gated))
	}
	if !m.Started.IsZero() {
		lines = append(lines, "last started "+m.Started.UTC().Format(time.RFC3339))
	}
	if len(m.Inputs) > 0 {
		lines = append(lines, "inputs: "+listed(m.Inputs))
	}
	if len(m.Flags) > 0 {
		lines = append(lines, "flags: "+listed(m.Flags))
	}
	if len(m.Missing) > 0 {
		lines = append(lines, "missing: "+listed(m.Missing))
	}
	if m.Err != nil {
		lines = append(lines, errorWords[bx.off]+m.Err.Error())
	}
	return strings.Join(lines, "\n")
}

// offClasses are the classes of a box by why its manifold is off.
var offClasses = [...]string{notOff: "", gated: " gated", waiting: " waiting", mistake: " mistake"}

// errorWords introduce a tooltip's error by why its manifold is off.
var errorWords = [...]string{notOff: "error: ", gated: "last error: ", waiting: "waiting: ", mistake: "mistake: "}

// tooltipNames is how many names a tooltip lists of a manifold's inputs,
// or of those missing, so that a manifold of thousands of inputs does not
// make a picture of megabytes.
const tooltipNames = 20

// listed joins names, the first tooltipNames of them and how many more.
func listed(names []string) string {
	if len(names) <= tooltipNames {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:tooltipNames], ", "), len(names)-tooltipNames)
}

func attr(b *strings.Builder, name, value string) {
	b.WriteString(" " + name + `="`)
	escape(b, value)
	b.WriteString(`"`)
}

// num writes a coordinate to a tenth of a pixel.
func num(v float64) string {
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// escape writes s as XML character data or attribute value. Characters
// that XML 1.0 does not allow, and bytes that are not UTF-8, become U+FFFD,
// so that any manifold name or error text gives a well-formed document.
func escape(b *strings.Builder, s string) {
	for len(s) > 0 {
		plain := 0 // bytes that need no escape: most names are all plain
		for plain < len(s) && s[plain] >= ' ' && s[plain] < utf8.RuneSelf && !strings.ContainsRune(`<>&"`, rune(s[plain])) {
			plain++
		}
		b.WriteString(s[:plain])
		if s = s[plain:]; len(s) == 0 {
			return
		}
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\n':
			b.WriteString("&#10;")
		case r == '\t':
			b.WriteString("&#9;")
		case r == '\r':
			b.WriteString("&#13;")
		case !xmlChar(r) || r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
	}
}

// xmlChar reports whether XML 1.0 allows r in a document.
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
