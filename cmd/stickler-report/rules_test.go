package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stickler/helpers/spec/marker"
)

// tstream writes a small `go test -json` stream: each test is a name, the lines it logs and
// its outcome; subtests come before their parent, as go test emits them.
type tcase struct {
	name    string
	logs    []string
	outcome string
}

func tstream(cases ...tcase) string {
	var b strings.Builder
	line := func(m map[string]any) {
		m["Package"] = "stickler/tests"
		j, _ := json.Marshal(m)
		b.Write(j)
		b.WriteByte('\n')
	}
	failed := false
	for _, c := range cases {
		line(map[string]any{"Action": "run", "Test": c.name})
		for _, l := range c.logs {
			line(map[string]any{"Action": "output", "Test": c.name, "Output": "    x_test.go:7: " + l + "\n"})
		}
		line(map[string]any{"Action": c.outcome, "Test": c.name, "Elapsed": 0.1})
		failed = failed || c.outcome == "fail"
	}
	pkg := "pass"
	if failed {
		pkg = "fail"
	}
	line(map[string]any{"Action": pkg, "Elapsed": 1.0})
	return b.String()
}

func covers(ids ...string) string {
	return marker.Line(marker.Record{Kind: marker.Covers, IDs: ids})
}
func code(c string) string { return marker.Line(marker.Record{Kind: marker.FailCode, Code: c}) }

// notImplemented is the two lines spec.NotImplemented logs: its record and the skip's reason.
func notImplemented(server, feature, text string) []string {
	r := marker.Record{Kind: marker.NotImplemented, Server: server, Feature: feature, Text: text}
	return []string{marker.Line(r), r.Reason()}
}

func writeExp(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "exp.txt")
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runEnv(t *testing.T, env map[string]string, stdin string, args ...string) (int, string) {
	t.Helper()
	var out strings.Builder
	code := run(args, strings.NewReader(stdin), &out, &out, env)
	return code, out.String()
}

func expect(t *testing.T, name string, gotCode int, out string, wantCode int, wants ...string) {
	t.Helper()
	if gotCode != wantCode {
		t.Errorf("%s: exit %d, want %d\n%s", name, gotCode, wantCode, out)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s: output lacks %q:\n%s", name, w, out)
		}
	}
}

// A known failure is pinned to its failure codes: the same code is expected, another code or
// none at all fails the run and says how it differs, in the live line, the summary and the
// report files.
func TestExpectedFailureCodes(t *testing.T) {
	exp := writeExp(t, "TestMany/sync  fail  duplicate-delivery,lost-events  5 newest delivered twice\n")
	fail := func(logs ...string) string {
		return tstream(tcase{"TestMany/sync", append([]string{covers("SYNC-5")}, logs...), "fail"}, tcase{"TestMany", nil, "fail"})
	}
	c, out := runTool(t, fail(code("duplicate-delivery")), "-live", "-expectations", exp)
	expect(t, "listed code", c, out, 0, "expected-fail     TestMany/sync", "stickler: 0 passed, 0 failed, 0 skipped, 0 warnings")

	c, out = runTool(t, fail(code("duplicate-delivery"), code("lost-events")), "-expectations", exp)
	expect(t, "two listed codes", c, out, 0)

	c, out = runTool(t, fail(code("missing-after-join")), "-live", "-expectations", exp)
	expect(t, "another code", c, out, 1,
		"fails-differently TestMany/sync (0.1s): fails differently than expected: expected duplicate-delivery or lost-events, got missing-after-join",
		"--- FAIL TestMany/sync (100ms): fails differently than expected", "stickler: 0 passed, 1 failed, 0 skipped, 0 warnings")

	c, out = runTool(t, fail(code("duplicate-delivery"), code("missing-after-join")), "-expectations", exp)
	expect(t, "a listed and another code", c, out, 1, "got duplicate-delivery, missing-after-join")

	dir := t.TempDir()
	c, out = runTool(t, fail(), "-expectations", exp, "-dir", dir)
	expect(t, "no code", c, out, 1, "expected duplicate-delivery or lost-events, got no code")
	summary, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	for _, f := range []struct {
		name string
		text string
	}{{"summary.json", string(summary)}, {"report.html", string(html)}} {
		if !strings.Contains(f.text, "fails differently than expected: expected duplicate-delivery or lost-events, got no code") {
			t.Errorf("%s does not say how the failure differs", f.name)
		}
	}
}

