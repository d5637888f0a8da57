// Package report turns a `go test -json` stream of the conformance suite, the requirement
// declarations in it and an image's expectations into verdicts people read.
package report

import (
	"bufio"
	"encoding/json"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"stickler/helpers/harness/timeline"
	"stickler/helpers/spec"
	"stickler/helpers/spec/marker"
)

// event is one line of `go test -json` (test2json).
type event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

// Test is the outcome of one test (or subtest).
type Test struct {
	Package  string
	Name     string
	Outcome  string // pass, fail, skip, or "" when the stream ended before it did
	Elapsed  time.Duration
	Output   []string
	Covers   []string          // requirement IDs from spec.Covers
	Choices  map[string]string // requirement ID -> behaviour seen (spec.Choice, spec.Observe)
	Codes    []string          // failure codes (spec.Errorf, spec.MarkFailure), in order, no repeats
	Observed bool              // the test recorded an observation (spec.Observe)
	SkipWhy  string
	// Ending is how a test that could not judge ended (spec.Inconclusive, ControlFailed,
	// NotImplemented, NotApplicable): its record, nil for none. The report reads the kind of a
	// skip from it, never from the skip's words.
	Ending   *marker.Record
	Started  time.Time
	Finished time.Time
	Timeline []timeline.Record // from timeline.* calls, in log order

	pending  string // output after the last newline (test2json splits long lines)
	lastSaid string // the last plain log line, the reason of a t.Skip without an ending record or "skipped: "
}

// Results are all tests of a run, in the order they started.
type Results struct {
	Tests    []*Test
	byKey    map[string]*Test
	Packages map[string]string // package -> pass/fail
	Raw      []byte            // the stream as read
}

// Read parses a `go test -json` stream. Lines that are not JSON (build errors) are kept as
// output of a pseudo-test named after the package "(build)".
func Read(r io.Reader, onEvent func(*Test, string)) (*Results, error) {
	res := &Results{byKey: map[string]*Test{}, Packages: map[string]string{}}
	var raw strings.Builder
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1024*1024), 64*1024*1024)
	for sc.Scan() {
		line := sc.Bytes()
		raw.Write(line)
		raw.WriteByte('\n')
		var ev event
		if err := json.Unmarshal(line, &ev); err != nil || ev.Action == "" {
			t := res.test("", "(build)", time.Now())
			t.Output = append(t.Output, string(line)+"\n")
			t.Outcome = "fail"
			continue
		}
		if ev.Test == "" {
			switch ev.Action {
			case "pass", "fail":
				res.Packages[ev.Package] = ev.Action
			case "output":
				// All of it: a package that fails before any test (a bad setting, a build error,
				// a panic) explains itself only here.
				if ev.Output != "PASS\n" && !strings.HasPrefix(ev.Output, "ok ") {
					t := res.test(ev.Package, "(package)", ev.Time)
					t.Output = append(t.Output, ev.Output)
				}
			}
			continue
		}
		t := res.test(ev.Package, ev.Test, ev.Time)
		switch ev.Action {
		case "output":
			t.Output = append(t.Output, ev.Output)
			t.feed(ev.Output)
		case "pass", "fail", "skip":
			t.flush()
			if ev.Action == "skip" && t.SkipWhy == "" {
				t.SkipWhy = t.lastSaid
			}
			t.Outcome = ev.Action
			t.Elapsed = time.Duration(ev.Elapsed * float64(time.Second))
			t.Finished = ev.Time
			if onEvent != nil {
				onEvent(t, ev.Action)
			}
		}
	}
	res.Raw = []byte(raw.String())
	for _, t := range res.Tests {
		t.flush()
	}
	res.explainPackageFailures()
	return res, sc.Err()
}

