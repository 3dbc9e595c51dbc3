// Package dependencytest helps test a manifold's Start func on its own,
// without an engine, much as net/http/httptest helps test a handler.
package dependencytest

import (
	"fmt"
	"reflect"

	"github.com/juju/errors"

	"github.com/seedworks/dependency"
)

// StubGetResource returns a getter that serves resources by input name, as
// an engine's getter would if each input's Output simply handed over that
// value:
//   - a name not in resources gets dependency.ErrMissing itself, as from
//     an engine, so that both == and errors.Is find it;
//   - a value that is an error is returned as the getter's error;
//   - with a nil out, a present resource gives nil;
//   - otherwise the value is assigned to *out, which must be a non-nil
//     pointer to a type the value is assignable to (a nil value assigns
//     the zero value); anything else is refused as an engine's getter
//     refuses a type its input's Output cannot give: with an error that
//     wraps dependency.ErrMissing and dependency.ErrMistake and names both
//     types.
//
// The getter never expires, and resources is read on every call, so a test
// may change the map between calls but not during them.
func StubGetResource(resources map[string]any) dependency.GetResourceFunc {
	return func(name string, out interface{}) error {
		resource, found := resources[name]
		if !found {
			return dependency.ErrMissing
		}
		if err, ok := resource.(error); ok {
			return err
		}
		if out == nil {
			return nil
		}
		target := reflect.ValueOf(out)
		if target.Kind() != reflect.Pointer || target.IsNil() {
			return mismatch(name, "out is %T, want a non-nil pointer", out)
		}
		slot := target.Elem()
		if resource == nil {
			slot.SetZero()
			return nil
		}
		value := reflect.ValueOf(resource)
		if !value.Type().AssignableTo(slot.Type()) {
			return mismatch(name, "input gives %T; asked for %s", resource, slot.Type())
		}
		slot.Set(value)
		return nil
	}
}

// mismatch returns the error of a request whose out cannot take the
// resource: it wraps ErrMissing and ErrMistake.
func mismatch(name, format string, args ...any) error {
	return fmt.Errorf("cannot get stub resource %q: %s: %w%w", name, fmt.Sprintf(format, args...),
		dependency.ErrMissing, errors.Hide(dependency.ErrMistake))
}
