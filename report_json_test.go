package dependency_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/seedworks/dependency"
)

func TestReportJSON(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness()
		engine := startMixedGraph(t, h)
		data, err := json.Marshal(engine.Report())
		if err != nil {
			t.Fatalf("json.Marshal(Report()) = %v, want nil", err)
		}

		// The raw JSON, as an operator reads it.
		var raw struct {
			State     string                    `json:"state"`
			Error     *string                   `json:"error"`
			Manifolds map[string]map[string]any `json:"manifolds"`
		}
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatalf("json.Unmarshal(%s) = %v, want nil", data, err)
		}
		if raw.State != "started" || raw.Error != nil {
			t.Errorf("engine state, error = %q, %v; want \"started\" and no error in %s", raw.State, raw.Error, data)
		}
		config := raw.Manifolds["config"]
		started, _ := config["started"].(string)
		if at, err := time.Parse(time.RFC3339, started); err != nil || !at.Equal(epoch) {
			t.Errorf("manifolds.config.started = %q, want %v in RFC 3339", started, epoch)
		}
		delete(config, "started")
		want := map[string]any{
			"state":       "started",
			"start_count": 1.0,
			"worker":      map[string]any{"version": 3.0},
		}
		if !jsonEqual(config, want) {
			t.Errorf("manifolds.config = %v, want %v", config, want)
		}
		web := raw.Manifolds["web"]
		if web["state"] != "stopped" || web["started"] != nil || web["worker"] != nil {
			t.Errorf("manifolds.web = %v, want stopped, without started time or worker", web)
		}
		if msg, _ := web["error"].(string); !strings.Contains(msg, `"auth"`) {
			t.Errorf("manifolds.web.error = %q, want the missing input \"auth\" named", msg)
		}
		if !jsonEqual(web["inputs"], []any{"api", "auth"}) || !jsonEqual(web["missing"], []any{"auth"}) {
			t.Errorf("manifolds.web inputs, missing = %v, %v; want [api auth], [auth]", web["inputs"], web["missing"])
		}
		if auth := raw.Manifolds["auth"]; auth["state"] != "starting" || auth["error"] != errFailed.Error() {
			t.Errorf("manifolds.auth = %v, want starting with error %q", auth, errFailed)
		}

		// Decoding gives back the report.
		var got dependency.Report
		if err := json.Unmarshal(data, &got); err != nil {
			t.Fatalf("json.Unmarshal into Report = %v, want nil", err)
		}
		if got.State != dependency.StateStarted || got.Err != nil || len(got.Manifolds) != 5 {
			t.Fatalf("decoded report = %+v, want started, no error, 5 manifolds", got)
		}
		c := got.Manifolds["config"]
		if c.State != dependency.StateStarted || c.StartCount != 1 || !c.Started.Equal(epoch) || c.Err != nil {
			t.Errorf("decoded config = %+v, want started once at %v, no error", c, epoch)
		}
		if v := c.Worker["version"]; v != 3.0 {
			t.Errorf("decoded config.Worker[\"version\"] = %v, want 3", v)
		}
		a := got.Manifolds["auth"]
		if a.State != dependency.StateStarting || a.Err == nil || a.Err.Error() != errFailed.Error() {
			t.Errorf("decoded auth = %+v, want starting with error %q", a, errFailed)
		}
		if d := got.Manifolds["db"]; !slices.Equal(d.Inputs, []string{"config", "secrets"}) || !slices.Equal(d.Missing, []string{"secrets"}) {
			t.Errorf("decoded db inputs, missing = %v, %v; want [config secrets], [secrets]", d.Inputs, d.Missing)
		}
		stopEngine(t, engine, nil)
	})
}

func TestReportJSONStoppedEngine(t *testing.T) {
	r := dependency.Report{State: dependency.StateStopped, Err: errFailed}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal(%+v) = %v, want nil", r, err)
	}
	want := `{"state":"stopped","error":"worker failed","manifolds":{}}`
	if string(data) != want {
		t.Errorf("json.Marshal(%+v) = %s, want %s", r, data, want)
	}
}

