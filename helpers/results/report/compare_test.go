package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stickler/helpers/spec"
	"stickler/helpers/spec/marker"
)

// notAdvertised is the words of a not-implemented skip (wire.NotAdvertised), which the report
// shows but never reads: it reads the ending record.
const notAdvertised = "server does not advertise org.matrix.msc4354"

// notImplementedStream is a run against a server that does not advertise sticky events:
// TestDiscover fails with its code, the sticky tests skip with the not-advertised reason, a
// mixed-room test passes and one skips for another reason.
func notImplementedStream(t *testing.T) string {
	s := newStream(t)
	s.run("TestDiscover")
	s.covers("TestDiscover", "DISCOVER-1")
	s.mark("TestDiscover", func(tb testing.TB) { spec.MarkFailure(tb, "not-advertised") })
	s.log("TestDiscover", notAdvertised+" in /versions: sticky events not implemented or not enabled")
	s.end("TestDiscover", "fail", 0.1)
	for _, tc := range []struct {
		name string
		ids  []string
	}{
		{"TestSendStickyVisibleEverywhere", []string{"SEND-1"}},
		{"TestSendDurationBounds", []string{"SEND-2", "SEND-3"}},
		{"TestFedCatchUpAfterCrash", []string{"FED-4"}},
	} {
		s.ending(tc.name, tc.ids, marker.Record{Kind: marker.NotImplemented, Server: "hs1 (stickler-dendrite:synthetic)", Feature: marker.Sticky,
			Text: "hs1: " + notAdvertised + " in /versions: sticky events not implemented or not enabled"})
	}
	s.test("TestCompatStickyReachesOldServer", "pass", 3.2, []string{"COMPAT-1"})
	s.test("TestCompatJoinThroughOldServer", "skip", 0, []string{"COMPAT-3"}, "skipped: needs a deployment with two images (COMPLEMENT_BASE_IMAGE_HSn)")
	s.emit("output", "", "FAIL\tstickler/tests\t3.4s\n", 0)
	s.emit("fail", "", "", 3.4)
	return s.b.String()
}

