package dependency

import (
	stderrors "errors"
	"fmt"
	"slices"
	"strings"

	"github.com/juju/errors"
)

// Manifold describes how to run one node of an engine's graph.
type Manifold struct {
	// Inputs names the manifolds whose resources Start may get. They need
	// not be installed yet.
	Inputs []string

	// Start makes the manifold's worker. Exactly one of Start and
	// StartContext must be set.
	Start StartFunc

	// StartContext is Start with a context; see StartContextFunc.
	StartContext StartContextFunc

	// Output, if set, lets dependents get resources from the worker.
	Output OutputFunc

	// Filter, if set, converts every non-nil error from the manifold's
	// start and worker before the engine reads it. A start error it turns
	// into nil is a start that completed: no worker, and no restart until
	// an input changes.
	Filter FilterFunc
}

// Manifolds maps names to manifolds, for installing many at once.
type Manifolds map[string]Manifold

// Install installs every manifold of manifolds into eng and returns the
// first error. An engine made by this package takes them as one batch: it
// installs none of them if any is bad, and starts them in dependency order.
// Other engines get one Install call per manifold, in name order.
func Install(eng Engine, manifolds Manifolds) error {
	if e, ok := eng.(*engine); ok {
		return e.installBatch(manifolds)
	}
	names := make([]string, 0, len(manifolds))
	for name := range manifolds {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if err := eng.Install(name, manifolds[name]); err != nil {
			return err
		}
	}
	return nil
}

// namedManifold is one member of an install batch.
type namedManifold struct {
	name     string
	manifold Manifold
}

// byName orders batch members by name.
func byName(a, b namedManifold) int { return strings.Compare(a.name, b.name) }

// firstInvalid returns the error of the batch's first member, in name
// order, that validate refuses.
func firstInvalid(batch []namedManifold) error {
	slices.SortFunc(batch, byName)
	for _, nm := range batch {
		if err := validate(nm.name, nm.manifold); err != nil {
			return err
		}
	}
	return nil
}

// validate checks what can be checked of a manifold on its own.
func validate(name string, m Manifold) error {
	switch {
	case name == "":
		return failure(ErrInvalid, "cannot install manifold: empty name")
	case m.Start == nil && m.StartContext == nil:
		return failure(ErrInvalid, "cannot install %q: no Start func", name)
	case m.Start != nil && m.StartContext != nil:
		return failure(ErrInvalid, "cannot install %q: both Start and StartContext set", name)
	}
	seen := make(map[string]bool, len(m.Inputs))
	for _, input := range m.Inputs {
		switch {
		case input == "":
			return failure(ErrInvalid, "cannot install %q: empty input name", name)
		case input == name:
			return failure(ErrInvalid, "cannot install %q: input %q is the manifold itself", name, input)
		case seen[input]:
			return failure(ErrInvalid, "cannot install %q: input %q repeated", name, input)
		}
		seen[input] = true
	}
	return nil
}

// failure returns an error with exactly the formatted message, which
// errors.Is matches to kind.
func failure(kind error, format string, args ...any) error {
	return fmt.Errorf(format+"%w", append(args, errors.Hide(kind))...)
}

// cycleError names the cycle path, each manifold needing the next.
func cycleError(path []string) error {
	return failure(ErrCycle, "cannot install %q: cycle %s", path[0], quoteAll(path, " -> "))
}

// quoteAll quotes each name and joins them with sep.
func quoteAll(names []string, sep string) string {
	quoted := make([]string, len(names))
	for i, name := range names {
		quoted[i] = fmt.Sprintf("%q", name)
	}
	return strings.Join(quoted, sep)
}

// joinErrors returns the only non-nil error as it is, several joined, or
// nil.
func joinErrors(errs ...error) error {
	var found []error
	for _, err := range errs {
		if err != nil {
			found = append(found, err)
		}
	}
	if len(found) == 1 {
		return found[0]
	}
	return stderrors.Join(found...)
}

