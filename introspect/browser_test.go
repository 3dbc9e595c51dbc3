package introspect

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/seedworks/dependency"
	"github.com/seedworks/dependency/internal/browsertest"
)

// The browser tests wait on real time: browserTimeout only guards against
// a hang. Each wait polls the page for what it expects.
const browserTimeout = 2 * time.Minute

func TestPageInBrowser(t *testing.T) {
	ctx := browsertest.New(t, browserTimeout)
	fail := make(chan struct{})
	engine := newBrowserEngine(t, fail)
	server := serveUnderPrefix(engine)
	defer server.Close()

	do(t, ctx, chromedp.Navigate(server.URL+"/debug/engine/"))
	waitInPage(t, ctx, "every worker drawn started", `document.querySelectorAll('#graph g.manifold.started').length === 7`)

	type picture struct {
		Manifolds []string `json:"manifolds"`
		Absent    []string `json:"absent"`
		Arrows    []string `json:"arrows"`
		Dashed    []string `json:"dashed"`
	}
	drawn := evaluate[picture](t, ctx, `(() => {
		const paths = sel => [...document.querySelectorAll('#graph svg ' + sel)].map(e => e.dataset.path);
		const arrows = sel => [...document.querySelectorAll('#graph svg ' + sel)].map(e => e.dataset.from + ' -> ' + e.dataset.to);
		return {manifolds: paths('g.manifold'), absent: paths('g.absent'), arrows: arrows('path.arrow'), dashed: arrows('path.arrow.missing')};
	})()`)
	wantSorted(t, "manifolds drawn", drawn.Manifolds, "a", "b", "c", "d", "failer", "nested", "nested/x", "nested/y")
	wantSorted(t, "absent inputs drawn", drawn.Absent, "ghost")
	wantSorted(t, "arrows drawn", drawn.Arrows,
		"a -> b", "a -> c", "b -> c", "a -> d", "ghost -> d", "a -> failer", "a -> nested", "nested/x -> nested/y")
	wantSorted(t, "dashed arrows", drawn.Dashed, "ghost -> d")

	// The page must redraw in place: a reload would lose this mark.
	evaluate[bool](t, ctx, `window.notReloaded = true`)
	close(fail)
	waitInPage(t, ctx, "failer drawn failed, without a reload", `window.notReloaded === true &&
		document.querySelector('#graph g.manifold.failed[data-path="failer"]') !== null`)
	due := evaluate[string](t, ctx, `document.querySelector('#graph g[data-path="failer"] text.due').textContent`)
	if !strings.HasPrefix(due, "restarts in ") {
		t.Errorf("failer's countdown = %q, want it to start %q", due, "restarts in ")
	}
	waitInPage(t, ctx, "the countdown moving", fmt.Sprintf(`(() => {
		const due = document.querySelector('#graph g[data-path="failer"] text.due');
		return due !== null && due.textContent !== %q;
	})()`, due))
	errorText := evaluate[string](t, ctx, `document.querySelector('#graph g[data-path="failer"] text.error').textContent`)
	if errorText != errBroken.Error() {
		t.Errorf("failer's error text = %q, want %q", errorText, errBroken.Error())
	}

	engine.Kill()
	_ = engine.Wait()
	waitInPage(t, ctx, "the page saying the engine stopped", `document.getElementById('status').className === 'stopped' &&
		document.getElementById('status').textContent.startsWith('The engine has stopped')`)
	server.Close()
	waitInPage(t, ctx, "the page saying the server is gone", `document.getElementById('status').className === 'gone'`)
}

