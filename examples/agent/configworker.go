package main

import (
	"bytes"
	"os"
	"time"

	"github.com/juju/errors"

	"github.com/seedworks/dependency"
)

// configPollInterval is how often a config watcher rereads its file. The
// agent polls rather than using inotify so that it needs nothing beyond the
// standard library.
const configPollInterval = 200 * time.Millisecond

// configWorker holds the config parsed at its start and stops when the file
// changes in a way that matters to it.
type configWorker struct {
	*task
	config *Config
}

// startConfigWorker is the "config" manifold's worker: an edit of anything
// but "leader" stops it with ErrBounce, so the engine restarts it after the
// bounce delay and, because its worker stopped and started, bounces every
// manifold downstream of "config": they restart with the new config.
// "leader" is the leader flag's to watch, so that editing it restarts
// nothing that uses the config.
func startConfigWorker(path string) (dependency.Worker, error) {
	return watchConfig(path, func(old, now Config) bool {
		old.Leader, now.Leader = false, false
		return old != now
	})
}

// leaderFlag is the "leader-flag" manifold's worker: a Flag that answers
// the config's "leader" value, and stops with ErrBounce when an edit
// changes that value, so that the engine restarts it with the new answer
// and starts or stops the manifolds gated on it.
type leaderFlag struct {
	*configWorker
}

// Check is part of the dependency.Flag interface.
func (f leaderFlag) Check() bool { return f.config.Leader }

func startLeaderFlag(path string) (dependency.Worker, error) {
	w, err := watchConfig(path, func(old, now Config) bool { return old.Leader != now.Leader })
	if err != nil {
		return nil, err
	}
	return leaderFlag{w}, nil
}

// watchConfig reads and parses the file, then watches it: its worker stops
// with ErrBounce when the file no longer parses, or when changed says the
// new config differs from the one it holds in a way that matters.
func watchConfig(path string, changed func(old, now Config) bool) (*configWorker, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, errors.Trace(err)
	}
	config, err := parseConfig(data)
	if err != nil {
		return nil, errors.Annotatef(err, "%s", path)
	}
	w := &configWorker{config: config}
	w.task = startTask(func(dying <-chan struct{}) error {
		return every(dying, configPollInterval, func() error {
			now, err := os.ReadFile(path)
			if err != nil {
				return errors.Trace(err)
			}
			if bytes.Equal(now, data) {
				return nil
			}
			parsed, err := parseConfig(now)
			if err != nil || changed(*config, *parsed) {
				return errors.Annotatef(dependency.ErrBounce, "%s changed", path) // the restart reports a bad file
			}
			data = now // a change that does not matter to this worker
			return nil
		})
	})
	return w, nil
}
