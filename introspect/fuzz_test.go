package introspect

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/seedworks/dependency"
)

// FuzzLayout draws reports decoded from the fuzzer's bytes (names of all
// kinds, any inputs, cycles, nested engines) and checks the picture's
// properties: always every manifold drawn once, no boxes overlapping and
// well-formed SVG; for an acyclic report, one arrow per input or flag, each
// pointing down and passing through no other box.
func FuzzLayout(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 0, 2, 0, 1, 0, 1, 2, 1, 0, 0})
	f.Add([]byte{8, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25})
	f.Add([]byte{5, 4, 15, 15, 15, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte("\x0bcycles and nested engines \xff\xfe\x00\x01 <&> 名前 all mixed up"))
	f.Fuzz(func(t *testing.T, data []byte) {
		report := decodeReport(&byteSource{data: data}, 0)
		p := draw(report, epoch)
		if hasCycle(report) {
			checkDrawnOnce(t, report, p)
			checkNoOverlap(t, p)
			checkWellFormed(t, p.svg())
			return
		}
		checkPicture(t, report, p)
	})
}

// byteSource hands out the fuzzer's bytes, then zeros.
type byteSource struct {
	data []byte
}

func (s *byteSource) next() int {
	if len(s.data) == 0 {
		return 0
	}
	b := s.data[0]
	s.data = s.data[1:]
	return int(b)
}

// text takes up to n bytes as a string, valid UTF-8 or not.
func (s *byteSource) text(n int) string {
	text := s.data[:min(len(s.data), n)]
	s.data = s.data[len(text):]
	return string(text)
}

// fuzzNames are the stems of the fuzzed manifolds' names.
var fuzzNames = []string{"a", "api-caller", "<b>&amp;", "名前", "with space", "nul\x00", "bad\xff", "x/y", "a name longer than a box is wide, so it gets cut"}

// decodeReport makes a report of up to 11 manifolds from s: each with a
// state, up to three inputs and maybe a flag (any manifold of the report,
// itself included, or one not installed), maybe a flag's answer or gated
// flags, maybe an error and a due start, and, above depth 2, maybe a
// nested engine.
func decodeReport(s *byteSource, depth int) dependency.Report {
	n := s.next() % 12
	names := make([]string, n)
	for i := range names {
		names[i] = fuzzNames[s.next()%len(fuzzNames)] + strconv.Itoa(i)
	}
	report := dependency.Report{State: dependency.State(s.next() % 4), Manifolds: make(map[string]dependency.ManifoldReport, n)}
	for _, name := range names {
		m := dependency.ManifoldReport{State: dependency.State(s.next() % 4), StartCount: s.next() % 3}
		for range s.next() % 4 {
			if i := s.next(); i%16 == 15 {
				m.Inputs = append(m.Inputs, "absent"+strconv.Itoa(i%3))
			} else if n > 0 {
				m.Inputs = append(m.Inputs, names[i%n])
			}
		}
		if i := s.next(); i&1 != 0 && n > 0 {
			m.Flags = append(m.Flags, names[(i>>1)%n])
		} else if i&2 != 0 {
			m.Flags = append(m.Flags, "absent"+strconv.Itoa(i%3))
		}
		if i := s.next(); i&1 != 0 {
			answer := i&2 != 0
			m.Flag = &answer
		} else if i&4 != 0 {
			m.Gated = m.Flags
		}
		if flags := s.next(); flags&1 != 0 {
			m.Err = errors.New(s.text(s.next() % 64))
		} else if flags&2 != 0 {
			m.Due = epoch.Add(time.Duration(s.next()) * 100 * time.Millisecond)
		} else if flags&4 != 0 && depth < 2 {
			nested := decodeReport(s, depth+1)
			m.Engine = &nested
		}
		report.Manifolds[name] = m
	}
	return withMissing(report.Manifolds)
}

// hasCycle reports whether any engine of report has a cycle of inputs and
// flags.
func hasCycle(report dependency.Report) bool {
	const (
		unseen = iota
		open
		done
	)
	mark := make(map[string]int)
	var visit func(name string) bool
	visit = func(name string) bool {
		switch mark[name] {
		case open:
			return true
		case done:
			return false
		}
		mark[name] = open
		for input := range links(report.Manifolds[name]) {
			if _, installed := report.Manifolds[input]; installed && visit(input) {
				return true
			}
		}
		mark[name] = done
		return false
	}
	for name, m := range report.Manifolds {
		if visit(name) || m.Engine != nil && hasCycle(*m.Engine) {
			return true
		}
	}
	return false
}
