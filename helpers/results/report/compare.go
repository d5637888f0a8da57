package report

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"stickler/helpers/spec"
	"stickler/helpers/spec/marker"
)

// A comparison puts several runs' summaries side by side: one row per requirement, one column
// per run (an implementation, or a deployment mixing them), each cell the requirement's
// outcome in that run with the reason behind it.

// Cell states (the class names of the page). A state is always shown with its
// word, never by colour alone.
const (
	CellPass           = "pass"
	CellObserved       = "observed"        // its tests only observed what the server did
	CellExpectedFail   = "expected-fail"   // a known failure listed in that run's expectations file
	CellWarning        = "warning"         // a failed SHOULD requirement
	CellSkip           = "skip"            // its tests were skipped, for another reason than the next
	CellNotImplemented = "not-implemented" // its tests were skipped: the server does not advertise the feature
	CellNotCovered     = "not-covered"     // no test of that run names it (a -run subset, or an older catalogue)
	CellUnexpectedPass = "unexpected-pass" // passes, but listed as a known failure: fails that run
	CellFail           = "fail"            // fails that run (including "fails differently" and unfinished tests)
)

// cellWords are the words shown for each state, in the page and the terminal table.
var cellWords = map[string]string{
	CellPass: "pass", CellObserved: "observed", CellExpectedFail: "known failure", CellWarning: "warning (SHOULD)",
	CellSkip: "skipped", CellNotImplemented: "not implemented", CellNotCovered: "not covered",
	CellUnexpectedPass: "unexpected pass", CellFail: "FAIL",
}

// cellStates lists the states in the order the legend and the totals give them.
var cellStates = []string{CellPass, CellObserved, CellExpectedFail, CellWarning, CellSkip, CellNotImplemented, CellNotCovered, CellUnexpectedPass, CellFail}

// Comparison is the side-by-side view of several runs.
type Comparison struct {
	Runs   []CompareRun
	Groups []CompareGroup
	Differ []string // requirement IDs on which the runs that tested them disagree
	Seen   SeenPassing
}

// SeenPassing counts the requirement IDs seen passing on at least one of the compared runs: a
// suite is trusted when each of its tests has been seen to pass on a server that follows the
// rule, so an ID no run passes is one whose tests have never proven they can pass.
type SeenPassing struct {
	IDs, Total int
	ByLevel    []LevelSeen // MUST, SHOULD, MAY (levels the catalogue has), in that order
	Never      []string    // IDs no run passed, in catalogue order
}

// LevelSeen is the count for one level.
type LevelSeen struct {
	Level       string
	Seen, Total int
}

// Line is the figure in one line, as the README states it.
func (s SeenPassing) Line(runs int) string {
	var parts []string
	for _, l := range s.ByLevel {
		parts = append(parts, fmt.Sprintf("%s %d/%d", l.Level, l.Seen, l.Total))
	}
	return fmt.Sprintf("seen passing: %d of %d requirement IDs pass on at least one of the %d run(s) (%s)", s.IDs, s.Total, runs, strings.Join(parts, ", "))
}

// CompareRun is one column: a run and what its summary says about itself.
type CompareRun struct {
	Label  string // Meta.Label, else the image, else the summary's directory; unique among the runs
	Source string // the summary file it was read from
	*Summary
	Totals map[string]int // requirements per cell state
	// NotImplemented: the run's server implements nothing of the proposal (its headline says
	// "NOT IMPLEMENTED:"); its not-implemented cells collapse to a mark, the reason said once.
	NotImplemented bool
}

// CompareGroup is one requirement group (SEND, SYNC, ...).
type CompareGroup struct {
	Name    string
	Pass    []int // per run: requirements that pass or were observed
	Covered []int // per run: requirements some test of the run names
	Rows    []CompareRow
}

// Tally is the group's line for run i: "3/5 pass", or "not covered" when no test of the run
// names any of its requirements.
func (g CompareGroup) Tally(i int) string {
	if g.Covered[i] == 0 {
		return "not covered"
	}
	return fmt.Sprintf("%d/%d pass", g.Pass[i], g.Covered[i])
}

