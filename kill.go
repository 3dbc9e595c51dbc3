package dependency

import (
	"sync"
	"time"
)

// killStall is how long a killer may take over one Kill call before the
// loop gives up on it. Kill must return at once, so a call that takes this
// long is taken to be stuck.
const killStall = 100 * time.Millisecond

// killQueue holds the workers the loop has stopped, for killer goroutines
// to call their Kill off the loop. One killer calls them in order, which
// costs far less than a goroutine per call when thousands stop at once.
// Should its calls stall (a Kill that blocks, breaking the Worker
// contract), the loop's check gives up on it and starts a fresh killer of a
// new generation for the workers queued behind: a Kill that blocks holds
// the others back for no longer than killStall.
type killQueue struct {
	mu      sync.Mutex
	workers []Worker // waiting for a killer, from head on
	head    int
	killers int       // killers of the current generation still running: 0 or 1
	gen     uint64    // the current generation; older killers stop at their next call
	since   time.Time // when the killer began its last Kill call, or started
}

// push queues workers, in order. It returns true, with the generation, when
// no killer runs and the caller must start one.
func (q *killQueue) push(workers []Worker) (gen uint64, start bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.workers = append(q.workers, workers...)
	return q.gen, q.claimKiller()
}

// next returns the worker a killer of generation gen must kill next, or nil
// when that killer must end: the queue is empty, or it was given up on.
func (q *killQueue) next(gen uint64) Worker {
	q.mu.Lock()
	defer q.mu.Unlock()
	if gen != q.gen {
		return nil
	}
	if q.head == len(q.workers) {
		q.workers, q.head = nil, 0 // a burst's array is not kept for the next
		q.killers--
		return nil
	}
	w := q.workers[q.head]
	q.workers[q.head] = nil
	q.head++
	q.since = time.Now()
	return w
}

// check gives up on the running killer if its Kill call began killStall
// or more before now. It returns true, with the generation, when the caller
// must start a killer for the workers still queued; and, while a killer
// runs, when the caller must check again (zero if no killer runs).
func (q *killQueue) check(now time.Time) (gen uint64, start bool, again time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.killers > 0 && now.Sub(q.since) >= killStall {
		q.gen++
		q.killers = 0
	}
	start = q.head < len(q.workers) && q.claimKiller()
	if q.killers > 0 {
		again = q.since.Add(killStall)
	}
	return q.gen, start, again
}

// done reports whether every killer has made its last call: none of the
// current generation runs, and none was ever given up on.
func (q *killQueue) done() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.killers == 0 && q.gen == 0
}

// claimKiller counts a new killer if none of the current generation runs,
// and reports whether it did. It must be called with q.mu held.
func (q *killQueue) claimKiller() bool {
	if q.killers > 0 {
		return false
	}
	q.killers, q.since = 1, time.Now()
	return true
}
