package dependency_test

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeExample checks that README.md's first Go code block is
// examples/minimal/main.go as it stands: go vet and go test build that
// program, and its Example runs it and checks what it prints. So the
// program a reader copies from README.md compiles and does what it says.
func TestReadmeExample(t *testing.T) {
	readme := between(t, "README.md", "```go\n", "```\n")
	program, err := os.ReadFile("examples/minimal/main.go")
	if err != nil {
		t.Fatalf("ReadFile(%q) = %v, want nil", "examples/minimal/main.go", err)
	}

	readmeLines, programLines := strings.Split(readme, "\n"), strings.Split(string(program), "\n")
	for i := range max(len(readmeLines), len(programLines)) {
		if i >= len(readmeLines) || i >= len(programLines) || readmeLines[i] != programLines[i] {
			t.Fatalf("README.md's first Go block has %d lines, examples/minimal/main.go %d; they differ first at line %d:\nREADME:  %q\nprogram: %q",
				len(readmeLines), len(programLines), i+1, lineOrEnd(readmeLines, i), lineOrEnd(programLines, i))
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