func (r *Results) test(pkg, name string, at time.Time) *Test {
	key := pkg + "\x00" + name
	t := r.byKey[key]
	if t == nil {
		t = &Test{Package: pkg, Name: name, Choices: map[string]string{}, Started: at}
		r.byKey[key] = t
		r.Tests = append(r.Tests, t)
	}
	return t
}

// feed takes one output chunk and scans every whole line in it. test2json cuts lines longer
// than its limit into several output events, so a marker line may arrive in pieces.
func (t *Test) feed(chunk string) {
	t.pending += chunk
	for {
		i := strings.IndexByte(t.pending, '\n')
		if i < 0 {
			return
		}
		t.scan(t.pending[:i])
		t.pending = t.pending[i+1:]
	}
}

// flush scans what is left without a newline.
func (t *Test) flush() {
	if t.pending != "" {
		t.scan(t.pending)
		t.pending = ""
	}
}

// scan picks the suite's markers (package marker) out of one output line.
func (t *Test) scan(line string) {
	if m, ok := marker.Parse(line); ok {
		t.record(m)
		return
	}
	if s := strings.TrimSpace(line); s != "" && !strings.HasPrefix(s, "=== ") && !strings.HasPrefix(s, "--- ") {
		t.lastSaid = stripLocation(s)
	}
	if i := strings.Index(line, "skipped: "); i >= 0 && t.SkipWhy == "" {
		t.SkipWhy = strings.TrimSpace(line[i+len("skipped: "):])
	}
}

// record takes one marker record into t.
func (t *Test) record(m marker.Record) {
	switch m.Kind {
	case marker.Covers:
		t.Covers = append(t.Covers, m.IDs...)
	case marker.Choice:
		t.Choices[m.ID] = m.Text
	case marker.Observed:
		t.Choices[m.ID] = m.Text
		t.Observed = true
	case marker.FailCode:
		if m.Code != "" && !slices.Contains(t.Codes, m.Code) {
			t.Codes = append(t.Codes, m.Code)
		}
	case marker.Timeline:
		if r, ok := timeline.FromMarker(m); ok {
			t.Timeline = append(t.Timeline, r)
		}
	default:
		if marker.Ending(m.Kind) {
			t.Ending = &m
			t.SkipWhy = m.Reason()
		}
	}
}

// SkipKind is the kind of a skipped test's ending record ("" when it did not skip, or skipped
// without one).
func (t *Test) SkipKind() marker.Kind {
	if t.Outcome != "skip" || t.Ending == nil {
		return ""
	}
	return t.Ending.Kind
}

// NotImplemented says whether t skipped because a server does not implement sticky events
// (under the selected names when stable is set): its not-implemented record names
// marker.Sticky, or marker.StickyStable. A skip for another feature (MSC4140) is neither.
func (t *Test) NotImplemented(feature string) bool {
	return t.SkipKind() == marker.NotImplemented && t.Ending.Feature == feature
}

// Requirement groups a catalogue entry with the tests that name it.
type Requirement struct {
	spec.Requirement
	Tests []*Test
}

// ByRequirement lists every catalogue requirement with the tests that cover it.
func (r *Results) ByRequirement() []Requirement {
	idx := map[string][]*Test{}
	for _, t := range r.Tests {
		for _, id := range t.Covers {
			// A parent whose subtests name the same requirement leaves it to them: its own
			// outcome mixes every subtest's, so it would blame one rule for another's failure.
			if r.childCovers(t, id) {
				continue
			}
			idx[id] = append(idx[id], t)
		}
	}
	out := make([]Requirement, 0, len(spec.Catalogue))
	for _, req := range spec.Catalogue {
		ts := idx[req.ID]
		sort.SliceStable(ts, func(i, j int) bool { return ts[i].Name < ts[j].Name })
		out = append(out, Requirement{Requirement: req, Tests: ts})
	}
	return out
}

// childCovers says whether a subtest of t names the requirement id.
func (r *Results) childCovers(t *Test, id string) bool {
	for _, c := range r.Tests {
		if c.Package == t.Package && strings.HasPrefix(c.Name, t.Name+"/") && slices.Contains(c.Covers, id) {
			return true
		}
	}
	return false
}

