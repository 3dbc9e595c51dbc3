package dependency

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/juju/errors"
)

// MarshalText returns the state as its word, as String does, so that
// encoding/json writes "started" rather than 2. A state out of range, as
// another Engine implementation may report, is "unknown"; it never fails.
func (s State) MarshalText() ([]byte, error) {
	return []byte(s.String()), nil
}

// stateUnknown is what UnmarshalText makes of "unknown": a state out of
// range, which String and MarshalText write as "unknown" again.
const stateUnknown State = -1

// UnmarshalText sets the state from its word, as written by MarshalText.
func (s *State) UnmarshalText(text []byte) error {
	if string(text) == stateUnknown.String() {
		*s = stateUnknown
		return nil
	}
	i := slices.Index(stateNames[:], string(text))
	if i < 0 {
		return errors.Errorf("cannot unmarshal state %q: no such state", text)
	}
	*s = State(i)
	return nil
}

// reportJSON is the JSON form of a Report.
type reportJSON struct {
	State     State                         `json:"state"`
	Err       string                        `json:"error,omitempty"`
	Settled   bool                          `json:"settled,omitempty"`
	Manifolds map[string]manifoldReportJSON `json:"manifolds"`
}

// MarshalJSON writes the report as readable JSON: states as words, errors
// as their messages, times in RFC 3339; nil errors, zero times and empty
// lists are left out. Manifolds are keyed, and so sorted, by name. A
// worker report that cannot be marshalled, because a value in it fails or
// panics, is replaced by one whose "error" entry says why, and an error
// whose Error method panics by the panic's text, so that one worker cannot
// spoil the whole report. A state out of range is "unknown".
func (r Report) MarshalJSON() ([]byte, error) {
	j := reportJSON{State: r.State, Err: errorText(r.Err), Settled: r.Settled, Manifolds: make(map[string]manifoldReportJSON, len(r.Manifolds))}
	for name, m := range r.Manifolds {
		j.Manifolds[name] = m.toJSON()
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON wrote. An error comes back as an
// error with the same message, which matches no sentinel: errors.Is(err,
// ErrMissing) is false even if the original wrapped ErrMissing.
func (r *Report) UnmarshalJSON(data []byte) error {
	var j struct {
		State     State                     `json:"state"`
		Err       string                    `json:"error"`
		Settled   bool                      `json:"settled,omitempty"`
		Manifolds map[string]ManifoldReport `json:"manifolds"`
	}
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	*r = Report{State: j.State, Err: textError(j.Err), Settled: j.Settled, Manifolds: j.Manifolds}
	return nil
}

// manifoldReportJSON is the JSON form of a ManifoldReport.
type manifoldReportJSON struct {
	State      State           `json:"state"`
	Inputs     []string        `json:"inputs,omitempty"`
	Flags      []string        `json:"flags,omitempty"`
	Gated      []string        `json:"gated,omitempty"`
	Flag       *bool           `json:"flag,omitempty"`
	Missing    []string        `json:"missing,omitempty"`
	StartCount int             `json:"start_count"`
	Failures   int             `json:"failures,omitempty"`
	Bounces    int             `json:"bounces,omitempty"`
	Started    time.Time       `json:"started,omitzero"`
	Err        string          `json:"error,omitempty"`
	Mistake    bool            `json:"mistake,omitempty"` // Err wraps ErrMistake
	Due        time.Time       `json:"due,omitzero"`
	Resources  []resourceJSON  `json:"resources,omitempty"`
	WaitingFor []string        `json:"waiting_for,omitempty"`
	Worker     json.RawMessage `json:"worker,omitempty"` // marshalled alone, so that its faults stay its own
	Engine     *Report         `json:"engine,omitempty"`
}

func (m ManifoldReport) toJSON() manifoldReportJSON {
	return manifoldReportJSON{
		State:      m.State,
		Inputs:     m.Inputs,
		Flags:      m.Flags,
		Gated:      m.Gated,
		Flag:       m.Flag,
		Missing:    m.Missing,
		StartCount: m.StartCount,
		Failures:   m.Failures,
		Bounces:    m.Bounces,
		Started:    m.Started,
		Err:        errorText(m.Err),
		Mistake:    isMistake(m.Err),
		Due:        m.Due,
		Resources:  resourcesJSON(m.Resources),
		WaitingFor: m.WaitingFor,
		Worker:     workerJSON(m.Worker),
		Engine:     m.Engine,
	}
}

// MarshalJSON writes the manifold's report as Report.MarshalJSON describes.
func (m ManifoldReport) MarshalJSON() ([]byte, error) {
	return json.Marshal(m.toJSON())
}

// workerJSON returns the worker's report as JSON, nil for an empty one, or,
// when it cannot be marshalled, a report whose "error" entry says why.
func workerJSON(worker map[string]any) json.RawMessage {
	if len(worker) == 0 {
		return nil
	}
	data, err := marshalGuarded(worker)
	if err != nil {
		data, _ = json.Marshal(map[string]string{"error": "cannot marshal worker report: " + err.Error()})
	}
	return data
}

// marshalGuarded is json.Marshal with a panic in a value's own marshalling
// returned as an error.
func marshalGuarded(v any) (data []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = newPanicError("marshalling", p)
		}
	}()
	return json.Marshal(v)
}

