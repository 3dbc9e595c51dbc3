package dependency_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/seedworks/dependency"
)

// configWorker runs until it is killed and holds a greeting, which its
// manifold's Output hands out.
type configWorker struct {
	dependency.Worker
	greeting string
}

func newConfigWorker(greeting string) *configWorker {
	return &configWorker{dependency.NewWorker(func(ctx context.Context) error {
		<-ctx.Done()
		return ctx.Err() // Kill stopped it: Wait returns nil
	}), greeting}
}

// greetingOutput gives a configWorker's dependents its greeting as a string.
var greetingOutput = dependency.OutputOf(func(w *configWorker) string { return w.greeting })

func ExampleInstall() {
	engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
	greeted := make(chan struct{})
	err := dependency.Install(engine, dependency.Manifolds{
		"config": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return newConfigWorker("hello"), nil
			},
			Output: greetingOutput,
		},
		"greeter": {
			Inputs: []string{"config"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				greeting, err := dependency.Get[string](get, "config")
				if err != nil {
					return nil, err // ErrMissing: started again when config starts
				}
				return dependency.NewWorker(func(ctx context.Context) error {
					fmt.Println("greeter says", greeting)
					close(greeted)
					<-ctx.Done()
					return ctx.Err()
				}), nil
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

func ExampleNewWorker() {
	ticks := make(chan int)
	w := dependency.NewWorker(func(ctx context.Context) error {
		for i := 1; ; i++ {
			select {
			case ticks <- i:
			case <-ctx.Done():
				return ctx.Err() // Kill cancelled ctx: Wait returns nil
			}
		}
	})
	fmt.Println("tick", <-ticks)
	fmt.Println("tick", <-ticks)
	w.Kill()
	fmt.Println("stopped:", w.Wait())

	failed := dependency.NewWorker(func(context.Context) error {
		return errors.New("cannot connect")
	})
	fmt.Println("stopped:", failed.Wait())
	// Output:
	// tick 1
	// tick 2
	// stopped: <nil>
	// stopped: cannot connect
}

func ExampleOutputOf() {
	// The Output of a manifold whose worker is a *configWorker, serving its
	// greeting into a *string.
	output := dependency.OutputOf(func(w *configWorker) string { return w.greeting })
	w := newConfigWorker("hello")

	var greeting string
	err := output(w, &greeting)
	fmt.Printf("%q, %v\n", greeting, err)

	var wrong *string
	err = output(w, &wrong)
	fmt.Println(errors.Is(err, dependency.ErrMissing), err)

	err = output(newJob(nil), &greeting)
	fmt.Println(errors.Is(err, dependency.ErrMissing), err)

	w.Kill()
	fmt.Println("stopped:", w.Wait())
	// Output:
	// "hello", <nil>
	// true input gives string; asked for *string: dependency not available
	// true input worker is *dependency_test.job, not *dependency_test.configWorker: dependency not available
	// stopped: <nil>
}

func ExampleGet() {
	engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
	started := make(chan struct{})
	err := dependency.Install(engine, dependency.Manifolds{
		"config": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return newConfigWorker("hello"), nil
			},
			Output: greetingOutput,
		},
		"greeter": {
			// audit is not installed: greeter runs without it.
			Inputs: []string{"config", "audit"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				greeting, err := dependency.Get[string](get, "config")
				if err != nil {
					return nil, err
				}
				audit, err := dependency.Get[io.Writer](get, "audit")
				if errors.Is(err, dependency.ErrMissing) {
					audit = io.Discard
				} else if err != nil {
					return nil, err
				}
				fmt.Println("greeter says", greeting)
				fmt.Println("audit discarded:", audit == io.Discard)
				close(started)
				return dependency.NewWorker(func(ctx context.Context) error {
					<-ctx.Done()
					return ctx.Err()
				}), nil
			},
		},
	})
	if err != nil {
		fmt.Println("cannot install:", err)
		return
	}
	<-started
	engine.Kill()
	fmt.Println("engine stopped:", engine.Wait())
	// Output:
	// greeter says hello
	// audit discarded: true
	// engine stopped: <nil>
}

func ExampleSlogLogger() {
	// A text handler on stdout without the time, so that the output below
	// holds. An engine takes the logger as EngineConfig.Logger.
	handler := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	})
	logger := dependency.SlogLogger(slog.New(handler))
	logger.Debugf("%q manifold started", "api") // below the handler's level: dropped
	logger.Infof("%q manifold uninstalled", "api")
	logger.Errorf("%q manifold start failed: %v", "db", "connection refused")
	// Output:
	// level=INFO msg="\"api\" manifold uninstalled"
	// level=ERROR msg="\"db\" manifold start failed: connection refused"
}