func TestReportJSONUnmarshallableWorkerReport(t *testing.T) {
	r := dependency.Report{Manifolds: map[string]dependency.ManifoldReport{
		"a": {State: dependency.StateStarted, Worker: map[string]any{"f": func() {}}},
		"b": {State: dependency.StateStarted, Worker: map[string]any{"ok": true}},
	}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal = %v, want nil", err)
	}
	var got dependency.Report
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v, want nil", data, err)
	}
	if msg, _ := got.Manifolds["a"].Worker["error"].(string); !strings.HasPrefix(msg, "cannot marshal worker report") {
		t.Errorf("a's worker report = %v, want an error saying it cannot be marshalled", got.Manifolds["a"].Worker)
	}
	if ok := got.Manifolds["b"].Worker["ok"]; ok != true {
		t.Errorf("b's worker report = %v, want {ok: true}", got.Manifolds["b"].Worker)
	}

	data, err = json.Marshal(r.Manifolds["a"])
	if err != nil {
		t.Fatalf("json.Marshal(a's report) = %v, want nil", err)
	}
	var a dependency.ManifoldReport
	if err := json.Unmarshal(data, &a); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v, want nil", data, err)
	}
	if msg, _ := a.Worker["error"].(string); !strings.HasPrefix(msg, "cannot marshal worker report") {
		t.Errorf("a's worker report alone = %v, want an error saying it cannot be marshalled", a.Worker)
	}
}

func TestStateText(t *testing.T) {
	for _, s := range []dependency.State{dependency.StateStopped, dependency.StateStarting, dependency.StateStarted, dependency.StateStopping} {
		data, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("json.Marshal(%v) = %v, want nil", s, err)
		}
		if want := `"` + s.String() + `"`; string(data) != want {
			t.Errorf("json.Marshal(%v) = %s, want %s", s, data, want)
		}
		var got dependency.State
		if err := json.Unmarshal(data, &got); err != nil || got != s {
			t.Errorf("json.Unmarshal(%s) = %v, %v; want %v, nil", data, got, err, s)
		}
	}
	var s dependency.State
	if err := json.Unmarshal([]byte(`"running"`), &s); err == nil {
		t.Errorf("json.Unmarshal(\"running\") = nil error, want one: not a state")
	}
	if data, err := json.Marshal(dependency.State(7)); err != nil || string(data) != `"unknown"` {
		t.Errorf("json.Marshal(State(7)) = %s, %v; want \"unknown\", nil", data, err)
	}
}

// panickingJSON is a worker report's value whose MarshalJSON panics.
type panickingJSON struct{}

func (panickingJSON) MarshalJSON() ([]byte, error) { panic("no JSON today") }

// panickingError is an error whose Error method panics.
type panickingError struct{}

func (panickingError) Error() string { panic("no text today") }

func TestReportJSONPanickingWorkerReport(t *testing.T) {
	r := dependency.Report{Manifolds: map[string]dependency.ManifoldReport{
		"a": {State: dependency.StateStarted, Worker: map[string]any{"p": panickingJSON{}}},
		"b": {State: dependency.StateStarted, Worker: map[string]any{"ok": true}},
	}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal = %v, want nil", err)
	}
	var got dependency.Report
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v, want nil", data, err)
	}
	if msg, _ := got.Manifolds["a"].Worker["error"].(string); !strings.Contains(msg, "no JSON today") {
		t.Errorf("a's worker report = %v, want an error carrying the panic's value", got.Manifolds["a"].Worker)
	}
	if ok := got.Manifolds["b"].Worker["ok"]; ok != true {
		t.Errorf("b's worker report = %v, want {ok: true}", got.Manifolds["b"].Worker)
	}
}

func TestReportJSONPanickingError(t *testing.T) {
	r := dependency.Report{Err: panickingError{}, Manifolds: map[string]dependency.ManifoldReport{
		"a": {State: dependency.StateStarting, Err: panickingError{}},
	}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal = %v, want nil", err)
	}
	var got dependency.Report
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v, want nil", data, err)
	}
	if got.Err == nil || !strings.Contains(got.Err.Error(), "no text today") {
		t.Errorf("decoded engine error = %v, want one carrying the panic's value", got.Err)
	}
	if err := got.Manifolds["a"].Err; err == nil || !strings.Contains(err.Error(), "no text today") {
		t.Errorf("decoded a's error = %v, want one carrying the panic's value", err)
	}
}

func TestReportJSONUnknownState(t *testing.T) {
	r := dependency.Report{State: dependency.State(9), Manifolds: map[string]dependency.ManifoldReport{
		"a": {State: dependency.State(-3)},
	}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("json.Marshal(report with unknown states) = %v, want nil", err)
	}
	if want := `{"state":"unknown","manifolds":{"a":{"state":"unknown","start_count":0}}}`; string(data) != want {
		t.Errorf("json.Marshal(report with unknown states) = %s, want %s", data, want)
	}
	var got dependency.Report
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("json.Unmarshal(%s) = %v, want nil", data, err)
	}
	if got.State.String() != "unknown" || got.Manifolds["a"].State.String() != "unknown" {
		t.Errorf("decoded states = %v, %v; want unknown, unknown", got.State, got.Manifolds["a"].State)
	}
}