// CompareRow is one requirement across the runs.
type CompareRow struct {
	ID, Level, Title, Text string
	Cells                  []Cell   // one per run, in the order of Comparison.Runs
	Differs                bool     // the runs that tested it disagree
	SeenPassing            []string // labels of the runs it passed on
}

// Cell is a requirement's outcome in one run.
type Cell struct {
	State string
	// Passed: the requirement passed in that run and at least one of its tests (not a parent
	// whose subtests were all skipped) passed: it was seen passing there.
	Passed bool
	Reason string     // why, in one line: the reason of the test that decided the state ("" for a plain pass)
	Tests  []CellTest // every test of the requirement in that run, with its own reason
}

// CellTest is one test behind a cell.
type CellTest struct {
	Name    string
	Verdict Verdict
	Reason  string
}

// Word is the state as shown.
func (c Cell) Word() string { return cellWords[c.State] }

// ReadSummary reads a summary.json written by a run (path may also be the run's report
// directory).
func ReadSummary(path string) (*Summary, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, "summary.json")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s is not a stickler summary.json: %w", path, err)
	}
	if s.Requirements == nil {
		return nil, fmt.Errorf("%s has no \"requirements\": not a stickler summary.json", path)
	}
	return &s, nil
}

// Compare lines up summaries (sources are the files they came from, for labels and the page).
// Rows follow the catalogue; a requirement only some summaries know (they come from another
// version of the suite) is added after its group's catalogue entries.
func Compare(sums []*Summary, sources []string) *Comparison {
	c := &Comparison{}
	seen := map[string]int{}
	for i, s := range sums {
		src := ""
		if i < len(sources) {
			src = sources[i]
		}
		label := runLabel(s, src)
		if seen[label]++; seen[label] > 1 {
			label = fmt.Sprintf("%s (%d)", label, seen[label])
		}
		c.Runs = append(c.Runs, CompareRun{Label: label, Source: src, Summary: s, Totals: map[string]int{},
			NotImplemented: strings.HasPrefix(s.Headline, "NOT IMPLEMENTED:")})
	}

	// Every requirement ID any run knows, in catalogue order, then the unknown ones in the
	// order the summaries list them.
	type reqInfo struct{ id, group, level, title, text string }
	var order []reqInfo
	known := map[string]bool{}
	for _, q := range spec.Catalogue {
		order = append(order, reqInfo{q.ID, q.Group(), string(q.Level), q.Title, q.Text})
		known[q.ID] = true
	}
	for _, s := range sums {
		for _, id := range s.Order {
			if r, ok := s.Requirements[id]; ok && !known[id] {
				known[id] = true
				order = append(order, reqInfo{id, r.Group, r.Level, r.Title, r.Text})
			}
		}
	}
	tests := make([]map[string]*TestSummary, len(sums)) // per run: its tests by name
	for i, s := range sums {
		tests[i] = map[string]*TestSummary{}
		for j := range s.Tests {
			tests[i][s.Tests[j].Name] = &s.Tests[j]
		}
	}
	byGroup := map[string]*CompareGroup{}
	var groupOrder []string
	for _, q := range order {
		g := byGroup[q.group]
		if g == nil {
			g = &CompareGroup{Name: q.group, Pass: make([]int, len(sums)), Covered: make([]int, len(sums))}
			byGroup[q.group] = g
			groupOrder = append(groupOrder, q.group)
		}
		row := CompareRow{ID: q.id, Level: q.level, Title: q.title, Text: q.text}
		for i, s := range sums {
			cell := cellOf(s, tests[i], q.id)
			row.Cells = append(row.Cells, cell)
			c.Runs[i].Totals[cell.State]++
			if cell.State == CellPass || cell.State == CellObserved {
				g.Pass[i]++
			}
			if cell.State != CellNotCovered {
				g.Covered[i]++
			}
			if cell.Passed {
				row.SeenPassing = append(row.SeenPassing, c.Runs[i].Label)
			}
		}
		row.Differs = disagree(row.Cells)
		if row.Differs {
			c.Differ = append(c.Differ, q.id)
		}
		g.Rows = append(g.Rows, row)
	}
	for _, name := range groupOrder {
		c.Groups = append(c.Groups, *byGroup[name])
	}
	c.Seen = seenPassing(c)
	return c
}

