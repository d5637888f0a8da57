package report

import (
	"bytes"
	"strings"
	"testing"

	"stickler/helpers/spec"
)

// findingsStream is a run with one defect shown by two subtests (known failures with the same
// code), another failing the run, a warning, a failure without a code, a skip and a pass; the
// first subtest prints the servers' logs of its span.
func findingsStream(t *testing.T) string {
	s := newStream(t)
	const red = "TestRedactedStickyNotSticky"
	s.run(red)
	for _, sub := range []string{"sync", "sliding"} {
		name := red + "/" + sub
		s.run(name)
		s.covers(name, "REDACT-1")
		s.mark(name, func(tb testing.TB) { spec.MarkFailure(tb, "still-sticky-after-redaction") })
		s.log(name, "[still-sticky-after-redaction] expected $AAAAAAAAAAAAAAAAAAAAevent NOT to be in the sticky section of !room1:hs1 after the redaction, but it is: {}")
		if sub == "sync" {
			s.log(name, "=== logs of hs1 (stickler-synapse:abc) since 12:00:00 ===")
			for _, l := range []string{
				"2026-01-02 12:00:01,000 - synapse.util.metrics - ERROR - Metric already registered",
				"2026-01-02 12:00:02,000 - synapse.access.http.8008 - INFO - PUT /_matrix/client/v3/rooms/%21room1:hs1/redact/x HTTP/1.1",
				"2026-01-02 12:00:02,500 - synapse.access.http.8008 - INFO - GET /_matrix/client/v3/rooms/%21other:hs1/messages HTTP/1.1",
				"2026-01-02 12:00:03,000 - synapse.federation.sender - INFO - sending $AAAAAAAAAAAAAAAAAAAAevent",
			} {
				s.emit("output", name, "        "+l+"\n", 0)
			}
			s.emit("output", name, "        === end of logs of hs1 ===\n", 0)
		}
		s.end(name, "fail", 1)
	}
	s.end(red, "fail", 2)

	s.run("TestManyStickyAllDelivered")
	s.covers("TestManyStickyAllDelivered", "SYNC-7", "SYNC-1")
	s.mark("TestManyStickyAllDelivered", func(tb testing.TB) { spec.MarkFailure(tb, "lost-events") })
	s.log("TestManyStickyAllDelivered", "expected 150 sticky events, got 100")
	s.end("TestManyStickyAllDelivered", "fail", 3)

	// A parent failing with its own code while a subtest fails with another (LOAD-2 and LOAD-3).
	s.run("TestPeerStickyBurstNotLost")
	s.covers("TestPeerStickyBurstNotLost", "LOAD-2")
	s.run("TestPeerStickyBurstNotLost/before-expiry")
	s.covers("TestPeerStickyBurstNotLost/before-expiry", "LOAD-3")
	s.mark("TestPeerStickyBurstNotLost/before-expiry", func(tb testing.TB) { spec.MarkFailure(tb, "delivered-after-expiry") })
	s.log("TestPeerStickyBurstNotLost/before-expiry", "expected delivery before expiry, 3 came after")
	s.end("TestPeerStickyBurstNotLost/before-expiry", "fail", 1)
	s.mark("TestPeerStickyBurstNotLost", func(tb testing.TB) { spec.MarkFailure(tb, "lost-after-accept") })
	s.log("TestPeerStickyBurstNotLost", "expected all 300 accepted PDUs, 180 never came")
	s.end("TestPeerStickyBurstNotLost", "fail", 5)

	s.run("TestRemainingTimeAccurate")
	s.covers("TestRemainingTimeAccurate", "SYNC-3")
	s.mark("TestRemainingTimeAccurate", func(tb testing.TB) { spec.MarkFailure(tb, "ttl-too-long") })
	s.log("TestRemainingTimeAccurate", "expected at most 3600000, got 3700000")
	s.end("TestRemainingTimeAccurate", "fail", 1)

	s.test("TestSendDurationBounds", "fail", 1, []string{"SEND-2"}, "control: expected HTTP 200 for the plain send to !abc:hs1, got 500")
	s.test("TestSendAboveCap", "fail", 1, []string{"SEND-3"}, "control: expected HTTP 200 for the plain send to !xyz:hs2, got 502")
	s.test("TestSSSExtension", "skip", 0, []string{"SSS-1"}, "skipped: not served")
	s.test("TestDiscover", "pass", 0.1, []string{"DISCOVER-1"})
	return s.b.String()
}

