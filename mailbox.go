package dependency

import "github.com/juju/errors"

// The loop's mail. Public methods send tickets, each carrying its own
// reply channel; start goroutines send a startedTicket when their start
// returns a worker and a stoppedTicket when it is over. No send blocks on
// a loop that has returned.

// ticket is a request of a public method to the loop. Its handle runs on
// the loop goroutine and always sends the reply.
type ticket interface {
	handle(e *engine)
}

// installTicket asks the loop to install a batch whose members each passed
// validate.
type installTicket struct {
	batch []namedManifold
	reply chan error
}

// uninstallTicket asks the loop to remove a manifold.
type uninstallTicket struct {
	name  string
	reply chan error
}

// reportTicket asks the loop for a report.
type reportTicket struct {
	reply chan reportReply
}

func (t installTicket) handle(e *engine)   { t.reply <- e.gotInstall(t.batch) }
func (t uninstallTicket) handle(e *engine) { t.reply <- e.gotUninstall(t.name) }
func (t reportTicket) handle(e *engine)    { t.reply <- e.report() }

// startedTicket tells the loop that a start returned worker.
type startedTicket struct {
	node      *node
	gen       uint64 // the install the start began under
	worker    Worker
	resources []ResourceRequest // what the start asked its getter
}

// stoppedTicket tells the loop that a start failed, or its worker stopped,
// with err. It is the last ticket of its start goroutine.
type stoppedTicket struct {
	node      *node
	gen       uint64
	err       error             // as judge returned it
	kind      stopKind          // what err asks of the restart rules
	resources []ResourceRequest // what a start that failed asked its getter; nil if it had a worker
}

// request sends t, whose handler answers on reply, and returns the answer;
// once the engine is shutting down it returns ErrShuttingDown instead.
func (e *engine) request(t ticket, reply <-chan error) error {
	select {
	case e.tickets <- t:
		return <-reply // the loop always replies
	case <-e.tomb.Dying():
		return errors.Trace(ErrShuttingDown)
	}
}

// tell sends t to the loop over ch. It returns false, sending nothing, once
// the loop has returned.
func tell[T any](e *engine, ch chan<- T, t T) bool {
	select {
	case ch <- t:
		return true
	case <-e.tomb.Dead():
		return false
	}
}