// UnmarshalJSON reads what MarshalJSON wrote; errors come back as
// Report.UnmarshalJSON describes, and the worker report holds what
// encoding/json decodes into an any (numbers as float64, and so on).
func (m *ManifoldReport) UnmarshalJSON(data []byte) error {
	var j manifoldReportJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	var worker map[string]any
	if len(j.Worker) > 0 {
		if err := json.Unmarshal(j.Worker, &worker); err != nil {
			return err
		}
	}
	*m = ManifoldReport{
		State:      j.State,
		Inputs:     j.Inputs,
		Flags:      j.Flags,
		Gated:      j.Gated,
		Flag:       j.Flag,
		Missing:    j.Missing,
		StartCount: j.StartCount,
		Failures:   j.Failures,
		Bounces:    j.Bounces,
		Started:    j.Started,
		Err:        mistakeIf(j.Mistake, textError(j.Err)),
		Due:        j.Due,
		Resources:  resourcesFromJSON(j.Resources),
		WaitingFor: j.WaitingFor,
		Worker:     worker,
		Engine:     j.Engine,
	}
	return nil
}

// resourceJSON is the JSON form of a ResourceRequest.
type resourceJSON struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"`
	Err  string `json:"error,omitempty"`
}

func resourcesJSON(requests []ResourceRequest) []resourceJSON {
	var j []resourceJSON
	for _, r := range requests {
		j = append(j, resourceJSON{r.Name, r.Type, errorText(r.Err)})
	}
	return j
}

func resourcesFromJSON(j []resourceJSON) []ResourceRequest {
	var requests []ResourceRequest
	for _, r := range j {
		requests = append(requests, ResourceRequest{r.Name, r.Type, textError(r.Err)})
	}
	return requests
}

// isMistake reports whether err wraps ErrMistake; a panic in one of its
// methods makes it no mistake of ours.
func isMistake(err error) (mistaken bool) {
	defer func() { _ = recover() }()
	return errors.Is(err, ErrMistake)
}

// mistakeIf returns err, wrapping ErrMistake too if mistaken.
func mistakeIf(mistaken bool, err error) error {
	if !mistaken || err == nil {
		return err
	}
	return fmt.Errorf("%w%w", err, errors.Hide(ErrMistake))
}

// errorText returns err's message, or "" for nil; a panic in its Error
// method gives the panic's text instead.
func errorText(err error) (text string) {
	if err == nil {
		return ""
	}
	defer func() {
		if p := recover(); p != nil {
			text = newPanicError("Error method", p).Error()
		}
	}()
	return err.Error()
}

// textError returns an error with the message text, or nil for "".
func textError(text string) error {
	if text == "" {
		return nil
	}
	return errors.New(text)
}
