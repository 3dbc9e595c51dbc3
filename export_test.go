package dependency

import "fmt"

// KillStall and KillSlow let the tests time stuck and slow Kill calls
// exactly.
const (
	KillStall = killStall
	KillSlow  = killSlow
)

// CheckReportsDue returns an error unless the engine's count of messages
// on their way agrees with its nodes: one for each start in flight and
// each worker it asked to stop. It must be called while the engine runs.
func CheckReportsDue(eng Engine) error {
	reply := make(chan error, 1)
	return eng.(*engine).request(reportsDueTicket{reply}, reply)
}

type reportsDueTicket struct{ reply chan error }

func (t reportsDueTicket) handle(e *engine) {
	want := 0
	for _, n := range e.nodes {
		if n.state == starting || n.state == running && n.stopping {
			want++
		}
	}
	if e.reportsDue != want {
		t.reply <- fmt.Errorf("reportsDue = %d, want %d", e.reportsDue, want)
		return
	}
	t.reply <- nil
}
