package introspect_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"

	"github.com/seedworks/dependency"
	"github.com/seedworks/dependency/introspect"
)

func ExampleHandler() {
	engine := dependency.NewEngine(nil, 0, 0)
	defer func() {
		engine.Kill()
		_ = engine.Wait()
	}()
	err := dependency.Install(engine, dependency.Manifolds{
		"config": {Start: startIdle},
		"api":    {Inputs: []string{"config"}, Start: startIdle},
	})
	if err != nil {
		fmt.Println("cannot install:", err)
		return
	}

	// Mount the handler on a debug server that only this machine can reach.
	mux := http.NewServeMux()
	mux.Handle("/debug/engine/", http.StripPrefix("/debug/engine", introspect.Handler(engine)))
	server := httptest.NewServer(mux) // listens on 127.0.0.1
	defer server.Close()

	resp, err := http.Get(server.URL + "/debug/engine/report")
	if err != nil {
		fmt.Println("cannot get the report:", err)
		return
	}
	defer resp.Body.Close()
	var report dependency.Report
	if err := json.NewDecoder(resp.Body).Decode(&report); err != nil {
		fmt.Println("cannot decode the report:", err)
		return
	}
	fmt.Println(resp.Status, resp.Header.Get("Content-Type"))
	fmt.Println("engine", report.State)
	for _, name := range slices.Sorted(maps.Keys(report.Manifolds)) {
		fmt.Printf("%s: inputs %q\n", name, report.Manifolds[name].Inputs)
	}
	// Output:
	// 200 OK application/json
	// engine started
	// api: inputs ["config"]
	// config: inputs []
}

// idle is a worker that runs until it is killed.
type idle struct {
	once sync.Once
	done chan struct{}
}

func startIdle(dependency.GetResourceFunc) (dependency.Worker, error) {
	return &idle{done: make(chan struct{})}, nil
}

func (w *idle) Kill()       { w.once.Do(func() { close(w.done) }) }
func (w *idle) Wait() error { <-w.done; return nil }
