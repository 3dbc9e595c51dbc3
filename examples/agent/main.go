// Command agent is an example agent built on package dependency: a graph of
// workers that share a config and a flaky API connection, with a nested
// engine, live introspection over HTTP, and signal handling as a real agent
// would have. Run it with `go run ./examples/agent` and watch its workers
// start, fail and bounce; Ctrl-C stops it.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/juju/loggo"

	"github.com/seedworks/dependency"
)

// logger is the agent's own log, apart from the engine's "dependency" module.
var logger = loggo.GetLogger("agent")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command-line flags.
type options struct {
	configPath string
	port       int
	runFor     time.Duration
	verbose    bool
}

// parseFlags parses args; flag errors and -h are written to stderr.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	var opts options
	flags := flag.NewFlagSet("agent", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.StringVar(&opts.configPath, "config", "", "config `file` to watch (default: a new file in a temp dir, removed at exit)")
	flags.IntVar(&opts.port, "port", 0, "serve introspection on 127.0.0.1:`port` (0: the kernel picks a free one)")
	flags.DurationVar(&opts.runFor, "for", 0, "stop by itself after this `duration` (0: run until SIGINT or SIGTERM)")
	flags.BoolVar(&opts.verbose, "v", false, "log the engine's DEBUG lines to stderr")
	err := flags.Parse(args)
	return opts, err
}

// run is the agent from start to exit, and returns the exit code: 0 after a
// clean stop, 1 when the engine stopped with an error, 2 for bad flags.
func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	if err := configureLogging(opts.verbose, stderr); err != nil {
		fmt.Fprintf(stderr, "agent: %v\n", err)
		return 1
	}
	configPath, cleanup, err := ensureConfig(opts.configPath)
	if err != nil {
		fmt.Fprintf(stderr, "agent: %v\n", err)
		return 1
	}
	defer cleanup()

	out := newPrinter(stdout)
	engine, err := dependency.New(rootEngineConfig(out.observer("")))
	if err != nil {
		fmt.Fprintf(stderr, "agent: %v\n", err)
		return 1
	}
	web, err := serveIntrospection(engine, opts.port)
	if err != nil {
		engine.Kill()
		_ = engine.Wait()
		fmt.Fprintf(stderr, "agent: %v\n", err)
		return 1
	}
	defer web.close()
	printBanner(stdout, web.URL(), configPath, opts.configPath == "")

	stopSignals := handleSignals(engine, out, cleanup)
	defer announceReady(engine, out)()
	if opts.runFor > 0 {
		timer := time.AfterFunc(opts.runFor, func() {
			out.printf("ran for %v: stopping", opts.runFor)
			engine.Kill()
		})
		defer timer.Stop()
	}
	err = dependency.Install(engine, manifolds(engine, configPath, out))
	if err != nil {
		engine.Kill()
	}
	err = joinErrors(err, engine.Wait())
	stopSignals()
	return exitCode(err, out, stderr)
}

// announceReady says "ready" once the engine has settled, as a service
// would tell its supervisor, and returns the func that stops waiting.
func announceReady(engine dependency.Engine, out *printer) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if dependency.WaitSettled(ctx, engine) == nil {
			out.printf("ready: every manifold runs, is gated, or waits for an input")
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// printBanner tells a newcomer where to look and what to try.
func printBanner(stdout io.Writer, url, configPath string, tempConfig bool) {
	fmt.Fprintf(stdout, "introspection: %s\n", url)
	for _, path := range []string{"livez", "readyz?verbose", "status", "metrics"} {
		fmt.Fprintf(stdout, "  curl '%s%s'\n", url, path)
	}
	fmt.Fprintf(stdout, "config: %s", configPath)
	if tempConfig {
		fmt.Fprint(stdout, " (a temp file, removed at exit)")
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, "edit the config to bounce everything downstream of it, or its \"leader\" to start or stop the janitor; Ctrl-C stops the agent")
}

// exitCode prints the final line and turns Wait's error into the exit code.
func exitCode(err error, out *printer, stderr io.Writer) int {
	if err != nil {
		out.printf("agent stopped with an error")
		fmt.Fprintf(stderr, "agent: %v\n", err)
		return 1
	}
	out.printf("agent stopped cleanly")
	return 0
}

// handleSignals stops the engine on the first SIGINT or SIGTERM, as a
// supervisor stops its root worker, and lets run finish once Wait returns.
// A second signal exits at once, for a stop that takes too long; cleanup runs
// first, since deferred calls will not. The returned func stops handling;
// once it has returned, no signal can exit the process any more, so the exit
// code and the final line agree.
func handleSignals(engine dependency.Engine, out *printer, cleanup func()) (stop func()) {
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		select {
		case sig := <-signals:
			out.printf("got %v: stopping (send it again to exit at once)", sig)
			engine.Kill()
		case <-done:
			return
		}
		select {
		case sig := <-signals:
			out.printf("got %v again: exiting without waiting for the workers", sig)
			cleanup()
			os.Exit(1)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(signals)
		close(done)
		<-finished
	}
}

// joinErrors returns the first error that is not nil, or nil.
func joinErrors(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// configureLogging writes log lines to stderr, WARNING and above; verbose
// adds the DEBUG lines of the engines ("dependency" and the nested
// "dependency.workload").
func configureLogging(verbose bool, stderr io.Writer) error {
	if _, err := loggo.ReplaceDefaultWriter(loggo.NewSimpleWriter(stderr, formatLog)); err != nil {
		return err
	}
	spec := "<root>=WARNING"
	if verbose {
		spec += ";dependency=DEBUG"
	}
	return loggo.ConfigureLoggers(spec)
}

// formatLog writes a log line in the same shape as the event lines.
func formatLog(entry loggo.Entry) string {
	return fmt.Sprintf("%s %s %s: %s", entry.Timestamp.Format("15:04:05.000"), entry.Level, entry.Module, entry.Message)
}
