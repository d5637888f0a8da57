package report

import (
	"encoding/json"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"stickler/helpers/harness/timeline"
	"stickler/helpers/spec"
	"stickler/helpers/spec/marker"
)

// Meta describes the run beside its results (all optional).
type Meta struct {
	// Label names the implementation in side-by-side comparisons: STICKLER_LABEL, else
	// STICKLER_SERVER (synapse, dendrite, mixed), else the image.
	Label        string            `json:"label,omitempty"`
	Image        string            `json:"image,omitempty"`        // COMPLEMENT_BASE_IMAGE
	Servers      map[string]string `json:"servers,omitempty"`      // COMPLEMENT_BASE_IMAGE_HSn, keyed hs1, hs2, ...
	Names        string            `json:"names,omitempty"`        // STICKLER_NAMES
	Expectations string            `json:"expectations,omitempty"` // the expectations file
	Strict       bool              `json:"strict,omitempty"`       // STICKLER_STRICT=1: failed SHOULDs fail the run
	Generated    time.Time         `json:"generated"`
	// Server is STICKLER_SERVER (the recipe) when the run used one.
	Server string `json:"server,omitempty"`
	// CodeMeanings is docs/failure-codes.md's table (code -> meaning) for the findings; nil: none.
	CodeMeanings map[string]string `json:"-"`
}

// Summary is the run as the JSON summary and the HTML report present it.
type Summary struct {
	Meta         Meta                          `json:"meta"`
	Result       string                        `json:"result"`             // "pass": every outcome as expected; "fail" otherwise
	Headline     string                        `json:"headline,omitempty"` // e.g. NOT IMPLEMENTED: ...
	CountLine    string                        `json:"count_line"`         // the terminal's closing line
	Problems     []Problem                     `json:"expectations_problems,omitempty"`
	Counts       CountsJSON                    `json:"counts"`
	Order        []string                      `json:"order"`        // requirement IDs in catalogue order
	Requirements map[string]RequirementSummary `json:"requirements"` // keyed by requirement ID
	Tests        []TestSummary                 `json:"tests"`        // every test, in the order they started
	Uncovered    []string                      `json:"tests_without_requirements,omitempty"`
	Findings     []Finding                     `json:"findings"` // one per defect (findings.md)
}

// CountsJSON are the closing counts, named as the terminal line names them.
type CountsJSON struct {
	Passed         int `json:"passed"`
	Failed         int `json:"failed"` // everything that fails the run: failures, unexpected passes, unfinished
	Skipped        int `json:"skipped"`
	ExpectedFail   int `json:"expected_failures"`
	UnexpectedPass int `json:"unexpected_passes"`
	Unfinished     int `json:"unfinished"`
	// FailsDifferently: listed failures that failed with other codes (counted in Failed).
	FailsDifferently int `json:"fails_differently"`
	Warnings         int `json:"warnings"` // failed SHOULDs (not in Failed)
	Observed         int `json:"observed"` // tests that only observed (not in Passed)
}

// RequirementSummary is one requirement of the catalogue and how this server did on it.
type RequirementSummary struct {
	ID    string `json:"id"`
	Group string `json:"group"`
	Level string `json:"level"`
	Title string `json:"title"`
	Text  string `json:"text"`    // the whole requirement (docs/requirements.md)
	From  string `json:"section"` // where in the proposals it comes from
	Doc   string `json:"doc"`     // its entry in the repository: docs/requirements.md#sync-3
	// Outcome is the worst verdict of its tests: fail, unexpected-pass, warning, expected-fail,
	// skip, pass, observed (its only tests observed), or untested (no test names it).
	Outcome string       `json:"outcome"`
	Tests   []TestRef    `json:"tests"`
	Choices []ChoiceJSON `json:"choices,omitempty"` // MAY: the behaviour each test saw
}

// TestRef is a test as listed under a requirement.
type TestRef struct {
	Name        string           `json:"name"`
	Verdict     Verdict          `json:"verdict"`
	Outcome     string           `json:"outcome"` // pass, fail, skip, or "" (never finished)
	ElapsedMS   int64            `json:"elapsed_ms"`
	Expectation *ExpectationJSON `json:"expectation,omitempty"`
	SkipReason  string           `json:"skip_reason,omitempty"`
	SkipKind    string           `json:"skip_kind,omitempty"`    // the kind of its ending record (Test.Ending), if it skipped with one
	SkipFeature string           `json:"skip_feature,omitempty"` // not-implemented: the feature the server lacks
}

