package main

import (
	"time"

	"github.com/juju/errors"
	"gopkg.in/tomb.v2"

	"github.com/seedworks/dependency"
)

// task is a Worker that runs one func on its own goroutine. Kill closes the
// func's dying channel; the func returns nil when it sees it, or an error to
// stop by itself, and Wait returns what it returned.
type task struct {
	tomb tomb.Tomb
}

// startTask runs fn on a new goroutine until it returns.
func startTask(fn func(dying <-chan struct{}) error) *task {
	t := &task{}
	t.tomb.Go(func() error { return fn(t.tomb.Dying()) })
	return t
}

// Kill is part of the dependency.Worker interface.
func (t *task) Kill() { t.tomb.Kill(nil) }

// Wait is part of the dependency.Worker interface.
func (t *task) Wait() error { return t.tomb.Wait() }

// every calls fn each interval until dying is closed (then it returns nil)
// or fn returns an error (then it returns that error).
func every(dying <-chan struct{}, interval time.Duration, fn func() error) error {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-dying:
			return nil
		case <-ticker.C:
			if err := fn(); err != nil {
				return err
			}
		}
	}
}

// output returns an OutputFunc that gives dependents a T, taken by get from
// the manifold's worker, which must be a W. Dependents pass a *T to their
// getter: get("config", &config) with config a *Config.
func output[W dependency.Worker, T any](get func(W) T) dependency.OutputFunc {
	return func(in dependency.Worker, out interface{}) error {
		worker, ok := in.(W)
		if !ok {
			return errors.Errorf("worker is %T, want %T", in, worker)
		}
		target, ok := out.(*T)
		if !ok {
			return errors.Errorf("out is %T, want %T", out, target)
		}
		*target = get(worker)
		return nil
	}
}
