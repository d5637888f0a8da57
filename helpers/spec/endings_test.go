package spec

import (
	"fmt"
	"reflect"
	"testing"

	"stickler/helpers/spec/marker"
)

// skipRecorder is a SkipTB that keeps what an ending logs and skips with.
type skipRecorder struct {
	logs    []string
	skipped string
}

func (r *skipRecorder) Helper()                       {}
func (r *skipRecorder) Logf(f string, a ...any)       { r.logs = append(r.logs, fmt.Sprintf(f, a...)) }
func (r *skipRecorder) Skipf(f string, a ...any)      { r.skipped = fmt.Sprintf(f, a...) }
func (r *skipRecorder) record() (marker.Record, bool) { return marker.Parse(r.logs[0]) }

// Each ending logs one record of its kind, then skips with the record's reason: the words a
// reader sees, which the report takes from the record.
func TestEndingsLogThenSkip(t *testing.T) {
	for _, tc := range []struct {
		end    func(SkipTB)
		want   marker.Record
		reason string
	}{
		{func(t SkipTB) { Inconclusive(t, "only %v left", "2s") }, marker.Record{Kind: marker.Inconclusive, Text: "only 2s left"}, "inconclusive: only 2s left"},
		{func(t SkipTB) { ControlFailed(t, "the control %s is missing", "$c") }, marker.Record{Kind: marker.ControlFailed, Text: "the control $c is missing"}, "inconclusive: control failed: the control $c is missing"},
		{func(t SkipTB) { NotImplemented(t, "hs2 (img)", marker.Sticky, "hs2 (img): %s", "no flag") }, marker.Record{Kind: marker.NotImplemented, Server: "hs2 (img)", Feature: marker.Sticky, Text: "hs2 (img): no flag"}, "hs2 (img): no flag"},
		{func(t SkipTB) { NotApplicable(t, "needs %d servers", 3) }, marker.Record{Kind: marker.NotApplicable, Text: "needs 3 servers"}, "needs 3 servers"},
	} {
		r := &skipRecorder{}
		tc.end(r)
		got, ok := r.record()
		if len(r.logs) != 1 || !ok || !reflect.DeepEqual(got, tc.want) || !marker.Ending(got.Kind) {
			t.Errorf("want one record %+v, logged %q", tc.want, r.logs)
		}
		if r.skipped != tc.reason || got.Reason() != tc.reason {
			t.Errorf("want the skip %q (the record's reason), skipped %q, reason %q", tc.reason, r.skipped, got.Reason())
		}
	}
}