func TestFindingsGroupByCode(t *testing.T) {
	res, err := Read(strings.NewReader(findingsStream(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := ParseExpectations(strings.NewReader(
		"TestRedactedStickyNotSticky/sync  fail  still-sticky-after-redaction  stays sticky in /sync\n"+
			"TestRedactedStickyNotSticky/sliding  fail  still-sticky-after-redaction  stays sticky in Sliding Sync\n"), "x")
	if err != nil {
		t.Fatal(err)
	}
	meanings := ReadCodeMeanings(strings.NewReader("| `lost-events` | some never arrived (SYNC-7, SSS-3, LOAD-1) |\n| `still-sticky-after-redaction` | a redacted event stays (REDACT-1) |\n"))
	rp := Repro{Server: "synapse", Image: "stickler-synapse:abc", Expectations: "servers/synapse/expectations.txt"}
	fs := res.Findings(Rules{Expectations: exp}, meanings, rp)
	byTitle := map[string]Finding{}
	var titles []string
	for _, f := range fs {
		byTitle[FindingTitle(f)] = f
		titles = append(titles, FindingTitle(f)+" ["+f.Kind+"]")
	}
	want := []string{
		"`lost-events` [fails the run]",
		"no failure code: TestSendDurationBounds and 1 more failing alike [fails the run]",
		"`delivered-after-expiry` [warning (SHOULD)]",
		"`ttl-too-long` [warning (SHOULD)]",
		// The parent's kind is its verdict, which the report gives a parent whose failing
		// subtest is a warning (here without an expectations line).
		"`lost-after-accept` [warning (SHOULD)]",
		"`still-sticky-after-redaction` [known failure]",
	}
	if strings.Join(titles, "; ") != strings.Join(want, "; ") {
		t.Fatalf("expected the findings (failures of the run first, then warnings, then known failures)\n%s\ngot\n%s", strings.Join(want, "\n"), strings.Join(titles, "\n"))
	}

	red := byTitle["`still-sticky-after-redaction`"]
	if len(red.Tests) != 2 || len(red.Known) != 2 || len(red.Messages) != 1 {
		t.Errorf("expected one finding for both subtests, with both known reasons and the message once; got tests %v known %v messages %v", red.Tests, red.Known, red.Messages)
	}
	if len(red.Rules) != 1 || red.Rules[0].ID != "REDACT-1" || red.Rules[0].Level != "MUST" || red.Rules[0].Statement != spec.Statements["REDACT-1"] {
		t.Errorf("expected the rule REDACT-1 MUST with its statement, got %+v", red.Rules)
	}
	if wantCmd := "COMPLEMENT_BASE_IMAGE=stickler-synapse:abc STICKLER_EXPECTATIONS= ./run.sh -run '^TestRedactedStickyNotSticky$/^sync$'"; red.Reproduce != wantCmd {
		t.Errorf("expected the reproduction %q, got %q", wantCmd, red.Reproduce)
	}
	// The lines naming the room (URL-encoded) or the event are kept; the other room's line and
	// the unrelated error are not (an ID matched).
	if len(red.Logs) != 2 || !strings.Contains(red.Logs[0], "%21room1:hs1/redact") || !strings.Contains(red.Logs[1], "sending $AAAA") || !strings.HasPrefix(red.Logs[0], "hs1: ") {
		t.Errorf("expected the two log lines that name the failure's room and event, got %q", red.Logs)
	}

	if alike := byTitle["no failure code: TestSendDurationBounds and 1 more failing alike"]; len(alike.Messages) != 2 || len(alike.Rules) != 2 {
		t.Errorf("expected the two code-less failures that say the same thing in one finding, with both messages and rules: %+v", alike)
	}

	if la := byTitle["`lost-after-accept`"]; len(la.Tests) != 1 || la.Tests[0] != "TestPeerStickyBurstNotLost" || len(la.Rules) != 1 || la.Rules[0].ID != "LOAD-2" {
		t.Errorf("expected the parent's own defect (LOAD-2) beside its subtest's, got %+v", la)
	}

	lost := byTitle["`lost-events`"]
	if len(lost.Rules) != 1 || lost.Rules[0].ID != "SYNC-7" {
		t.Errorf("expected the rule the code's meaning names among the test's covers (SYNC-7, not SYNC-1), got %+v", lost.Rules)
	}
	if lost.ByRule != "COMPLEMENT_BASE_IMAGE=stickler-synapse:abc STICKLER_EXPECTATIONS= ./run.sh --req SYNC-7" {
		t.Errorf("unexpected command by requirement: %q", lost.ByRule)
	}
	if lost.LogsSource != "" {
		t.Errorf("expected no logs for a test that printed none, got them from %q", lost.LogsSource)
	}
	for _, f := range fs {
		for _, name := range f.Tests {
			if name == "TestSSSExtension" || name == "TestDiscover" {
				t.Errorf("a skip or a pass is not a finding: %s in %s", name, FindingTitle(f))
			}
		}
	}

	var b bytes.Buffer
	s := &Summary{Findings: fs, CountLine: "stickler: 1 passed", Meta: Meta{Label: "synapse", Image: "stickler-synapse:abc"}}
	if err := WriteFindingsMarkdown(&b, s); err != nil {
		t.Fatal(err)
	}
	if m := missing(b.String(), "# Findings", "## 6. `still-sticky-after-redaction`: REDACT-1 (MUST) [known failure]",
		"**REDACT-1 MUST**", spec.Statements["REDACT-1"], "known (expectations file): stays sticky in /sync",
		"./run.sh -run '^TestRedactedStickyNotSticky$/^sync$'", "How the server log lines are chosen", "hs1: 2026-01-02 12:00:03,000"); len(m) > 0 {
		t.Errorf("findings.md lacks %q:\n%s", m, b.String())
	}
}

// With no ID in the test's messages, the warnings and errors of the span stand in, each once.
func TestFindingLogsFallBackToErrors(t *testing.T) {
	blocks := serverLogs([]string{"    x.go:1: === logs of hs2 (img) since 12:00:00 ===\n",
		"        a - synapse.x - INFO - fine\n", "        b - synapse.y - WARNING - Pruning 101 events\n", "        === end of logs of hs2 ===\n"})
	got := pick(append(blocks, blocks...), severe.MatchString)
	if len(got) != 1 || got[0] != "hs2: b - synapse.y - WARNING - Pruning 101 events" {
		t.Errorf("expected the warning line alone, got %q", got)
	}
}

func TestReadCodeMeaningsOfTheProject(t *testing.T) {
	m := LoadCodeMeanings("../../../" + CodeMeaningsPath)
	if len(m) < 20 || !strings.Contains(m["duplicate-delivery"], "SYNC-7") {
		t.Errorf("expected docs/failure-codes.md's table (duplicate-delivery naming SYNC-7), got %d codes: %q", len(m), m["duplicate-delivery"])
	}
}
