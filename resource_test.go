package dependency_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/seedworks/dependency"
)

// settings is a resource that a settingsWorker serves.
type settings struct{ greeting string }

// settingsWorker runs until killed and holds settings for its dependents.
type settingsWorker struct {
	dependency.Worker
	settings *settings
}

func newSettingsWorker(greeting string) *settingsWorker {
	return &settingsWorker{dependency.NewWorker(untilKilled), &settings{greeting}}
}

// outputCounter returns an OutputOf func serving a settingsWorker's
// settings, and a pointer to how many times it called f.
func outputCounter() (dependency.OutputFunc, *int) {
	calls := new(int)
	return dependency.OutputOf(func(w *settingsWorker) *settings {
		*calls++
		return w.settings
	}), calls
}

func TestOutputOfServesResource(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		output, calls := outputCounter()
		w := newSettingsWorker("hello")
		defer killAndWait(t, w)

		var s *settings
		if err := output(w, &s); err != nil {
			t.Fatalf("output(w, *%T) = %v, want nil", s, err)
		}
		if s != w.settings || *calls != 1 {
			t.Errorf("output set %v after %d calls of f, want %v after 1", s, *calls, w.settings)
		}
	})
}

func TestOutputOfNilOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		output, calls := outputCounter()
		w := newSettingsWorker("hello")
		defer killAndWait(t, w)

		if err := output(w, nil); err != nil {
			t.Errorf("output(w, nil) = %v, want nil", err)
		}
		if *calls != 0 {
			t.Errorf("calls of f for a nil out = %d, want 0", *calls)
		}
	})
}

func TestOutputOfWrongWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		output, calls := outputCounter()
		w := dependency.NewWorker(untilKilled)
		defer killAndWait(t, w)

		var s *settings
		err := output(w, &s)
		checkMissing(t, err, fmt.Sprintf("input worker is %T, not *dependency_test.settingsWorker", w))
		if *calls != 0 || s != nil {
			t.Errorf("output set %v after %d calls of f, want nothing set", s, *calls)
		}
	})
}

func TestOutputOfWrongOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newSettingsWorker("hello")
		defer killAndWait(t, w)
		stringer := dependency.OutputOf(func(*settingsWorker) fmt.Stringer { return nil })

		var s settings
		var a any
		var n int
		for _, tc := range []struct {
			output dependency.OutputFunc
			out    any
			want   string
		}{
			{settingsOutput(), &s, "input gives *dependency_test.settings; asked for dependency_test.settings"},
			{settingsOutput(), &a, "input gives *dependency_test.settings; asked for interface {}"},
			{settingsOutput(), s, "input gives *dependency_test.settings; asked for dependency_test.settings, not a pointer"},
			{stringer, &n, "input gives fmt.Stringer; asked for int"},
		} {
			checkMissing(t, tc.output(w, tc.out), tc.want)
		}
		if s != (settings{}) || a != nil || n != 0 {
			t.Errorf("outs after refused calls = %v, %v, %v, want zero values", s, a, n)
		}
	})
}

func TestOutputOfTypedNilOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		output, calls := outputCounter()
		w := newSettingsWorker("hello")
		defer killAndWait(t, w)

		var out **settings // the right type, pointing nowhere
		checkMissing(t, output(w, out), "input gives *dependency_test.settings; asked for *dependency_test.settings through a nil pointer")
		if *calls != 0 {
			t.Errorf("calls of f for a typed-nil out = %d, want 0", *calls)
		}
	})
}

// settingsOutput returns an OutputOf func serving a settingsWorker's
// settings.
func settingsOutput() dependency.OutputFunc {
	output, _ := outputCounter()
	return output
}

// checkMissing fails t unless err matches ErrMissing and its message starts
// with want.
func checkMissing(t *testing.T, err error, want string) {
	t.Helper()
	if !errors.Is(err, dependency.ErrMissing) || !strings.HasPrefix(fmt.Sprint(err), want) {
		t.Errorf("output = %v, want an error matching ErrMissing starting %q", err, want)
	}
}

// killAndWait kills w and checks that its Wait returns nil.
func killAndWait(t *testing.T, w dependency.Worker) {
	t.Helper()
	w.Kill()
	if err := w.Wait(); err != nil {
		t.Errorf("Wait() = %v, want nil", err)
	}
}

func TestGetThroughEngine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		engine := newTestEngine(t, nil)
		type got struct {
			greeting string
			err      error
		}
		gets := make(chan got, 10)
		mustInstallAll(t, engine, dependency.Manifolds{
			"settings": {
				Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
					return newSettingsWorker("hello"), nil
				},
				Output: settingsOutput(),
			},
			"user": {
				Inputs: []string{"settings"},
				Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
					s, err := dependency.Get[*settings](get, "settings")
					if err != nil {
						gets <- got{err: err}
						return nil, err
					}
					_, wrong := dependency.Get[settings](get, "settings")
					gets <- got{s.greeting, wrong}
					return dependency.NewWorker(untilKilled), nil
				},
			},
		})
		advance(bounceDelay) // user's start waits for settings's, then for the bounce delay

		close(gets)
		var all []got
		for g := range gets {
			all = append(all, g)
		}
		if len(all) != 1 || all[0].greeting != "hello" {
			t.Fatalf("user's starts got %v, want one with greeting hello", all)
		}
		if err := all[0].err; !errors.Is(err, dependency.ErrMissing) {
			t.Errorf("Get[settings] = %v, want an error matching ErrMissing", err)
		}
		stopEngine(t, engine, nil)
	})
}

func TestGetZeroOnError(t *testing.T) {
	get := func(string, any) error { return dependency.ErrMissing }
	n, err := dependency.Get[int](get, "x")
	if n != 0 || err != dependency.ErrMissing {
		t.Errorf("Get[int] = %v, %v, want 0, %v", n, err, dependency.ErrMissing)
	}
}
