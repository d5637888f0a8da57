package spec

import (
	"strings"
	"testing"
)

// CoversMarker starts the log line that records a test's requirements; the report reads it
// back from the `go test -json` stream.
const CoversMarker = "STICKLER-COVERS:"

// ChoiceMarker starts the log line that records which allowed behaviour a server chose for a
// MAY-level requirement.
const ChoiceMarker = "STICKLER-CHOICE:"

// Covers declares the requirements a test checks. An unknown ID fails the test at once, so a
// typo cannot hide a requirement from the report.
func Covers(t testing.TB, ids ...string) {
	t.Helper()
	if len(ids) == 0 {
		t.Fatal("spec.Covers: name at least one requirement ID")
	}
	for _, id := range ids {
		if _, ok := Lookup(id); !ok {
			t.Fatalf("spec.Covers: unknown requirement ID %q (the catalogue is helpers/spec/catalogue.go, readable as %s)", id, DocPath)
		}
	}
	t.Logf("%s %s", CoversMarker, strings.Join(ids, " "))
}

// Choice records the behaviour a server chose where the proposal allows several (MAY), or
// what a test observed that the report should show beside its outcome.
func Choice(t testing.TB, id, behaviour string) {
	t.Helper()
	if _, ok := Lookup(id); !ok {
		t.Fatalf("spec.Choice: unknown requirement ID %q", id)
	}
	t.Logf("%s %s %s", ChoiceMarker, id, behaviour)
}

// ObservedMarker starts the log line of spec.Observe.
const ObservedMarker = "STICKLER-OBSERVED:"

// Observe records what a test saw where it only observes and does not judge (FED-6's order,
// MAP-4's shorter-overwrite hazard). A test that passes having observed is reported as
// "observed" with what it saw, not as "pass": it could not have failed on that point.
func Observe(t testing.TB, id, what string) {
	t.Helper()
	if _, ok := Lookup(id); !ok {
		t.Fatalf("spec.Observe: unknown requirement ID %q", id)
	}
	t.Logf("%s %s %s", ObservedMarker, id, what)
}
