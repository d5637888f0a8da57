// Package marker is the one way a test tells the report something beside its outcome: one log
// line holding a record with a kind,
//
//	STICKLER: {"kind":"covers","ids":["SYNC-3"]}
//	STICKLER: {"kind":"failcode","code":"duplicate-delivery"}
//	STICKLER: {"kind":"timeline","timeline":{"kind":"seen","at":1767355200123,"client":"bob@hs2","event":"$abc"}}
//
// written by Log (spec.Covers, spec.Choice, spec.Observe, spec.MarkFailure and the timeline
// package call it) and read back from the `go test -json` stream by Parse (helpers/results/report).
package marker

import (
	"encoding/json"
	"strings"
	"testing"
)

// Prefix starts every marker line; the JSON record follows it after one space.
const Prefix = "STICKLER:"

// Kind says what a record tells.
type Kind string

const (
	Covers   Kind = "covers"   // IDs: the requirements the test checks (spec.Covers)
	Choice   Kind = "choice"   // ID, Text: the behaviour a server chose where the proposal allows several (spec.Choice)
	Observed Kind = "observed" // ID, Text: what a test that only observes saw (spec.Observe)
	FailCode Kind = "failcode" // Code: how the test failed, as a failure code (spec.MarkFailure)
	Timeline Kind = "timeline" // Timeline: one record of package timeline, as its JSON
)

// Record is one marker line.
type Record struct {
	Kind     Kind            `json:"kind"`
	IDs      []string        `json:"ids,omitempty"`
	ID       string          `json:"id,omitempty"`
	Text     string          `json:"text,omitempty"`
	Code     string          `json:"code,omitempty"`
	Timeline json.RawMessage `json:"timeline,omitempty"`
}

// Line is the text of r's marker line (what Log logs).
func Line(r Record) string {
	b, err := json.Marshal(r)
	if err != nil { // cannot happen: a Timeline that is not JSON is a bug of the caller
		panic("marker: " + err.Error())
	}
	return Prefix + " " + string(b)
}

// Log writes r into t's log.
func Log(t testing.TB, r Record) {
	t.Helper()
	t.Logf("%s", Line(r))
}

// Parse reads the record of one line of test output (testing's "file.go:12: " before it is
// allowed); ok is false when the line holds none.
func Parse(line string) (r Record, ok bool) {
	i := strings.Index(line, Prefix)
	if i < 0 {
		return Record{}, false
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(line[i+len(Prefix):])), &r); err != nil || r.Kind == "" {
		return Record{}, false
	}
	return r, true
}
