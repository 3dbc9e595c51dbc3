package dependency

import (
	"testing"
	"time"
)

// The kill queue judges a stall by when its first waiting worker was
// queued, also after it has moved the workers left to the front of its
// array to make room.
func TestKillQueueTimesEachTurn(t *testing.T) {
	var q killQueue
	a, b, c := &nopWorker{}, &nopWorker{}, &nopWorker{}
	t0 := time.Now()
	if start, _ := q.push([]Worker{a, b}, t0); !start {
		t.Fatalf("push to an idle queue: start = false, want true")
	}
	if got := q.next(); got != a {
		t.Fatalf("next() = %p, want a", got)
	}
	q.push([]Worker{c}, t0.Add(killStall/2)) // moves b to the front
	if got := q.next(); got != b {
		t.Fatalf("next() = %p, want b", got)
	}
	alone, again := q.check(t0.Add(killStall))
	if alone != nil {
		t.Errorf("check at killStall stalled the queue, want c, queued at killStall/2, to wait")
	}
	if want := t0.Add(killStall * 3 / 2); !again.Equal(want) {
		t.Errorf("check: again = %v after t0, want %v", again.Sub(t0), want.Sub(t0))
	}
}

type nopWorker struct{}

func (*nopWorker) Kill()       {}
func (*nopWorker) Wait() error { return nil }
