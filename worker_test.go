package dependency_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/seedworks/dependency"
)

// untilKilled is a run func that waits for its context and returns its
// error, as a run using ctx well does.
func untilKilled(ctx context.Context) error {
	<-ctx.Done()
	return ctx.Err()
}

// waitInBackground returns a channel that gets what w's Wait returns,
// called on a goroutine of its own.
func waitInBackground(w dependency.Worker) <-chan error {
	waited := make(chan error, 1)
	go func() { waited <- w.Wait() }()
	return waited
}

func TestNewWorkerRunsUntilKilled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := dependency.NewWorker(untilKilled)
		waited := waitInBackground(w)
		synctest.Wait()
		checkWaiting(t, waited, "before Kill")

		w.Kill()
		if err := <-waited; err != nil {
			t.Errorf("Wait() after Kill = %v, want nil", err)
		}
	})
}

func TestNewWorkerKillReturnsAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		release := make(chan struct{})
		w := dependency.NewWorker(func(context.Context) error {
			<-release // deaf to Kill
			return errFailed
		})
		w.Kill() // must not wait for run
		waited := waitInBackground(w)
		synctest.Wait()
		checkWaiting(t, waited, "while run runs")

		close(release)
		if err := <-waited; err != errFailed {
			t.Errorf("Wait() = %v, want %v", err, errFailed)
		}
	})
}

func TestNewWorkerWaitReturnsRunError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := dependency.NewWorker(func(context.Context) error { return errFailed })
		if err := w.Wait(); err != errFailed {
			t.Errorf("Wait() = %v, want %v", err, errFailed)
		}
		w.Kill() // after run returned: harmless, and changes nothing
		if err := w.Wait(); err != errFailed {
			t.Errorf("Wait() after Kill = %v, want %v", err, errFailed)
		}
	})
}

func TestNewWorkerCanceledAfterKill(t *testing.T) {
	for name, run := range map[string]func(context.Context) error{
		"ctx.Err()": untilKilled,
		"wrapped": func(ctx context.Context) error {
			<-ctx.Done()
			return fmt.Errorf("watching: %w", context.Cause(ctx))
		},
	} {
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := dependency.NewWorker(run)
				synctest.Wait()
				killAndWait(t, w)
			})
		})
	}
}

func TestNewWorkerKeepsOtherErrorsAfterKill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := dependency.NewWorker(func(ctx context.Context) error {
			<-ctx.Done()
			return errFailed
		})
		synctest.Wait()
		w.Kill()
		if err := w.Wait(); err != errFailed {
			t.Errorf("Wait() = %v, want %v", err, errFailed)
		}
	})
}

func TestNewWorkerKeepsCanceledWithoutKill(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := dependency.NewWorker(func(context.Context) error {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx.Err() // canceled, but not by Kill
		})
		synctest.Wait()
		w.Kill() // after run returned: too late to count
		if err := w.Wait(); err != context.Canceled {
			t.Errorf("Wait() = %v, want %v", err, context.Canceled)
		}
	})
}

func TestNewWorkerPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := dependency.NewWorker(func(context.Context) error { panic("boom") })
		err := w.Wait()
		if !errors.Is(err, dependency.ErrPanic) {
			t.Errorf("Wait() = %v, want an error matching ErrPanic", err)
		}
		var p *dependency.PanicError
		if !errors.As(err, &p) {
			t.Fatalf("Wait() = %T %v, want a *PanicError", err, err)
		}
		if p.Func != "worker run" || p.Value != "boom" {
			t.Errorf("PanicError{Func: %q, Value: %v}, want {Func: %q, Value: boom}", p.Func, p.Value, "worker run")
		}
		if !bytes.Contains(p.Stack, []byte("TestNewWorkerPanic")) {
			t.Errorf("PanicError.Stack does not name the panicking func:\n%s", p.Stack)
		}
		if err2 := w.Wait(); err2 != err {
			t.Errorf("second Wait() = %v, want the first's %v", err2, err)
		}
	})
}

func TestNewWorkerConcurrentKillAndWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := dependency.NewWorker(untilKilled)
		const n = 50
		errs := make(chan error, 2*n)
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				w.Kill()
				errs <- w.Wait()
			})
			wg.Go(func() { errs <- w.Wait() })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Wait() = %v, want nil", err)
			}
		}
	})
}

// A run that calls runtime.Goexit has not completed: Wait returns an error
// wrapping ErrPanic that says so.
func TestNewWorkerGoexit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := dependency.NewWorker(func(context.Context) error {
			runtime.Goexit()
			return nil
		})
		if err := w.Wait(); !errors.Is(err, dependency.ErrPanic) {
			t.Errorf("Wait() = %v, want an error wrapping ErrPanic", err)
		}
	})
}
