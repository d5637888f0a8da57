package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Expectation says that a test is known to end differently from "pass" on an image, and why.
type Expectation struct {
	Test    string // full test name, subtests with '/'
	Outcome string // fail or skip
	Reason  string // the behaviour observed
	Line    int
}

// Expectations are read from a text file: one expectation per line,
//
//	TestName  fail  reason, as observed on the server
//
// blank lines and lines starting with '#' are ignored.
type Expectations map[string]Expectation

// LoadExpectations reads a file; an empty path means no expectations.
func LoadExpectations(path string) (Expectations, error) {
	if path == "" {
		return Expectations{}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("expectations file: %w", err)
	}
	defer f.Close()
	return ParseExpectations(f, path)
}

// ParseExpectations parses the expectations format; name is used in error messages.
func ParseExpectations(r io.Reader, name string) (Expectations, error) {
	out := Expectations{}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 3 {
			return nil, fmt.Errorf("%s:%d: want `TestName fail|skip reason`, got %q", name, n, line)
		}
		if f[1] != "fail" && f[1] != "skip" {
			return nil, fmt.Errorf("%s:%d: outcome must be fail or skip, got %q", name, n, f[1])
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", name, n, f[0])
		}
		reason := strings.TrimSpace(line[strings.Index(line, f[1])+len(f[1]):])
		out[f[0]] = Expectation{Test: f[0], Outcome: f[1], Reason: reason, Line: n}
	}
	return out, sc.Err()
}

// Verdict is how one test's outcome compares with its expectation.
type Verdict string

const (
	Passed         Verdict = "pass"
	Failed         Verdict = "fail"          // unexpected failure: fails the run
	ExpectedFail   Verdict = "expected-fail" // known failure, with its reason
	UnexpectedPass Verdict = "unexpected-pass"
	Skipped        Verdict = "skip"
	ExpectedSkip   Verdict = "expected-skip"
	Unfinished     Verdict = "unfinished" // the stream ended first (timeout, crash)
	FailsTheRun            = "fails the run"
)

// Judge compares a test's outcome with the expectations.
func (e Expectations) Judge(t *Test) Verdict {
	exp, has := e[t.Name]
	switch t.Outcome {
	case "pass":
		if has && exp.Outcome == "fail" {
			return UnexpectedPass
		}
		return Passed
	case "fail":
		if has && exp.Outcome == "fail" {
			return ExpectedFail
		}
		return Failed
	case "skip":
		if has && exp.Outcome == "skip" {
			return ExpectedSkip
		}
		return Skipped
	}
	return Unfinished
}

// FailsRun says whether a verdict makes the run fail.
func (v Verdict) FailsRun() bool { return v == Failed || v == UnexpectedPass || v == Unfinished }