func TestPageInBrowserAtScale(t *testing.T) {
	ctx := browsertest.New(t, browserTimeout)
	report := randomReport(10000, 1)
	server := serveUnderPrefix(&fixedEngine{report: report})
	defer server.Close()

	began := time.Now()
	do(t, ctx, chromedp.Navigate(server.URL+"/debug/engine/"))
	waitInPage(t, ctx, "a picture", `document.querySelector('#graph svg') !== null`)
	t.Logf("10,000 manifolds: the page showed its first picture %v after it was asked for", time.Since(began).Round(time.Millisecond))

	status := evaluate[string](t, ctx, `document.getElementById('status').textContent`)
	shown := evaluate[int](t, ctx, `document.querySelectorAll('#graph g.manifold').length`)
	total := countManifolds(report)
	if !strings.Contains(status, "manifolds are drawn") || !strings.Contains(status, fmt.Sprint(total)) {
		t.Errorf("status = %q, want it to say only some of the %d manifolds are drawn", status, total)
	}
	if shown == 0 || shown > readableLimit {
		t.Errorf("page draws %d manifolds of %d, want between 1 and %d", shown, total, readableLimit)
	}
	// The picture does not change, so the page keeps the one it has while
	// the status moves on.
	evaluate[string](t, ctx, `document.querySelector('#graph svg').dataset.kept = 'yes'`)
	waitInPage(t, ctx, "another answer from the server", fmt.Sprintf(`document.getElementById('status').textContent !== %q`, status))
	status = evaluate[string](t, ctx, `document.getElementById('status').textContent`)
	waitInPage(t, ctx, "one more answer from the server", fmt.Sprintf(`document.getElementById('status').textContent !== %q`, status))
	if kept := evaluate[bool](t, ctx, `document.querySelector('#graph svg').dataset.kept === 'yes'`); !kept {
		t.Errorf("page replaced a picture that had not changed, want it kept")
	}

	// One refresh that gets a new picture, timed in the page: fetch, parse,
	// put in place, and the next frame drawn.
	refresh, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](`(async () => {
		const began = performance.now();
		const text = await (await fetch('graph.svg', {cache: 'no-store'})).text();
		const fetched = performance.now();
		const svg = new DOMParser().parseFromString(text, 'image/svg+xml').documentElement;
		document.getElementById('graph').replaceChildren(document.importNode(svg, true));
		await new Promise(resolve => requestAnimationFrame(() => resolve()));
		return [fetched - began, performance.now() - began];
	})()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("timing a refresh: %v", err)
	}
	t.Logf("10,000 manifolds: one refresh of the page took %.0f ms (fetch %.0f)", refresh[1], refresh[0])
	note := evaluate[string](t, ctx, `[...document.querySelectorAll('#graph text.title')].map(t => t.textContent).join(' ')`)
	if !strings.Contains(note, "more than a picture can show readably") {
		t.Errorf("picture's title = %q, want it to say what is left out", note)
	}
}

func TestPageInBrowserUnknownState(t *testing.T) {
	ctx := browsertest.New(t, browserTimeout)
	report := agentReport()
	report.State = dependency.State(9)
	server := serveUnderPrefix(&fixedEngine{report: report})
	defer server.Close()

	do(t, ctx, chromedp.Navigate(server.URL+"/debug/engine/"))
	waitInPage(t, ctx, "a picture", `document.querySelector('#graph svg') !== null`)
	if status := evaluate[string](t, ctx, `document.getElementById('status').textContent`); !strings.HasPrefix(status, "The engine's state is unknown") {
		t.Errorf("status of an engine in an unknown state = %q, want it to start %q", status, "The engine's state is unknown")
	}
}

// newBrowserEngine returns a running engine of seven manifolds, two of
// them in a nested engine, and an input that is not installed. The worker
// of "failer" fails once fail is closed, and is restarted only after a
// minute, so the page can show its countdown.
func newBrowserEngine(t *testing.T, fail <-chan struct{}) dependency.Engine {
	t.Helper()
	engine, err := dependency.New(dependency.EngineConfig{ErrorDelay: time.Minute, Logger: discard{}})
	if err != nil {
		t.Fatalf("New() = %v, want nil", err)
	}
	t.Cleanup(func() {
		engine.Kill()
		_ = engine.Wait()
	})
	err = dependency.Install(engine, dependency.Manifolds{
		"a": {Start: idleStart},
		"b": {Inputs: []string{"a"}, Start: idleStart},
		"c": {Inputs: []string{"a", "b"}, Start: idleStart},
		"d": {Inputs: []string{"a", "ghost"}, Start: func(get dependency.GetResourceFunc) (dependency.Worker, error) {
			if err := get("ghost", nil); err != nil {
				return nil, err
			}
			return idleStart(get)
		}},
		"failer": {Inputs: []string{"a"}, Start: func(dependency.GetResourceFunc) (dependency.Worker, error) {
			return failOn(fail), nil
		}},
		"nested": {Inputs: []string{"a"}, Start: startNested},
	})
	if err != nil {
		t.Fatalf("Install() = %v, want nil", err)
	}
	return engine
}

// startNested starts an engine of two manifolds, y using x.
func startNested(dependency.GetResourceFunc) (dependency.Worker, error) {
	nested, err := dependency.New(dependency.EngineConfig{Logger: discard{}})
	if err != nil {
		return nil, err
	}
	err = dependency.Install(nested, dependency.Manifolds{
		"x": {Start: idleStart},
		"y": {Inputs: []string{"x"}, Start: idleStart},
	})
	if err != nil {
		nested.Kill()
		return nil, err
	}
	return nested, nil
}

// failWorker fails with errBroken once its channel is closed.
type failWorker struct {
	idleWorker
	fail <-chan struct{}
}

func failOn(fail <-chan struct{}) *failWorker {
	return &failWorker{idleWorker{done: make(chan struct{})}, fail}
}

func (w *failWorker) Wait() error {
	select {
	case <-w.done:
		return nil
	case <-w.fail:
		return errBroken
	}
}

// serveUnderPrefix serves engine's handler at /debug/engine/ on loopback.
func serveUnderPrefix(engine dependency.Engine) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle("/debug/engine/", http.StripPrefix("/debug/engine", Handler(engine)))
	return httptest.NewServer(mux)
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("chromedp: %v", err)
	}
}

// evaluate returns the value of the expression in the page.
func evaluate[T any](t *testing.T, ctx context.Context, expression string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expression, err)
	}
	return v
}

// waitInPage polls the page until the expression is true; only the
// browser's timeout limits the wait.
func waitInPage(t *testing.T, ctx context.Context, what, expression string) {
	t.Helper()
	poll := chromedp.Poll[chromedp.Void](expression, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(0))
	if _, err := chromedp.Run(ctx, poll); err != nil {
		page, _ := chromedp.Run(context.WithoutCancel(ctx), chromedp.Evaluate[string](`document.body.outerHTML`))
		t.Fatalf("waiting for %s: %v; page:\n%s", what, err, page)
	}
}

func wantSorted(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}