// syntheticComparison compares the synthetic run (judged with its expectations), the
// not-implemented run, and the synthetic run again without a label or image.
func syntheticComparison(t *testing.T) (*Comparison, []*Summary) {
	res, exp := readSynthetic(t)
	syn := Summarize(res, Rules{Expectations: exp}, Meta{Label: "synapse", Image: "stickler-synapse:synthetic", Expectations: "expectations.txt", Generated: base})
	ni, err := Read(strings.NewReader(notImplementedStream(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	den := Summarize(ni, Rules{}, Meta{Image: "stickler-dendrite:synthetic", Generated: base})
	bare := Summarize(res, Rules{}, Meta{Generated: base})
	sums := []*Summary{syn, den, bare}
	return Compare(sums, []string{"a/summary.json", "b/summary.json", "reports-bare/summary.json"}), sums
}

func cell(t *testing.T, c *Comparison, id string, run int) Cell {
	t.Helper()
	for _, g := range c.Groups {
		for _, r := range g.Rows {
			if r.ID == id {
				return r.Cells[run]
			}
		}
	}
	t.Fatalf("no row %s in the comparison", id)
	return Cell{}
}

func TestCompareCells(t *testing.T) {
	c, _ := syntheticComparison(t)
	if got := []string{c.Runs[0].Label, c.Runs[1].Label, c.Runs[2].Label}; got[0] != "synapse" || got[1] != "stickler-dendrite:synthetic" || got[2] != "reports-bare" {
		t.Errorf("run labels %q: want the label, else the image, else the summary's directory", got)
	}
	rows := 0
	for _, g := range c.Groups {
		rows += len(g.Rows)
	}
	if rows != len(spec.Catalogue) {
		t.Errorf("%d rows, want one per catalogue entry (%d)", rows, len(spec.Catalogue))
	}
	for _, tc := range []struct {
		id     string
		run    int
		state  string
		reason string // a part of the cell's reason
	}{
		{"DISCOVER-1", 0, CellPass, ""},
		{"DISCOVER-1", 1, CellFail, "[not-advertised] " + notAdvertised},
		{"SEND-1", 1, CellNotImplemented, notAdvertised},
		{"SEND-3", 0, CellPass, "saw: accepted; remaining time capped at 3600000"},
		{"FED-4", 0, CellExpectedFail, "[lost-events] Synapse's federation sender has no sticky catch-up"},
		{"FED-4", 2, CellFail, "[lost-events] sync.go:88: bob@hs2 never received $crashB"},
		{"FED-4", 1, CellNotImplemented, notAdvertised},
		{"SYNC-11", 0, CellUnexpectedPass, "passes, but the expectations file lists it as failing (sticky events of ignored users are delivered)"},
		{"SSS-1", 0, CellSkip, "hs1 does not serve Simplified Sliding Sync"},
		{"MAP-2", 0, CellFail, "bob@hs2 diverged: key"},
		{"LOAD-1", 0, CellFail, "never finished"},
		{"COMPAT-1", 1, CellPass, ""},
		{"COMPAT-1", 0, CellNotCovered, ""},
		{"COMPAT-3", 1, CellSkip, "needs a deployment with two images"},
	} {
		got := cell(t, c, tc.id, tc.run)
		if got.State != tc.state || !strings.Contains(got.Reason, tc.reason) {
			t.Errorf("%s in %s: got %s %q, want %s with a reason containing %q", tc.id, c.Runs[tc.run].Label, got.State, got.Reason, tc.state, tc.reason)
		}
	}
	if got := cell(t, c, "FED-4", 0).Tests; len(got) != 1 || got[0].Name != "TestFedCatchUpAfterCrash" || got[0].Verdict != ExpectedFail {
		t.Errorf("FED-4's tests in the synapse column: %+v", got)
	}
	differ := strings.Join(c.Differ, " ")
	for _, id := range []string{"DISCOVER-1", "FED-4", "SYNC-11"} {
		if !strings.Contains(" "+differ+" ", " "+id+" ") {
			t.Errorf("%s is not marked as differing (%s)", id, differ)
		}
	}
	// Runs without a test of a requirement say nothing about it.
	// Nor do runs that skipped them: not implemented (SEND-1) or skipped for another reason.
	for _, id := range []string{"TIME-1", "COMPAT-1", "SSS-1", "MAP-2", "SEND-1", "COMPAT-3"} {
		if strings.Contains(" "+differ+" ", " "+id+" ") {
			t.Errorf("%s is marked as differing, but the runs that test it agree (%s)", id, differ)
		}
	}
	if got, want := c.Runs[1].TotalsLine(), "1 pass · 1 skipped · 4 not implemented · 1 FAIL"; got != want {
		t.Errorf("the not-implemented run's totals: %q, want %q", got, want)
	}
	if n := c.Runs[1].Totals[CellNotImplemented]; n != 4 {
		t.Errorf("the not-implemented run counts %d not-implemented requirements, want 4 (SEND-1..3, FED-4)", n)
	}
}

func TestCompareDuplicateLabelsAndUnknownRequirements(t *testing.T) {
	a := &Summary{Meta: Meta{Label: "synapse"}, Requirements: map[string]RequirementSummary{}}
	b := &Summary{Meta: Meta{Label: "synapse"}, Order: []string{"NEW-1"}, Requirements: map[string]RequirementSummary{
		"NEW-1": {ID: "NEW-1", Group: "NEW", Level: "MUST", Title: "a requirement of a newer suite", Outcome: "pass",
			Tests: []TestRef{{Name: "TestNew", Verdict: Passed, Outcome: "pass"}}},
	}}
	a.Order, a.Requirements["SEND-1"] = []string{"SEND-1"}, RequirementSummary{ID: "SEND-1", Group: "SEND", Outcome: "flaky"}
	c := Compare([]*Summary{a, b}, nil)
	if got := cell(t, c, "SEND-1", 0); got.State != CellFail || !strings.Contains(got.Reason, `outcome "flaky" is unknown`) {
		t.Errorf("an outcome the tool does not know: %s %q, want FAIL saying so", got.State, got.Reason)
	}
	if c.Runs[0].Label != "synapse" || c.Runs[1].Label != "synapse (2)" {
		t.Errorf("labels %q, %q: want synapse and synapse (2)", c.Runs[0].Label, c.Runs[1].Label)
	}
	if got := cell(t, c, "NEW-1", 0); got.State != CellNotCovered || !strings.Contains(got.Reason, "no requirement NEW-1") {
		t.Errorf("NEW-1 in the run that does not know it: %s %q", got.State, got.Reason)
	}
	if got := cell(t, c, "NEW-1", 1); got.State != CellPass {
		t.Errorf("NEW-1 in the run that passed it: %s", got.State)
	}
	if last := c.Groups[len(c.Groups)-1]; last.Name != "NEW" {
		t.Errorf("the unknown group comes last, got %s", last.Name)
	}
}

func TestCompareTerminal(t *testing.T) {
	c, _ := syntheticComparison(t)
	var b bytes.Buffer
	WriteCompareTerminal(&b, c)
	out := b.String()
	if miss := missing(out,
		"stickler side by side: 3 run(s)",
		"NOT IMPLEMENTED: the server does not advertise org.matrix.msc4354",
		"  requirement    level  synapse                      stickler-dendrite:synthetic  reports-bare                 seen passing on\n",
		"stickler-dendrite:synthetic implements nothing of the proposal: its 4 not-implemented requirement(s) show as ∅ below\n",
		"\nDISCOVER                1/1 pass                     0/1 pass                     1/1 pass\n",
		"\n≠ DISCOVER-1     MUST   pass                         FAIL                         pass                         synapse, reports-bare\n",
		"\n  SEND-1         MUST   pass                         ∅                            pass                         synapse, reports-bare\n",
		"\n  COMPAT-1       MUST   not covered                  pass                         not covered                  stickler-dendrite:synthetic\n",
		"\n≠ FED-4          MUST   known failure                ∅                            FAIL",
		"\n  TIME-1         MUST   not covered                  not covered                  not covered                  -\n",
		seenFigure("\nseen passing: 6 of %d requirement IDs pass on at least one of the 3 run(s) (MUST 5/%d, SHOULD 0/%d, MAY 1/%d)\n"),
		"\n  never seen passing: SEND-4 SEND-5 ",
		"\nTIME                    not covered                  not covered                  not covered\n",
		"\nSEND                    3/3 pass                     0/3 pass                     3/3 pass\n",
		// one line for the reason every not-implemented requirement shares
		"  stickler-dendrite:synthetic: not implemented SEND-1 SEND-2 SEND-3 FED-4: hs1: server does not advertise",
		"synapse: known failure FED-4: [lost-events] Synapse's federation sender has no sticky catch-up",
	); len(miss) > 0 {
		t.Errorf("the table lacks %q:\n%s", miss, out)
	}
}

func TestCompareHTML(t *testing.T) {
	c, _ := syntheticComparison(t)
	var b bytes.Buffer
	if err := WriteCompareHTML(&b, c, base); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if strings.Contains(page, "<script") || strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Errorf("the page is not self-contained (script or remote reference)")
	}
	if n := strings.Count(page, `<tr class="req`); n != len(spec.Catalogue) {
		t.Errorf("%d requirement rows, want %d", n, len(spec.Catalogue))
	}
	if n := strings.Count(page, `<td class="cell`); n != 3*len(spec.Catalogue) {
		t.Errorf("%d cells, want %d", n, 3*len(spec.Catalogue))
	}
	seenLine := seenFigure("<b>6 of %d</b> requirement IDs seen passing on at least one of these runs (MUST 5/%d, SHOULD 0/%d, MAY 1/%d); never seen passing: SEND-4 SEND-5")
	if miss := missing(page,
		`<tr class="req differs" id="req-DISCOVER-1">`,
		// the not-implemented column: a bare mark per row, the reason once above the table
		`<td class="cell ni" data-state="not-implemented" title="not implemented: hs1: server does not advertise org.matrix.msc4354`,
		`<b>stickler-dendrite:synthetic</b> implements nothing of the proposal (NOT IMPLEMENTED: the server does not advertise org.matrix.msc4354; 3 sticky test(s) skipped): its 4 not-implemented requirement(s) show as a bare ∅`,
		seenLine,
		`<td class="seenon">synapse, reports-bare</td>`, `<td class="seenon">stickler-dendrite:synthetic</td>`, `<td class="seenon"><span class="never">never</span></td>`,
		`∅ not implemented</span>`, `✗ known failure</span>`, `✓ pass</span>`, `· not covered</span>`, `! unexpected pass</span>`,
		`<li><b>expected-fail</b> TestFedCatchUpAfterCrash: <span class="reason">[lost-events] Synapse&#39;s federation sender has no sticky catch-up</span></li>`,
		`<span class="result fail">FAIL</span>`,
		`<div class="banner">NOT IMPLEMENTED: the server does not advertise org.matrix.msc4354; 3 sticky test(s) skipped</div>`,
	); len(miss) > 0 {
		t.Errorf("the page lacks %q", miss)
	}
}

func TestReadSummary(t *testing.T) {
	_, sums := syntheticComparison(t)
	dir := t.TempDir()
	var b bytes.Buffer
	if err := WriteJSON(&b, sums[0]); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "summary.json"), b.Bytes(), 0o644)
	for _, p := range []string{dir, filepath.Join(dir, "summary.json")} {
		s, err := ReadSummary(p)
		if err != nil {
			t.Fatalf("ReadSummary(%s): %v", p, err)
		}
		if s.Meta.Label != "synapse" || s.Requirements["FED-4"].Outcome != "expected-fail" || len(s.Tests) != len(sums[0].Tests) {
			t.Errorf("ReadSummary(%s) read back label %q, FED-4 %q, %d tests", p, s.Meta.Label, s.Requirements["FED-4"].Outcome, len(s.Tests))
		}
	}
	// The round trip keeps every cell.
	back, _ := ReadSummary(dir)
	c1, c2 := Compare(sums[:1], nil), Compare([]*Summary{back}, nil)
	for gi, g := range c1.Groups {
		for ri, r := range g.Rows {
			if a, b := r.Cells[0], c2.Groups[gi].Rows[ri].Cells[0]; a.State != b.State || a.Reason != b.Reason {
				t.Errorf("%s after a JSON round trip: %s %q, before: %s %q", r.ID, b.State, b.Reason, a.State, a.Reason)
			}
		}
	}
	os.WriteFile(filepath.Join(dir, "other.json"), []byte(`{"a": 1}`), 0o644)
	if _, err := ReadSummary(filepath.Join(dir, "other.json")); err == nil || !strings.Contains(err.Error(), "not a stickler summary.json") {
		t.Errorf("a JSON file that is not a summary: err %v", err)
	}
}

