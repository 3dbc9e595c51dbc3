package dependency

import (
	"sync"
	"time"
)

// killStall is how long a Kill call may wait for its turn. Kill must return
// at once, so a queue that has not moved for this long is held up by a Kill
// that blocks, or by several that are slow.
const killStall = 100 * time.Millisecond

// killQueue holds the workers the loop has stopped, for their Kill calls
// to be made off the loop. One killer goroutine makes them in order, which
// costs far less than a goroutine per call when thousands stop at once. But
// a Kill that blocks (breaking the Worker contract) would hold up every
// call behind it; so once a call has waited killStall for its turn, the
// queue stalls for good: that call, those behind it and every later one
// get a goroutine of their own, and the killer ends at its next call.
type killQueue struct {
	mu      sync.Mutex
	queue   []Worker   // waiting for the killer, from head on
	head    int        // the first worker still waiting
	pushes  []killPush // when the waiting workers were queued, oldest first
	killing bool       // the killer runs
	stalled bool       // every call now gets a goroutine of its own
}

// killPush records that the workers before end in the queue, back to the
// previous push's end, were queued at at: one push per turn of the loop
// that stops workers, not one record per worker.
type killPush struct {
	end int
	at  time.Time
}

// push queues workers for the killer, at now. It returns true when no
// killer runs and the caller must start one; once the queue has stalled, it
// queues nothing and returns the workers, for a goroutine each.
func (q *killQueue) push(workers []Worker, now time.Time) (start bool, alone []Worker) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stalled {
		return false, workers
	}
	if q.head > 0 && q.head >= len(q.queue)/2 {
		// Reuse the front the killer has done with, so that a queue the
		// killer never quite empties does not grow without end.
		n := copy(q.queue, q.queue[q.head:])
		clear(q.queue[n:])
		for i := range q.pushes {
			q.pushes[i].end -= q.head
		}
		q.queue, q.head = q.queue[:n], 0
	}
	q.queue = append(q.queue, workers...)
	q.pushes = append(q.pushes, killPush{end: len(q.queue), at: now})
	start = !q.killing
	q.killing = true
	return start, nil
}

// next returns the worker the killer must kill next, or nil when the
// killer must end: nothing is queued, or the queue has stalled.
func (q *killQueue) next() Worker {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.queue) {
		q.queue, q.head, q.pushes = nil, 0, nil // a burst's array is not kept for the next
		q.killing = false
		return nil
	}
	w := q.queue[q.head]
	q.queue[q.head] = nil
	q.head++
	for len(q.pushes) > 0 && q.pushes[0].end <= q.head {
		q.pushes = q.pushes[1:]
	}
	return w
}

// check stalls the queue if its first call has waited killStall or more at
// now, and then returns the queued workers, for a goroutine each.
// Otherwise it returns when to check again, or zero if nothing is queued.
func (q *killQueue) check(now time.Time) (alone []Worker, again time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.queue) {
		return nil, time.Time{}
	}
	if first := q.pushes[0].at; now.Sub(first) < killStall {
		return nil, first.Add(killStall)
	}
	return q.takeAll(), time.Time{}
}

// abandon stalls the queue and returns the queued workers, for a goroutine
// each: the loop is returning, and will check the queue no more.
func (q *killQueue) abandon() []Worker {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.takeAll()
}

// done reports whether the queue has never stalled and its killer has
// ended: every Kill call has returned.
func (q *killQueue) done() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return !q.killing && !q.stalled
}

// takeAll stalls the queue and empties it, returning its workers. It must
// be called with q.mu held.
func (q *killQueue) takeAll() []Worker {
	q.stalled = true
	workers := q.queue[q.head:]
	q.queue, q.head, q.pushes = nil, 0, nil
	return workers
}
