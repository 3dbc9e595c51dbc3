package dependencytest_test

import (
	"errors"
	"fmt"
	"sync"

	"github.com/seedworks/dependency"
	"github.com/seedworks/dependency/dependencytest"
)

// greeter is the worker of the manifold under test; it runs until killed.
type greeter struct {
	greeting string
	done     chan struct{}
	once     sync.Once
}

func (g *greeter) Kill()       { g.once.Do(func() { close(g.done) }) }
func (g *greeter) Wait() error { <-g.done; return nil }

// startGreeter is the Start func under test: it needs the greeting from
// its "config" input.
func startGreeter(get dependency.GetResourceFunc) (dependency.Worker, error) {
	var greeting string
	if err := get("config", &greeting); err != nil {
		return nil, err
	}
	return &greeter{greeting: greeting, done: make(chan struct{})}, nil
}

func ExampleStubGetResource() {
	// Without its input, the start says so; an engine would wait for "config".
	_, err := startGreeter(dependencytest.StubGetResource(nil))
	fmt.Println("missing:", errors.Is(err, dependency.ErrMissing))

	// With it, the worker runs on the resource.
	w, err := startGreeter(dependencytest.StubGetResource(map[string]any{"config": "hello"}))
	if err != nil {
		fmt.Println("start failed:", err)
		return
	}
	fmt.Println("greeting:", w.(*greeter).greeting)
	w.Kill()
	fmt.Println("stopped:", w.Wait())

	// An error in the map is what the getter returns, as from a failing Output.
	_, err = startGreeter(dependencytest.StubGetResource(map[string]any{"config": errors.New("config unreadable")}))
	fmt.Println("error:", err)
	// Output:
	// missing: true
	// greeting: hello
	// stopped: <nil>
	// error: config unreadable
}
