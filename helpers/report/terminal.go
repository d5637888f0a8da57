package report

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"stickler/helpers/spec"
	"stickler/helpers/timeline"
)

// WriteTerminal prints the summary people read at the end of a run: one line per requirement
// group, the choices servers made where the proposal allows several, then every test that
// fails the run with its output, then the closing count line.
func WriteTerminal(w io.Writer, r *Results, e Expectations) Counts {
	v := r.Verdicts(e)
	reqs := r.ByRequirement()

	fmt.Fprintln(w, "\n== Requirements ==")
	groups := []string{}
	byGroup := map[string][]Requirement{}
	for _, q := range reqs {
		g := q.Group()
		if _, ok := byGroup[g]; !ok {
			groups = append(groups, g)
		}
		byGroup[g] = append(byGroup[g], q)
	}
	for _, g := range groups {
		var ok, bad, known, skipped, untested []string
		for _, q := range byGroup[g] {
			st := requirementState(q, v)
			switch st {
			case "pass":
				ok = append(ok, q.ID)
			case "fail":
				bad = append(bad, q.ID)
			case "expected-fail":
				known = append(known, q.ID)
			case "skip":
				skipped = append(skipped, q.ID)
			default:
				untested = append(untested, q.ID)
			}
		}
		line := fmt.Sprintf("%-9s %2d/%-2d pass", g, len(ok), len(byGroup[g]))
		if len(bad) > 0 {
			line += "  FAIL: " + strings.Join(bad, " ")
		}
		if len(known) > 0 {
			line += "  known failures: " + strings.Join(known, " ")
		}
		if len(skipped) > 0 {
			line += "  skipped (see below): " + strings.Join(skipped, " ")
		}
		if len(untested) > 0 {
			line += "  not tested here: " + strings.Join(untested, " ")
		}
		fmt.Fprintln(w, line)
	}

	var choices []string
	for _, t := range r.Tests {
		for id, c := range t.Choices {
			choices = append(choices, fmt.Sprintf("  %s (%s): %s", id, t.Name, c))
		}
	}
	if len(choices) > 0 {
		sort.Strings(choices)
		fmt.Fprintln(w, "\n== Behaviour seen where the proposal allows a choice ==")
		fmt.Fprintln(w, strings.Join(choices, "\n"))
	}

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

	var skipped []string
	for _, t := range r.Tests {
		if t.Outcome == "skip" && !r.hasChildren(t) {
			skipped = append(skipped, fmt.Sprintf("  %s: %s", t.Name, t.SkipWhy))
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintln(w, "\n== Skipped ==")
		fmt.Fprintln(w, strings.Join(skipped, "\n"))
	}

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
	c := r.Count(v)
	fmt.Fprintf(w, "\n%d expected failure(s), %d unexpected pass(es), %d unfinished\n", c.ExpectedFail, c.UnexpectedPass, c.Unfinished)
	fmt.Fprintf(w, "stickler: %d passed, %d failed, %d skipped\n", c.Passed, c.Failed+c.UnexpectedPass+c.Unfinished, c.Skipped)
	return c
}

// requirementState is the worst verdict among a requirement's tests.
func requirementState(q Requirement, v map[*Test]Verdict) string {
	if len(q.Tests) == 0 {
		return "untested"
	}
	// A skipped test checked nothing: the requirement is "skip" only when no test of it
	// passed either.
	state, passed := "pass", false
	for _, t := range q.Tests {
		switch v[t] {
		case Failed, UnexpectedPass, Unfinished:
			return "fail"
		case ExpectedFail:
			state = "expected-fail"
		case Skipped, ExpectedSkip:
			if state == "pass" {
				state = "skip"
			}
		case Passed:
			passed = true
		}
	}
	if state == "skip" && passed {
		return "pass"
	}
	return state
}

// indent keeps n output lines of a test (the first third and the rest from the end), without the marker lines (a marker line
// may have reached the stream in several pieces, so the output is joined first).
func indent(chunks []string, n int) string {
	var keep []string
	for _, l := range strings.SplitAfter(strings.Join(chunks, ""), "\n") {
		if l == "" || strings.Contains(l, spec.CoversMarker) || strings.Contains(l, spec.ChoiceMarker) ||
			strings.Contains(l, timeline.Marker) || strings.HasPrefix(l, "=== ") {
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