func TestSeenPassed(t *testing.T) {
	for _, tc := range []struct {
		name string
		refs []TestRef
		want bool
	}{
		{"a leaf passed", []TestRef{{Name: "TestA", Verdict: Passed}}, true},
		{"an unexpected pass is a pass", []TestRef{{Name: "TestA", Verdict: UnexpectedPass}}, true},
		// TestSendAboveCap declares TIME-2 only on the parent: its subtests checked it.
		{"a parent alone", []TestRef{{Name: "TestP", Verdict: Passed}}, true},
		// FED-3: the parent passed through another subtest, the one that checks FED-3 skipped.
		{"the checking subtest skipped", []TestRef{{Name: "TestP", Verdict: Passed}, {Name: "TestP/others", Verdict: Skipped}}, false},
		{"the checking subtest passed", []TestRef{{Name: "TestP", Verdict: Passed}, {Name: "TestP/others", Verdict: Passed}}, true},
		{"only skips", []TestRef{{Name: "TestA", Verdict: Skipped}}, false},
		{"an observation is not a pass", []TestRef{{Name: "TestA", Verdict: Observed}}, false},
	} {
		if got := seenPassed(tc.refs); got != tc.want {
			t.Errorf("%s: seen passing %v, want %v", tc.name, got, tc.want)
		}
	}
}

// seenFigure fills the catalogue's totals (all, MUST, SHOULD, MAY) into a seen-passing line: they
// follow the catalogue, which grows as the proposal is read again.
func seenFigure(format string) string {
	total := map[spec.Level]int{}
	for _, r := range spec.Catalogue {
		total[r.Level]++
	}
	return fmt.Sprintf(format, len(spec.Catalogue), total[spec.Must], total[spec.Should], total[spec.May])
}
