package dependency

import (
	"slices"
	"strings"
)

// Install planning. A good batch takes one walk, in whatever order the
// batch came; a batch that must be refused is looked at again by
// findFault, in name order, so that its error does not depend on the order
// of this map or of earlier ones.

// planInstall returns the batch in dependency order: each member after the
// members it takes inputs or flags from. The walk follows dependents from each
// member, so it visits only the batch and the installed manifolds that
// depend on it: installing in dependency order costs nothing beyond the
// batch itself. A batch that names an installed manifold or closes a cycle
// gets findFault's error.
func (e *engine) planInstall(batch []namedManifold) ([]namedManifold, error) {
	p := e.newPlan(batch)
	for _, nm := range batch {
		if p.installed(nm.name) {
			return nil, e.findFault(batch)
		}
	}
	var postorder []string
	for _, nm := range batch {
		if p.walk(nm.name, &postorder) != nil {
			return nil, e.findFault(batch)
		}
	}
	order := make([]namedManifold, 0, len(batch))
	for _, name := range slices.Backward(postorder) {
		if i, ok := p.members[name]; ok {
			order = append(order, batch[i])
		}
	}
	return order, nil
}

// findFault returns the error of a batch planInstall refused: the first
// member in name order whose name is installed, or else the first cycle a
// walk in name order finds. It sorts batch.
func (e *engine) findFault(batch []namedManifold) error {
	slices.SortFunc(batch, byName)
	p := e.newPlan(batch)
	p.sorted = true
	for _, nm := range batch {
		if p.installed(nm.name) {
			return failure(ErrAlreadyInstalled, "%q manifold already installed", nm.name)
		}
	}
	var postorder []string
	for _, nm := range batch {
		if cycle := p.walk(nm.name, &postorder); cycle != nil {
			return cycleError(cycle)
		}
	}
	return failure(ErrInternal, "internal engine error: install of %d manifolds refused for no fault found", len(batch))
}

// plan is what an install walk knows of the batch and of the graph.
type plan struct {
	e       *engine
	members map[string]int // batch index by name
	// memberDependents lists, for any name, the members that list it as an
	// input or a flag, in batch order.
	memberDependents map[string][]string
	marks            map[string]walkMark
	sorted           bool // take installed dependents in name order
}

// walkMark is how far a walk is with a name.
type walkMark uint8

const (
	unvisited walkMark = iota
	onPath
	done
)

func (e *engine) newPlan(batch []namedManifold) *plan {
	p := &plan{
		e:                e,
		members:          make(map[string]int, len(batch)),
		memberDependents: make(map[string][]string),
		marks:            make(map[string]walkMark, len(batch)),
	}
	for i, nm := range batch {
		p.members[nm.name] = i
		for _, names := range [2][]string{nm.manifold.Inputs, nm.manifold.Flags} {
			for _, needed := range names {
				p.memberDependents[needed] = append(p.memberDependents[needed], nm.name)
			}
		}
	}
	return p
}

func (p *plan) installed(name string) bool {
	n := p.e.nodes[name]
	return n != nil && n.manifold != nil
}

// dependents returns the names that depend on name, through an input or a
// flag: the installed ones (in name order if p.sorted), then the members.
func (p *plan) dependents(name string) []string {
	members := p.memberDependents[name]
	n := p.e.nodes[name]
	if n == nil || len(n.dependents)+len(n.flagged) == 0 {
		return members // the usual case, installing in dependency order
	}
	names := make([]string, 0, len(n.dependents)+len(n.flagged)+len(members))
	for _, d := range slices.Concat(n.dependents, n.flagged) {
		names = append(names, d.name)
	}
	if p.sorted {
		slices.Sort(names)
	}
	return append(names, members...)
}

// walk visits root and every name that depends on it, depth first, and
// appends each to postorder once all its dependents are in. It returns the
// first cycle it finds, in the order of needs ("a" -> "b": a needs b),
// beginning and ending with a member; nil if none.
func (p *plan) walk(root string, postorder *[]string) []string {
	if p.marks[root] != unvisited {
		return nil
	}
	type frame struct {
		name       string
		dependents []string
	}
	path := []frame{{root, p.dependents(root)}}
	p.marks[root] = onPath
	for len(path) > 0 {
		top := &path[len(path)-1]
		if len(top.dependents) == 0 {
			p.marks[top.name] = done
			*postorder = append(*postorder, top.name)
			path = path[:len(path)-1]
			continue
		}
		next := top.dependents[0]
		top.dependents = top.dependents[1:]
		switch p.marks[next] {
		case unvisited:
			p.marks[next] = onPath
			path = append(path, frame{next, p.dependents(next)})
		case onPath:
			// next needs the top of the path, which needs the name below
			// it, and so on back to next.
			i := slices.IndexFunc(path, func(f frame) bool { return f.name == next })
			cycle := []string{next}
			for j := len(path) - 1; j > i; j-- {
				cycle = append(cycle, path[j].name)
			}
			return p.fromMember(cycle)
		}
	}
	return nil
}

// fromMember rotates cycle to begin with its first member and closes it.
func (p *plan) fromMember(cycle []string) []string {
	start := slices.IndexFunc(cycle, func(name string) bool {
		_, ok := p.members[name]
		return ok
	})
	cycle = slices.Concat(cycle[start:], cycle[:start])
	return append(cycle, cycle[0])
}

// namedManifold is one member of an install batch.
type namedManifold struct {
	name     string
	manifold Manifold
}

// byName orders batch members by name.
func byName(a, b namedManifold) int { return strings.Compare(a.name, b.name) }
