package dependency

import (
	"sync"
	"time"
)

// killStall is how long a Kill call may wait for its turn, and killSlow how
// long the call being made may have taken by then. Kill must return at
// once: a call that waited this long behind one that has taken this long
// is held up by a Kill that blocks, or by several that are slow, not by a
// long queue of quick ones.
const (
	killStall = 100 * time.Millisecond
	killSlow  = killStall / 10
)

// killQueue holds the workers the loop has stopped, for their Kill calls
// to be made off the loop. One killer goroutine makes them in order, which
// costs far less than a goroutine per call when thousands stop at once. But
// a Kill that blocks (breaking the Worker contract) would hold up every
// call behind it; so once a call has waited killStall for its turn while
// the call being made has taken killSlow, the queue stalls for good: the
// calls queued and every later one get a goroutine of their own, and the
// killer ends at its next call.
type killQueue struct {
	mu      sync.Mutex
	queue   []Worker   // waiting for the killer, from head on
	head    int        // the first worker still waiting
	pushes  []killPush // when the waiting workers were queued, oldest first
	since   time.Time  // when the killer began its last call
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
	if start {
		q.since = now // the new killer has yet to begin its first call
	}
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
	q.since = time.Now()
	for len(q.pushes) > 0 && q.pushes[0].end <= q.head {
		q.pushes = q.pushes[1:]
	}
	return w
}

// check stalls the queue if, at now, its first call has waited killStall
// and the call being made has taken killSlow, and then returns the queued
// workers, for a goroutine each. Otherwise it returns when to check again,
// or zero if nothing is queued.
func (q *killQueue) check(now time.Time) (alone []Worker, again time.Time) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.head == len(q.queue) {
		return nil, time.Time{}
	}
	if first := q.pushes[0].at; now.Sub(first) < killStall {
		return nil, first.Add(killStall)
	}
	if now.Sub(q.since) < killSlow {
		return nil, q.since.Add(killSlow) // a long queue, moving
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
