package spec

import (
	"fmt"
	"regexp"
	"testing"
)

// FailCodeMarker starts the log line that records why a test failed as a short, stable code
// (e.g. "duplicate-delivery"). The report reads it back and matches it against the codes an
// expectations line names, so a known failure stays pinned to how it fails.
const FailCodeMarker = "STICKLER-FAILCODE:"

var codePattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// ValidCode reports whether s is a well-formed failure code: lower-case words joined by '-'.
func ValidCode(s string) bool { return codePattern.MatchString(s) }

// MarkFailure records a failure code for t without failing it; the caller fails the test.
// A malformed code is a bug in the test and fails it at once.
func MarkFailure(t testing.TB, code string) {
	t.Helper()
	if !ValidCode(code) {
		t.Fatalf("spec: malformed failure code %q (want lower-case words joined by '-')", code)
	}
	t.Logf("%s %s", FailCodeMarker, code)
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
