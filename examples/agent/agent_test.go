package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.uber.org/goleak"

	"github.com/seedworks/dependency"
	"github.com/seedworks/dependency/internal/browsertest"
)

// These tests run the agent as a newcomer would: built, as a process of its
// own, talked to over loopback. Real time cannot be avoided here, so every
// wait polls for what it expects, and its deadline only guards against a
// hang.
const deadline = 15 * time.Second

// agentBinary is the agent, built once by TestMain into a temp dir.
var agentBinary string

// buildFlags are the flags of the agent's build; race_test.go adds -race
// when the tests themselves run with it.
var buildFlags []string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "agent-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	agentBinary = filepath.Join(dir, "agent")
	args := append(append([]string{"build"}, buildFlags...), "-o", agentBinary, ".")
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))
}

func TestAgentBouncesDependentsWhenConfigChanges(t *testing.T) {
	t.Parallel()
	configPath := writeConfig(t, "1s")
	agent := startAgent(t, "-config", configPath, "-for", "15s") // room for a slow machine

	before := agent.waitForReport(t, "all started", func(r dependency.Report) bool {
		return allStarted(r, "config", "api-caller", "heartbeat", "log-sender", "workload")
	})
	if dot := agent.get(t, "/graph.dot"); !strings.HasPrefix(dot, "digraph") || !strings.Contains(dot, `"config" -> "api-caller"`) {
		t.Errorf("GET /graph.dot = %q, want a digraph with the edge config -> api-caller", dot)
	}

	writeConfigFile(t, configPath, "500ms")
	downstream := []string{"config", "api-caller", "heartbeat", "log-sender", "workload"}
	after := agent.waitForReport(t, "every manifold downstream of config restarted", func(r dependency.Report) bool {
		for _, name := range downstream {
			if r.Manifolds[name].StartCount <= before.Manifolds[name].StartCount {
				return false
			}
		}
		return allStarted(r, downstream...)
	})
	if got, want := after.Manifolds["metrics"].StartCount, before.Manifolds["metrics"].StartCount; got != want {
		t.Errorf("metrics StartCount = %d after the edit, want %d: it does not depend on config", got, want)
	}

	agent.wait(t, 0)
	agent.wantOutput(t, "ran for 15s: stopping", "agent stopped cleanly")
}

// Editing "leader" starts or stops the janitor, which the leader flag
// gates, and restarts nothing but the flag itself.
func TestAgentLeaderFlagGatesJanitor(t *testing.T) {
	t.Parallel()
	configPath := writeConfig(t, "1s")
	agent := startAgent(t, "-config", configPath, "-for", "15s") // room for a slow machine
	all := []string{"config", "metrics", "api-caller", "heartbeat", "log-sender", "status", "workload", "self", "leader-flag", "janitor"}
	before := agent.waitForReport(t, "all started, the upgrade done", func(r dependency.Report) bool {
		_, upgrading := r.Manifolds["upgrader"]
		return allStarted(r, all...) && !upgrading
	})

	writeLeader(t, configPath, false)
	off := agent.waitForReport(t, "janitor gated", func(r dependency.Report) bool {
		janitor := r.Manifolds["janitor"]
		return janitor.State == dependency.StateStopped && slices.Equal(janitor.Gated, []string{"leader-flag"})
	})
	if flag := off.Manifolds["leader-flag"].Flag; flag == nil || *flag {
		t.Errorf("leader-flag answers %v with \"leader\": false, want false", flag)
	}
	writeLeader(t, configPath, true)
	on := agent.waitForReport(t, "janitor started again", func(r dependency.Report) bool {
		return r.Manifolds["janitor"].StartCount > before.Manifolds["janitor"].StartCount && allStarted(r, "janitor")
	})
	for _, name := range all {
		got, was := on.Manifolds[name].StartCount, before.Manifolds[name].StartCount
		want := map[string]int{"leader-flag": 2, "janitor": 1}[name] // the flag restarts on each edit
		if got-was != want {
			t.Errorf("%s started %d times after \"leader\" went false and true, want %d", name, got-was, want)
		}
	}

	agent.wait(t, 0)
	agent.wantOutput(t, "stopped     janitor", "started     janitor")
}

func TestAgentStopsCleanlyOnSignal(t *testing.T) {
	t.Parallel()
	agent := startAgent(t, "-for", "1m")
	agent.waitForLine(t, "started     heartbeat")
	configPath := agent.banner(t, `config: (\S+) \(a temp file`)

	agent.signal(t, syscall.SIGTERM)
	agent.wait(t, 0)
	agent.wantOutput(t, "got terminated: stopping", "agent stopped cleanly")
	if _, err := os.Stat(configPath); !os.IsNotExist(err) {
		t.Errorf("temp config %s after exit: Stat = %v, want it removed", configPath, err)
	}
}