// ExpectationJSON is an expectations-file line that applies to a test.
type ExpectationJSON struct {
	Outcome string   `json:"outcome"`
	Codes   []string `json:"codes,omitempty"`
	Reason  string   `json:"reason"`
	Line    int      `json:"line"`
}

// ChoiceJSON is a behaviour a server chose where the proposal allows several.
type ChoiceJSON struct {
	Test      string `json:"test"`
	Behaviour string `json:"behaviour"`
}

// TestSummary is one test with everything the report shows of it.
type TestSummary struct {
	Package     string            `json:"package"`
	Name        string            `json:"name"`
	Verdict     Verdict           `json:"verdict"`
	Outcome     string            `json:"outcome"`
	ElapsedMS   int64             `json:"elapsed_ms"`
	Counted     bool              `json:"counted"` // part of the closing counts (a leaf, or a parent failing on its own)
	Covers      []string          `json:"covers,omitempty"`
	Choices     map[string]string `json:"choices,omitempty"`
	Expectation *ExpectationJSON  `json:"expectation,omitempty"`
	SkipReason  string            `json:"skip_reason,omitempty"`
	SkipKind    string            `json:"skip_kind,omitempty"`    // the kind of its ending record (Test.Ending), if it skipped with one
	SkipFeature string            `json:"skip_feature,omitempty"` // not-implemented: the feature the server lacks
	Codes       []string          `json:"codes,omitempty"`        // failure codes of it and its subtests
	Difference  string            `json:"difference,omitempty"`   // fails-differently: expected and got codes
	Message     string            `json:"message,omitempty"`      // the failure in one line: a divergence, else the test's first message
	Failure     string            `json:"failure,omitempty"`      // its output (first third and end), when it fails or fails as expected
	Diverged    []DivergedJSON    `json:"diverged,omitempty"`     // from timeline.Diverged
	Timeline    []timeline.Record `json:"timeline,omitempty"`

	anchor string
}

// DivergedJSON is a client whose map was not what it should be.
type DivergedJSON struct {
	Client string `json:"client"`
	Why    string `json:"why"`
}

// failureLines is how much of a failing test's output the summary keeps.
const failureLines = 40

// Summarize judges the run and gathers what the JSON and HTML reports show.
func Summarize(r *Results, ru Rules, meta Meta) *Summary {
	e := ru.Expectations
	v := r.Verdicts(ru)
	c := r.Count(v)
	if meta.Generated.IsZero() {
		meta.Generated = time.Now()
	}
	meta.Strict = ru.Strict
	s := &Summary{
		Meta:     meta,
		Result:   "pass",
		Headline: r.Headline(v),
		Problems: r.CheckExpectations(e, ru.Suite),
		Counts: CountsJSON{Passed: c.Passed, Failed: c.FailingRun(), Skipped: c.Skipped,
			ExpectedFail: c.ExpectedFail, UnexpectedPass: c.UnexpectedPass, Unfinished: c.Unfinished,
			FailsDifferently: c.FailsDifferently, Warnings: c.Warnings, Observed: c.Observed},
		Requirements: map[string]RequirementSummary{},
	}
	for _, p := range s.Problems {
		if p.Fatal {
			c.ExpectationErrors++
		}
	}
	s.CountLine = CountLine(c)
	if c.RunFails(len(r.Tests)) {
		s.Result = "fail"
	}
	counted := map[*Test]bool{}
	for _, t := range r.Leaves(v) {
		counted[t] = true
	}
	for i, t := range r.Tests {
		if len(t.Covers) == 0 && !r.hasChildren(t) && !strings.HasPrefix(t.Name, "(") {
			s.Uncovered = append(s.Uncovered, t.Name)
		}
		s.Tests = append(s.Tests, summarizeTest(r, ru, v, i, t, counted[t]))
	}
	s.Findings = r.Findings(ru, meta.CodeMeanings, Repro{Server: meta.Server, Image: meta.Image, Servers: meta.Servers,
		Names: meta.Names, Expectations: meta.Expectations})
	for _, q := range r.ByRequirement() {
		s.Order = append(s.Order, q.ID)
		s.Requirements[q.ID] = summarizeRequirement(r, q, v, e)
	}
	return s
}

// expectationOf is the expectations line that applies to t, as the summary shows it; nil
// when none does.
func expectationOf(e Expectations, t *Test) *ExpectationJSON {
	if x, ok := e[t.Name]; ok {
		return &ExpectationJSON{Outcome: x.Outcome, Codes: x.Codes, Reason: x.Reason, Line: x.Line}
	}
	return nil
}

