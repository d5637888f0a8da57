package report

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"stickler/helpers/spec"
	"stickler/helpers/spec/marker"
)

// Problem is a line of the expectations file that does not fit the suite.
type Problem struct {
	Line  int    `json:"line"`
	Test  string `json:"test"`
	Text  string `json:"text"`
	Fatal bool   `json:"fails_run"` // an error (full run) rather than a warning (-run subset)
}

func (p Problem) String() string {
	word := "warning"
	if p.Fatal {
		word = "error"
	}
	return fmt.Sprintf("line %d: %s: %s: %s", p.Line, word, p.Test, p.Text)
}

// Suite says which tests the suite has, for checking the expectations file.
type Suite struct {
	// Tests are the suite's top-level tests (`go test -list`); when empty, the top-level tests
	// seen in the stream stand in for them, which is right only for a complete run.
	Tests []string
	// Complete: the run was the whole suite (no -run). A line naming a test that does not
	// exist is then an error that fails the run; in a subset it is a warning.
	Complete bool
}

// CheckExpectations finds expectations lines that name no test of the suite. Subtests are
// made at run time, so a subtest name is only checked against the stream: one whose parent
// ran to the end without it is reported as a warning.
func (r *Results) CheckExpectations(e Expectations, s Suite) []Problem {
	top := map[string]bool{}
	for _, n := range s.Tests {
		top[n] = true
	}
	if len(s.Tests) == 0 {
		for _, t := range r.Tests {
			if !strings.Contains(t.Name, "/") && !strings.HasPrefix(t.Name, "(") {
				top[t.Name] = true
			}
		}
	}
	seen := map[string]*Test{}
	for _, t := range r.Tests {
		seen[t.Name] = t
	}
	var out []Problem
	for _, x := range e {
		name, _, sub := strings.Cut(x.Test, "/")
		switch {
		case !top[name] && (len(s.Tests) > 0 || s.Complete):
			out = append(out, Problem{Line: x.Line, Test: x.Test, Fatal: s.Complete, Text: "the suite has no test " + name + " (fix or remove the line)"})
		case sub && seen[x.Test] == nil:
			if p := seen[name]; p != nil && (p.Outcome == "pass" || p.Outcome == "fail") {
				out = append(out, Problem{Line: x.Line, Test: x.Test, Text: name + " ran without this subtest (misspelt, or the parent stopped before it)"})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// Headline is the first thing a run's summary says when the server does not implement sticky
// events (or not under the selected names), so that such a run is not read as a list of
// skips or failures; "" otherwise. It reads the tests' records, never their words: the
// not-implemented ending records (spec.NotImplemented) of the skipped tests, and
// TestDiscover's failure code (spec.NotAdvertised). When DISCOVER-1 passed (hs1 implements the
// feature) and the skips name other servers, the deployment is mixed: the headline names those
// servers and says the other tests ran.
func (r *Results) Headline(v map[*Test]Verdict) string {
	notImpl, noStable := 0, 0
	discoverFailed := false
	servers := map[string]bool{}
	for _, t := range r.Leaves(v) {
		switch {
		case t.NotImplemented(marker.Sticky):
			notImpl++
			if t.Ending.Server != "" {
				servers[t.Ending.Server] = true
			}
		case t.NotImplemented(marker.StickyStable):
			noStable++
		case t.Outcome == "fail" && slices.Contains(t.Codes, spec.NotAdvertised):
			discoverFailed = true
		}
	}
	mixed := !discoverFailed && len(servers) > 0 && !servers[firstServer(servers)]
	switch {
	case mixed:
		names := make([]string, 0, len(servers))
		for s := range servers {
			names = append(names, s)
		}
		sort.Strings(names)
		return fmt.Sprintf("NOT IMPLEMENTED BY %s: it does not advertise %s; the %d sticky test(s) that need every server to implement it skipped, the others ran", strings.Join(names, ", "), marker.Sticky, notImpl)
	case notImpl > 0 || discoverFailed:
		return fmt.Sprintf("NOT IMPLEMENTED: the server does not advertise %s; %d sticky test(s) skipped", marker.Sticky, notImpl)
	case noStable > 0:
		return fmt.Sprintf("STABLE NAMES NOT SUPPORTED: the server advertises only %s (unstable names); %d sticky test(s) skipped (STICKLER_NAMES=unstable tests it)", marker.Sticky, noStable)
	}
	return ""
}

// firstServer returns the key for hs1 among the named servers ("" when hs1 is not named): a
// run where hs1 itself does not implement the feature is not called mixed.
func firstServer(servers map[string]bool) string {
	for s := range servers {
		if strings.HasPrefix(s, "hs1 ") {
			return s
		}
	}
	return ""
}
