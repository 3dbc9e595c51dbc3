package introspect

import (
	"github.com/juju/errors"

	"github.com/seedworks/dependency"
)

// offKind says why a manifold is not running, when it is not for a fault
// of its worker: a manifold that does not run is gated (deliberately off),
// waiting for an input, or stopped by a mistake in how it asks for one.
type offKind int

const (
	notOff  offKind = iota // running, or failed as any worker may
	gated                  // a flag keeps it from running: deliberately off
	waiting                // an input is not running or not installed: no fault
	mistake                // it asked for what it can never get
)

// offOf says which kind m is. A mistake is told by its error, whatever its
// state: a manifold gated by a flag that is no Flag is a mistake too. A
// gated manifold is otherwise gated whatever error it last had.
func offOf(m dependency.ManifoldReport) offKind {
	switch {
	case is(m.Err, dependency.ErrMistake):
		return mistake
	case len(m.Gated) > 0:
		return gated
	case m.State == dependency.StateStarted:
		return notOff
	case m.Err == nil && len(m.Missing) > 0, is(m.Err, dependency.ErrMissing):
		return waiting
	}
	return notOff
}

// is is errors.Is, but a panic in one of err's methods, as a hostile
// error's may, makes it false rather than spoil the picture.
func is(err, target error) (found bool) {
	if err == nil {
		return false
	}
	defer func() { _ = recover() }()
	return errors.Is(err, target)
}

// offLines are the lines that say why b's manifold is off, if it is.
func (b *box) offLines() []line {
	m := b.report
	switch b.off {
	case gated:
		return []line{{text: cut("gated by "+listed(m.Gated), maxChars), class: "note"}}
	case waiting:
		if len(m.Missing) > 0 {
			return []line{{text: cut("waiting for "+listed(m.Missing), maxChars), class: "note"}}
		}
		return []line{{text: "waiting for an input", class: "note"}}
	case mistake:
		return []line{{text: "mistake in its start func", class: "error"}}
	}
	return nil
}

// answerWord says a flag's answer: "open" or "closed".
func answerWord(open bool) string {
	if open {
		return "open"
	}
	return "closed"
}
