package dependency

import (
	"slices"
	"strings"
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
// reports give equal text.
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
// which a label shows as a line break.
func writeDOTEscaped(b *strings.Builder, s string) {
	for {
		i := strings.IndexAny(s, "\"\\\n")
		if i < 0 {
			b.WriteString(s)
			return
		}
		b.WriteString(s[:i])
		if s[i] == '\n' {
			b.WriteString(`\n`)
		} else {
			b.WriteByte('\\')
			b.WriteByte(s[i])
		}
		s = s[i+1:]
	}
}
