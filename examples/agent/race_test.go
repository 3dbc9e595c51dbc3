//go:build race

package main

// The tests build the agent with the race detector when they run with it,
// so that a data race in the agent or the engine fails them.
func init() {
	buildFlags = append(buildFlags, "-race")
}
