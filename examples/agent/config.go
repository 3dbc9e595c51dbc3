package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/juju/errors"
)

// configVersion is the only config format this agent understands.
const configVersion = 1

// errUnsupportedConfig marks a config the agent cannot run with at all. It is
// the agent's only fatal error: restarting cannot fix it, so the engine stops
// and the agent exits 1.
var errUnsupportedConfig = errors.New("unsupported config")

// defaultConfig is written to a temp file when no -config flag is given.
const defaultConfig = `{
  "version": 1,
  "leader": true,
  "api_address": "api.example.invalid:17070",
  "drop_every": "5s",
  "heartbeat": "1s",
  "send_logs_every": "2s",
  "job_every": "700ms"
}
`

// Config is the parsed config file. Workers get it through the "config"
// manifold's Output and never see it change: an edited file restarts the
// config worker, and the engine bounces every manifold downstream of it.
// An edit of Leader alone restarts only the "leader-flag" manifold.
type Config struct {
	Version       int      `json:"version"`
	Leader        bool     `json:"leader"` // whether this agent is the leader, which alone runs the janitor
	APIAddress    string   `json:"api_address"`
	DropEvery     duration `json:"drop_every"`      // how often the fake API connection drops
	Heartbeat     duration `json:"heartbeat"`       // how often heartbeat pings the API
	SendLogsEvery duration `json:"send_logs_every"` // how often log-sender sends a batch
	JobEvery      duration `json:"job_every"`       // how often the nested workload makes a job
}

// duration is a time.Duration written as a string ("5s") in the config file.
type duration time.Duration

// UnmarshalJSON parses a duration string such as "700ms" or "1h".
func (d *duration) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return errors.Errorf("duration must be a string like \"5s\", not %s", data)
	}
	parsed, err := time.ParseDuration(s)
	if err != nil {
		return errors.Trace(err)
	}
	if parsed <= 0 {
		return errors.Errorf("duration %q is not positive", s)
	}
	*d = duration(parsed)
	return nil
}

// parseConfig parses a config file's content. A syntax error or an unknown
// field is an ordinary error (the file may be half-written; the engine
// retries with backoff); a version it does not know wraps
// errUnsupportedConfig.
func parseConfig(data []byte) (*Config, error) {
	decoder := json.NewDecoder(bytes.NewReader(data))
	decoder.DisallowUnknownFields()
	var config Config
	if err := decoder.Decode(&config); err != nil {
		return nil, errors.Annotate(err, "invalid config")
	}
	if config.Version != configVersion {
		return nil, errors.Annotatef(errUnsupportedConfig, "config version %d (this agent reads version %d)", config.Version, configVersion)
	}
	for field, d := range map[string]duration{
		"drop_every":      config.DropEvery,
		"heartbeat":       config.Heartbeat,
		"send_logs_every": config.SendLogsEvery,
		"job_every":       config.JobEvery,
	} {
		if d == 0 {
			return nil, errors.Errorf("invalid config: %q missing", field)
		}
	}
	return &config, nil
}

// ensureConfig returns the config file to watch: path if given, or else a
// default config written into a new temp dir. cleanup removes that dir and is
// safe to call more than once; it does nothing for a given path.
func ensureConfig(path string) (configPath string, cleanup func(), err error) {
	if path != "" {
		return path, func() {}, nil
	}
	dir, err := os.MkdirTemp("", "dependency-agent-")
	if err != nil {
		return "", nil, errors.Trace(err)
	}
	cleanup = func() { _ = os.RemoveAll(dir) }
	configPath = filepath.Join(dir, "agent.json")
	if err := os.WriteFile(configPath, []byte(defaultConfig), 0o600); err != nil {
		cleanup()
		return "", nil, errors.Trace(err)
	}
	return configPath, cleanup, nil
}
