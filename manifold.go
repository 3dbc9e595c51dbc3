package dependency

import (
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

	// Flags names the manifolds whose workers must be Flags that Check
	// true for this one to start: while one is not, it is gated, and its
	// start func is not called. Only a change of a flag's answer starts or
	// stops it. A flag is not a resource: the getter offers it only if it
	// is also among Inputs. Flags need not be installed yet; one that is
	// not keeps the manifold gated.
	Flags []string

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
	if err := validateNames(name, "input", m.Inputs); err != nil {
		return err
	}
	return validateNames(name, "flag", m.Flags)
}

// validateNames checks the names a manifold lists as its inputs or its
// flags (what).
func validateNames(name, what string, names []string) error {
	seen := make(map[string]bool, len(names))
	for _, other := range names {
		switch {
		case other == "":
			return failure(ErrInvalid, "cannot install %q: empty %s name", name, what)
		case other == name:
			return failure(ErrInvalid, "cannot install %q: %s %q is the manifold itself", name, what, other)
		case seen[other]:
			return failure(ErrInvalid, "cannot install %q: %s %q repeated", name, what, other)
		}
		seen[other] = true
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
