package introspect

import (
	"encoding/binary"
	"hash"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/seedworks/dependency"
)

// tagOf returns the ETag of report's picture: a weak tag, since the
// picture's bytes change with the clock, holding a 64-bit FNV-1a sum of
// what the picture shows of the report. It changes whenever the picture
// does, the clock aside, and costs a pass over the report rather than a
// layout, so that a request it matches is answered without drawing.
func tagOf(report dependency.Report) string {
	s := summer{hash: fnv.New64a()}
	s.report(report)
	s.flush()
	return `W/"` + strconv.FormatUint(s.hash.Sum64(), 36) + `"`
}

// summer sums values, each in a form that cannot run into the next: a
// string by its length and bytes, a number as eight bytes. It gathers them
// in buf and hashes buf whenever it passes summerBuffer bytes.
type summer struct {
	hash hash.Hash64
	buf  []byte
}

// summerBuffer is how many bytes a summer gathers before hashing them. Any
// size gives the same sum; this one keeps the buffer small, where gathering
// a whole report of thousands of manifolds cost more in growing the buffer
// than in hashing it.
const summerBuffer = 4096

func (s *summer) flush() {
	_, _ = s.hash.Write(s.buf) // a hash's Write never fails
	s.buf = s.buf[:0]
}

// report adds what the picture shows: states, names, start counts, times,
// errors and whether each is a mistake or a wait, inputs and what is
// missing, flags, what gates each manifold and each flag's answer, and
// nested engines. Worker reports, resources and WaitingFor are not drawn,
// so they are left out.
func (s *summer) report(r dependency.Report) {
	s.number(int64(r.State))
	s.error(r.Err)
	s.number(int64(len(r.Manifolds)))
	for _, name := range sortedNames(r) {
		m := r.Manifolds[name]
		s.text(name)
		s.number(int64(m.State))
		s.number(int64(m.StartCount))
		s.time(m.Started)
		s.error(m.Err)
		s.time(m.Due)
		s.number(int64(offOf(m)))
		s.texts(m.Inputs)
		s.texts(m.Missing)
		s.texts(m.Flags)
		s.texts(m.Gated)
		s.flag(m.Flag)
		if m.Engine == nil {
			s.number(0)
			continue
		}
		s.number(1)
		s.report(*m.Engine)
	}
}

func (s *summer) number(n int64) {
	s.buf = binary.LittleEndian.AppendUint64(s.buf, uint64(n))
	if len(s.buf) >= summerBuffer {
		s.flush()
	}
}

func (s *summer) text(t string) {
	s.number(int64(len(t)))
	s.buf = append(s.buf, t...)
	if len(s.buf) >= summerBuffer {
		s.flush()
	}
}

func (s *summer) texts(ts []string) {
	s.number(int64(len(ts)))
	for _, t := range ts {
		s.text(t)
	}
}

// error adds err's text, and whether there is one: a nil error and an
// empty text draw differently.
func (s *summer) error(err error) {
	if err == nil {
		s.number(0)
		return
	}
	s.number(1)
	s.text(err.Error())
}

// flag adds a flag's answer, or that there is none.
func (s *summer) flag(answer *bool) {
	switch {
	case answer == nil:
		s.number(0)
	case *answer:
		s.number(1)
	default:
		s.number(2)
	}
}

// time adds t as an instant: the picture shows times in UTC.
func (s *summer) time(t time.Time) {
	s.number(t.Unix())
	s.number(int64(t.Nanosecond()))
}

// inIfNoneMatch reports whether the If-None-Match fields hold etag, compared
// weakly, or "*", as RFC 9110 asks: each field is a comma-separated list
// of entity-tags with optional whitespace. A field that is not such a list
// counts only for the tags before what it cannot read.
func inIfNoneMatch(fields []string, etag string) bool {
	want := strings.TrimPrefix(etag, "W/")
	for _, field := range fields {
		rest := field
		for {
			rest = strings.TrimLeft(rest, " \t,")
			if strings.HasPrefix(rest, "*") {
				return true
			}
			rest = strings.TrimPrefix(rest, "W/")
			if !strings.HasPrefix(rest, `"`) {
				break
			}
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				break
			}
			if rest[:end+2] == want {
				return true
			}
			rest = rest[end+2:]
		}
	}
	return false
}
