package dependency

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/juju/errors"
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
// stopping orange, stopped grey), outlined in red while its Err is set; its
// label says "mistake" when Err wraps ErrMistake. A manifold that is not
// started for want of an input (Err wraps ErrMissing but not ErrMistake,
// or it has no error and inputs are missing) says "waiting" instead and
// is not outlined in red. A gated manifold is deliberately off: a dashed
// grey box on white, saying which flags gate it, never red. A flag's label
// says its answer, "flag open" or "flag closed". An edge runs from each
// input to its dependent, dashed when the input is missing, and a dotted
// blue edge from each flag to the manifold it gates. An input or flag that
// is not installed is a dashed box of its own, labelled "not installed".
// Nodes and edges are sorted by name, so equal reports give equal text. The
// text is valid UTF-8: a control character in a name, other than a
// newline, and a byte that is not UTF-8 show as U+FFFD.
func (r Report) DOT() string {
	names := make([]string, 0, len(r.Manifolds))
	var absent []string
	edges := 0
	for name, m := range r.Manifolds {
		names = append(names, name)
		edges += len(m.Inputs) + len(m.Flags)
		for _, input := range slices.Concat(m.Inputs, m.Flags) {
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
		writeDOTNode(&b, name, r.Manifolds[name])
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
		sorted = sortedCopy(sorted, m.Inputs)
		for _, input := range sorted {
			writeDOTEdge(&b, input, name)
			if slices.Contains(m.Missing, input) {
				b.WriteString(" [style=dashed]")
			}
			b.WriteString(";\n")
		}
		sorted = sortedCopy(sorted, m.Flags)
		for _, flag := range sorted {
			writeDOTEdge(&b, flag, name)
			b.WriteString(` [style=dotted, color="steelblue"];` + "\n")
		}
	}
	b.WriteString("}\n")
	return b.String()
}

// sortedCopy returns names sorted: names itself if it is, or a copy in
// buf's storage, so that most reports need no copy.
func sortedCopy(buf, names []string) []string {
	if slices.IsSorted(names) {
		return names
	}
	buf = append(buf[:0], names...)
	slices.Sort(buf)
	return buf
}

// writeDOTNode writes the node statement of manifold m.
func writeDOTNode(b *strings.Builder, name string, m ManifoldReport) {
	colour := "white"
	if m.State >= 0 && int(m.State) < len(stateColours) {
		colour = stateColours[m.State]
	}
	b.WriteString("\t")
	writeDOTString(b, name)
	b.WriteString(" [label=\"")
	writeDOTEscaped(b, name)
	b.WriteString(`\n`)
	b.WriteString(m.State.String())
	if m.Flag != nil {
		b.WriteString(`\nflag `)
		b.WriteString(flagWord(*m.Flag))
	}
	switch {
	case isMistake(m.Err):
		b.WriteString(`\nmistake`)
	case len(m.Gated) > 0:
		b.WriteString(`\ngated by `)
		writeDOTEscaped(b, strings.Join(m.Gated, ", "))
		b.WriteString(`", style="rounded,filled,dashed", fillcolor="white", color="grey50"];` + "\n")
		return // deliberately off: whatever error it had is no alarm now
	case isWaiting(m):
		b.WriteString(`\nwaiting`)
	}
	b.WriteString(`", fillcolor="`)
	b.WriteString(colour)
	b.WriteString(`"`)
	if m.Err != nil && !isWaiting(m) {
		b.WriteString(", color=\"red\", penwidth=2")
	}
	b.WriteString("];\n")
}

// flagWord says a flag's answer as the pictures do: "open" or "closed".
func flagWord(open bool) string {
	if open {
		return "open"
	}
	return "closed"
}

// isWaiting reports whether m is not started for want of an input that is
// not running or not installed, which is no fault: its Err wraps
// ErrMissing and is no mistake, or it has no error and inputs are missing.
// A panic in one of Err's methods makes it no wait.
func isWaiting(m ManifoldReport) (waiting bool) {
	if m.State == StateStarted || isMistake(m.Err) {
		return false
	}
	if m.Err == nil {
		return len(m.Missing) > 0
	}
	defer func() { _ = recover() }()
	return errors.Is(m.Err, ErrMissing)
}

// writeDOTEdge writes the start of the edge statement from one to another.
func writeDOTEdge(b *strings.Builder, from, to string) {
	b.WriteString("\t")
	writeDOTString(b, from)
	b.WriteString(" -> ")
	writeDOTString(b, to)
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
