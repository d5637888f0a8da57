package report

import (
	"fmt"
	"slices"
	"strings"

	"stickler/helpers/spec"
)

// Rules are what verdicts depend on besides the tests themselves.
type Rules struct {
	Expectations Expectations
	// Strict makes a failed SHOULD fail the run like a failed MUST (STICKLER_STRICT=1).
	Strict bool
	// Suite is what the expectations file is checked against.
	Suite Suite
}

// The verdict rule, the only one (the summary, the live lines and the report files all use it):
//
//  1. A test listed in the expectations is judged against its line, at every level: a "fail"
//     line is met only by a failure whose codes (its own and its subtests') are all among the
//     listed ones (no code at all does not meet it: "fails differently"); a listed test that
//     passes is an unexpected pass. A "skip" line is met by a skip.
//  2. An unlisted failure is a warning when every requirement the test names (spec.Covers) is
//     SHOULD, and a failure otherwise (a test naming a MUST and a SHOULD fails as a MUST: split
//     it into subtests to tell them apart). With Strict there are no warnings.
//  3. A passing test that recorded an observation (spec.Observe) is "observed".
//  4. A parent that failed only through its subtests takes the mildest verdict that covers all
//     of its failing subtests: expected when all are expected, a warning when all are expected
//     or warnings, a failure otherwise.
//  5. A parent that passed while every subtest it ran was skipped is skipped: nothing it ran
//     checked anything (the counts, taken from the subtests, already say so; the parent's own
//     line must not say pass).

// Verdict judges one test. children are its direct subtests that have ended, with their
// verdicts; subtests end before their parent, so a live reader can judge as it reads.
func (ru Rules) Verdict(t *Test, codes []string, children map[*Test]Verdict) Verdict {
	v := ru.own(t, codes)
	if v == Passed && len(children) > 0 && allSkipped(children) {
		return Skipped
	}
	if v != Failed || ru.hasExpectation(t) {
		return v
	}
	failing, expected, warnings := 0, 0, 0
	for c, cv := range children {
		if c.Outcome != "fail" {
			continue
		}
		failing++
		switch cv {
		case ExpectedFail:
			expected++
		case Warning:
			warnings++
		}
	}
	switch {
	case failing == 0:
		return v
	case expected == failing:
		return ExpectedFail
	case expected+warnings == failing:
		return Warning
	}
	return v
}

func (ru Rules) hasExpectation(t *Test) bool {
	_, ok := ru.Expectations[t.Name]
	return ok
}

// own is the verdict of a test on its own outcome (rules 1 to 3).
func (ru Rules) own(t *Test, codes []string) Verdict {
	if x, ok := ru.Expectations[t.Name]; ok {
		switch {
		case x.Outcome == "fail" && t.Outcome == "pass":
			return UnexpectedPass
		case x.Outcome == "fail" && t.Outcome == "fail":
			if codesMatch(x.Codes, codes) {
				return ExpectedFail
			}
			return FailsDifferently
		case x.Outcome == "skip" && t.Outcome == "skip":
			return ExpectedSkip
		}
	}
	switch t.Outcome {
	case "pass":
		if t.Observed {
			return Observed
		}
		return Passed
	case "fail":
		if !ru.Strict && onlyShould(t.Covers) {
			return Warning
		}
		return Failed
	case "skip":
		return Skipped
	}
	return Unfinished
}

// allSkipped says whether every subtest was skipped.
func allSkipped(children map[*Test]Verdict) bool {
	for _, v := range children {
		if v != Skipped && v != ExpectedSkip {
			return false
		}
	}
	return true
}

// codesMatch: the test failed with at least one code, and only with listed ones.
func codesMatch(listed, got []string) bool {
	if len(got) == 0 {
		return false
	}
	for _, c := range got {
		if !slices.Contains(listed, c) {
			return false
		}
	}
	return true
}