// planInstall checks that the batch can join the graph and returns the
// indices of its members in dependency order. Its depth-first walk follows
// dependents: it visits only the batch and the installed manifolds that
// depend on it, so installing in dependency order costs nothing beyond the
// batch itself. Members are known by their index in the batch, so that the
// walk over them needs no map. The walk takes the members in batch order
// and the installed manifolds in the order they were linked; byName makes
// it take those in name order too, so that, with the batch sorted, which
// fault it finds first depends on no map's order. It must only be called
// from the loop goroutine.
func (e *engine) planInstall(batch []namedManifold, byName bool) ([]int, error) {
	w := installWalk{
		byName:           byName,
		batch:            batch,
		existing:         make([]*node, len(batch)),
		memberDependents: make([][]int, len(batch)),
		memberMark:       make([]walkMark, len(batch)),
	}
	index := make(map[string]int, len(batch))
	for i, nm := range batch {
		n := e.nodes[nm.name]
		if n != nil && n.installed {
			return nil, fmt.Errorf("%q %w", nm.name, ErrAlreadyInstalled)
		}
		w.existing[i] = n
		index[nm.name] = i
	}
	for i, nm := range batch {
		for _, input := range nm.manifold.Inputs {
			if j, member := index[input]; member {
				w.memberDependents[j] = append(w.memberDependents[j], i)
			} else if n := e.nodes[input]; n != nil && n.installed {
				if w.outsideDependents == nil {
					w.outsideDependents = make(map[*node][]int)
				}
				w.outsideDependents[n] = append(w.outsideDependents[n], i)
			}
		}
	}

	postorder := make([]int, 0, len(batch))
	var path []walkFrame
	for root := range batch {
		if w.memberMark[root] != unvisited {
			continue
		}
		path = append(path[:0], walkFrame{vertex: w.member(root)})
		w.setMark(path[0].vertex, onPath)
		for len(path) > 0 {
			top := &path[len(path)-1]
			dependent, ok := w.dependentAt(top.vertex, top.next)
			if !ok {
				w.setMark(top.vertex, done)
				if top.member >= 0 {
					postorder = append(postorder, top.member)
				}
				path = path[:len(path)-1]
				continue
			}
			top.next++
			switch w.mark(dependent) {
			case unvisited:
				w.setMark(dependent, onPath)
				path = append(path, walkFrame{vertex: dependent})
			case onPath:
				return nil, cycleError(w.cyclePath(path, dependent))
			}
		}
	}
	slices.Reverse(postorder)
	return postorder, nil
}

// installWalk holds what planInstall's walk knows of the batch and of the
// installed manifolds it reaches.
type installWalk struct {
	byName   bool // take installed dependents in name order
	batch    []namedManifold
	existing []*node // the node of each member's name, if it has one yet

	// The members that list a member (by its index) or an installed
	// manifold outside the batch (by its node) as an input, in batch order.
	memberDependents  [][]int
	outsideDependents map[*node][]int

	memberMark  []walkMark
	outsideMark map[*node]walkMark

	sortedDependents map[*node][]*node // with byName, each node's dependents in name order
}

// vertex is a name planInstall's walk reaches: a member of the batch, by
// its index, or an installed manifold outside the batch (member -1).
type vertex struct {
	member int
	node   *node // the name's node, if it has one
}

// walkFrame is a step of planInstall's walk: a vertex and the index of the
// next dependent to visit.
type walkFrame struct {
	vertex
	next int
}

// walkMark is how far planInstall's walk is with a vertex.
type walkMark uint8

const (
	unvisited walkMark = iota
	onPath
	done
)

func (w *installWalk) member(i int) vertex {
	return vertex{member: i, node: w.existing[i]}
}

// dependentAt returns the i-th dependent of v: first the installed
// manifolds that depend on it, then the members that do.
func (w *installWalk) dependentAt(v vertex, i int) (vertex, bool) {
	if v.node != nil {
		dependents := w.installedDependents(v.node)
		if i < len(dependents) {
			return vertex{member: -1, node: dependents[i]}, true
		}
		i -= len(dependents)
	}
	var members []int
	if v.member >= 0 {
		members = w.memberDependents[v.member]
	} else {
		members = w.outsideDependents[v.node]
	}
	if i < len(members) {
		return w.member(members[i]), true
	}
	return vertex{}, false
}

// installedDependents returns the installed manifolds that list n as an
// input: in the order they were linked, or with byName in name order.
func (w *installWalk) installedDependents(n *node) []*node {
	if !w.byName || len(n.dependents) < 2 {
		return n.dependents
	}
	sorted, ok := w.sortedDependents[n]
	if !ok {
		sorted = slices.SortedFunc(slices.Values(n.dependents), func(a, b *node) int {
			return strings.Compare(a.name, b.name)
		})
		if w.sortedDependents == nil {
			w.sortedDependents = make(map[*node][]*node)
		}
		w.sortedDependents[n] = sorted
	}
	return sorted
}

func (w *installWalk) mark(v vertex) walkMark {
	if v.member >= 0 {
		return w.memberMark[v.member]
	}
	return w.outsideMark[v.node]
}

func (w *installWalk) setMark(v vertex, mark walkMark) {
	if v.member >= 0 {
		w.memberMark[v.member] = mark
		return
	}
	if w.outsideMark == nil {
		w.outsideMark = make(map[*node]walkMark)
	}
	w.outsideMark[v.node] = mark
}

func (w *installWalk) name(v vertex) string {
	if v.member >= 0 {
		return w.batch[v.member].name
	}
	return v.node.name
}

// cyclePath turns the walk's path, whose last vertex has first as a
// dependent, into the names of the cycle in the order of needs ("a" -> "b":
// a needs b), beginning and ending with a member of the batch.
func (w *installWalk) cyclePath(path []walkFrame, first vertex) []string {
	cycle := []vertex{first}
	for i := len(path) - 1; path[i].vertex != first; i-- {
		cycle = append(cycle, path[i].vertex)
	}
	start := slices.IndexFunc(cycle, func(v vertex) bool { return v.member >= 0 })
	cycle = slices.Concat(cycle[start:], cycle[:start])
	names := make([]string, 0, len(cycle)+1)
	for _, v := range cycle {
		names = append(names, w.name(v))
	}
	return append(names, names[0])
}
