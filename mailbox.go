package dependency

import "github.com/juju/errors"

// The loop's mail. Public methods send tickets, each carrying its own
// reply channel, and give up once the engine is dying. Start goroutines
// send a startedTicket when their start returns a worker and a
// stoppedTicket when it is over, on one channel, so that the loop takes a
// goroutine's tickets in the order sent; the loop reads that channel until
// every start goroutine has stopped, or hands it to abandon.

// ticket is a message to the loop: a request of a public method, whose
// handle always sends the reply, or a start goroutine's news. Its handle
// runs on the loop goroutine.
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

// settledTicket asks the loop for the channel it closes once the engine is
// settled.
type settledTicket struct {
	reply chan chan struct{}
}

// reportTicket asks the loop for a report.
type reportTicket struct {
	reply chan reportReply
}

func (t installTicket) handle(e *engine)   { t.reply <- e.gotInstall(t.batch) }
func (t uninstallTicket) handle(e *engine) { t.reply <- e.gotUninstall(t.name) }
func (t reportTicket) handle(e *engine)    { t.reply <- e.report() }
func (t settledTicket) handle(e *engine) {
	if e.settled == nil {
		e.settled = make(chan struct{})
	}
	t.reply <- e.settled
}

func (t startedTicket) handle(e *engine) { e.gotStarted(t) }
func (t stoppedTicket) handle(e *engine) { e.gotStopped(t) }

// reportsBuffered is how many tickets of start goroutines may wait for the
// loop, so that when thousands start or stop at once each goroutine goes
// on to its worker's Wait, or ends, rather than waiting its turn with the
// loop.
const reportsBuffered = 64

// startedTicket tells the loop that a start returned worker.
type startedTicket struct {
	node      *node
	gen       uint64 // the install the start began under
	worker    Worker
	resources []ResourceRequest // what the start asked its getter
	check     checked           // the worker's answer, if it is a Flag
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
