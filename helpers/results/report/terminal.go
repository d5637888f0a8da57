package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"stickler/helpers/harness/timeline"
)

// WriteTerminal prints the summary people read at the end of a run: one line per requirement
// group, the choices servers made where the proposal allows several, then every test that
// fails the run with its output, then the closing count line.
func WriteTerminal(w io.Writer, r *Results, ru Rules) Counts {
	e := ru.Expectations
	v := r.Verdicts(ru)

	if h := r.Headline(v); h != "" {
		fmt.Fprintln(w, "\n"+h)
	}
	writeRequirementGroups(w, r, v)
	writeChoices(w, r)
	writeKnownFailures(w, r, v, e)
	writeWarnings(w, r, v)
	writeSkipped(w, r)
	problems := r.CheckExpectations(e, ru.Suite)
	if len(problems) > 0 {
		fmt.Fprintln(w, "\n== Expectations file problems ==")
		for _, p := range problems {
			fmt.Fprintln(w, "  "+p.String())
		}
	}
	writeRunFailures(w, r, v, ru)

	c := r.Count(v)
	for _, p := range problems {
		if p.Fatal {
			c.ExpectationErrors++
		}
	}
	fmt.Fprintf(w, "\n%d expected failure(s), %d unexpected pass(es), %d failing differently than expected, %d unfinished, %d observed, %d expectations error(s)\n",
		c.ExpectedFail, c.UnexpectedPass, c.FailsDifferently, c.Unfinished, c.Observed, c.ExpectationErrors)
	fmt.Fprintln(w, CountLine(c))
	return c
}

// writeRequirementGroups prints the "Requirements" section: one line per requirement group
// (in the order the groups first appear) with its pass count and the IDs in each other state.
func writeRequirementGroups(w io.Writer, r *Results, v map[*Test]Verdict) {
	fmt.Fprintln(w, "\n== Requirements ==")
	groups := []string{}
	byGroup := map[string][]Requirement{}
	for _, q := range r.ByRequirement() {
		g := q.Group()
		if _, ok := byGroup[g]; !ok {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], q)
	}
	for _, g := range groups {
		ids := map[string][]string{} // requirement IDs by state
		for _, q := range byGroup[g] {
			st := requirementState(q, v)
			ids[st] = append(ids[st], q.ID)
		}
		line := fmt.Sprintf("%-9s %2d/%-2d pass", g, len(ids["pass"]), len(byGroup[g]))
		for _, part := range groupLineParts {
			if len(ids[part.state]) > 0 {
				line += "  " + part.label + ": " + strings.Join(ids[part.state], " ")
			}
		}
		fmt.Fprintln(w, line)
	}
}

// writeChoices prints, sorted, the behaviour tests recorded where the proposal allows a
// choice (and what observing tests saw); nothing when there is none.
func writeChoices(w io.Writer, r *Results) {
	var choices []string
	for _, t := range r.Tests {
		for id, c := range t.Choices {
			choices = append(choices, fmt.Sprintf("  %s (%s): %s", id, t.Name, c))
		}
	}
	if len(choices) > 0 {
		sort.Strings(choices)
		fmt.Fprintln(w, "\n== Behaviour seen where the proposal allows a choice, and what observing tests saw ==")
		fmt.Fprintln(w, strings.Join(choices, "\n"))
	}
}

// writeKnownFailures prints the expected failures with the reason their expectations line
// gives; nothing when there is none.
func writeKnownFailures(w io.Writer, r *Results, v map[*Test]Verdict, e Expectations) {
	var known []string
	for _, t := range r.Tests {
		if v[t] == ExpectedFail {
			if x, ok := e[t.Name]; ok {
				known = append(known, fmt.Sprintf("  %s: %s", t.Name, x.Reason))
			}
		}
	}
	if len(known) > 0 {
		fmt.Fprintln(w, "\n== Known failures of this server (expectations file) ==")
		fmt.Fprintln(w, strings.Join(known, "\n"))
	}
}

// writeWarnings prints the counted tests that failed only SHOULD requirements, with their
// first message; nothing when there is none.
func writeWarnings(w io.Writer, r *Results, v map[*Test]Verdict) {
	var warned []string
	for _, t := range r.Leaves(v) {
		if v[t] == Warning {
			warned = append(warned, fmt.Sprintf("  %s (%s): %s", t.Name, strings.Join(t.Covers, " "), firstMessage(t)))
		}
	}
	if len(warned) > 0 {
		fmt.Fprintln(w, "\n== Warnings: SHOULD requirements failed (they fail the run only with STICKLER_STRICT=1) ==")
		fmt.Fprintln(w, strings.Join(warned, "\n"))
	}
}

// writeSkipped prints the skipped tests without subtests, those skipped for the same reason
// grouped (GroupSkips); nothing when there is none.
func writeSkipped(w io.Writer, r *Results) {
	var skips []Skip
	for _, t := range r.Tests {
		if t.Outcome == "skip" && !r.hasChildren(t) {
			skips = append(skips, Skip{Name: t.Name, Reason: t.SkipWhy, Kind: t.SkipKind()})
		}
	}
	if len(skips) > 0 {
		var b strings.Builder
		writeSkipGroups(&b, GroupSkips(skips))
		fmt.Fprintf(w, "\n== Skipped (%d) ==\n", len(skips))
		fmt.Fprint(w, b.String())
	}
}

