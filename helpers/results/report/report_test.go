package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"stickler/helpers/harness/timeline"
	"stickler/helpers/spec/marker"
)

func readSynthetic(t *testing.T) (*Results, Expectations) {
	t.Helper()
	exp, err := ParseExpectations(strings.NewReader(syntheticExpectations), "synthetic")
	if err != nil {
		t.Fatal(err)
	}
	res, err := Read(strings.NewReader(syntheticStream(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return res, exp
}

// missing returns the strings of wants that out does not contain.
func missing(out string, wants ...string) []string {
	var miss []string
	for _, w := range wants {
		if !strings.Contains(out, w) {
			miss = append(miss, w)
		}
	}
	return miss
}

func byName(t *testing.T, r *Results, name string) *Test {
	t.Helper()
	for _, x := range r.Tests {
		if x.Name == name {
			return x
		}
	}
	t.Fatalf("no test %s in the results", name)
	return nil
}

func TestVerdictsAndCounts(t *testing.T) {
	res, exp := readSynthetic(t)
	v := res.Verdicts(Rules{Expectations: exp})
	for name, want := range map[string]Verdict{
		"TestDiscover":                     Passed,
		"TestSendDurationBounds":           Passed,
		"TestSendDurationBounds/above_cap": Passed,
		"TestFedCatchUpAfterCrash":         ExpectedFail,
		"TestSyncIgnoredUsers":             UnexpectedPass,
		"TestSSSExtension":                 Skipped,
		"TestHisvisThreeServers":           Skipped,
		"TestMapConvergesAfterPartition":   Failed,
		"TestLoadMany":                     Unfinished,
		"TestPanics":                       Failed,
		"TestSendStickyVisibleEverywhere":  Passed,
		"TestSendDurationBounds/negative":  Passed,
	} {
		if got := v[byName(t, res, name)]; got != want {
			t.Errorf("%s: verdict %s, want %s", name, got, want)
		}
	}
	for _, x := range res.Tests {
		if strings.HasPrefix(x.Name, "(") {
			t.Errorf("the package failure is explained by its tests, yet %s is listed", x.Name)
		}
	}
	c := res.Count(v)
	want := Counts{Passed: 4, Failed: 2, ExpectedFail: 1, UnexpectedPass: 1, Skipped: 2, Unfinished: 1}
	if c != want {
		t.Errorf("counts %+v, want %+v", c, want)
	}
	if got := byName(t, res, "TestSSSExtension").SkipWhy; got != "hs1 does not serve Simplified Sliding Sync" {
		t.Errorf("skip reason with the prefix: %q", got)
	}
	if got := byName(t, res, "TestHisvisThreeServers").SkipWhy; got != "needs a third server image" {
		t.Errorf("skip reason without the prefix: %q", got)
	}
	load := strings.Join(byName(t, res, "TestLoadMany").Output, "")
	if !strings.Contains(load, "panic: test timed out after 45m0s") {
		t.Errorf("the unfinished test does not carry the package's timeout panic:\n%s", load)
	}
	if got := byName(t, res, "TestSendDurationBounds/above_cap").Choices["SEND-3"]; got != "accepted; remaining time capped at 3600000" {
		t.Errorf("choice: %q", got)
	}
}

func TestTimelineRecordsReassembled(t *testing.T) {
	res, _ := readSynthetic(t)
	mp := byName(t, res, "TestMapConvergesAfterPartition")
	kinds := map[timeline.Kind]int{}
	for _, r := range mp.Timeline {
		kinds[r.Kind]++
	}
	want := map[timeline.Kind]int{timeline.KindSent: 2, timeline.KindSeen: 5, timeline.KindFault: 1, timeline.KindMark: 2, timeline.KindMap: 2, timeline.KindDiverged: 1}
	for k, n := range want {
		if kinds[k] != n {
			t.Errorf("%s records: %d, want %d (all: %v)", k, kinds[k], n, kinds)
		}
	}
	last := mp.Timeline[len(mp.Timeline)-1]
	if last.Kind != timeline.KindDiverged || !strings.HasSuffix(last.Text, " END-OF-WHY") || last.Client != "bob@hs2" {
		t.Errorf("the divergence split by test2json was not put back together: %+v", last)
	}
	if out := indent(mp.Output, 60); strings.Contains(out, "padding padding") || strings.Contains(out, marker.Prefix) {
		t.Errorf("failure output shows marker lines or their pieces:\n%s", out)
	}
}

func TestTerminal(t *testing.T) {
	res, exp := readSynthetic(t)
	var b bytes.Buffer
	c := WriteTerminal(&b, res, Rules{Expectations: exp})
	out := b.String()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "stickler: 4 passed, 4 failed, 2 skipped, 0 warnings" {
		t.Errorf("closing line %q", last)
	}
	if c.Failed+c.UnexpectedPass+c.Unfinished != 4 {
		t.Errorf("counts %+v", c)
	}
	if miss := missing(out,
		"MAP        0/5  pass  FAIL: MAP-1 MAP-2",
		"FED        0/8  pass  known failures: FED-4",
		"SEND-3 (TestSendDurationBounds/above_cap): accepted; remaining time capped at 3600000",
		"TestFedCatchUpAfterCrash: Synapse's federation sender has no sticky catch-up",
		"TestSSSExtension: hs1 does not serve Simplified Sliding Sync",
		"--- TestSyncIgnoredUsers passed, but the expectations file says it fails",
		"--- TestLoadMany never finished",
		"bob@hs2 diverged: key (!room:hs1",
		"--- FAIL TestPanics",
	); len(miss) > 0 {
		t.Errorf("terminal summary lacks %q:\n%s", miss, out)
	}
}

// summaryDoc is the part of summary.json TestJSONSummary reads.
type summaryDoc struct {
	Result       string
	Counts       map[string]int
	Order        []string
	Requirements map[string]struct {
		Level, Title, Outcome string
		Tests                 []struct {
			Name, Verdict, Outcome string
			ElapsedMS              int64 `json:"elapsed_ms"`
			Expectation            *struct{ Outcome, Reason string }
			SkipReason             string `json:"skip_reason"`
		}
		Choices []struct{ Test, Behaviour string }
	}
	Tests []struct {
		Name     string
		Message  string
		Diverged []struct{ Client, Why string }
		Timeline []json.RawMessage
	}
}

// syntheticSummaryDoc writes the synthetic run's summary.json (judged with its expectations)
// and reads it back as a client of the file would.
func syntheticSummaryDoc(t *testing.T) summaryDoc {
	t.Helper()
	res, exp := readSynthetic(t)
	s := Summarize(res, Rules{Expectations: exp}, Meta{Image: "stickler-synapse:test", Generated: base})
	var b bytes.Buffer
	if err := WriteJSON(&b, s); err != nil {
		t.Fatal(err)
	}
	var doc summaryDoc
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("summary.json does not parse: %v\n%s", err, b.String())
	}
	return doc
}

func TestJSONSummary(t *testing.T) {
	doc := syntheticSummaryDoc(t)
	if doc.Result != "fail" || doc.Counts["passed"] != 4 || doc.Counts["failed"] != 4 || doc.Counts["skipped"] != 2 || doc.Counts["expected_failures"] != 1 {
		t.Errorf("result %q counts %v", doc.Result, doc.Counts)
	}
	if len(doc.Order) != len(doc.Requirements) || doc.Order[0] != "DISCOVER-1" {
		t.Errorf("order %v (requirements %d)", doc.Order, len(doc.Requirements))
	}
	for _, c := range []struct{ id, outcome, level, test, verdict string }{
		{"DISCOVER-1", "pass", "MUST", "TestDiscover", "pass"},
		{"FED-4", "expected-fail", "MUST", "TestFedCatchUpAfterCrash", "expected-fail"},
		{"SYNC-11", "unexpected-pass", "MUST", "TestSyncIgnoredUsers", "unexpected-pass"},
		{"SSS-1", "skip", "MUST", "TestSSSExtension", "skip"},
		{"MAP-2", "fail", "MUST", "TestMapConvergesAfterPartition", "fail"},
		{"LOAD-1", "fail", "MUST", "TestLoadMany", "unfinished"},
		{"SEND-3", "pass", "MAY", "TestSendDurationBounds", "pass"},
		{"SYNC-9", "untested", "SHOULD", "", ""}, // no test names it
	} {
		q, ok := doc.Requirements[c.id]
		if !ok {
			t.Errorf("%s missing", c.id)
			continue
		}
		if q.Outcome != c.outcome || q.Level != c.level {
			t.Errorf("%s: outcome %s level %s, want %s %s", c.id, q.Outcome, q.Level, c.outcome, c.level)
		}
		if c.test == "" {
			if len(q.Tests) != 0 {
				t.Errorf("%s: tests %v, want none", c.id, q.Tests)
			}
			continue
		}
		if len(q.Tests) == 0 || q.Tests[0].Name != c.test || q.Tests[0].Verdict != c.verdict {
			t.Errorf("%s: tests %+v, want %s %s", c.id, q.Tests, c.test, c.verdict)
		}
	}
	checkSummaryDetails(t, doc)
}

// checkSummaryDetails checks what summary.json keeps beside the verdicts: an expectation's
// reason, a skip reason, a MAY choice, a test's time, a panic's message, and the map test's
// divergence and timeline.
func checkSummaryDetails(t *testing.T, doc summaryDoc) {
	t.Helper()
	if e := doc.Requirements["FED-4"].Tests[0].Expectation; e == nil || e.Outcome != "fail" || !strings.Contains(e.Reason, "no sticky catch-up") {
		t.Errorf("FED-4 expectation %+v", e)
	}
	if r := doc.Requirements["SSS-1"].Tests[0].SkipReason; r != "hs1 does not serve Simplified Sliding Sync" {
		t.Errorf("SSS-1 skip reason %q", r)
	}
	if ch := doc.Requirements["SEND-3"].Choices; len(ch) != 1 || ch[0].Behaviour != "accepted; remaining time capped at 3600000" || ch[0].Test != "TestSendDurationBounds/above_cap" {
		t.Errorf("SEND-3 choices %+v", ch)
	}
	if ms := doc.Requirements["SEND-1"].Tests[0].ElapsedMS; ms != 2500 {
		t.Errorf("SEND-1 elapsed %d ms", ms)
	}
	found := false
	for _, x := range doc.Tests {
		if x.Name == "TestPanics" && !strings.HasPrefix(x.Message, "panic: runtime error: index out of range") {
			t.Errorf("TestPanics message %q", x.Message)
		}
		if x.Name == "TestMapConvergesAfterPartition" {
			found = len(x.Diverged) == 1 && x.Diverged[0].Client == "bob@hs2" && len(x.Timeline) == 13
		}
	}
	if !found {
		t.Errorf("the map test's divergence and timeline are not in the summary")
	}
}

// junit mirrors the parts of the JUnit format the checks read.
type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Skipped  int `xml:"skipped,attr"`
	Suites   []struct {
		Name  string `xml:"name,attr"`
		Cases []struct {
			Name       string `xml:"name,attr"`
			Time       string `xml:"time,attr"`
			Properties []struct {
				Name  string `xml:"name,attr"`
				Value string `xml:"value,attr"`
			} `xml:"properties>property"`
			Failure *struct {
				Type    string `xml:"type,attr"`
				Message string `xml:"message,attr"`
				Body    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Type string `xml:"type,attr"`
				Body string `xml:",chardata"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestJUnit(t *testing.T) {
	res, exp := readSynthetic(t)
	var b bytes.Buffer
	if err := WriteJUnit(&b, Summarize(res, Rules{Expectations: exp}, Meta{Generated: base})); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("junit.xml does not parse: %v\n%s", err, b.String())
	}
	// 11 counted tests: 4 pass, 3 skipped (2 skips, 1 known failure), 3 failures (2 fail,
	// 1 unexpected pass), 1 error (unfinished).
	if doc.Tests != 11 || doc.Failures != 3 || doc.Errors != 1 || doc.Skipped != 3 {
		t.Errorf("totals tests=%d failures=%d errors=%d skipped=%d\n%s", doc.Tests, doc.Failures, doc.Errors, doc.Skipped, b.String())
	}
	if len(doc.Suites) != 1 || doc.Suites[0].Name != "stickler/tests" {
		t.Fatalf("suites %+v", doc.Suites)
	}
	cases := map[string]int{}
	for i, c := range doc.Suites[0].Cases {
		cases[c.Name] = i
	}
	get := func(name string) int {
		i, ok := cases[name]
		if !ok {
			t.Fatalf("no testcase %s", name)
		}
		return i
	}
	cs := doc.Suites[0].Cases
	if _, parent := cases["TestSendDurationBounds"]; parent {
		t.Errorf("a passing parent is counted as its own testcase")
	}
	if c := cs[get("TestMapConvergesAfterPartition")]; c.Failure == nil || !strings.HasPrefix(c.Failure.Message, "bob@hs2 diverged: key (!room:hs1") ||
		!strings.Contains(c.Failure.Body, "maps differ after healing") || c.Time != "12.700" {
		t.Errorf("map failure %+v", c)
	} else if len(c.Properties) != 2 || c.Properties[0].Value != "MAP-2" {
		t.Errorf("map requirements %+v", c.Properties)
	}
	if c := cs[get("TestFedCatchUpAfterCrash")]; c.Skipped == nil || !strings.Contains(c.Skipped.Message, "expected failure: Synapse's federation sender") || c.Failure != nil {
		t.Errorf("expected failure %+v", c)
	}
	if c := cs[get("TestSyncIgnoredUsers")]; c.Failure == nil || c.Failure.Type != "unexpected-pass" {
		t.Errorf("unexpected pass %+v", c)
	}
	if c := cs[get("TestLoadMany")]; c.Error == nil || !strings.Contains(c.Error.Body, "test timed out") {
		t.Errorf("unfinished %+v", c)
	}
	if c := cs[get("TestHisvisThreeServers")]; c.Skipped == nil || c.Skipped.Message != "needs a third server image" {
		t.Errorf("skip %+v", c)
	}
	if c := cs[get("TestSendDurationBounds/above_cap")]; c.Failure != nil || c.Skipped != nil {
		t.Errorf("pass %+v", c)
	}
}

func TestHTMLHasTheParts(t *testing.T) {
	res, exp := readSynthetic(t)
	var b bytes.Buffer
	if err := WriteHTML(&b, Summarize(res, Rules{Expectations: exp}, Meta{Generated: base})); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	if miss := missing(page,
		`id="requirements"`, `id="req-MAP-2" data-outcome="fail"`, `id="req-FED-4" data-outcome="expected-fail"`,
		`id="failures"`, `<b>bob@hs2 diverged:</b> key (!room:hs1`, `id="timelines"`, `<svg class="timeline"`,
		`class="diverged"`, `class="fault"`, `class="life"`, `id="skipped"`, `hs1 does not serve Simplified Sliding Sync`,
		`Synapse&#39;s federation sender has no sticky catch-up`, `accepted; remaining time capped at 3600000`,
		`<span class="result fail" id="result">FAIL</span>`,
	); len(miss) > 0 {
		t.Errorf("report.html lacks %q", miss)
	}
	for _, banned := range []string{"<script", "http://", "https://", "@import", "url("} {
		if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), banned) {
			t.Errorf("report.html is not self-contained: it has %q", banned)
		}
	}
	// Two timelines: the fault test and the map test.
	if n := strings.Count(page, `<svg class="timeline"`); n != 2 {
		t.Errorf("%d timelines, want 2", n)
	}
}

func TestTickAndRel(t *testing.T) {
	for _, c := range []struct {
		ms   int64
		want string
	}{{0, "0s"}, {1000, "+1s"}, {1500, "+1.5s"}, {-250, "-0.25s"}, {90000, "+1m30s"}} {
		if got := rel(c.ms, 0); got != c.want {
			t.Errorf("rel(%d) = %q, want %q", c.ms, got, c.want)
		}
	}
	if s := tickStep(12 * int64(time.Second/time.Millisecond)); s != 2000 {
		t.Errorf("tick step for 12 s: %d", s)
	}
}

// TestThroughGoTest runs a real test that records a timeline (helpers/harness/timeline's
// TestEmitForReport) under `go test -json` and reads its stream: the marker lines, one of
// them longer than test2json's line limit, must come back as the records written.
func TestThroughGoTest(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped: -short (this test compiles and runs another package's tests)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipped: the go command is not on PATH")
	}
	cmd := exec.Command(goBin, "test", "-json", "-count=1", "-run", "^TestEmitForReport$", "stickler/helpers/harness/timeline")
	cmd.Env = append(os.Environ(), "STICKLER_TIMELINE_EMIT=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go test -json: %v\n%s", err, out)
	}
	res, err := Read(bytes.NewReader(out), nil)
	if err != nil {
		t.Fatal(err)
	}
	emit := byName(t, res, "TestEmitForReport")
	if emit.Outcome != "pass" || len(emit.Timeline) != 4 {
		t.Fatalf("outcome %q, %d records: %+v", emit.Outcome, len(emit.Timeline), emit.Timeline)
	}
	sent, seen, fault, div := emit.Timeline[0], emit.Timeline[1], emit.Timeline[2], emit.Timeline[3]
	if sent.Kind != timeline.KindSent || sent.Event != "$S" || sent.DurationMS != 3000 || sent.At != 1767355200000 {
		t.Errorf("sent %+v", sent)
	}
	if seen.Kind != timeline.KindSeen || seen.RemainingMS == nil || *seen.RemainingMS != 2850 || seen.At != 1767355200150 {
		t.Errorf("seen %+v", seen)
	}
	if fault.Kind != timeline.KindFault || fault.Fault != timeline.Crash || fault.To-fault.At != 1000 {
		t.Errorf("fault %+v", fault)
	}
	if div.Kind != timeline.KindDiverged || len(div.Text) < 5000 || !strings.HasSuffix(div.Text, " END") {
		t.Errorf("the long divergence did not survive test2json: %d chars, ends %q", len(div.Text), div.Text[max(0, len(div.Text)-10):])
	}
}

func TestIndentKeepsBothEnds(t *testing.T) {
	var out []string
	out = append(out, "=== RUN   TestX\n", "    x_test.go:10: deploy: hs1 did not answer\n")
	for i := 0; i < 200; i++ {
		out = append(out, fmt.Sprintf("        server log line %d\n", i))
	}
	out = append(out, "    x_test.go:99: final message\n")
	got := indent(out, 30)
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	if len(lines) != 31 || !strings.Contains(lines[0], "deploy: hs1 did not answer") ||
		!strings.Contains(lines[10], "172 line(s) cut") || !strings.Contains(lines[30], "final message") {
		t.Errorf("indent kept:\n%s", got)
	}
}

// FailureLine picks the first own log line that says what was expected, else the last own
// log line, never a marker line or a server log printed under the test.
func TestFailureLine(t *testing.T) {
	for _, c := range []struct {
		output []string
		want   string
	}{
		{[]string{"=== RUN   TestA\n", "    a_test.go:3: " + marker.Line(marker.Record{Kind: marker.Covers, IDs: []string{"SYNC-1"}}) + "\n", "    a_test.go:9: setup done\n",
			"    a_test.go:12: expected $a in the sticky section, got {}\n", "    a_test.go:13: later\n"}, "expected $a in the sticky section, got {}"},
		{[]string{"    a_test.go:9: first\n", "    a_test.go:10: last of its ", "own\n", "    === logs of hs1 ===\n", "    x.go:1: server said expected\n"}, "last of its own"},
		{[]string{"    a_test.go:9: " + marker.Line(marker.Record{Kind: marker.FailCode, Code: "lost-events"}) + "\n"}, ""},
	} {
		if got := (&Test{Output: c.output}).FailureLine(); got != c.want {
			t.Errorf("FailureLine of %q: expected %q, got %q", c.output, c.want, got)
		}
	}
}

// A warning is summed up by what it failed with, not by a progress line logged before it (a
// linger variant's SYNC-9 warning read "the end marker ...: held after 18ms").
func TestFirstMessageIsTheFailure(t *testing.T) {
	tt := &Test{Name: "TestX/sync", Output: []string{
		"    sync_test.go:220: the end marker over sync as @a:hs1: held after 18ms\n",
		"    sync_test.go:224: STICKLER: {\"kind\":\"failcode\",\"code\":\"still-sticky-after-expiry\"}\n",
		"    sync_test.go:224: [still-sticky-after-expiry] expected $e NOT to be in the sticky section, but it is\n",
	}}
	if got, want := firstMessage(tt), "[still-sticky-after-expiry] expected $e NOT to be in the sticky section, but it is"; got != want {
		t.Errorf("firstMessage: got %q, want %q", got, want)
	}
	quiet := &Test{Name: "TestY", Output: []string{"    x_test.go:3: only a note\n"}}
	if got := firstMessage(quiet); got != "only a note" {
		t.Errorf("firstMessage without a failure line: got %q, want the first line", got)
	}
}
