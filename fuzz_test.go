package dependency_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/seedworks/dependency"
)

// FuzzInstall turns bytes into Install, batch Install, Uninstall and Kill
// calls with arbitrary names and input lists, and checks each result
// against a model: the engine never panics, refuses exactly the bad
// manifolds and the ones that would close a cycle (by a topological sort of
// its own), accepts every acyclic graph, and answers only with documented
// errors. Report must then list exactly the manifolds the model holds.
func FuzzInstall(f *testing.F) {
	for _, ops := range [][]fuzzOp{
		{install("a"), install("b", "a"), install("c", "b")},
		{install("a", "b"), install("b", "a")},                    // cycle of 2
		{install("a", "b"), install("b", "c"), install("c", "a")}, // cycle of 3
		{install("a", "a")},                                         // self input
		{install("a", "b", "b")},                                    // repeated input
		{install(""), install("a", "")},                             // empty names
		{install("a"), install("a")},                                // installed twice
		{install("a", "b"), uninstall("a"), install("b", "a")},      // cycle undone
		{install("b", "a"), reinstall("b", "c"), install("c", "b")}, // reinstall closes a cycle
		{batch(install("a", "b"), install("b", "c"), install("c"))},
		{install("c", "a"), batch(install("a", "b"), install("b", "c"))}, // cycle through the graph
		{batch(install("a"), install("", "a"))},                          // one bad member
		{install("a"), batch(install("a"), install("b"))},                // one member installed
		{uninstall("a"), install("a"), kill(), install("b"), uninstall("a")},
		{install("\xff\xfe", "a"), install("a", "\xff\xfe")}, // names that are not UTF-8
	} {
		f.Add(encodeFuzzOps(ops))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h := newHarness()
		engine := dependency.NewEngine(nil, 0, 0)
		defer func() {
			engine.Kill()
			if err := engine.Wait(); err != nil {
				t.Errorf("Wait() = %v, want nil", err)
			}
		}()
		model := make(map[string][]string)
		killed := false
		r := &fuzzReader{data: data}
		for range 64 {
			if r.done() {
				break
			}
			op := r.op()
			switch op.kind {
			case opKill:
				engine.Kill()
				killed = true
				continue
			case opUninstall, opReinstall:
				want := error(nil)
				switch {
				case killed:
					want = dependency.ErrShuttingDown
				case model[op.name] == nil:
					want = dependency.ErrNotInstalled
				}
				err := engine.Uninstall(op.name)
				checkFuzzErr(t, "Uninstall", op.name, err, want)
				if err == nil {
					delete(model, op.name)
				}
				if op.kind == opUninstall {
					continue
				}
			}
			manifolds := make(dependency.Manifolds)
			for _, m := range op.batch {
				manifolds[m.name] = h.manifold(m.name, m.inputs...)
			}
			want := expectInstall(model, manifolds, killed)
			var err error
			if op.kind == opBatch {
				err = dependency.Install(engine, manifolds)
			} else {
				m := op.batch[0]
				err = engine.Install(m.name, manifolds[m.name])
			}
			checkFuzzErr(t, "Install", op.batch[0].name, err, want)
			if err == nil {
				for name, m := range manifolds {
					model[name] = append([]string{}, m.Inputs...)
				}
			}
		}
		if killed {
			return
		}
		report := engine.Report()
		if len(report.Manifolds) != len(model) {
			t.Errorf("Report has %d manifolds, want %d", len(report.Manifolds), len(model))
		}
		for name, inputs := range model {
			if got, ok := report.Manifolds[name]; !ok || !slices.Equal(got.Inputs, inputs) {
				t.Errorf("Report of %q: inputs %q (present %v), want %q", name, got.Inputs, ok, inputs)
			}
		}
	})
}

// checkFuzzErr fails t unless err is want (nil, or a match by errors.Is).
func checkFuzzErr(t *testing.T, call, name string, err, want error) {
	t.Helper()
	if (want == nil) != (err == nil) || !errors.Is(err, want) {
		t.Fatalf("%s(%q) = %v, want %v", call, name, err, want)
	}
}

// expectInstall returns the error an install of manifolds must get, given
// the installed model: checks on each manifold first, then names in use,
// then cycles.
func expectInstall(model map[string][]string, manifolds dependency.Manifolds, killed bool) error {
	for name, m := range manifolds {
		if name == "" || slices.Contains(m.Inputs, "") || slices.Contains(m.Inputs, name) {
			return dependency.ErrInvalid
		}
		for i, input := range m.Inputs {
			if slices.Contains(m.Inputs[:i], input) {
				return dependency.ErrInvalid
			}
		}
	}
	switch {
	case killed:
		return dependency.ErrShuttingDown
	case len(manifolds) == 0:
		return nil
	}
	graph := make(map[string][]string, len(model)+len(manifolds))
	for name, inputs := range model {
		graph[name] = inputs
		if _, ok := manifolds[name]; ok {
			return dependency.ErrAlreadyInstalled
		}
	}
	for name, m := range manifolds {
		graph[name] = m.Inputs
	}
	if !acyclic(graph) {
		return dependency.ErrCycle
	}
	return nil
}

