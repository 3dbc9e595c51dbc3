package main

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/juju/errors"

	"github.com/seedworks/dependency"
)

// errConnClosed is returned by calls on a connection that has dropped.
var errConnClosed = errors.New("connection closed")

// fakeServer stands in for the API server the agent talks to. It decides
// how each connection ends, taking turns so that the agent shows both kinds
// of restart: a drop the server asks the agent to redial at once (ErrBounce:
// restarted after the bounce delay) and a lost connection (a failure:
// restarted after the error delay), whose first redial is refused (a second
// failure in a row: the engine backs off for longer).
type fakeServer struct {
	mu     sync.Mutex
	drops  int
	refuse bool
}

// dial returns an error when the server refuses the connection.
func (s *fakeServer) dial(addr string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuse {
		s.refuse = false
		return errors.Errorf("dial %s: connection refused", addr)
	}
	return nil
}

// drop returns the error with which the next connection ends.
func (s *fakeServer) drop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.drops++
	if s.drops%2 == 1 {
		return errors.Annotate(dependency.ErrBounce, "server closed the connection")
	}
	s.refuse = true
	return errors.New("connection lost")
}

// apiConn is the resource the "api-caller" manifold gives its dependents.
// It is safe for concurrent use.
type apiConn struct {
	addr   string
	closed chan struct{}
	calls  atomic.Int64
}

// Call makes a (pretend) API call. It fails once the connection has dropped;
// by then the engine is already bouncing the caller.
func (c *apiConn) Call(method string) error {
	select {
	case <-c.closed:
		return errors.Annotatef(errConnClosed, "%s", method)
	default:
		c.calls.Add(1)
		return nil
	}
}

// apiWorker owns one connection, and closes it when it stops.
type apiWorker struct {
	*task
	conn *apiConn
}

// startAPIWorker dials the server and holds the connection until the
// server drops it (after dropEvery) or the worker is killed.
func startAPIWorker(server *fakeServer, addr string, dropEvery time.Duration) (dependency.Worker, error) {
	if err := server.dial(addr); err != nil {
		return nil, errors.Trace(err)
	}
	conn := &apiConn{addr: addr, closed: make(chan struct{})}
	w := &apiWorker{conn: conn}
	w.task = startTask(func(dying <-chan struct{}) error {
		defer close(conn.closed)
		select {
		case <-dying:
			return nil
		case <-time.After(dropEvery):
			return server.drop()
		}
	})
	return w, nil
}

// Report is part of the dependency.Reporter interface: it shows in /report.
func (w *apiWorker) Report() map[string]any {
	return map[string]any{"address": w.conn.addr, "calls": w.conn.calls.Load()}
}