func TestAgentExitsOneOnFatalError(t *testing.T) {
	t.Parallel()
	configPath := filepath.Join(t.TempDir(), "agent.json")
	config := strings.Replace(defaultConfig, `"version": 1`, `"version": 2`, 1)
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	agent := startAgent(t, "-config", configPath, "-for", "1m")
	agent.wait(t, 1)
	agent.wantOutput(t, "agent stopped with an error")
	if got := agent.stderr.String(); !strings.Contains(got, "config version 2") {
		t.Errorf("stderr = %q, want the fatal error naming config version 2", got)
	}
}

func TestAgentPageInBrowser(t *testing.T) {
	t.Parallel()
	ctx := browsertest.New(t, 2*time.Minute)
	// A config whose API connection never drops, so that every manifold
	// stays started once it has started.
	agent := startAgent(t, "-config", writeConfig(t, "1s"), "-for", "1m")
	openPage(t, ctx, agent.url, `document.querySelector('#graph g.manifold.started[data-path="workload/consumer"]') !== null &&
		document.querySelector('#graph g.manifold.started[data-path="heartbeat"]') !== null`)

	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#graph g.manifold')].map(g => g.dataset.path)`))
	if err != nil {
		t.Fatalf("reading the page: %v", err)
	}
	for _, want := range []string{
		"config", "metrics", "api-caller", "heartbeat", "log-sender", "status", "self",
		"workload", "workload/queue", "workload/producer", "workload/consumer",
	} {
		if !slices.Contains(drawn, want) {
			t.Errorf("page draws %q, want %q among them", drawn, want)
		}
	}

	agent.signal(t, syscall.SIGINT)
	agent.wait(t, 0)
}

