package introspect

import (
	"fmt"
	"iter"
	"slices"

	"github.com/seedworks/dependency"
)

// readableLimit is how many boxes (manifolds, and inputs and flags that
// are not installed, nested ones included) a picture draws in full, and at most
// how many a partial picture draws. An agent has a few hundred; many more
// boxes are too many to read, and the layout would cost more than a page
// refreshed each second should.
const readableLimit = 500

// selection is what a partial picture keeps of one engine: the manifolds
// that need a look (not started, or with an error, or holding a nested
// engine with such a manifold), then their inputs and flags that are not
// installed, then their installed inputs, flags and dependents, while the
// limit allows. A nil selection keeps every manifold and every input and
// flag not installed.
type selection struct {
	names  []string              // kept, in order
	absent []string              // inputs and flags not installed that are kept, in order
	inner  map[string]*selection // for each kept manifold with a nested engine
	stats  *selectionStats       // shared by the whole picture
}

type selectionStats struct {
	wanted      int // manifolds that need a look
	kept        int // of those, drawn
	shown       int // manifolds drawn in all
	absent      int // inputs and flags not installed of the manifolds kept that need a look
	absentShown int // of those, drawn
}

// chooseReadable selects at most *budget manifolds of report to draw, and
// takes from *budget what it selects.
func chooseReadable(report dependency.Report, budget *int) *selection {
	sel := &selection{stats: &selectionStats{}}
	sel.choose(report, budget)
	return sel
}

func (sel *selection) choose(report dependency.Report, budget *int) {
	names := sortedNames(report)
	var wanted, near []string
	for _, name := range names {
		m := report.Manifolds[name]
		if needsLook(m) {
			wanted = append(wanted, name)
			continue
		}
		for input := range links(m) {
			if _, installed := report.Manifolds[input]; installed && needsLook(report.Manifolds[input]) {
				near = append(near, name) // a dependent of one that needs a look
				break
			}
		}
	}
	for _, name := range wanted {
		for input := range links(report.Manifolds[name]) {
			if m, installed := report.Manifolds[input]; installed && !needsLook(m) {
				near = append(near, input)
			}
		}
	}
	slices.Sort(near)
	near = slices.Compact(near)

	kept := take(wanted, budget)
	sel.stats.wanted += len(wanted)
	sel.stats.kept += len(kept)
	absent := absentInputs(report, kept)
	sel.absent = take(absent, budget)
	sel.stats.absent += len(absent)
	sel.stats.absentShown += len(sel.absent)
	kept = append(kept, take(near, budget)...)
	slices.Sort(kept)
	sel.names = kept
	sel.stats.shown += len(kept)
	sel.inner = make(map[string]*selection)
	for _, name := range kept {
		if m := report.Manifolds[name]; m.Engine != nil {
			child := &selection{stats: sel.stats}
			child.choose(*m.Engine, budget)
			sel.inner[name] = child
		}
	}
}

// take returns as many of names as *budget allows, and takes them from it.
func take(names []string, budget *int) []string {
	n := min(len(names), *budget)
	*budget -= n
	return names[:n:n]
}

// needsLook reports whether m is worth drawing when not all can be: it is
// not started or has an error, or its nested engine has such a manifold.
func needsLook(m dependency.ManifoldReport) bool {
	if m.State != dependency.StateStarted || m.Err != nil {
		return true
	}
	if m.Engine != nil {
		for _, nested := range m.Engine.Manifolds {
			if needsLook(nested) {
				return true
			}
		}
	}
	return false
}

// keep returns the names of report's manifolds that sel draws, in order,
// and the inputs and flags they name that are not installed and that sel
// draws.
func (sel *selection) keep(report dependency.Report) (names, absent []string) {
	if sel == nil {
		names = sortedNames(report)
		return names, absentInputs(report, names)
	}
	return slices.Clone(sel.names), slices.Clone(sel.absent)
}

// absentInputs returns the inputs and flags of the named manifolds that
// report does not install, in order, each once.
func absentInputs(report dependency.Report, names []string) []string {
	var absent []string
	for _, name := range names {
		for input := range links(report.Manifolds[name]) {
			if _, installed := report.Manifolds[input]; !installed {
				absent = append(absent, input)
			}
		}
	}
	slices.Sort(absent)
	return slices.Compact(absent)
}

// countAbsent counts the boxes of inputs and flags that are not installed
// in a picture of all of report, nested engines' included.
func countAbsent(report dependency.Report) int {
	absent := make(map[string]bool)
	n := 0
	for _, m := range report.Manifolds {
		for input := range links(m) {
			if _, installed := report.Manifolds[input]; !installed {
				absent[input] = true
			}
		}
		if m.Engine != nil {
			n += countAbsent(*m.Engine)
		}
	}
	return n + len(absent)
}

// links yields the names m links to, each with whether it is a flag:
// its inputs, then its flags. A name may come twice, as both.
func links(m dependency.ManifoldReport) iter.Seq2[string, bool] {
	return func(yield func(string, bool) bool) {
		for _, input := range m.Inputs {
			if !yield(input, false) {
				return
			}
		}
		for _, flag := range m.Flags {
			if !yield(flag, true) {
				return
			}
		}
	}
}

// nested returns the selection of the named manifold's nested engine.
func (sel *selection) nested(name string) *selection {
	if sel == nil {
		return nil
	}
	if inner := sel.inner[name]; inner != nil {
		return inner
	}
	return &selection{stats: sel.stats}
}

// note says what a partial picture leaves out of a report of total
// manifolds and absent inputs that are not installed, nested ones included.
func (sel *selection) note(total, absent int) string {
	s := sel.stats
	head := fmt.Sprintf("%d manifolds are more than a picture can show readably", total)
	if absent > 0 {
		head = fmt.Sprintf("%s and %s that are not installed are more than a picture can show readably",
			plural(total, "manifold"), plural(absent, "input"))
	}
	const tail = " The JSON report lists them all."
	if s.wanted == 0 {
		return head + "; all are started and none has an error, so none is drawn." + tail
	}
	wanted := fmt.Sprintf("the %d that are not started or have an error", s.wanted)
	if s.kept < s.wanted {
		wanted = fmt.Sprintf("%d of the %d that are not started or have an error (the first by name)", s.kept, s.wanted)
	}
	var inputs string
	if s.absent > 0 {
		inputs = fmt.Sprintf(", %d of the %s that are not installed", s.absentShown, plural(s.absent, "input"))
	}
	others := "."
	if s.kept == s.wanted {
		others = "; the others are started."
	}
	return fmt.Sprintf("%s: drawn are %s%s, and %d of their installed inputs and dependents%s%s",
		head, wanted, inputs, s.shown-s.kept, others, tail)
}
