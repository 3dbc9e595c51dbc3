package dependency_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// Each benchmark measures in a child process of the test binary, not in the
// process that runs them all: a benchmark measured after another inherits
// the runtime's state from it (docs/performance.md gives what
// that changed). To measure in the process itself, to profile one
// benchmark say, set childEnv (and, for BenchmarkMemory, GODEBUG to
// fixedStacks, which its child would have set):
//
//	DEPENDENCY_BENCH_CHILD=1 go test -run '^$' -bench Engines -cpuprofile cpu.out .

// childEnv marks the process in which the benchmarks measure.
const childEnv = "DEPENDENCY_BENCH_CHILD"

// fixedStacks is the GODEBUG setting that makes the runtime start every
// goroutine on a 2 KiB stack, not on the average size its last collection
// saw in use.
const fixedStacks = "adaptivestackstart=0"

// measureHere reports whether b measures in this process. If not, it
// measures b in a child process with the godebug settings, reports the
// child's results as b's, and returns false.
func measureHere(b *testing.B, godebug ...string) bool {
	if inChild() {
		return true
	}
	reportAll(b, measureInChild(b, b.Name(), b.N, godebug...))
	return false
}

func inChild() bool { return os.Getenv(childEnv) != "" }

// measureInChild runs the benchmark called name for the given iterations in
// a child process, with the godebug settings added to its GODEBUG, and
// returns its results by unit. With -benchtime Nx the testing package
// calls each benchmark with b.N = 1 before b.N = N, so a child runs one
// iteration before the child whose results count: it costs time only.
func measureInChild(b *testing.B, name string, iterations int, godebug ...string) map[string]float64 {
	b.Helper()
	if env := os.Getenv("GODEBUG"); env != "" {
		godebug = append([]string{env}, godebug...)
	}
	args := []string{"-test.run=^$", "-test.bench=" + benchPattern(name), fmt.Sprintf("-test.benchtime=%dx", iterations)}
	if benchmem := flag.Lookup("test.benchmem"); benchmem != nil && benchmem.Value.String() == "true" {
		args = append(args, "-test.benchmem")
	}
	cmd := exec.CommandContext(b.Context(), os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "GODEBUG="+strings.Join(godebug, ","),
		fmt.Sprintf("GOMAXPROCS=%d", runtime.GOMAXPROCS(0)))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr // apart, so that no log line can split a result line
	out, err := cmd.Output()
	var results map[string]float64
	if err == nil {
		results, err = benchResults(out, name)
	}
	if err != nil {
		b.Fatalf("running %v: %v\n%s%s", cmd.Args, err, out, stderr.Bytes())
	}
	return results
}

// reportAll reports results as b's. The child's ns/op (and B/op and
// allocs/op, with -benchmem) replace b's own, which timed the child
// process.
func reportAll(b *testing.B, results map[string]float64) {
	for unit, value := range results {
		b.ReportMetric(value, unit)
	}
}

// benchPattern returns the -test.bench pattern that matches exactly the
// benchmark called name.
func benchPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, part := range parts {
		parts[i] = "^" + regexp.QuoteMeta(part) + "$"
	}
	return strings.Join(parts, "/")
}

// benchResults returns the results, by unit, on the line of benchmark name
// in the output of go test -bench.
func benchResults(out []byte, name string) (map[string]float64, error) {
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 || (fields[0] != name && !strings.HasPrefix(fields[0], name+"-")) {
			continue
		}
		results, ok := parseResults(fields)
		if !ok {
			return nil, fmt.Errorf("malformed result line %q", line)
		}
		return results, nil
	}
	return nil, fmt.Errorf("no result line for %s", name)
}

// parseResults parses the fields of a result line: the benchmark's name,
// its iterations, then pairs of a value and its unit.
func parseResults(fields []string) (map[string]float64, bool) {
	if len(fields) < 4 || len(fields)%2 != 0 {
		return nil, false
	}
	if _, err := strconv.Atoi(fields[1]); err != nil {
		return nil, false
	}
	results := make(map[string]float64)
	for i := 2; i < len(fields); i += 2 {
		value, err := strconv.ParseFloat(fields[i], 64)
		if err != nil {
			return nil, false
		}
		results[fields[i+1]] = value
	}
	return results, true
}
