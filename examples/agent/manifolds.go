package main

import (
	"time"

	"github.com/juju/errors"
	"github.com/juju/loggo"

	"github.com/seedworks/dependency"
)

// rootEngineConfig is how the agent's root engine restarts workers. Each
// field is set to show what it does in a few seconds of watching; a real
// agent would use longer delays.
func rootEngineConfig(observer func(dependency.Event)) dependency.EngineConfig {
	return dependency.EngineConfig{
		IsFatal: isFatal,

		// A failed worker restarts after ErrorDelay, doubled for each
		// further failure in a row, up to MaxDelay. One that ran for
		// BackoffResetTime before it failed starts again from ErrorDelay.
		ErrorDelay:       time.Second,
		BackoffFactor:    2,
		MaxDelay:         10 * time.Second,
		BackoffResetTime: 3 * time.Second,

		// A worker stopped because an input changed restarts after
		// BounceDelay.
		BounceDelay: 200 * time.Millisecond,

		// Each delay varies by up to 10%, so that workers that failed
		// together do not all retry at the same moment.
		Jitter: 0.1,

		// A manifold failing more than 10 times in 30s stops the agent: it
		// will not recover by itself, and its supervisor should know.
		MaxRestarts:   10,
		RestartPeriod: 30 * time.Second,

		// Workers get 5s to stop; then the agent exits all the same.
		StopTimeout: 5 * time.Second,

		// Workers stop before the inputs they use: the API client, say,
		// before the config it was made from.
		OrderedStop: true,

		Logger:   loggo.GetLogger("dependency"),
		Observer: observer,
	}
}

// isFatal decides which worker errors stop the whole agent: only a config it
// cannot understand. Every other error restarts the worker that returned it.
func isFatal(err error) bool {
	return errors.Is(err, errUnsupportedConfig)
}

// manifolds returns the root engine's graph:
//
//	config ─► api-caller ─► heartbeat, log-sender, upgrader, status, workload
//	metrics ─► heartbeat, log-sender
//	upgrader ─► status (optional; uninstalled once the upgrade is done)
//	self ─► status
//	metrics ─► janitor, gated by leader-flag (runs only while "leader" is true)
//
// configPath is the file the "config" manifold watches; printer prints the
// nested engine's events.
func manifolds(engine dependency.Engine, configPath string, printer *printer) dependency.Manifolds {
	server := &fakeServer{}
	progress := &upgradeProgress{}
	return dependency.Manifolds{
		// self gives workers the root engine, to read its report.
		"self": dependency.SelfManifold(engine),

		// config parses the config file, and restarts when it changes.
		"config": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return startConfigWorker(configPath)
			},
			Output: output(func(w *configWorker) *Config { return w.config }),
		},

		// metrics counts what the others do; it never restarts.
		"metrics": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return startMetricsWorker(), nil
			},
			Output: output(func(w *metricsWorker) *metrics { return w.metrics }),
		},

		// api-caller holds the API connection the other workers share. The
		// fake server drops it every few seconds.
		"api-caller": {
			Inputs: []string{"config"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var config *Config
				if err := get("config", &config); err != nil {
					return nil, err
				}
				return startAPIWorker(server, config.APIAddress, time.Duration(config.DropEvery))
			},
			Output: output(func(w *apiWorker) *apiConn { return w.conn }),
		},

		"heartbeat": {
			Inputs: []string{"config", "api-caller", "metrics"},
			Start:  callerStart("Ping", "pings", func(c *Config) time.Duration { return time.Duration(c.Heartbeat) }),
		},

		"log-sender": {
			Inputs: []string{"config", "api-caller", "metrics"},
			Start:  callerStart("SendLogs", "log batches", func(c *Config) time.Duration { return time.Duration(c.SendLogsEvery) }),
		},

		// upgrader runs a few steps through the API once, then uninstalls
		// itself.
		"upgrader": {
			Inputs: []string{"api-caller"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var conn *apiConn
				if err := get("api-caller", &conn); err != nil {
					return nil, err
				}
				return startUpgradeWorker(conn, progress, 700*time.Millisecond), nil
			},
			Output: output(func(w *upgradeWorker) *upgradeProgress { return w.progress }),
		},

		// status runs with or without upgrader: it reports "upgrading" while
		// upgrader runs, and "ready" once upgrader is gone.
		"status": {
			Inputs: []string{"self", "api-caller", "upgrader"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var self dependency.Engine
				if err := get("self", &self); err != nil {
					return nil, err
				}
				var conn *apiConn
				if err := get("api-caller", &conn); err != nil {
					return nil, err
				}
				var progress *upgradeProgress
				if err := getOptional(get, "upgrader", &progress); err != nil {
					return nil, err
				}
				return startStatusWorker(conn, self, progress), nil
			},
		},

		// leader-flag answers the config file's "leader" value. It watches
		// the file itself, rather than take "config" as an input, so that
		// editing "leader" restarts nothing but it, and an edit of anything
		// else leaves it alone.
		"leader-flag": {
			Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
				return startLeaderFlag(configPath)
			},
		},

		// janitor sweeps only on the leader: it is gated by leader-flag,
		// started when "leader" becomes true and stopped when it becomes
		// false. It takes no input from the config, which would restart it
		// on every edit.
		"janitor": {
			Inputs: []string{"metrics"},
			Flags:  []string{"leader-flag"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				var m *metrics
				if err := getOptional(get, "metrics", &m); err != nil {
					return nil, err
				}
				return startJanitor(m, janitorInterval), nil
			},
		},

		// workload is an engine of its own, with its own manifolds.
		"workload": {
			Inputs: []string{"config", "api-caller"},
			Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
				config, conn, err := getConfigAndConn(get)
				if err != nil {
					return nil, err
				}
				return startWorkload(conn, config, printer.observer("workload/"))
			},
		},
	}
}

// callerStart returns the Start func of a manifold that makes one API call
// every interval (taken from the config) and counts the calls in metrics.
// It needs config and api-caller, and runs without metrics if it must.
func callerStart(method, counter string, interval func(*Config) time.Duration) dependency.StartFunc {
	return func(get dependency.GetResourceFunc) (dependency.Worker, error) {
		config, conn, err := getConfigAndConn(get)
		if err != nil {
			return nil, err
		}
		var m *metrics
		if err := getOptional(get, "metrics", &m); err != nil {
			return nil, err
		}
		return callEvery(conn, m, interval(config), method, counter), nil
	}
}

// getConfigAndConn gets the two inputs most workers need: the parsed
// config and the API connection.
func getConfigAndConn(get dependency.GetResourceFunc) (*Config, *apiConn, error) {
	var config *Config
	if err := get("config", &config); err != nil {
		return nil, nil, err
	}
	var conn *apiConn
	if err := get("api-caller", &conn); err != nil {
		return nil, nil, err
	}
	return config, conn, nil
}

// getOptional gets an input the caller can do without: when it is missing,
// out is left alone and getOptional returns nil. Other errors (a broken
// Output func, a wrong type) are returned as they are.
func getOptional(get dependency.GetResourceFunc, name string, out any) error {
	if err := get(name, out); err != nil && !errors.Is(err, dependency.ErrMissing) {
		return err
	}
	return nil
}
