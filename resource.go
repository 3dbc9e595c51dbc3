package dependency

import "reflect"

// OutputOf returns an OutputFunc for a manifold whose worker is a W: it sets
// an out of type *T to f(w). The out must be exactly a *T: a T that merely
// converts or implements does not do. When the input's worker is not a W, or
// out is not a *T or is a nil *T, the OutputFunc returns an error wrapping
// ErrMissing that names both types, and does not call f. A nil out asks only whether the
// worker is there, and gets nil without calling f.
//
// f runs on the goroutine of the dependent's Start func, as any OutputFunc
// does, so it must be safe to call while the worker runs.
func OutputOf[W Worker, T any](f func(W) T) OutputFunc {
	return func(in Worker, out any) error {
		if out == nil {
			return nil
		}
		w, ok := in.(W)
		if !ok {
			return mistakeError("input worker is %T, not %s", in, typeName[W]())
		}
		target, ok := out.(*T)
		if !ok || target == nil {
			return mistakeError("input gives %s; asked for %s", typeName[T](), askedFor(out))
		}
		*target = f(w)
		return nil
	}
}

// Get fetches the named input's resource as a T, through an out of type *T,
// so that a start func can write
//
//	cfg, err := dependency.Get[*Config](get, "config")
//
// It returns get's error as it is, with the zero T unless the input's
// Output func set it before failing. An OutputOf[W, T] Output serves it.
func Get[T any](get GetResourceFunc, name string) (T, error) {
	var t T
	err := get(name, &t)
	return t, err
}

// typeName names T, also when T is an interface type, which %T of a zero T
// cannot do.
func typeName[T any]() string {
	return reflect.TypeFor[T]().String()
}

// askedFor names what an out asks for: the type it points to, or, for an
// out that is not a pointer, its own type; and says so of a nil pointer,
// which has nowhere to put a value.
func askedFor(out any) string {
	v := reflect.ValueOf(out)
	switch {
	case v.Kind() != reflect.Pointer:
		return v.Type().String() + ", not a pointer"
	case v.IsNil():
		return v.Type().Elem().String() + " through a nil pointer"
	}
	return v.Type().Elem().String()
}
