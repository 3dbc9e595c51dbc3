package introspect

import (
	"fmt"
	"slices"

	"github.com/seedworks/dependency"
)

// readableLimit is how many manifolds, nested ones included, a picture
// draws in full, and at most how many a partial picture draws. An agent has
// a few hundred; many more boxes are too many to read, and the layout would
// cost more than a page refreshed each second should.
const readableLimit = 500

// selection is what a partial picture keeps of one engine: the manifolds
// that need a look (not started, or with an error, or holding a nested
// engine with such a manifold), then their inputs and dependents, while
// the limit allows. A nil selection keeps every manifold.
type selection struct {
	names []string              // kept, in order
	inner map[string]*selection // for each kept manifold with a nested engine
	stats *selectionStats       // shared by the whole picture
}

type selectionStats struct {
	wanted int // manifolds that need a look
	kept   int // of those, drawn
	shown  int // manifolds drawn in all
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
		for _, input := range m.Inputs {
			if _, installed := report.Manifolds[input]; installed && needsLook(report.Manifolds[input]) {
				near = append(near, name) // a dependent of one that needs a look
				break
			}
		}
	}
	for _, name := range wanted {
		for _, input := range report.Manifolds[name].Inputs {
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

// keep returns the names of report's manifolds that sel draws, in order.
func (sel *selection) keep(report dependency.Report) []string {
	if sel == nil {
		return sortedNames(report)
	}
	return slices.Clone(sel.names)
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

// note says what a partial picture of total manifolds leaves out.
func (sel *selection) note(total int) string {
	s := sel.stats
	head := fmt.Sprintf("%d manifolds are more than a picture can show readably", total)
	const tail = " The JSON report lists them all."
	switch {
	case s.wanted == 0:
		return head + "; all are started and none has an error, so none is drawn." + tail
	case s.kept < s.wanted:
		return fmt.Sprintf("%s: drawn are %d of the %d that are not started or have an error (the first by name), and %d of their inputs and dependents.%s",
			head, s.kept, s.wanted, s.shown-s.kept, tail)
	}
	return fmt.Sprintf("%s: drawn are the %d that are not started or have an error, and %d of their inputs and dependents; the others are started.%s",
		head, s.wanted, s.shown-s.kept, tail)
}