// summarizeTest is test number i of the run with its verdict v[t] and everything the report
// shows of it: codes, how a listed failure differs, its output when it failed, divergences
// and the one-line message.
func summarizeTest(r *Results, ru Rules, v map[*Test]Verdict, i int, t *Test, counted bool) TestSummary {
	ts := TestSummary{Package: t.Package, Name: t.Name, Verdict: v[t], Outcome: t.Outcome, ElapsedMS: t.Elapsed.Milliseconds(),
		Counted: counted, Covers: t.Covers, Expectation: expectationOf(ru.Expectations, t), Timeline: t.Timeline, anchor: anchorFor(i, t.Name)}
	if len(t.Choices) > 0 {
		ts.Choices = t.Choices
	}
	if t.Outcome == "skip" {
		ts.SkipReason, ts.SkipKind, ts.SkipFeature = t.SkipWhy, string(t.SkipKind()), skipFeature(t)
	}
	ts.Codes = r.Codes(t)
	if v[t] == FailsDifferently {
		ts.Difference = ru.Difference(t, ts.Codes)
	}
	if v[t] == Failed || v[t] == Unfinished || v[t] == ExpectedFail || v[t] == FailsDifferently || v[t] == Warning {
		ts.Failure = strings.TrimRight(indent(t.Output, failureLines), "\n")
	}
	for _, rec := range t.Timeline {
		if rec.Kind == timeline.KindDiverged {
			ts.Diverged = append(ts.Diverged, DivergedJSON{Client: rec.Client, Why: rec.Text})
		}
	}
	if ts.Failure != "" || len(ts.Diverged) > 0 {
		ts.Message = failureMessage(ts)
	}
	return ts
}

// skipFeature is the feature a not-implemented skip names ("" for any other).
func skipFeature(t *Test) string {
	if t.SkipKind() != marker.NotImplemented {
		return ""
	}
	return t.Ending.Feature
}

// summarizeRequirement is one requirement of the catalogue with its outcome, the tests that
// name it and the choices recorded for it (by those tests or their subtests).
func summarizeRequirement(r *Results, q Requirement, v map[*Test]Verdict, e Expectations) RequirementSummary {
	rs := RequirementSummary{ID: q.ID, Group: q.Group(), Level: string(q.Level), Title: q.Title, Text: q.Text, From: q.Section,
		Doc: spec.DocPath + "#" + q.Anchor(), Outcome: requirementOutcome(q, v), Tests: []TestRef{}}
	for _, t := range q.Tests {
		ref := TestRef{Name: t.Name, Verdict: v[t], Outcome: t.Outcome, ElapsedMS: t.Elapsed.Milliseconds(), Expectation: expectationOf(e, t)}
		if t.Outcome == "skip" {
			ref.SkipReason, ref.SkipKind, ref.SkipFeature = t.SkipWhy, string(t.SkipKind()), skipFeature(t)
		}
		rs.Tests = append(rs.Tests, ref)
	}
	// A choice may be recorded by a subtest of the test that names the requirement.
	for _, t := range r.Tests {
		if c, ok := t.Choices[q.ID]; ok {
			rs.Choices = append(rs.Choices, ChoiceJSON{Test: t.Name, Behaviour: c})
		}
	}
	return rs
}

// requirementOutcome is requirementState with unexpected passes told apart from failures.
func requirementOutcome(q Requirement, v map[*Test]Verdict) string {
	st := requirementState(q, v)
	if st != "fail" {
		return st
	}
	for _, t := range q.Tests {
		if v[t] != UnexpectedPass && v[t].FailsRun() {
			return "fail"
		}
	}
	return "unexpected-pass"
}

// anchorFor makes an HTML id for a test.
func anchorFor(i int, name string) string {
	var b strings.Builder
	b.WriteString("t")
	for _, c := range name {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteRune(c)
		} else {
			b.WriteByte('-')
		}
	}
	b.WriteString("-")
	b.WriteString(strconv.Itoa(i))
	return b.String()
}

// WriteJSON writes the summary as indented JSON.
func WriteJSON(w io.Writer, s *Summary) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// groups lists requirement groups in catalogue order.
func groups() []string {
	var out []string
	seen := map[string]bool{}
	for _, q := range spec.Catalogue {
		if g := q.Group(); !seen[g] {
			seen[g] = true
			out = append(out, g)
		}
	}
	return out
}

// sortedChoices flattens a test's choices in ID order.
func sortedChoices(m map[string]string) []ChoiceJSON {
	var out []ChoiceJSON
	for id, b := range m {
		out = append(out, ChoiceJSON{Test: id, Behaviour: b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Test < out[j].Test })
	return out
}
