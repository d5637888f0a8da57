package spec

import (
	"testing"

	"stickler/helpers/spec/marker"
)

// Covers declares the requirements a test checks (a marker line the report reads back). An
// unknown ID fails the test at once, so a typo cannot hide a requirement from the report.
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
	marker.Log(t, marker.Record{Kind: marker.Covers, IDs: ids})
}

// Choice records the behaviour a server chose where the proposal allows several (MAY), or
// what a test observed that the report should show beside its outcome.
func Choice(t testing.TB, id, behaviour string) {
	t.Helper()
	if _, ok := Lookup(id); !ok {
		t.Fatalf("spec.Choice: unknown requirement ID %q", id)
	}
	marker.Log(t, marker.Record{Kind: marker.Choice, ID: id, Text: behaviour})
}

// Observe records what a test saw where it only observes and does not judge (FED-6 when its events did not all arrive,
// MAP-4's shorter-overwrite hazard). A test that passes having observed is reported as
// "observed" with what it saw, not as "pass": it could not have failed on that point.
func Observe(t testing.TB, id, what string) {
	t.Helper()
	if _, ok := Lookup(id); !ok {
		t.Fatalf("spec.Observe: unknown requirement ID %q", id)
	}
	marker.Log(t, marker.Record{Kind: marker.Observed, ID: id, Text: what})
}

// ShouldCheck runs check as a subtest named name that names only the SHOULD requirement id,
// so that a failure there is a warning and never fails the MUST test around it (README "How
// levels count": a test fails as a warning only when every requirement it names is SHOULD,
// and a parent that failed only through warnings is a warning). It returns whether the
// subtest passed. A MUST test uses it for what it can see of a SHOULD on the way (the
// remaining-time field, SYNC-3 and SYNC-4); naming a requirement that is not SHOULD is a bug
// in the test and fails it at once.
func ShouldCheck(t *testing.T, id, name string, check func(t *testing.T)) bool {
	t.Helper()
	if r, ok := Lookup(id); !ok || r.Level != Should {
		t.Fatalf("spec.ShouldCheck: %q is not a SHOULD requirement of the catalogue (%+v)", id, r)
	}
	return t.Run(name, func(t *testing.T) {
		Covers(t, id)
		check(t)
	})
}