func seenPassing(c *Comparison) SeenPassing {
	var s SeenPassing
	levels := map[string]*LevelSeen{}
	for _, l := range []string{string(spec.Must), string(spec.Should), string(spec.May)} {
		levels[l] = &LevelSeen{Level: l}
	}
	for _, g := range c.Groups {
		for _, row := range g.Rows {
			s.Total++
			l := levels[row.Level]
			if l == nil { // a level a newer catalogue added
				l = &LevelSeen{Level: row.Level}
				levels[row.Level] = l
			}
			l.Total++
			if len(row.SeenPassing) > 0 {
				s.IDs++
				l.Seen++
			} else {
				s.Never = append(s.Never, row.ID)
			}
		}
	}
	for _, l := range []string{string(spec.Must), string(spec.Should), string(spec.May)} {
		if levels[l].Total > 0 {
			s.ByLevel = append(s.ByLevel, *levels[l])
		}
		delete(levels, l)
	}
	var rest []string
	for l := range levels {
		rest = append(rest, l)
	}
	slices.Sort(rest)
	for _, l := range rest {
		s.ByLevel = append(s.ByLevel, *levels[l])
	}
	return s
}

// disagree says whether the runs that tested a requirement give it different states. A run
// that has no test of it, or skipped its tests (the server does not implement the proposal,
// or the deployment cannot run them), says nothing about it.
func disagree(cells []Cell) bool {
	first := ""
	for _, c := range cells {
		switch {
		case c.State == CellNotCovered, c.State == CellNotImplemented, c.State == CellSkip:
		case first == "":
			first = c.State
		case c.State != first:
			return true
		}
	}
	return false
}

// runLabel names a run: its label, else its image, else the directory of its summary.
func runLabel(s *Summary, source string) string {
	switch {
	case s.Meta.Label != "":
		return s.Meta.Label
	case s.Meta.Image != "":
		return s.Meta.Image
	case source != "":
		if filepath.Base(source) == "summary.json" {
			return filepath.Base(filepath.Dir(source))
		}
		return strings.TrimSuffix(filepath.Base(source), ".json")
	}
	return "run"
}

// cellOf is requirement id's cell in one run (tests: the run's tests by name).
func cellOf(s *Summary, tests map[string]*TestSummary, id string) Cell {
	q, ok := s.Requirements[id]
	if !ok {
		return Cell{State: CellNotCovered, Reason: "this run's suite has no requirement " + id}
	}
	cell := Cell{}
	for _, ref := range q.Tests {
		ct := CellTest{Name: ref.Name, Verdict: ref.Verdict, Reason: testReason(ref, tests[ref.Name], q.ID)}
		cell.Tests = append(cell.Tests, ct)
	}
	switch q.Outcome {
	case "untested":
		cell.State = CellNotCovered // the common case (a -run subset): the legend says it, no reason repeats it
		return cell
	case "pass":
		cell.State = CellPass
	case "observed":
		cell.State = CellObserved
	case "expected-fail":
		cell.State = CellExpectedFail
	case "warning":
		cell.State = CellWarning
	case "skip":
		cell.State = CellNotImplemented
		for _, ref := range q.Tests {
			if (ref.Verdict == Skipped || ref.Verdict == ExpectedSkip) && (ref.SkipKind != string(marker.NotImplemented) || ref.SkipFeature != marker.Sticky) {
				cell.State = CellSkip
			}
		}
	case "unexpected-pass":
		cell.State = CellUnexpectedPass
	case "fail":
		cell.State = CellFail
	default: // an outcome a newer suite added: shown, not hidden
		cell.State, cell.Reason = CellFail, "outcome \""+q.Outcome+"\" is unknown to this stickler-report"
		return cell
	}
	cell.Reason = deciding(cell)
	if cell.State == CellPass || cell.State == CellUnexpectedPass {
		cell.Passed = seenPassed(q.Tests)
	}
	if cell.Reason == "" && len(q.Choices) > 0 { // a MAY behaviour a subtest recorded
		cell.Reason = "saw: " + q.Choices[0].Behaviour
	}
	return cell
}

