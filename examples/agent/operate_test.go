package main

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// The agent as an operator sees it: its metrics, scraped and linted, and
// its probes through a drop of the API connection and the recovery.

// fetch gets path from the agent's server and returns the status code and
// the body, whatever the status.
func (a *agentProcess) fetch(t *testing.T, path string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: deadline, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(strings.TrimSuffix(a.url, "/") + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(body)
}

// waitForProbe polls path until it answers code with a body that contains
// want, and returns the body.
func (a *agentProcess) waitForProbe(t *testing.T, path string, code int, want string) string {
	t.Helper()
	timeout := time.Now().Add(deadline)
	for {
		got, body := a.fetch(t, path)
		if got == code && strings.Contains(body, want) {
			return body
		}
		if time.Now().After(timeout) {
			t.Fatalf("GET %s did not answer %d with %q within %v; last: %d %q", path, code, want, deadline, got, body)
		}
		time.Sleep(20 * time.Millisecond) // poll interval, not an assertion
	}
}

func TestAgentMetrics(t *testing.T) {
	t.Parallel()
	agent := startAgent(t, "-config", writeConfig(t, "1s"), "-for", "15s")
	agent.waitForLine(t, "ready: ")
	body := agent.get(t, "/metrics")
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("lint of /metrics = %v, %v; want no problems", problems, err)
	}
	for _, want := range []string{
		`dependency_engine_up{engine="agent"} 1`,
		`dependency_engine_up{engine="agent/workload"} 1`,
		`dependency_manifold_starts_total{engine="agent",manifold="config"} 1`,
		`dependency_manifold_state{engine="agent/workload",manifold="queue",state="started"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	agent.signal(t, syscall.SIGTERM)
	agent.wait(t, 0)
}

func TestAgentProbesThroughDrop(t *testing.T) {
	t.Parallel()
	configPath := filepath.Join(t.TempDir(), "agent.json")
	config := strings.Replace(defaultConfig, `"drop_every": "5s"`, `"drop_every": "1s"`, 1)
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	agent := startAgent(t, "-config", configPath, "-for", "15s")
	agent.waitForLine(t, "ready: ")
	agent.waitForProbe(t, "/livez", http.StatusOK, "ok")
	agent.waitForProbe(t, "/readyz", http.StatusOK, "ok")
	// Every second drop is a lost connection, whose redial is refused:
	// api-caller then waits out its error delay, and the agent is not ready.
	agent.waitForProbe(t, "/readyz", http.StatusServiceUnavailable, "[-]api-caller failed: starts in ")
	agent.waitForProbe(t, "/readyz?verbose", http.StatusOK, "[+]api-caller running")
	agent.waitForProbe(t, "/status", http.StatusOK, "api-caller ")
	agent.signal(t, syscall.SIGTERM)
	agent.wait(t, 0)
}
