package dependency

import (
	"container/heap"
	"time"
)

// timerQueue holds the delayed starts, earliest first, behind one timer.
// An entry is live while its node is still pending with the same sequence
// number; others are dropped when they reach the front. It is owned by the
// loop.
type timerQueue struct {
	entries  timerHeap
	seq      uint64
	armedFor time.Time // the due time the timer is set for; zero if stopped
}

type timerEntry struct {
	due  time.Time
	seq  uint64
	node *node
}

// push queues n's start for n.due.
func (q *timerQueue) push(n *node) {
	q.seq++
	n.timerSeq = q.seq
	heap.Push(&q.entries, timerEntry{due: n.due, seq: q.seq, node: n})
}

// due removes and returns the nodes whose start is due at now, in the order
// they were scheduled.
func (q *timerQueue) due(now time.Time) []*node {
	q.armedFor = time.Time{}
	var nodes []*node
	for len(q.entries) > 0 && !q.entries[0].due.After(now) {
		entry := heap.Pop(&q.entries).(timerEntry)
		if entry.live() {
			nodes = append(nodes, entry.node)
		}
	}
	return nodes
}

// arm sets timer (making it if nil) for the earliest live entry, or stops
// it when there is none, and returns it.
func (q *timerQueue) arm(timer *time.Timer) *time.Timer {
	for len(q.entries) > 0 && !q.entries[0].live() {
		heap.Pop(&q.entries)
	}
	if len(q.entries) == 0 {
		if timer != nil && !q.armedFor.IsZero() {
			timer.Stop()
		}
		q.armedFor = time.Time{}
		return timer
	}
	next := q.entries[0].due
	switch {
	case timer == nil:
		timer = time.NewTimer(time.Until(next))
	case next.Equal(q.armedFor):
		return timer
	default:
		timer.Reset(time.Until(next))
	}
	q.armedFor = next
	return timer
}

// fired returns the channel of timer, or nil (never ready) if there is none.
func (q *timerQueue) fired(timer *time.Timer) <-chan time.Time {
	if timer == nil {
		return nil
	}
	return timer.C
}

func (entry timerEntry) live() bool {
	return entry.node.pending() && entry.node.timerSeq == entry.seq
}

// timerHeap implements heap.Interface, ordered by due time, then by
// sequence.
type timerHeap []timerEntry

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].due.Equal(h[j].due) {
		return h[i].seq < h[j].seq
	}
	return h[i].due.Before(h[j].due)
}
func (h timerHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *timerHeap) Push(x any)   { *h = append(*h, x.(timerEntry)) }
func (h *timerHeap) Pop() any {
	old := *h
	entry := old[len(old)-1]
	old[len(old)-1] = timerEntry{}
	*h = old[:len(old)-1]
	return entry
}