func TestExpectationsFormat(t *testing.T) {
	for _, bad := range []string{
		"TestA fail Synapse: reason without a code\n",
		"TestA fail lost-events\n",
		"TestA fail Lost_Events reason\n",
	} {
		c, out := runTool(t, passing, "-expectations", writeExp(t, bad))
		expect(t, fmt.Sprintf("%q", bad), c, out, 2, "exp.txt:1:")
	}
	c, out := runTool(t, tstream(tcase{"TestA", []string{covers("SEND-1"), "skipped: no Sliding Sync"}, "skip"}), "-expectations", writeExp(t, "# skip lines name no code\nTestA skip Sliding Sync not served\n"))
	expect(t, "skip line", c, out, 0, "stickler: 0 passed, 0 failed, 1 skipped, 0 warnings")
}

// A failure of a test whose requirements are all SHOULD is a warning: own section, counted,
// the run passes unless STICKLER_STRICT=1. A test naming a MUST too fails as a MUST.
func TestShouldFailuresAreWarnings(t *testing.T) {
	should := tstream(tcase{"TestTTL", []string{covers("SYNC-3"), "remaining time 9000 ms, expected at most 5000"}, "fail"})
	c, out := runTool(t, should, "-live")
	expect(t, "SHOULD failure", c, out, 0, "warning           TestTTL", "== Warnings: SHOULD requirements failed",
		"TestTTL (SYNC-3): remaining time 9000 ms", "warnings (SHOULD): SYNC-3", "stickler: 0 passed, 0 failed, 0 skipped, 1 warnings")

	c, out = runEnv(t, map[string]string{"STICKLER_STRICT": "1"}, should)
	expect(t, "strict", c, out, 1, "stickler: 0 passed, 1 failed, 0 skipped, 0 warnings")
	c, out = runEnv(t, map[string]string{"STICKLER_STRICT": "yes"}, should)
	expect(t, "bad strict setting", c, out, 2, "STICKLER_STRICT")

	mixed := tstream(tcase{"TestMixed", []string{covers("SYNC-3", "SYNC-1"), "no sticky section"}, "fail"})
	c, out = runTool(t, mixed)
	expect(t, "MUST and SHOULD", c, out, 1, "stickler: 0 passed, 1 failed, 0 skipped, 0 warnings")

	// A parent failing through a warning subtest and an expected one is a warning.
	parent := tstream(
		tcase{"TestSoft/expired", []string{covers("SOFTFAIL-3"), "re-evaluated after expiry"}, "fail"},
		tcase{"TestSoft/rejoin", []string{covers("SOFTFAIL-2"), code("not-reevaluated")}, "fail"},
		tcase{"TestSoft", []string{covers("SOFTFAIL-1", "SOFTFAIL-2", "SOFTFAIL-3")}, "fail"})
	c, out = runTool(t, parent, "-live", "-expectations", writeExp(t, "TestSoft/rejoin fail not-reevaluated no re-evaluation\n"))
	expect(t, "parent of a warning and a known failure", c, out, 0, "warning           TestSoft (0.1s)",
		"stickler: 0 passed, 0 failed, 0 skipped, 1 warnings")

	// Expectations stay strict at every level: a listed SHOULD failure that passes fails the run.
	c, out = runTool(t, strings.ReplaceAll(should, `"fail"`, `"pass"`), "-expectations", writeExp(t, "TestTTL fail ttl-wrong remaining time too long\n"))
	expect(t, "listed SHOULD passes", c, out, 1, "remove that line")
}

