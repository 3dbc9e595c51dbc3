package dependency

import (
	"slices"
	"strings"
	"unicode/utf8"
)

// stateColours fills a manifold's node by its state.
var stateColours = [...]string{
	StateStopped:  "lightgrey",
	StateStarting: "khaki",
	StateStarted:  "palegreen",
	StateStopping: "orange",
}

// DOT returns the report's graph in the Graphviz DOT language, for
// `dot -Tpng` and its kin. Each manifold is a box labelled with its name and
// state and filled with the state's colour (started green, starting yellow,
// stopping orange, stopped grey), outlined in red while its Err is set. An
// edge runs from each input to its dependent, dashed when the input is
// missing. An input that is not installed is a dashed box of its own,
// labelled "not installed". Nodes and edges are sorted by name, so equal
// reports give equal text. The text is valid UTF-8: a control character in
// a name, other than a newline, and a byte that is not UTF-8 show as U+FFFD.
func (r Report) DOT() string {
	names := make([]string, 0, len(r.Manifolds))
	var absent []string
	edges := 0
	for name, m := range r.Manifolds {
		names = append(names, name)
		edges += len(m.Inputs)
		for _, input := range m.Inputs {
			if _, installed := r.Manifolds[input]; !installed {
				absent = append(absent, input)
			}
		}
	}
	slices.Sort(names)
	slices.Sort(absent)
	absent = slices.Compact(absent)

	var b strings.Builder
	b.Grow(64 * (len(names) + len(absent) + edges))
	b.WriteString("digraph dependencies {\n")
	b.WriteString("\tnode [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\"];\n")
	for _, name := range names {
		m := r.Manifolds[name]
		colour := "white"
		if m.State >= 0 && int(m.State) < len(stateColours) {
			colour = stateColours[m.State]
		}
		b.WriteString("\t")
		writeDOTString(&b, name)
		b.WriteString(" [label=\"")
		writeDOTEscaped(&b, name)
		b.WriteString(`\n`)
		b.WriteString(m.State.String())
		b.WriteString(`", fillcolor="`)
		b.WriteString(colour)
		b.WriteString(`"`)
		if m.Err != nil {
			b.WriteString(", color=\"red\", penwidth=2")
		}
		b.WriteString("];\n")
	}
	for _, name := range absent {
		b.WriteString("\t")
		writeDOTString(&b, name)
		b.WriteString(" [label=\"")
		writeDOTEscaped(&b, name)
		b.WriteString(`\nnot installed", style="rounded,dashed", color="grey50", fontcolor="grey50"];` + "\n")
	}
	var sorted []string
	for _, name := range names {
		m := r.Manifolds[name]
		inputs := m.Inputs
		if !slices.IsSorted(inputs) {
			sorted = append(sorted[:0], inputs...)
			slices.Sort(sorted)
			inputs = sorted
		}
		for _, input := range inputs {
			b.WriteString("\t")
			writeDOTString(&b, input)
			b.WriteString(" -> ")
			writeDOTString(&b, name)
			if slices.Contains(m.Missing, input) {
				b.WriteString(" [style=dashed]")
			}
			b.WriteString(";\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// writeDOTString writes s as a quoted DOT string.
func writeDOTString(b *strings.Builder, s string) {
	b.WriteByte('"')
	writeDOTEscaped(b, s)
	b.WriteByte('"')
}

// writeDOTEscaped writes s for the inside of a quoted DOT string: a quote
// or a backslash gets a backslash before it, and a newline becomes \n,
// which a label shows as a line break. Any other control character, and
// each byte that is not UTF-8, becomes U+FFFD, as in the SVG picture, so
// that the text is valid UTF-8 whatever the names.
func writeDOTEscaped(b *strings.Builder, s string) {
	for len(s) > 0 {
		plain := 0 // bytes that need nothing done: most names are all plain
		for plain < len(s) && s[plain] > 0x1f && s[plain] < 0x7f && s[plain] != '"' && s[plain] != '\\' {
			plain++
		}
		b.WriteString(s[:plain])
		if s = s[plain:]; len(s) == 0 {
			return
		}
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		switch {
		case r == '\n':
			b.WriteString(`\n`)
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < ' ' || r == 0x7f:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r) // U+FFFD itself for a byte that is not UTF-8
		}
	}
}
