// Package report turns a `go test -json` stream of the conformance suite, the requirement
// declarations in it and an image's expectations into verdicts people read.
package report

import (
	"bufio"
	"encoding/json"
	"io"
	"sort"
	"strings"
	"time"

	"stickler/helpers/spec"
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
	Choices  map[string]string // requirement ID -> behaviour seen (spec.Choice)
	SkipWhy  string
	Started  time.Time
	Finished time.Time
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
				if strings.HasPrefix(ev.Output, "FAIL") || strings.Contains(ev.Output, "panic:") || strings.Contains(ev.Output, "[build failed]") {
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
			t.scan(ev.Output)
		case "pass", "fail", "skip":
			t.Outcome = ev.Action
			t.Elapsed = time.Duration(ev.Elapsed * float64(time.Second))
			t.Finished = ev.Time
			if onEvent != nil {
				onEvent(t, ev.Action)
			}
		}
	}
	res.Raw = []byte(raw.String())
	// A package that failed with no failing test (panic, timeout, build error) must show.
	for pkg, outcome := range res.Packages {
		if p := res.byKey[pkg+"\x00(package)"]; p != nil && outcome == "fail" {
			p.Outcome = "fail"
		}
	}
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

// scan picks the suite's markers out of one output line.
func (t *Test) scan(line string) {
	if i := strings.Index(line, spec.CoversMarker); i >= 0 {
		t.Covers = append(t.Covers, strings.Fields(line[i+len(spec.CoversMarker):])...)
	}
	if i := strings.Index(line, spec.ChoiceMarker); i >= 0 {
		f := strings.SplitN(strings.TrimSpace(line[i+len(spec.ChoiceMarker):]), " ", 2)
		if len(f) == 2 {
			t.Choices[f[0]] = f[1]
		}
	}
	if i := strings.Index(line, "skipped: "); i >= 0 && t.SkipWhy == "" {
		t.SkipWhy = strings.TrimSpace(line[i+len("skipped: "):])
	}
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