// A test that only observes is shown as observed with what it saw, not as a pass.
func TestObservedTests(t *testing.T) {
	s := tstream(tcase{"TestFedStickyOrder", []string{covers("FED-6"), marker.Line(marker.Record{Kind: marker.Observed, ID: "FED-6", Text: "creation order: 8 events in order"})}, "pass"},
		tcase{"TestSend", []string{covers("SEND-1")}, "pass"})
	dir := t.TempDir()
	c, out := runTool(t, s, "-live", "-dir", dir)
	expect(t, "observed", c, out, 0, "observed          TestFedStickyOrder", "observed: FED-6",
		"FED-6 (TestFedStickyOrder): creation order: 8 events in order", "1 observed", "stickler: 1 passed, 0 failed, 0 skipped, 0 warnings")
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(html), "observed (FED-6):</b> creation order") {
		t.Errorf("report.html does not show the observation")
	}
}

// An expectations line naming a test the suite does not have is an error of the file: it
// fails a complete run (with its line number) and is a warning in a -run subset.
func TestExpectationsNameRealTests(t *testing.T) {
	exp := writeExp(t, "# header\nTestA fail lost-events reason\nTestGone fail lost-events reason\nTestA/never fail lost-events reason\n")
	s := tstream(tcase{"TestA", []string{covers("SEND-1"), code("lost-events")}, "fail"})
	list := filepath.Join(t.TempDir(), "list.txt")
	os.WriteFile(list, []byte("TestA\nTestB\nok  \tstickler/tests\t0.01s\n"), 0o644)

	c, out := runTool(t, s, "-expectations", exp, "-complete", "-suite-tests", list)
	expect(t, "complete run", c, out, 1, "== Expectations file problems ==", "line 3: error: TestGone: the suite has no test TestGone",
		"line 4: warning: TestA/never: TestA ran without this subtest", "1 expectations error(s)")
	c, out = runTool(t, s, "-expectations", exp, "-suite-tests", list)
	expect(t, "-run subset", c, out, 0, "line 3: warning: TestGone")
	c, out = runTool(t, s, "-expectations", exp, "-complete")
	expect(t, "complete run, tests from the stream", c, out, 1, "line 3: error: TestGone")
	c, out = runTool(t, s, "-expectations", exp)
	expect(t, "subset without a list", c, out, 0)
	if strings.Contains(out, "TestGone") {
		t.Errorf("a subset without a test list cannot know TestGone is missing, yet it says so:\n%s", out)
	}
}

