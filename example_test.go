package dependency_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sync"
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
	handler := slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{ReplaceAttr: withoutTime})
	logger := dependency.SlogLogger(slog.New(handler))
	logger.Debugf("%q manifold started", "api") // below the handler's level: dropped
	logger.Infof("%q manifold uninstalled", "api")
	logger.Errorf("%q manifold start failed: %v", "db", "connection refused")
	// Output:
	// level=INFO msg="\"api\" manifold uninstalled"
	// level=ERROR msg="\"db\" manifold start failed: connection refused"
}

func ExampleNew() {
	// ERROR lines as text on stdout, without the time, so that the output
	// below holds.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level:       slog.LevelError,
		ReplaceAttr: withoutTime,
	}))
	started := make(chan string, 2) // the Observer must not block
	engine, err := dependency.New(dependency.EngineConfig{
		ErrorDelay:  10 * time.Millisecond,
		BounceDelay: 10 * time.Millisecond,
		OrderedStop: true, // "api" stops before the "db" it uses
		Logger:      dependency.SlogLogger(logger),
		Observer: func(ev dependency.Event) {
			if ev.Kind == dependency.EventStarted {
				started <- ev.Manifold
			}
		},
	})
	if err != nil {
		fmt.Println("cannot make the engine:", err) // names the bad field
		return
	}

	stopped := make(chan string, 2)
	dials := 0 // only one start func of a manifold runs at a time
	err = dependency.Install(engine, dependency.Manifolds{
		"db": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				if dials++; dials == 1 {
					return nil, errors.New("connection refused") // tried again after ErrorDelay
				}
				return newRecorder("db", stopped), nil
			},
		},
		"api": {
			Inputs: []string{"db"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				if err := get("db", nil); err != nil {
					return nil, err // ErrMissing: started again when db starts
				}
				return newRecorder("api", stopped), nil
			},
		},
	})
	if err != nil {
		fmt.Println("cannot install:", err)
		return
	}
	fmt.Println(<-started, "started")
	fmt.Println(<-started, "started")

	report := engine.Report()
	for _, name := range []string{"db", "api"} {
		m := report.Manifolds[name]
		fmt.Printf("%s: %v, inputs %q, %d start, error %v\n", name, m.State, m.Inputs, m.StartCount, m.Err)
	}
	engine.Kill()
	fmt.Println("engine stopped:", engine.Wait())
	fmt.Println("stopped first:", <-stopped)
	fmt.Println("stopped next:", <-stopped)
	// Output:
	// level=ERROR msg="\"db\" manifold start failed: connection refused" manifold=db
	// db started
	// api started
	// db: started, inputs [], 1 start, error <nil>
	// api: started, inputs ["db"], 1 start, error <nil>
	// engine stopped: <nil>
	// stopped first: api
	// stopped next: db
}

// newRecorder returns a worker that runs until it is killed, and then
// sends its name on stopped.
func newRecorder(name string, stopped chan<- string) dependency.Worker {
	return dependency.NewWorker(func(ctx context.Context) error {
		<-ctx.Done()
		stopped <- name
		return ctx.Err()
	})
}

// withoutTime drops the time from slog's text lines.
func withoutTime(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}