// writeRunFailures prints every test that fails the run with why and its output; a parent
// is left out when one of its subtests failed (the subtest is shown instead).
func writeRunFailures(w io.Writer, r *Results, v map[*Test]Verdict, ru Rules) {
	e := ru.Expectations
	first := true
	for _, t := range r.Tests {
		verdict := v[t]
		if !verdict.FailsRun() || (r.hasChildren(t) && r.anyChildFailed(t)) {
			continue
		}
		if first {
			fmt.Fprintln(w, "\n== Failures that fail the run ==")
			first = false
		}
		switch verdict {
		case UnexpectedPass:
			fmt.Fprintf(w, "--- %s passed, but the expectations file says it fails (%s): remove that line\n", t.Name, e[t.Name].Reason)
		case FailsDifferently:
			fmt.Fprintf(w, "--- FAIL %s (%v): %s (known failure: %s)\n", t.Name, t.Elapsed.Round(1e7), ru.Difference(t, r.Codes(t)), e[t.Name].Reason)
			fmt.Fprint(w, indent(t.Output, 60))
		case Unfinished:
			fmt.Fprintf(w, "--- %s never finished (timeout or crash); its output:\n%s", t.Name, indent(t.Output, 60))
		default:
			fmt.Fprintf(w, "--- FAIL %s (%v)\n", t.Name, t.Elapsed.Round(1e7))
			for _, d := range t.Timeline {
				if d.Kind == timeline.KindDiverged {
					fmt.Fprintf(w, "    %s diverged: %s\n", d.Client, d.Text)
				}
			}
			fmt.Fprint(w, indent(t.Output, 60))
		}
	}
}

// CountLine is the closing line of every run; `stickler: N passed, N failed` stays its start,
// so scripts can read it.
func CountLine(c Counts) string {
	return fmt.Sprintf("stickler: %d passed, %d failed, %d skipped, %d warnings", c.Passed, c.FailingRun(), c.Skipped, c.Warnings)
}

// firstMessage is what a test failed with (its failure line), else the first line it said
// that is not a marker: a warning is shown by its failure, not by a progress line logged
// before it.
func firstMessage(t *Test) string {
	if m := t.FailureLine(); m != "" {
		return m
	}
	for _, l := range strings.Split(indent(t.Output, 1000), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "--- ") {
			return stripLocation(l)
		}
	}
	return "(no message)"
}

// groupLineParts are the lists a requirement group's summary line names after its pass
// count, in this order: each requirement state (requirementState) with the words before it.
var groupLineParts = []struct{ state, label string }{
	{"fail", "FAIL"},
	{"warning", "warnings (SHOULD)"},
	{"observed", "observed"},
	{"expected-fail", "known failures"},
	{"skip", "skipped (see below)"},
	{"untested", "not tested here"},
}

// requirementState is the worst verdict among a requirement's tests.
func requirementState(q Requirement, v map[*Test]Verdict) string {
	if len(q.Tests) == 0 {
		return "untested"
	}
	// A skipped test checked nothing: the requirement is "skip" only when no test of it
	// passed either.
	// Worst first: fail, warning, expected-fail, skip; "observed" only when every test of it
	// only observed.
	rank := map[string]int{"pass": 0, "observed": 0, "skip": 1, "expected-fail": 2, "warning": 3, "fail": 4}
	state, passed, observed := "pass", false, 0
	worse := func(s string) {
		if rank[s] > rank[state] {
			state = s
		}
	}
	for _, t := range q.Tests {
		switch v[t] {
		case Failed, UnexpectedPass, Unfinished, FailsDifferently:
			worse("fail")
		case Warning:
			worse("warning")
		case ExpectedFail:
			worse("expected-fail")
		case Skipped, ExpectedSkip:
			worse("skip")
		case Passed:
			passed = true
		case Observed:
			observed++
		}
	}
	switch {
	case state == "skip" && (passed || observed > 0):
		return "pass"
	case state == "pass" && observed == len(q.Tests):
		return "observed"
	}
	return state
}

// indent keeps n output lines of a test (the first third and the rest from the end), without the marker lines (a marker line
// may have reached the stream in several pieces, so the output is joined first).
func indent(chunks []string, n int) string {
	var keep []string
	for _, l := range strings.SplitAfter(strings.Join(chunks, ""), "\n") {
		if l == "" || isMarker(l) || strings.HasPrefix(l, "=== ") {
			continue
		}
		if !strings.HasSuffix(l, "\n") {
			l += "\n"
		}
		keep = append(keep, l)
	}
	if len(keep) > n {
		// The test's own message often comes first and server logs after it, or the other way
		// round: keep both ends.
		head := n / 3
		cut := fmt.Sprintf("    ... %d line(s) cut here; results.json has all\n", len(keep)-n)
		keep = append(append(keep[:head:head], cut), keep[len(keep)-(n-head):]...)
	}
	return strings.Join(keep, "")
}
