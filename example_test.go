package dependency_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/seedworks/dependency"
)

// configWorker holds a setting that its manifold's Output hands out.
type configWorker struct {
	*idleWorker
	greeting string
}

func ExampleInstall() {
	engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
	greeted := make(chan struct{})
	err := dependency.Install(engine, dependency.Manifolds{
		"config": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return &configWorker{newIdleWorker(), "hello"}, nil
			},
			// Output gives dependents the greeting as a string.
			Output: func(in dependency.Worker, out interface{}) error {
				target, ok := out.(*string)
				if !ok {
					return fmt.Errorf("out is %T, want *string", out)
				}
				*target = in.(*configWorker).greeting
				return nil
			},
		},
		"greeter": {
			Inputs: []string{"config"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var greeting string
				if err := get("config", &greeting); err != nil {
					return nil, err // ErrMissing: started again when config starts
				}
				fmt.Println("greeter says", greeting)
				close(greeted)
				return newIdleWorker(), nil
			},
		},
	})
	if err != nil {
		fmt.Println("cannot install:", err)
		return
	}
	<-greeted
	engine.Kill()
	fmt.Println("engine stopped:", engine.Wait())
	// Output:
	// greeter says hello
	// engine stopped: <nil>
}

func ExampleNewEngine() {
	errShutdown := errors.New("shutdown requested")
	isFatal := func(err error) bool { return errors.Is(err, errShutdown) }
	engine := dependency.NewEngine(isFatal, 10*time.Millisecond, 10*time.Millisecond)

	starts := 0 // only one start func runs at a time
	err := engine.Install("job", dependency.Manifold{
		Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
			starts++
			fmt.Println("job start", starts)
			if starts == 1 {
				return nil, errors.New("not ready") // tried again after the error delay
			}
			return newJob(errShutdown), nil
		},
	})
	if err != nil {
		fmt.Println("cannot install:", err)
		return
	}
	// The job's fatal error stops the engine; Wait returns it.
	fmt.Println("engine stopped:", engine.Wait())
	// Output:
	// job start 1
	// job start 2
	// engine stopped: shutdown requested
}

// job is a worker that ends at once with its error.
type job struct{ err error }

func newJob(err error) *job { return &job{err} }
func (j *job) Kill()        {}
func (j *job) Wait() error  { return j.err }