// seenPassed says whether a test of a requirement passed having checked it: a passing test
// counts unless subtests of it name the requirement too, for then they did the checking (a
// parent passes when one subtest passed and the one that checks this requirement skipped).
func seenPassed(refs []TestRef) bool {
	for _, ref := range refs {
		if ref.Verdict != Passed && ref.Verdict != UnexpectedPass {
			continue
		}
		delegated := false
		for _, o := range refs {
			delegated = delegated || strings.HasPrefix(o.Name, ref.Name+"/")
		}
		if !delegated {
			return true
		}
	}
	return false
}

// decidedBy are the test verdicts that make each cell state, worst first.
var decidedBy = map[string][]Verdict{
	CellFail:           {Failed, FailsDifferently, Unfinished, UnexpectedPass},
	CellUnexpectedPass: {UnexpectedPass},
	CellWarning:        {Warning},
	CellExpectedFail:   {ExpectedFail},
	CellSkip:           {Skipped, ExpectedSkip},
	CellNotImplemented: {Skipped, ExpectedSkip},
	CellObserved:       {Observed},
	CellPass:           {Passed, Observed},
}

// deciding is the reason of the first test whose verdict made the cell's state, named when
// the requirement has several tests.
func deciding(c Cell) string {
	for _, v := range decidedBy[c.State] {
		for _, t := range c.Tests {
			if t.Verdict == v && t.Reason != "" {
				if len(c.Tests) > 1 {
					return t.Name + ": " + t.Reason
				}
				return t.Reason
			}
		}
	}
	return ""
}

// testReason says why a test has its verdict: the expectations line, the skip reason, the
// failure codes and headline, or the behaviour it saw.
func testReason(ref TestRef, t *TestSummary, id string) string {
	var ts TestSummary
	if t != nil {
		ts = *t
	}
	// The codes lead the reason, unless the headline already starts with them (spec.Errorf
	// writes "[code] message").
	codes := ""
	if len(ts.Codes) > 0 && !strings.HasPrefix(ts.Message, "["+ts.Codes[0]+"]") {
		codes = "[" + strings.Join(ts.Codes, ", ") + "] "
	}
	exp := ""
	if ref.Expectation != nil {
		exp = ref.Expectation.Reason
	}
	switch ref.Verdict {
	case ExpectedFail:
		return codes + exp
	case ExpectedSkip:
		return join2(exp, ref.SkipReason)
	case Skipped:
		if ref.SkipReason == "" {
			return "no reason given"
		}
		return ref.SkipReason
	case UnexpectedPass:
		return "passes, but the expectations file lists it as failing (" + exp + ")"
	case FailsDifferently:
		return join2(ts.Difference, ts.Message)
	case Unfinished:
		return "never finished (the run timed out or the test binary crashed)"
	case Failed, Warning:
		if ts.Message == "" && codes == "" {
			return "failed"
		}
		return codes + ts.Message
	case Observed, Passed:
		if b, ok := ts.Choices[id]; ok {
			return "saw: " + b
		}
		if ref.Verdict == Observed {
			for _, b := range sortedChoices(ts.Choices) {
				return "saw: " + b.Behaviour
			}
		}
	}
	return ""
}

func join2(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "" || a == b:
		return a
	}
	return a + " — " + b
}

// TotalsLine counts the run's requirements per state, e.g. "8 pass · 1 FAIL · 4 not
// implemented" (not-covered ones are left out; "none covered" when that is all).
func (r CompareRun) TotalsLine() string {
	var parts []string
	for _, st := range cellStates {
		if n := r.Totals[st]; n > 0 && st != CellNotCovered {
			parts = append(parts, fmt.Sprintf("%d %s", n, cellWords[st]))
		}
	}
	if len(parts) == 0 {
		return "none covered"
	}
	return strings.Join(parts, " · ")
}

// Images is the image the run used, with the per-server images of a mixed deployment.
func (r CompareRun) Images() string {
	if len(r.Meta.Servers) == 0 {
		return r.Meta.Image
	}
	keys := make([]string, 0, len(r.Meta.Servers))
	for k := range r.Meta.Servers {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+r.Meta.Servers[k])
	}
	if r.Meta.Image != "" {
		parts = append([]string{r.Meta.Image}, parts...)
	}
	return strings.Join(parts, " ")
}
