package main

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/juju/errors"
	"github.com/juju/loggo"

	"github.com/seedworks/dependency"
)

// failEveryJob makes the consumer fail on every n-th job, so that the nested
// engine shows it handles its own failures: the consumer restarts inside
// "workload" while the root engine sees nothing.
const failEveryJob = 5

// startWorkload creates the nested engine and installs its manifolds, which
// close over the connection and config the root engine handed "workload".
// The engine itself is the worker of the "workload" manifold, so the root
// engine's report holds the nested one's (ManifoldReport.Engine), and the
// introspection page draws its manifolds inside the box of "workload".
// When the root engine bounces "workload" (its API connection or config
// changed), it kills this engine, which stops all of its workers before
// Wait returns.
func startWorkload(conn *apiConn, config *Config, observer func(dependency.Event)) (dependency.Worker, error) {
	engine, err := dependency.New(dependency.EngineConfig{
		ErrorDelay:  500 * time.Millisecond,
		BounceDelay: 100 * time.Millisecond,
		OrderedStop: true,
		Logger:      loggo.GetLogger("dependency.workload"),
		Observer:    observer,
	})
	if err != nil {
		return nil, errors.Trace(err)
	}
	jobs := &jobCounter{}
	err = dependency.Install(engine, dependency.Manifolds{
		"queue": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return newQueueWorker(), nil
			},
			Output: output(func(w *queueWorker) chan int { return w.jobs }),
		},
		"producer": {
			Inputs: []string{"queue"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var queue chan int
				if err := get("queue", &queue); err != nil {
					return nil, err
				}
				return startProducer(queue, jobs, time.Duration(config.JobEvery)), nil
			},
		},
		"consumer": {
			Inputs: []string{"queue"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var queue chan int
				if err := get("queue", &queue); err != nil {
					return nil, err
				}
				return startConsumer(queue, conn), nil
			},
		},
	})
	if err != nil {
		engine.Kill()
		return nil, errors.Trace(joinStop(err, engine.Wait()))
	}
	return engine, nil
}

// joinStop keeps err, noting a failure to stop as well.
func joinStop(err, stopErr error) error {
	if stopErr != nil {
		return errors.Annotatef(err, "(and stopping: %v)", stopErr)
	}
	return err
}

// queueWorker holds the job queue shared by producer and consumer.
type queueWorker struct {
	*task
	jobs chan int
}

func newQueueWorker() *queueWorker {
	return &queueWorker{
		task: startTask(func(dying <-chan struct{}) error {
			<-dying
			return nil
		}),
		jobs: make(chan int, 16),
	}
}

// jobCounter numbers jobs across producer restarts.
type jobCounter struct {
	last atomic.Int64
}

// startProducer queues a new job each interval; it drops a job when the queue
// is full, as a real agent sheds load it cannot keep up with.
func startProducer(queue chan<- int, jobs *jobCounter, interval time.Duration) *task {
	return startTask(func(dying <-chan struct{}) error {
		return every(dying, interval, func() error {
			select {
			case queue <- int(jobs.last.Add(1)):
			default:
			}
			return nil
		})
	})
}

// startConsumer runs each queued job through the API, and fails on every
// failEveryJob-th job.
func startConsumer(queue <-chan int, conn *apiConn) *task {
	return startTask(func(dying <-chan struct{}) error {
		for {
			select {
			case <-dying:
				return nil
			case job := <-queue:
				if job%failEveryJob == 0 {
					return errors.Errorf("job %d: exit status 1", job)
				}
				_ = conn.Call(fmt.Sprintf("RunJob%d", job))
			}
		}
	})
}
