// Command minimal runs two manifolds: "config" gives a Config to "api",
// which runs on it until the engine stops.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/seedworks/dependency"
)

// Config is what the "config" manifold gives its dependents.
type Config struct{ Addr string }

// configWorker, the "config" manifold's worker, holds a Config and runs
// until it is killed.
type configWorker struct {
	dependency.Worker
	config *Config
}

func main() {
	serving := make(chan struct{}) // closed once the api runs

	engine := dependency.NewEngine(nil, time.Second, 10*time.Millisecond)
	err := dependency.Install(engine, dependency.Manifolds{
		"config": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				config := &Config{Addr: "127.0.0.1:8080"} // read from a file, say
				return &configWorker{dependency.NewWorker(func(ctx context.Context) error {
					<-ctx.Done() // or return when the file changes, to restart with the new one
					return ctx.Err()
				}), config}, nil
			},
			Output: dependency.OutputOf(func(w *configWorker) *Config { return w.config }),
		},
		"api": {
			Inputs: []string{"config"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				config, err := dependency.Get[*Config](get, "config")
				if err != nil {
					return nil, err // ErrMissing: tried again when "config" changes
				}
				return dependency.NewWorker(func(ctx context.Context) error {
					fmt.Println("api serving on", config.Addr)
					close(serving)
					<-ctx.Done()
					return ctx.Err() // Kill cancelled ctx: Wait returns nil
				}), nil
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	<-serving
	engine.Kill() // an agent would do this on SIGINT or SIGTERM
	fmt.Println("engine stopped:", engine.Wait())
}