// A server that does not advertise the feature: the summary says so first. The headline comes
// from the records (the not-implemented endings, TestDiscover's code), never from the words.
func TestNotImplementedHeadline(t *testing.T) {
	why := notImplemented("hs1 (complement-dendrite:latest)", marker.Sticky,
		"hs1 (complement-dendrite:latest): server does not advertise org.matrix.msc4354 in /versions (unstable_features: {}): sticky events not implemented or not enabled (see TestDiscover)")
	s := tstream(
		tcase{"TestDiscover", []string{covers("DISCOVER-1"), code("not-advertised"), "[not-advertised] expected unstable_features[\"org.matrix.msc4354\"] == true in /versions; server does not advertise org.matrix.msc4354 in /versions"}, "fail"},
		tcase{"TestSendA", append([]string{covers("SEND-1")}, why...), "skip"},
		tcase{"TestSendB", append([]string{covers("SEND-2")}, why...), "skip"})
	dir := t.TempDir()
	c, out := runTool(t, s, "-dir", dir)
	head := "NOT IMPLEMENTED: the server does not advertise org.matrix.msc4354; 2 sticky test(s) skipped"
	expect(t, "not implemented", c, out, 1, head)
	if i := strings.Index(out, "== Requirements =="); i < 0 || !strings.Contains(out[:i], head) {
		t.Errorf("the headline does not come before the requirements:\n%s", out)
	}
	html, _ := os.ReadFile(filepath.Join(dir, "report.html"))
	if !strings.Contains(string(html), `<div class="banner" id="headline">`+head) {
		t.Errorf("report.html lacks the headline")
	}

	stable := notImplemented("hs1 (img)", marker.StickyStable, "hs1 (img): stable names not supported: the server advertises only org.matrix.msc4354 (unstable names)")
	c, out = runTool(t, tstream(tcase{"TestDiscover", []string{covers("DISCOVER-1")}, "pass"}, tcase{"TestSendA", append([]string{covers("SEND-1")}, stable...), "skip"}))
	expect(t, "stable names", c, out, 0, "STABLE NAMES NOT SUPPORTED: the server advertises only org.matrix.msc4354 (unstable names); 1 sticky test(s) skipped")

	// The words alone make no headline; nor does a not-implemented skip of another feature.
	words := "skipped: hs1 (img): server does not advertise org.matrix.msc4354 in /versions"
	other := notImplemented("hs1 (img)", "org.matrix.msc4140", "hs1 does not advertise org.matrix.msc4140 (delayed events) in /versions")
	c, out = runTool(t, tstream(tcase{"TestDiscover", []string{covers("DISCOVER-1")}, "pass"},
		tcase{"TestSendA", []string{covers("SEND-1"), words}, "skip"}, tcase{"TestSendB", append([]string{covers("SEND-6")}, other...), "skip"}))
	expect(t, "words only", c, out, 0, "stickler: 1 passed, 0 failed, 2 skipped")
	if strings.Contains(out, "NOT IMPLEMENTED") {
		t.Errorf("a skip's words or another feature's record made a headline:\n%s", out)
	}
}

// A mixed deployment: hs1 implements the feature (DISCOVER-1 passes), hs2 does not; the
// headline names hs2 and says the other tests ran.
func TestMixedHeadlineNamesTheServer(t *testing.T) {
	why := notImplemented("hs2 (stickler-dendrite:x)", marker.Sticky, "hs2 (stickler-dendrite:x): server does not advertise org.matrix.msc4354 in /versions: sticky events not implemented or not enabled (see TestDiscover)")
	s := tstream(
		tcase{"TestDiscover", []string{covers("DISCOVER-1")}, "pass"},
		tcase{"TestSendA", []string{covers("SEND-1")}, "pass"},
		tcase{"TestFedA", append([]string{covers("FED-1")}, why...), "skip"})
	c, out := runTool(t, s)
	expect(t, "mixed", c, out, 0, "NOT IMPLEMENTED BY hs2 (stickler-dendrite:x): it does not advertise org.matrix.msc4354; the 1 sticky test(s) that need every server to implement it skipped, the others ran")
	if strings.Contains(out, "NOT IMPLEMENTED: the server") {
		t.Errorf("a mixed run is reported as if no server implemented the feature:\n%s", out)
	}
}

// A parent whose subtests all skipped checked nothing: its live line says skip, not pass (the
// counts come from the subtests either way).
func TestLiveParentOfSkippedSubtestsIsSkipped(t *testing.T) {
	in := tstream(
		tcase{"TestSendAboveCap/1", []string{covers("SEND-3")}, "skip"},
		tcase{"TestSendAboveCap/2", []string{covers("SEND-3")}, "skip"},
		tcase{"TestSendAboveCap", []string{covers("SEND-3", "TIME-2")}, "pass"},
		tcase{"TestMixed/a", nil, "skip"},
		tcase{"TestMixed/b", nil, "pass"},
		tcase{"TestMixed", nil, "pass"},
	)
	c, out := runEnv(t, nil, in, "-live")
	expect(t, "live", c, out, 0, "skip              TestSendAboveCap (0.1s)", "pass              TestMixed (0.1s)", "1 passed, 0 failed, 3 skipped")
	if strings.Contains(out, "pass              TestSendAboveCap ") {
		t.Errorf("the parent of skipped subtests has a pass line:\n%s", out)
	}
}