// isMarker says whether a log line is one of the suite's marker lines (not a message).
func isMarker(s string) bool {
	_, ok := marker.Parse(s)
	return ok
}

// ownLogLine is a test's own log line ("    file.go:12: text"), not a server log printed
// under it.
var ownLogLine = regexp.MustCompile(`^    [\w.-]+\.go:\d+: (.*)`)

// FailureLine is the line that says why t failed: its first own log line that says what was
// "expected" (the project's assertions all do), else its last own log line; both before the
// servers' logs printed under it ("=== logs of ..."), marker lines left out. "" when it
// logged nothing of its own.
func (t *Test) FailureLine() string {
	line := ""
	for _, l := range strings.Split(strings.Join(t.Output, ""), "\n") {
		if strings.Contains(l, "=== logs of ") {
			break
		}
		m := ownLogLine.FindStringSubmatch(l)
		if m == nil || isMarker(m[1]) {
			continue
		}
		line = m[1]
		if strings.Contains(line, "expected") {
			break
		}
	}
	return line
}

// stripLocation removes the "file_test.go:12: " prefix testing puts before a log line.
func stripLocation(s string) string {
	if i := strings.Index(s, ": "); i > 0 {
		loc := s[:i]
		if j := strings.LastIndexByte(loc, ':'); j > 0 && strings.HasSuffix(loc[:j], ".go") && !strings.ContainsAny(loc, " \t") {
			return s[i+2:]
		}
	}
	return s
}

// Leaves are the tests the counts are made of: tests without subtests, and parents that
// failed on their own (not through a subtest). Their order is the stream's.
func (r *Results) Leaves(v map[*Test]Verdict) []*Test {
	var out []*Test
	for _, t := range r.Tests {
		if !r.hasChildren(t) || ((t.Outcome == "fail" || t.Outcome == "") && !r.anyChildFailed(t)) {
			out = append(out, t)
		}
	}
	return out
}

// explainPackageFailures deals with the package-level output kept as "(package)": a package
// that failed with no test to blame (a panic outside tests, a build error) shows as a failed
// "(package)" test; a package whose failure its own tests explain does not count twice, and
// its output (e.g. "panic: test timed out") goes to the tests that never finished.
func (r *Results) explainPackageFailures() {
	var drop []*Test
	for _, p := range r.Tests {
		if p.Name != "(package)" {
			continue
		}
		if r.Packages[p.Package] == "pass" {
			drop = append(drop, p)
			continue
		}
		explained := false
		for _, t := range r.Tests {
			if t.Package != p.Package || t == p || strings.HasPrefix(t.Name, "(") {
				continue
			}
			switch t.Outcome {
			case "":
				t.Output = append(t.Output, "    --- the package's own output when it ended:\n")
				for _, l := range p.Output {
					t.Output = append(t.Output, "    "+l)
				}
				explained = true
			case "fail":
				explained = true
			}
		}
		if explained {
			drop = append(drop, p)
		} else {
			p.Outcome = "fail"
		}
	}
	for _, d := range drop {
		delete(r.byKey, d.Package+"\x00"+d.Name)
		for i, t := range r.Tests {
			if t == d {
				r.Tests = append(r.Tests[:i], r.Tests[i+1:]...)
				break
			}
		}
	}
}

// Only returns the results of the tests keep accepts, in the same order: an interrupted run
// counts only what finished before the interrupt.
func (r *Results) Only(keep func(*Test) bool) *Results {
	out := &Results{byKey: map[string]*Test{}, Packages: r.Packages, Raw: r.Raw}
	for _, t := range r.Tests {
		if keep(t) {
			out.Tests = append(out.Tests, t)
			out.byKey[t.Package+"\x00"+t.Name] = t
		}
	}
	return out
}
