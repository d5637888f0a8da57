package report

import "strings"

// Verdicts judges every test. A parent test that failed only because subtests failed as
// expected is itself an expected failure, with the children's reasons.
func (r *Results) Verdicts(e Expectations) map[*Test]Verdict {
	out := map[*Test]Verdict{}
	for _, t := range r.Tests {
		out[t] = e.Judge(t)
	}
	for _, t := range r.Tests {
		if out[t] != Failed {
			continue
		}
		prefix := t.Name + "/"
		failedChildren, allExpected := 0, true
		for _, c := range r.Tests {
			if c.Package != t.Package || !strings.HasPrefix(c.Name, prefix) || c.Outcome != "fail" {
				continue
			}
			failedChildren++
			if v := e.Judge(c); v != ExpectedFail {
				allExpected = false
			}
		}
		if failedChildren > 0 && allExpected {
			out[t] = ExpectedFail
		}
	}
	return out
}

// Counts adds up verdicts.
type Counts struct {
	Passed, Failed, ExpectedFail, UnexpectedPass, Skipped, Unfinished int
}

// Count counts the verdicts of leaf tests only (a parent with subtests is not counted again).
func (r *Results) Count(v map[*Test]Verdict) Counts {
	var c Counts
	for _, t := range r.Tests {
		if r.hasChildren(t) {
			if v[t] == Failed || v[t] == Unfinished {
				// A parent that failed on its own (not through a child) still counts.
				if !r.anyChildFailed(t) {
					c.Failed++
				}
			}
			continue
		}
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
