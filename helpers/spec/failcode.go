package spec

import (
	"fmt"
	"regexp"
	"slices"
	"testing"

	"stickler/helpers/spec/marker"
)

// NotAdvertised is TestDiscover's failure code: the server does not advertise sticky events in
// /versions (DISCOVER-1). The report's headline reads it (with the not-implemented skips).
const NotAdvertised = "not-advertised"

var codePattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidCode reports whether s is a well-formed failure code: lower-case words joined by '-'.
func ValidCode(s string) bool { return codePattern.MatchString(s) }

// MarkFailure records a failure code for t without failing it; the caller fails the test.
// The code is a marker line (kind failcode) that the report reads back and matches against
// the codes an expectations line names, so a known failure stays pinned to how it fails.
// A malformed code is a bug in the test and fails it at once.
func MarkFailure(t testing.TB, code string) {
	t.Helper()
	if !ValidCode(code) {
		t.Fatalf("spec: malformed failure code %q (want lower-case words joined by '-')", code)
	}
	marker.Log(t, marker.Record{Kind: marker.FailCode, Code: code})
}

// Errorf fails t with a message and a failure code, and lets the test go on.
func Errorf(t testing.TB, code, format string, args ...any) {
	t.Helper()
	MarkFailure(t, code)
	t.Errorf("[%s] %s", code, fmt.Sprintf(format, args...))
}

// Fatalf fails t with a message and a failure code, and stops the test.
func Fatalf(t testing.TB, code, format string, args ...any) {
	t.Helper()
	MarkFailure(t, code)
	t.Fatalf("[%s] %s", code, fmt.Sprintf(format, args...))
}

// CodedError is a check's error that says how the check failed, as a failure code: a check
// that returns errors (client.Stream's, a Wait's try) states the code where it knows what went
// wrong, and whoever fails the test with the error logs it (client.Wait, FailOn).
type CodedError struct {
	Code string
	Err  error
}

func (e *CodedError) Error() string { return e.Err.Error() }
func (e *CodedError) Unwrap() error { return e.Err }

// WithCode gives err the failure code; nil stays nil. An outer code replaces inner ones
// (CodesOf stops at the first code on each branch), so a test can restate what a generic
// check's failure means for it (e.g. "missing-after-join" for an event never delivered).
func WithCode(code string, err error) error {
	if err == nil {
		return nil
	}
	return &CodedError{Code: code, Err: err}
}

// CodesOf returns the failure codes err carries (errors.Join may combine several), without
// repeats; none for an error without a code.
func CodesOf(err error) []string {
	var out []string
	var walk func(error)
	walk = func(e error) {
		switch x := e.(type) {
		case nil:
		case *CodedError:
			if !slices.Contains(out, x.Code) {
				out = append(out, x.Code)
			}
		case interface{ Unwrap() []error }:
			for _, inner := range x.Unwrap() {
				walk(inner)
			}
		case interface{ Unwrap() error }:
			walk(x.Unwrap())
		}
	}
	walk(err)
	return out
}

// MarkCodes records the failure codes err carries (see CodesOf) without failing t.
func MarkCodes(t testing.TB, err error) {
	t.Helper()
	for _, c := range CodesOf(err) {
		MarkFailure(t, c)
	}
}

// ErrorOn fails t with err, logging its failure codes, and lets the test go on; nil passes.
func ErrorOn(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		MarkCodes(t, err)
		t.Error(err)
	}
}
