// Package marker is the one way a test tells the report something beside its outcome: one log
// line holding a record with a kind,
//
//	STICKLER: {"kind":"covers","ids":["SYNC-3"]}
//	STICKLER: {"kind":"failcode","code":"duplicate-delivery"}
//	STICKLER: {"kind":"timeline","timeline":{"kind":"seen","at":1767355200123,"client":"bob@hs2","event":"$abc"}}
//	STICKLER: {"kind":"control-failed","text":"the event without the marker is not in the sticky section"}
//
// written by Log (spec.Covers, spec.Choice, spec.Observe, spec.MarkFailure, the endings
// spec.Inconclusive, spec.ControlFailed, spec.NotImplemented and spec.NotApplicable, and the
// timeline package call it) and read back from the `go test -json` stream by Parse
// (helpers/results/report). The report learns how a skipped test ended from its ending record,
// never from the words of the skip.
package marker

import (
	"encoding/json"
	"strings"
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

	// The endings: a test that cannot judge the server logs one of these, then skips with
	// the record's Reason (package spec's functions of the same names do both).
	Inconclusive   Kind = "inconclusive"    // Text: why the server could not be judged (the machine was too slow, a hazard not exercised)
	ControlFailed  Kind = "control-failed"  // Text: which control of the verdict failed, so the verdict would prove nothing
	NotImplemented Kind = "not-implemented" // Server, Feature, Text: the server does not advertise a feature the test needs
	NotApplicable  Kind = "not-applicable"  // Text: the deployment or image lacks what the test needs (a server of another kind, an image label)
)

// The features of MSC4354 a not-implemented record may name (Record.Feature): the /versions
// flags the suite reads (package wire spells its flags with these). A record naming another
// feature (MSC4140's flag) is a skip for that feature alone, not a server without sticky events.
const (
	Sticky       = "org.matrix.msc4354"        // sticky events: not advertised at all
	StickyStable = "org.matrix.msc4354.stable" // sticky events under their stable names: only the unstable ones advertised
)

// Ending says whether records of kind k end a test (a skip the report reads by kind).
func Ending(k Kind) bool {
	return k == Inconclusive || k == ControlFailed || k == NotImplemented || k == NotApplicable
}

// Record is one marker line.
type Record struct {
	Kind     Kind            `json:"kind"`
	IDs      []string        `json:"ids,omitempty"`
	ID       string          `json:"id,omitempty"`
	Text     string          `json:"text,omitempty"`
	Code     string          `json:"code,omitempty"`
	Server   string          `json:"server,omitempty"`  // not-implemented: the server, "hs2 (image)"
	Feature  string          `json:"feature,omitempty"` // not-implemented: the /versions flag it does not advertise
	Timeline json.RawMessage `json:"timeline,omitempty"`
}

// Reason is the readable reason of an ending record, the words its test skips with: an
// inconclusive one says so first ("inconclusive: ", "inconclusive: control failed: "), the
// others are their text.
func (r Record) Reason() string {
	switch r.Kind {
	case Inconclusive:
		return "inconclusive: " + r.Text
	case ControlFailed:
		return "inconclusive: control failed: " + r.Text
	}
	return r.Text
}

// Line is the text of r's marker line (what Log logs).
func Line(r Record) string {
	b, err := json.Marshal(r)
	if err != nil { // cannot happen: a Timeline that is not JSON is a bug of the caller
		panic("marker: " + err.Error())
	}
	return Prefix + " " + string(b)
}

// Logger is the part of testing.TB Log uses.
type Logger interface {
	Helper()
	Logf(format string, args ...any)
}

// Log writes r into t's log.
func Log(t Logger, r Record) {
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
