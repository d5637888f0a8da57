package report

import (
	"bytes"
	"strings"
	"testing"

	"stickler/helpers/wire"
)

func TestGroupSkips(t *testing.T) {
	names := []string{"A", "B", "C", "D", "E", "F"}
	reasons := []string{"r1", "inconclusive: too slow (1)", "r1", "inconclusive: too slow (1)", "", "r1"}
	got := GroupSkips(names, reasons)
	want := []SkipGroup{
		{"r1", []string{"A", "C", "F"}},
		{"inconclusive: too slow (1)", []string{"B"}},
		{"inconclusive: too slow (1)", []string{"D"}}, // the same words, still one per test
		{"", []string{"E"}},
	}
	if len(got) != len(want) {
		t.Fatalf("want %d groups, got %d: %+v", len(want), len(got), got)
	}
	for i := range want {
		if got[i].Reason != want[i].Reason || strings.Join(got[i].Tests, " ") != strings.Join(want[i].Tests, " ") {
			t.Errorf("group %d: want %+v, got %+v", i, want[i], got[i])
		}
	}
}

// A not-implemented run: the three tests skipped for the same reason are said once, with the
// count and the tests, in the terminal summary and in report.html.
func TestSkipsGroupedInTerminalAndHTML(t *testing.T) {
	r, err := Read(strings.NewReader(notImplementedStream(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	WriteTerminal(&out, r, Rules{})
	term := out.String()
	skipped := term[strings.Index(term, "== Skipped"):]
	skipped = skipped[:strings.Index(skipped, "\n\n")]
	if n := strings.Count(skipped, wire.NotAdvertised); n != 1 {
		t.Errorf("want the not-advertised reason once in the Skipped section, got %d times:\n%s", n, skipped)
	}
	for _, w := range []string{
		"== Skipped (4) ==",
		"  3 tests: hs1: " + wire.NotAdvertised,
		"      TestSendStickyVisibleEverywhere, TestSendDurationBounds, TestFedCatchUpAfterCrash\n",
		"  TestCompatJoinThroughOldServer: needs a deployment",
	} {
		if !strings.Contains(term, w) {
			t.Errorf("terminal summary lacks %q:\n%s", w, term)
		}
	}

	var page bytes.Buffer
	if err := WriteHTML(&page, Summarize(r, Rules{}, Meta{Generated: base})); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	sec := html[strings.Index(html, `<section id="skipped">`):]
	sec = sec[:strings.Index(sec, "</section>")]
	if n := strings.Count(sec, wire.NotAdvertised); n != 1 {
		t.Errorf("the Skipped section should give the not-advertised reason once, got %d:\n%s", n, sec)
	}
	for _, w := range []string{`<h2>Skipped (4)</h2>`, `<td class="num">3</td>`, `>TestFedCatchUpAfterCrash</a>`} {
		if !strings.Contains(sec, w) {
			t.Errorf("the Skipped section lacks %q:\n%s", w, sec)
		}
	}
}
