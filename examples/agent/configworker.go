package main

import (
	"bytes"
	"os"
	"time"

	"github.com/juju/errors"

	"github.com/seedworks/dependency"
)

// configPollInterval is how often the config worker rereads its file. The
// agent polls rather than using inotify so that it needs nothing beyond the
// standard library.
const configPollInterval = 200 * time.Millisecond

// configWorker holds the config parsed at its start and stops when the file
// changes.
type configWorker struct {
	*task
	config *Config
}

// startConfigWorker reads and parses the file, then watches it. An edit
// stops the worker with ErrBounce, so the engine restarts it after the bounce
// delay and, because its worker stopped and started, bounces every manifold
// downstream of "config": they restart with the new config.
func startConfigWorker(path string) (dependency.Worker, error) {
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
			if !bytes.Equal(now, data) {
				return errors.Annotatef(dependency.ErrBounce, "%s changed", path)
			}
			return nil
		})
	})
	return w, nil
}