// TestAgentPageScreenshot saves a screenshot of the agent's page, as
// README shows it, to the file that AGENT_SCREENSHOT names; without it,
// the test is skipped. It waits until the nested engine's consumer has
// failed, so that the picture shows the nested engine's manifolds and a
// countdown to a restart.
//
//	AGENT_SCREENSHOT=$PWD/docs/page.png go test -run TestAgentPageScreenshot ./examples/agent
func TestAgentPageScreenshot(t *testing.T) {
	path := os.Getenv("AGENT_SCREENSHOT")
	if path == "" {
		t.Skip("AGENT_SCREENSHOT is not set")
	}
	ctx := browsertest.New(t, 2*time.Minute)
	agent := startAgent(t, "-for", "1m")
	openPage(t, ctx, agent.url, `document.querySelector('#graph g.failed[data-path="workload/consumer"] text.due') !== null`)
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("taking the screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	agent.signal(t, syscall.SIGINT)
	agent.wait(t, 0)
}

// openPage opens url in the browser and waits until the expression holds
// in the page.
func openPage(t *testing.T, ctx context.Context, url, expression string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("opening %s: %v", url, err)
	}
	poll := chromedp.Poll[chromedp.Void](expression, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(deadline))
	if _, err := chromedp.Run(ctx, poll); err != nil {
		page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.outerHTML`))
		t.Fatalf("waiting for %s: %v; page:\n%s", expression, err, page)
	}
}

// writeConfig writes a config into a temp dir and returns its path. Its API
// connection never drops, so that every restart the test sees comes from
// the test.
func writeConfig(t *testing.T, heartbeat string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.json")
	writeConfigFile(t, path, heartbeat)
	return path
}

func writeConfigFile(t *testing.T, path, heartbeat string) {
	t.Helper()
	config := strings.NewReplacer(`"drop_every": "5s"`, `"drop_every": "1h"`, `"heartbeat": "1s"`, `"heartbeat": "`+heartbeat+`"`).Replace(defaultConfig)
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
}

// writeLeader writes the config that writeConfig writes, with "leader" set
// to leader. It replaces the file whole, as many editors save one, so that
// the agent cannot read it half-written: that would restart "config" and
// all that uses it.
func writeLeader(t *testing.T, path string, leader bool) {
	t.Helper()
	config := strings.NewReplacer(`"drop_every": "5s"`, `"drop_every": "1h"`, `"leader": true`, `"leader": `+strconv.FormatBool(leader)).Replace(defaultConfig)
	next := path + ".next"
	if err := os.WriteFile(next, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(next, path); err != nil {
		t.Fatal(err)
	}
}

// allStarted reports whether every named manifold is started.
func allStarted(r dependency.Report, names ...string) bool {
	for _, name := range names {
		if r.Manifolds[name].State != dependency.StateStarted {
			return false
		}
	}
	return true
}

// agentProcess is a running agent and what it printed.
type agentProcess struct {
	cmd    *exec.Cmd
	url    string // of the introspection page
	stderr bytes.Buffer
	exited chan struct{} // closed once cmd.Wait has returned

	mu     sync.Mutex
	lines  []string // of stdout, so far
	output chan struct{}
	done   chan struct{} // closed when stdout is read to its end
}

// startAgent runs the agent with args in a process group of its own, and
// waits for it to print its address. Cleanup kills the group if the test
// leaves it running.
func startAgent(t *testing.T, args ...string) *agentProcess {
	t.Helper()
	a := &agentProcess{
		cmd:    exec.Command(agentBinary, args...),
		exited: make(chan struct{}),
		output: make(chan struct{}, 1),
		done:   make(chan struct{}),
	}
	a.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	a.cmd.Stderr = &a.stderr
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go a.readLines(stdout)
	go func() {
		defer close(a.exited)
		<-a.done // Wait closes stdout: read it all first
		_ = a.cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
		<-a.exited
	})
	a.url = a.banner(t, `introspection: (http://127\.0\.0\.1:\d+/)`)
	return a
}

// readLines collects stdout until the agent closes it.
func (a *agentProcess) readLines(stdout io.Reader) {
	defer close(a.done)
	scanner := bufio.NewScanner(stdout)
	for scanner.Scan() {
		a.mu.Lock()
		a.lines = append(a.lines, scanner.Text())
		a.mu.Unlock()
		select {
		case a.output <- struct{}{}:
		default:
		}
	}
}

// waitForLine waits until the agent printed a line containing s, and
// returns it.
func (a *agentProcess) waitForLine(t *testing.T, s string) string {
	t.Helper()
	return a.waitForMatch(t, regexp.MustCompile(regexp.QuoteMeta(s)))
}

// waitForMatch waits until the agent printed a line that re matches, and
// returns it.
func (a *agentProcess) waitForMatch(t *testing.T, re *regexp.Regexp) string {
	t.Helper()
	timeout := time.After(deadline)
	for {
		a.mu.Lock()
		for _, line := range a.lines {
			if re.MatchString(line) {
				a.mu.Unlock()
				return line
			}
		}
		a.mu.Unlock()
		select {
		case <-a.output:
		case <-a.done:
			<-a.exited // stderr is complete once Wait has returned
			a.mu.Lock()
			defer a.mu.Unlock()
			t.Fatalf("agent exited without printing a line matching %s; stdout:\n%s\nstderr:\n%s", re, strings.Join(a.lines, "\n"), &a.stderr)
		case <-timeout:
			t.Fatalf("agent did not print a line matching %s within %v", re, deadline)
		}
	}
}

// banner waits for the line of the agent's banner that pattern matches
// from its start, and returns the pattern's first submatch.
func (a *agentProcess) banner(t *testing.T, pattern string) string {
	t.Helper()
	re := regexp.MustCompile("^" + pattern)
	return re.FindStringSubmatch(a.waitForMatch(t, re))[1]
}

// get fetches path from the agent's introspection server.
func (a *agentProcess) get(t *testing.T, path string) string {
	t.Helper()
	client := &http.Client{Timeout: deadline, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(strings.TrimSuffix(a.url, "/") + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %s, %v; body %q", path, resp.Status, err, body)
	}
	return string(body)
}

// waitForReport polls /report until ok accepts it, and returns it.
func (a *agentProcess) waitForReport(t *testing.T, what string, ok func(dependency.Report) bool) dependency.Report {
	t.Helper()
	timeout := time.Now().Add(deadline)
	for {
		var report dependency.Report
		body := a.get(t, "/report")
		if err := json.Unmarshal([]byte(body), &report); err != nil {
			t.Fatalf("GET /report: %v; body %q", err, body)
		}
		if ok(report) {
			return report
		}
		if time.Now().After(timeout) {
			t.Fatalf("/report not %s within %v; last report:\n%s", what, deadline, body)
		}
		time.Sleep(50 * time.Millisecond) // poll interval, not an assertion
	}
}

func (a *agentProcess) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := a.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("Signal(%v) = %v", sig, err)
	}
}

// wait waits for the agent to exit with code want, and checks that it left
// no process of its group behind.
func (a *agentProcess) wait(t *testing.T, want int) {
	t.Helper()
	select {
	case <-a.exited:
	case <-time.After(deadline + 10*time.Second):
		t.Fatalf("agent did not exit")
	}
	if got := a.cmd.ProcessState.ExitCode(); got != want {
		t.Errorf("exit code = %d, want %d; stderr:\n%s", got, want, &a.stderr)
	}
	if left := processGroup(t, a.cmd.Process.Pid); len(left) > 0 {
		t.Errorf("agent left processes %v of its group running", left)
	}
}

// wantOutput checks that the agent printed lines containing each of want.
func (a *agentProcess) wantOutput(t *testing.T, want ...string) {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	all := strings.Join(a.lines, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("stdout lacks %q; stdout:\n%s", w, all)
		}
	}
}

// processGroup returns the processes of group pgid still alive, read from
// /proc (Linux); elsewhere it skips the check.
func processGroup(t *testing.T, pgid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Logf("cannot list processes (%v); not checking for children", err)
		return nil
	}
	var found []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // it exited meanwhile
		}
		// The fields after the command's closing parenthesis are state,
		// ppid and pgrp.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			found = append(found, pid)
		}
	}
	return found
}
