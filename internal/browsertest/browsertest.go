// Package browsertest starts headless Chromium for the tests that look at
// a page as a person would, through github.com/chromedp/chromedp. Only
// tests import it, so no program pays for chromedp.
package browsertest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Chromium is where Debian's chromium package installs the browser; CI
// installs it there when it is missing (.ci/run).
const Chromium = "/usr/bin/chromium"

// flags start Chromium with nothing that reaches for the network by
// itself: on a machine whose network is closed, Chromium would otherwise
// wait on those connections.
var flags = []string{
	"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
	"disable-background-networking", "disable-component-update", "disable-sync",
}

// New starts a fresh headless Chromium, with a profile of its own in a
// temporary directory, and returns a chromedp context on a tab of it. The
// browser is closed when t ends, or when timeout has passed: a guard
// against a hang, not a measure. Without Chromium, New skips t; under
// CI=true it fails t instead, since CI installs Chromium.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(Chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Chromium is missing (%v); CI installs it with apt-get install -y chromium", err)
		}
		t.Skipf("Chromium is missing (%v): apt-get install -y chromium", err)
	}
	options := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(Chromium),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	for _, flag := range flags {
		options = append(options, chromedp.Flag(flag, true))
	}
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	ctx, cancelAllocator := chromedp.NewExecAllocator(ctx, options...)
	ctx, cancelBrowser := chromedp.NewContext(ctx, chromedp.WithLogf(discard), chromedp.WithErrorf(discard))
	t.Cleanup(func() {
		cancelBrowser()
		cancelAllocator() // waits for Chromium to exit
		cancelTimeout()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("cannot start Chromium: %v", err)
	}
	return ctx
}

// discard drops chromedp's own log lines, which are about protocol events
// it does not know rather than about the page.
func discard(string, ...any) {}
