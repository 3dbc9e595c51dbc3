package introspect

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seedworks/dependency"
)

// notInstalled is n names of inputs that no report installs.
func notInstalled(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("absent%05d", i)
	}
	return names
}

func TestPartialPictureBoundsEveryBox(t *testing.T) {
	reports := map[string]dependency.Report{
		"failing with 20,000 inputs not installed": withMissing(map[string]dependency.ManifoldReport{
			"failing": failed("inputs missing", time.Second, notInstalled(20000)...),
		}),
		"started with 20,000 inputs not installed": withMissing(map[string]dependency.ManifoldReport{
			"greedy": started(notInstalled(20000)...),
		}),
		"nested engine with 20,000 inputs not installed": withMissing(map[string]dependency.ManifoldReport{
			"outer": nested(withMissing(map[string]dependency.ManifoldReport{
				"failing": failed("inputs missing", time.Second, notInstalled(20000)...),
			}).Manifolds),
		}),
		"10,000 manifolds": randomReport(10000, 1),
	}
	for name, report := range reports {
		t.Run(name, func(t *testing.T) {
			p := draw(report, epoch)
			if len(p.boxes) > readableLimit {
				t.Errorf("picture draws %d boxes, want at most %d", len(p.boxes), readableLimit)
			}
			title := strings.Join(p.title, " ")
			if !strings.Contains(title, "more than a picture can show readably") {
				t.Errorf("title = %q, want it to say what is left out", title)
			}
			checkNoOverlap(t, p)
			checkWellFormed(t, p.svg())
		})
	}
}

func TestPartialPictureSaysWhichInputsItLeavesOut(t *testing.T) {
	report := withMissing(map[string]dependency.ManifoldReport{
		"failing": failed("inputs missing", time.Second, notInstalled(20000)...),
	})
	p := draw(report, epoch)
	if tooltip := findBox(t, p, "failing").tooltip(); len(tooltip) > 1000 || !strings.Contains(tooltip, "and 19980 more") {
		t.Errorf("failing's tooltip = %q, want at most 1,000 bytes, saying how many inputs it does not list", tooltip)
	}
	findBox(t, p, "absent00000")
	title := strings.Join(p.title, " ")
	if want := fmt.Sprintf("%d of the 20000 inputs that are not installed", readableLimit-1); !strings.Contains(title, want) {
		t.Errorf("title = %q, want it to say %q", title, want)
	}
}