// onlyShould says whether ids are all SHOULD requirements (and there is at least one).
func onlyShould(ids []string) bool {
	if len(ids) == 0 {
		return false
	}
	for _, id := range ids {
		if q, ok := spec.Lookup(id); !ok || q.Level != spec.Should {
			return false
		}
	}
	return true
}

// Difference explains a "fails differently" verdict: what the expectations line listed and
// which codes the test failed with.
func (ru Rules) Difference(t *Test, codes []string) string {
	got := "no code"
	if len(codes) > 0 {
		got = strings.Join(codes, ", ")
	}
	return fmt.Sprintf("fails differently than expected: expected %s, got %s", strings.Join(ru.Expectations[t.Name].Codes, " or "), got)
}

// Verdicts judges every test of a run, subtests before their parents.
func (r *Results) Verdicts(ru Rules) map[*Test]Verdict {
	out := map[*Test]Verdict{}
	var judge func(t *Test) Verdict
	judge = func(t *Test) Verdict {
		if v, ok := out[t]; ok {
			return v
		}
		kids := map[*Test]Verdict{}
		for _, c := range r.children(t) {
			kids[c] = judge(c)
		}
		out[t] = ru.Verdict(t, r.Codes(t), kids)
		return out[t]
	}
	for _, t := range r.Tests {
		judge(t)
	}
	return out
}

// Codes are the failure codes of a test and its subtests, without repeats.
func (r *Results) Codes(t *Test) []string {
	codes := slices.Clone(t.Codes)
	for _, c := range r.Tests {
		if c.Package == t.Package && strings.HasPrefix(c.Name, t.Name+"/") {
			for _, code := range c.Codes {
				if !slices.Contains(codes, code) {
					codes = append(codes, code)
				}
			}
		}
	}
	return codes
}

// children are the direct subtests of t.
func (r *Results) children(t *Test) []*Test {
	var out []*Test
	for _, c := range r.Tests {
		if c.Package == t.Package && strings.HasPrefix(c.Name, t.Name+"/") && !strings.Contains(c.Name[len(t.Name)+1:], "/") {
			out = append(out, c)
		}
	}
	return out
}

// Counts adds up verdicts.
type Counts struct {
	Passed, Failed, ExpectedFail, UnexpectedPass, Skipped, Unfinished int
	FailsDifferently, Warnings, Observed                              int
	ExpectationErrors                                                 int // expectations lines that fail the run
}

// FailingRun is how many counted tests fail the run.
func (c Counts) FailingRun() int {
	return c.Failed + c.UnexpectedPass + c.Unfinished + c.FailsDifferently
}

// RunFails says whether the run fails: a test that fails it, an error of the expectations file,
// or no test at all.
func (c Counts) RunFails(tests int) bool {
	return c.FailingRun() > 0 || c.ExpectationErrors > 0 || tests == 0
}

// Count counts the verdicts of leaf tests only (a parent with subtests is not counted again).
func (r *Results) Count(v map[*Test]Verdict) Counts {
	var c Counts
	for _, t := range r.Leaves(v) {
		switch v[t] {
		case Passed:
			c.Passed++
		case Failed:
			c.Failed++
		case ExpectedFail:
			c.ExpectedFail++
		case UnexpectedPass:
			c.UnexpectedPass++
		case Skipped, ExpectedSkip:
			c.Skipped++
		case Unfinished:
			c.Unfinished++
		case FailsDifferently:
			c.FailsDifferently++
		case Warning:
			c.Warnings++
		case Observed:
			c.Observed++
		}
	}
	return c
}

func (r *Results) hasChildren(t *Test) bool {
	for _, c := range r.Tests {
		if c.Package == t.Package && strings.HasPrefix(c.Name, t.Name+"/") {
			return true
		}
	}
	return false
}

func (r *Results) anyChildFailed(t *Test) bool {
	for _, c := range r.Tests {
		if c.Package == t.Package && strings.HasPrefix(c.Name, t.Name+"/") && c.Outcome == "fail" {
			return true
		}
	}
	return false
}
