package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"stickler/helpers/spec"
)

// Expectation says that a test is known to end differently from "pass" on an image, and why.
type Expectation struct {
	Test    string   // full test name, subtests with '/'
	Outcome string   // fail or skip
	Codes   []string // fail: the failure codes (spec.Errorf) the test is known to fail with
	Reason  string   // the behaviour observed
	Line    int
}

// Expectations are read from a text file, one expectation per line:
//
//	TestName  fail  code[,code...]  reason, as observed on the server
//	TestName  skip  reason
//
// A fail line names the failure code(s) the test is known to fail with (the codes its
// failcode marker lines carry): a failure with any other code, or with none, is not the
// known failure and fails the run. Blank lines and lines starting with '#' are ignored.
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
			return nil, fmt.Errorf("%s:%d: want `TestName fail code[,code...] reason` or `TestName skip reason`, got %q", name, n, line)
		}
		if f[1] != "fail" && f[1] != "skip" {
			return nil, fmt.Errorf("%s:%d: outcome must be fail or skip, got %q", name, n, f[1])
		}
		if _, dup := out[f[0]]; dup {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", name, n, f[0])
		}
		x := Expectation{Test: f[0], Outcome: f[1], Line: n}
		rest := strings.TrimSpace(line[len(f[0]):])
		rest = strings.TrimSpace(rest[len(f[1]):])
		if x.Outcome == "fail" {
			for _, c := range strings.Split(f[2], ",") {
				if !spec.ValidCode(c) {
					return nil, fmt.Errorf("%s:%d: a fail line names the failure code(s) the test fails with: want `%s fail code[,code...] reason` (codes are lower-case words joined by '-'), got %q", name, n, f[0], f[2])
				}
				x.Codes = append(x.Codes, c)
			}
			if len(f) < 4 {
				return nil, fmt.Errorf("%s:%d: %s: give the reason after the code(s)", name, n, f[0])
			}
			rest = strings.TrimSpace(rest[len(f[2]):])
		}
		x.Reason = rest
		out[f[0]] = x
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
	// FailsDifferently: listed as a known failure, but failed with other codes than listed.
	FailsDifferently Verdict = "fails-differently"
	// Warning: a failure of SHOULD requirements only; fails the run only with STICKLER_STRICT=1.
	Warning Verdict = "warning"
	// Observed: the test only observes (spec.Observe) and reports what it saw; never judged.
	Observed    Verdict = "observed"
	FailsTheRun         = "fails the run"
)

// FailsRun says whether a verdict makes the run fail.
func (v Verdict) FailsRun() bool {
	return v == Failed || v == UnexpectedPass || v == Unfinished || v == FailsDifferently
}