// acyclic reports whether graph, mapping each name to the names it needs,
// can be ordered so that every name comes after what it needs (Kahn's
// algorithm). Names that are needed but not keys need nothing.
func acyclic(graph map[string][]string) bool {
	pending := make(map[string]int, len(graph)) // needs not yet ordered
	dependents := make(map[string][]string)
	var ready []string
	for name, inputs := range graph {
		for _, input := range inputs {
			if _, ok := graph[input]; ok {
				pending[name]++
				dependents[input] = append(dependents[input], name)
			}
		}
		if pending[name] == 0 {
			ready = append(ready, name)
		}
	}
	ordered := 0
	for len(ready) > 0 {
		name := ready[len(ready)-1]
		ready = ready[:len(ready)-1]
		ordered++
		for _, d := range dependents[name] {
			if pending[d]--; pending[d] == 0 {
				ready = append(ready, d)
			}
		}
	}
	return ordered == len(graph)
}

// fuzzOpKind is what one fuzzOp does.
type fuzzOpKind byte

const (
	opInstall fuzzOpKind = iota
	opBatch
	opUninstall
	opReinstall            // Uninstall, then Install under the same name
	opKill      fuzzOpKind = 0xff
)

// fuzzOp is one call of FuzzInstall.
type fuzzOp struct {
	kind  fuzzOpKind
	name  string         // for Uninstall and reinstall
	batch []fuzzManifold // one for Install and reinstall
}

type fuzzManifold struct {
	name   string
	inputs []string
}

// fuzzReader decodes fuzzOps; past the end of data it reads zeros.
//
//	op:       kind byte (0xff: Kill; otherwise kind%4), then its arguments
//	Install:  manifold
//	batch:    count byte (1 + count%4 manifolds), then the manifolds
//	Uninstall, reinstall: name (reinstall: then a manifold of that name's inputs)
//	manifold: name, then count byte (count%5 inputs), then the input names
//	name:     length byte (length%4), then one byte per character: 0xf0 and
//	          above stand for themselves, others for 'a' + byte%4
type fuzzReader struct {
	data []byte
}

func (r *fuzzReader) done() bool { return len(r.data) == 0 }

func (r *fuzzReader) byte() byte {
	if len(r.data) == 0 {
		return 0
	}
	b := r.data[0]
	r.data = r.data[1:]
	return b
}

func (r *fuzzReader) name() string {
	n := int(r.byte() % 4)
	name := make([]byte, n)
	for i := range name {
		if c := r.byte(); c >= 0xf0 {
			name[i] = c
		} else {
			name[i] = 'a' + c%4
		}
	}
	return string(name)
}

func (r *fuzzReader) inputs() []string {
	inputs := make([]string, r.byte()%5)
	for i := range inputs {
		inputs[i] = r.name()
	}
	return inputs
}

func (r *fuzzReader) op() fuzzOp {
	b := r.byte()
	if fuzzOpKind(b) == opKill {
		return fuzzOp{kind: opKill}
	}
	op := fuzzOp{kind: fuzzOpKind(b % 4)}
	switch op.kind {
	case opInstall:
		op.batch = []fuzzManifold{{r.name(), r.inputs()}}
	case opBatch:
		for range 1 + r.byte()%4 {
			op.batch = append(op.batch, fuzzManifold{r.name(), r.inputs()})
		}
	case opUninstall:
		op.name = r.name()
	case opReinstall:
		op.name = r.name()
		op.batch = []fuzzManifold{{op.name, r.inputs()}}
	}
	return op
}

func install(name string, inputs ...string) fuzzOp {
	return fuzzOp{kind: opInstall, batch: []fuzzManifold{{name, inputs}}}
}

func batch(installs ...fuzzOp) fuzzOp {
	op := fuzzOp{kind: opBatch}
	for _, i := range installs {
		op.batch = append(op.batch, i.batch...)
	}
	return op
}

func uninstall(name string) fuzzOp { return fuzzOp{kind: opUninstall, name: name} }

func reinstall(name string, inputs ...string) fuzzOp {
	return fuzzOp{kind: opReinstall, name: name, batch: []fuzzManifold{{name, inputs}}}
}

func kill() fuzzOp { return fuzzOp{kind: opKill} }

// encodeFuzzOps is fuzzReader backwards, for the hand-made seeds. Names
// use only 'a' to 'd' and bytes from 0xf0.
func encodeFuzzOps(ops []fuzzOp) []byte {
	var data []byte
	name := func(s string) {
		data = append(data, byte(len(s)))
		for _, c := range []byte(s) {
			if c < 0xf0 {
				c -= 'a'
			}
			data = append(data, c)
		}
	}
	manifold := func(m fuzzManifold) {
		name(m.name)
		data = append(data, byte(len(m.inputs)))
		for _, input := range m.inputs {
			name(input)
		}
	}
	for _, op := range ops {
		data = append(data, byte(op.kind))
		switch op.kind {
		case opInstall:
			manifold(op.batch[0])
		case opBatch:
			data = append(data, byte(len(op.batch)-1))
			for _, m := range op.batch {
				manifold(m)
			}
		case opUninstall:
			name(op.name)
		case opReinstall:
			name(op.name)
			data = append(data, byte(len(op.batch[0].inputs)))
			for _, input := range op.batch[0].inputs {
				name(input)
			}
		}
	}
	return data
}