func ExampleSelfManifold() {
	engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
	done := make(chan struct{})
	err := dependency.Install(engine, dependency.Manifolds{
		"self": dependency.SelfManifold(engine),
		"installer": {
			Inputs: []string{"self"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				self, err := dependency.Get[dependency.Engine](get, "self")
				if err != nil {
					return nil, err
				}
				return dependency.NewWorker(func(ctx context.Context) error {
					// A worker may change the graph it runs in: it is not
					// the engine's own goroutine.
					err := self.Install("extra", dependency.Manifold{
						Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
							return newConfigWorker("extra"), nil
						},
					})
					fmt.Println("installed extra:", err)
					fmt.Println("manifolds:", slices.Sorted(maps.Keys(self.Report().Manifolds)))
					close(done)
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
	<-done
	engine.Kill()
	fmt.Println("engine stopped:", engine.Wait())
	// Output:
	// installed extra: <nil>
	// manifolds: [extra installer self]
	// engine stopped: <nil>
}

func ExampleReport_DOT() {
	// A report as Engine.Report gives it: "web" runs without "auth", which
	// is waiting to restart after a failure, and "cache" is not installed.
	report := dependency.Report{
		State: dependency.StateStarted,
		Manifolds: map[string]dependency.ManifoldReport{
			"auth": {State: dependency.StateStarting, Err: errors.New("connection refused")},
			"web":  {State: dependency.StateStarted, Inputs: []string{"auth", "cache"}, Missing: []string{"auth", "cache"}},
		},
	}
	fmt.Print(report.DOT())
	// Output:
	// digraph dependencies {
	// 	node [shape=box, style="rounded,filled", fontname="sans-serif"];
	// 	"auth" [label="auth\nstarting", fillcolor="khaki", color="red", penwidth=2];
	// 	"web" [label="web\nstarted", fillcolor="palegreen"];
	// 	"cache" [label="cache\nnot installed", style="rounded,dashed", color="grey50", fontcolor="grey50"];
	// 	"auth" -> "web" [style=dashed];
	// 	"cache" -> "web" [style=dashed];
	// }
}

func ExampleReport_MarshalJSON() {
	started := time.Date(2026, 11, 27, 5, 30, 0, 0, time.UTC)
	report := dependency.Report{
		State: dependency.StateStarted,
		Manifolds: map[string]dependency.ManifoldReport{
			"config": {State: dependency.StateStarted, StartCount: 1, Started: started, Worker: map[string]any{"version": 3}},
			"web": {
				State:     dependency.StateStarting,
				Inputs:    []string{"config", "auth"},
				Missing:   []string{"auth"},
				Err:       errors.New(`input "auth" not running: dependency not available`),
				Due:       started.Add(time.Second),
				Resources: []dependency.ResourceRequest{{Name: "config", Type: "*string"}, {Name: "auth", Type: "*string", Err: errors.New(`input "auth" not running: dependency not available`)}},
			},
		},
	}
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		fmt.Println("cannot marshal:", err)
		return
	}
	fmt.Println(string(data))
	// Output:
	// {
	//   "state": "started",
	//   "manifolds": {
	//     "config": {
	//       "state": "started",
	//       "start_count": 1,
	//       "started": "2026-11-27T05:30:00Z",
	//       "worker": {
	//         "version": 3
	//       }
	//     },
	//     "web": {
	//       "state": "starting",
	//       "inputs": [
	//         "config",
	//         "auth"
	//       ],
	//       "missing": [
	//         "auth"
	//       ],
	//       "start_count": 0,
	//       "error": "input \"auth\" not running: dependency not available",
	//       "due": "2026-11-27T05:30:01Z",
	//       "resources": [
	//         {
	//           "name": "config",
	//           "type": "*string"
	//         },
	//         {
	//           "name": "auth",
	//           "type": "*string",
	//           "error": "input \"auth\" not running: dependency not available"
	//         }
	//       ]
	//     }
	//   }
	// }
}

func ExampleEngine_Uninstall() {
	missing := make(chan struct{}, 1)
	engine, err := dependency.New(dependency.EngineConfig{
		BounceDelay: 10 * time.Millisecond,
		Observer: func(ev dependency.Event) {
			if ev.Kind == dependency.EventStopped && ev.Manifold == "api" && errors.Is(ev.Err, dependency.ErrMissing) {
				missing <- struct{}{}
			}
		},
	})
	if err != nil {
		fmt.Println("cannot make the engine:", err)
		return
	}
	running := make(chan string, 2)
	start := func(name string) dependency.StartFunc {
		return func(get dependency.GetResourceFunc) (dependency.Worker, error) {
			if name == "api" {
				if err := get("db", nil); err != nil {
					return nil, err // ErrMissing: waits for db to come back
				}
			}
			running <- name
			return newConfigWorker(name), nil
		}
	}
	err = dependency.Install(engine, dependency.Manifolds{
		"db":  {Start: start("db")},
		"api": {Inputs: []string{"db"}, Start: start("api")},
	})
	if err != nil {
		fmt.Println("cannot install:", err)
		return
	}
	fmt.Println(<-running, "running")
	fmt.Println(<-running, "running")

	// Uninstall stops db and bounces api, which then finds db missing.
	fmt.Println("uninstall db:", engine.Uninstall("db"))
	<-missing
	api := engine.Report().Manifolds["api"]
	fmt.Printf("api: %v, missing %q: %v\n", api.State, api.Missing, api.Err)
	fmt.Println("uninstall db again:", engine.Uninstall("db"))
	engine.Kill()
	fmt.Println("engine stopped:", engine.Wait())
	// Output:
	// db running
	// api running
	// uninstall db: <nil>
	// api: stopped, missing ["db"]: input "db" not running: dependency not available
	// uninstall db again: "db" manifold not installed
	// engine stopped: <nil>
}

// leaderConfig is a config file's worker: it holds the file's "leader"
// value, and stops with ErrBounce to be read afresh when the file changes.
type leaderConfig struct {
	dependency.Worker
	leader bool
}

func ExampleNewFlag() {
	files := make(chan bool, 2) // the "leader" value each reading of the config file finds
	files <- false
	files <- true
	edited := make(chan struct{}) // a send tells the config worker its file changed
	answers := make(chan bool, 2)
	working := make(chan struct{})

	engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
	err := dependency.Install(engine, dependency.Manifolds{
		"config": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return &leaderConfig{dependency.NewWorker(func(ctx context.Context) error {
					select {
					case <-ctx.Done():
						return ctx.Err()
					case <-edited:
						return dependency.ErrBounce // read the file again
					}
				}), <-files}, nil
			},
			Output: dependency.OutputOf(func(w *leaderConfig) bool { return w.leader }),
		},
		"leader-flag": {
			Inputs: []string{"config"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				leader, err := dependency.Get[bool](get, "config")
				if err != nil {
					return nil, err
				}
				answers <- leader
				return dependency.NewFlag(leader), nil
			},
		},
		"janitor": {
			Flags: []string{"leader-flag"}, // runs only on the leader
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return dependency.NewWorker(func(ctx context.Context) error {
					close(working)
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
	fmt.Println("leader:", <-answers)
	fmt.Println("janitor gated by", engine.Report().Manifolds["janitor"].Gated)
	edited <- struct{}{} // the file now says "leader": true
	fmt.Println("leader:", <-answers)
	<-working
	fmt.Println("janitor runs")
	engine.Kill()
	fmt.Println("engine stopped:", engine.Wait())
	// Output:
	// leader: false
	// janitor gated by [leader-flag]
	// leader: true
	// janitor runs
	// engine stopped: <nil>
}

func ExampleGate() {
	gate := dependency.NewGate()
	var upgrade sync.Once // the upgrade steps run once, however often the upgrader restarts
	serving := make(chan struct{})
	stopped := make(chan struct{})

	engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
	err := dependency.Install(engine, dependency.Manifolds{
		"upgrade-gate": gate.Manifold(),
		"upgrader": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return dependency.NewWorker(func(ctx context.Context) error {
					upgrade.Do(gate.Open) // the steps are done: let the API serve
					<-ctx.Done()
					return ctx.Err()
				}), nil
			},
		},
		"api-server": {
			Flags: []string{"upgrade-gate"}, // serves only once upgraded
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return dependency.NewWorker(func(ctx context.Context) error {
					close(serving)
					<-ctx.Done()
					close(stopped)
					return ctx.Err()
				}), nil
			},
		},
	})
	if err != nil {
		fmt.Println("cannot install:", err)
		return
	}
	<-serving
	fmt.Println("api-server serving")

	// A migration locks the gate down: once Lockdown returns, nothing
	// gated on it runs.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = gate.Lockdown(ctx)
	select {
	case <-stopped:
		fmt.Println("lockdown:", err, "- api-server has stopped")
	default:
		fmt.Println("lockdown:", err, "- but api-server still runs")
	}
	engine.Kill()
	fmt.Println("engine stopped:", engine.Wait())
	// Output:
	// api-server serving
	// lockdown: <nil> - api-server has stopped
	// engine stopped: <nil>
}

// An agent says it is ready once its engine has settled: every manifold
// runs, is gated by a flag, has completed, or waits for an input that is
// not running, and no start is due.
func ExampleWaitSettled() {
	engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
	err := dependency.Install(engine, dependency.Manifolds{
		"config": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return newConfigWorker("hello"), nil
			},
			Output: greetingOutput,
		},
		"api": {
			Inputs: []string{"config"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				greeting, err := dependency.Get[string](get, "config")
				if err != nil {
					return nil, err
				}
				return newConfigWorker(greeting), nil
			},
		},
		"backup": {
			Inputs: []string{"storage"}, // not installed: backup waits for it
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				if err := get("storage", nil); err != nil {
					return nil, err
				}
				return newConfigWorker("backing up"), nil
			},
		},
	})
	if err != nil {
		fmt.Println("cannot install:", err)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := dependency.WaitSettled(ctx, engine); err != nil {
		fmt.Println("not settled:", err)
		return
	}
	report := engine.Report()
	fmt.Println("settled:", report.Settled)
	for _, name := range slices.Sorted(maps.Keys(report.Manifolds)) {
		fmt.Println(name, report.Manifolds[name].State, report.Manifolds[name].Missing)
	}
	engine.Kill()
	fmt.Println("engine stopped:", engine.Wait())
	// Output:
	// settled: true
	// api started []
	// backup stopped [storage]
	// config started []
	// engine stopped: <nil>
}
