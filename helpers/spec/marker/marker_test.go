package marker

import (
	"encoding/json"
	"reflect"
	"testing"
)

// Every kind survives a round trip through its line, with testing's location before it; lines
// that are not markers, or are broken, give nothing.
func TestLineParse(t *testing.T) {
	for _, r := range []Record{
		{Kind: Covers, IDs: []string{"SYNC-3", "SYNC-4"}},
		{Kind: Choice, ID: "MAP-4", Text: "keeps the longer: 2 of 2"},
		{Kind: Observed, ID: "FED-6", Text: "creation order"},
		{Kind: FailCode, Code: "lost-events"},
		{Kind: Timeline, Timeline: json.RawMessage(`{"kind":"seen","at":1}`)},
		{Kind: Inconclusive, Text: "too slow"},
		{Kind: ControlFailed, Text: "the control is missing"},
		{Kind: NotImplemented, Server: "hs2 (img)", Feature: Sticky, Text: "hs2 (img): not advertised"},
		{Kind: NotApplicable, Text: "needs a third server"},
	} {
		got, ok := Parse("    a_test.go:12: " + Line(r))
		if !ok || !reflect.DeepEqual(got, r) {
			t.Errorf("expected %+v back from %q, got %+v (ok=%v)", r, Line(r), got, ok)
		}
	}
	for _, l := range []string{"", "    a_test.go:1: expected x, got y", Prefix + " {not json", Prefix + ` {"ids":["A"]}`} {
		if r, ok := Parse(l); ok {
			t.Errorf("expected no record in %q, got %+v", l, r)
		}
	}
}
