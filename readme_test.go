package dependency_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeExample checks that the code in README.md's "Installing
// manifolds" section is the body of Example_installingManifolds, which go
// test compiles and runs.
func TestReadmeExample(t *testing.T) {
	readme := between(t, "README.md", "## Installing manifolds\n\n```go\n", "```\n")
	example := between(t, "example_test.go", "func Example_installingManifolds() {\n", "\t// Output:\n")
	var body strings.Builder
	for _, line := range strings.SplitAfter(example, "\n") {
		body.WriteString(strings.TrimPrefix(line, "\t"))
	}

	readmeLines, bodyLines := strings.Split(readme, "\n"), strings.Split(body.String(), "\n")
	for i := range max(len(readmeLines), len(bodyLines)) {
		if i >= len(readmeLines) || i >= len(bodyLines) || readmeLines[i] != bodyLines[i] {
			t.Fatalf("README.md's snippet has %d lines, the example's body %d; they differ first at line %d:\nREADME:  %q\nexample: %q",
				len(readmeLines), len(bodyLines), i+1, lineOrEnd(readmeLines, i), lineOrEnd(bodyLines, i))
		}
	}
}

// between returns the text of file between the first start and the first
// end after it, or fails t.
func between(t *testing.T, file, start, end string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("ReadFile(%q) = %v, want nil", file, err)
	}
	_, after, ok := strings.Cut(string(data), start)
	if !ok {
		t.Fatalf("%s has no %q", file, start)
	}
	text, _, ok := strings.Cut(after, end)
	if !ok {
		t.Fatalf("%s has no %q after %q", file, end, start)
	}
	return text
}

func lineOrEnd(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(end)"
}
