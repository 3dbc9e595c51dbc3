package dependencytest_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/seedworks/dependency"
	"github.com/seedworks/dependency/dependencytest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

var errBroken = errors.New("broken")

func TestStubGetResourceMissing(t *testing.T) {
	get := dependencytest.StubGetResource(map[string]any{"a": 1})
	var out int
	err := get("b", &out)
	if err != dependency.ErrMissing {
		t.Errorf(`get("b") = %v, want ErrMissing itself`, err)
	}
	if err := get("b", nil); err != dependency.ErrMissing {
		t.Errorf(`get("b", nil) = %v, want ErrMissing itself`, err)
	}
	if err := dependencytest.StubGetResource(nil)("a", nil); err != dependency.ErrMissing {
		t.Errorf(`get("a", nil) from a nil map = %v, want ErrMissing itself`, err)
	}
}

func TestStubGetResourceError(t *testing.T) {
	get := dependencytest.StubGetResource(map[string]any{"a": errBroken})
	var out error
	if err := get("a", &out); err != errBroken {
		t.Errorf(`get("a", &out) = %v, want %v`, err, errBroken)
	}
	if out != nil {
		t.Errorf(`out = %v after get("a", &out), want it untouched`, out)
	}
	if err := get("a", nil); err != errBroken {
		t.Errorf(`get("a", nil) = %v, want %v`, err, errBroken)
	}
}

func TestStubGetResourceAssigns(t *testing.T) {
	var w strings.Builder
	get := dependencytest.StubGetResource(map[string]any{
		"n":      42,
		"writer": &w,
		"none":   nil,
	})

	var n int
	if err := get("n", &n); err != nil || n != 42 {
		t.Errorf(`get("n", &int) = %v, n = %d; want nil, 42`, err, n)
	}
	var sb *strings.Builder
	if err := get("writer", &sb); err != nil || sb != &w {
		t.Errorf(`get("writer", &*strings.Builder) = %v, %p; want nil, %p`, err, sb, &w)
	}
	var iw io.Writer
	if err := get("writer", &iw); err != nil || iw != &w {
		t.Errorf(`get("writer", &io.Writer) = %v, %v; want nil, the builder`, err, iw)
	}
	iw = &w
	if err := get("none", &iw); err != nil || iw != nil {
		t.Errorf(`get("none", &io.Writer) = %v, %v; want nil, nil`, err, iw)
	}
	if err := get("n", nil); err != nil {
		t.Errorf(`get("n", nil) = %v, want nil`, err)
	}
}

func TestStubGetResourceTypeMismatch(t *testing.T) {
	get := dependencytest.StubGetResource(map[string]any{"n": 42})
	s := "unchanged"
	err := get("n", &s)
	if !errors.Is(err, dependency.ErrMissing) || !errors.Is(err, dependency.ErrMistake) {
		t.Fatalf(`get("n", &string) = %v, want an error wrapping ErrMissing and ErrMistake, as an engine's getter gives`, err)
	}
	if want := `cannot get stub resource "n": input gives int; asked for string: dependency not available`; err.Error() != want {
		t.Errorf(`get("n", &string) = %q, want %q`, err, want)
	}
	if s != "unchanged" {
		t.Errorf(`s = %q after a failed get, want it untouched`, s)
	}
	for _, out := range []any{s, (*string)(nil)} {
		if err := get("n", out); err == nil {
			t.Errorf(`get("n", %#v) = nil, want an error: out is not a non-nil pointer`, out)
		}
	}
}
