package report

import (
	"bytes"
	"strings"
	"testing"

	"stickler/helpers/spec/marker"
)

func TestGroupSkips(t *testing.T) {
	got := GroupSkips([]Skip{
		{"A", "r1", ""},
		{"B", "inconclusive: too slow (1)", marker.Inconclusive},
		{"C", "r1", marker.NotApplicable},
		{"D", "inconclusive: too slow (1)", marker.Inconclusive},
		{"E", "", ""},
		{"F", "r1", ""},
		{"G", "inconclusive: control failed: c", marker.ControlFailed},
		{"H", "inconclusive: control failed: c", marker.ControlFailed},
		// The kind decides, not the words: the same words without an inconclusive record group.
		{"I", "inconclusive: too slow (1)", ""},
		{"J", "inconclusive: too slow (1)", ""},
	})
	want := []SkipGroup{
		{"r1", []string{"A", "C", "F"}},
		{"inconclusive: too slow (1)", []string{"B"}},
		{"inconclusive: too slow (1)", []string{"D"}}, // the same words, still one per test
		{"", []string{"E"}},
		{"inconclusive: control failed: c", []string{"G"}},
		{"inconclusive: control failed: c", []string{"H"}},
		{"inconclusive: too slow (1)", []string{"I", "J"}},
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
	if n := strings.Count(skipped, notAdvertised); n != 1 {
		t.Errorf("want the not-advertised reason once in the Skipped section, got %d times:\n%s", n, skipped)
	}
	for _, w := range []string{
		"== Skipped (4) ==",
		"  3 tests: hs1: " + notAdvertised,
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
	if n := strings.Count(sec, notAdvertised); n != 1 {
		t.Errorf("the Skipped section should give the not-advertised reason once, got %d:\n%s", n, sec)
	}
	for _, w := range []string{`<h2>Skipped (4)</h2>`, `<td class="num">3</td>`, `>TestFedCatchUpAfterCrash</a>`, `<tr id="skip-0">`} {
		if !strings.Contains(sec, w) {
			t.Errorf("the Skipped section lacks %q:\n%s", w, sec)
		}
	}
	// The sections a first reader needs come before the requirements table.
	if k, q := strings.Index(html, `<section id="skipped">`), strings.Index(html, `<section id="requirements">`); k < 0 || k > q {
		t.Errorf("the Skipped section should come before the requirements table")
	}
	// In the requirements table a shared reason is a short link to its group, said once per row.
	row := html[strings.Index(html, `id="req-SEND-2"`):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, `skipped (TestSendDurationBounds): <a href="#skip-0"`) || !strings.Contains(row, "(+2 other tests)") {
		t.Errorf("SEND-2's row should link its skip reason to its group and count the others:\n%s", row)
	}
}

// The known failures are listed near the top, each with its reason, before the requirements.
func TestHTMLKnownFailuresFirst(t *testing.T) {
	res, exp := readSynthetic(t)
	var page bytes.Buffer
	if err := WriteHTML(&page, Summarize(res, Rules{Expectations: exp}, Meta{Generated: base})); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	k, q := strings.Index(html, `<section id="known">`), strings.Index(html, `<section id="requirements">`)
	if k < 0 || k > q {
		t.Fatalf("no Known failures section before the requirements table")
	}
	sec := html[k:q]
	if !strings.Contains(sec, ">TestFedCatchUpAfterCrash</a>") || !strings.Contains(sec, "Synapse&#39;s federation sender has no sticky catch-up") {
		t.Errorf("the Known failures section lacks the synthetic known failure and its reason:\n%s", sec)
	}
}
