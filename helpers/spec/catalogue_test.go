package spec

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The generated catalogue in docs/ must match the Go catalogue, or the README and the report
// link to stale text.
func TestRequirementsDocIsCurrent(t *testing.T) {
	path := filepath.Join("..", "..", DocPath)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v (generate it: go run ./cmd/stickler-docs)", path, err)
	}
	var want bytes.Buffer
	if err := WriteMarkdown(&want); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%s is stale: regenerate it with `go run ./cmd/stickler-docs` (or `go generate ./helpers/spec`)", DocPath)
	}
}

func TestCatalogueEntries(t *testing.T) {
	if len(Catalogue) != 64 {
		t.Errorf("expected 64 requirements, got %d", len(Catalogue))
	}
	groups := map[string]bool{}
	for _, g := range Groups {
		groups[g.Name] = true
	}
	seen := map[string]bool{}
	for _, r := range Catalogue {
		if seen[r.ID] {
			t.Errorf("%s listed twice", r.ID)
		}
		seen[r.ID] = true
		if !groups[r.Group()] {
			t.Errorf("%s: group %s is not in Groups", r.ID, r.Group())
		}
		if r.Level != Must && r.Level != Should && r.Level != May {
			t.Errorf("%s: level %q", r.ID, r.Level)
		}
		if r.Title == "" || len(r.Text) < 40 || r.Section == "" {
			t.Errorf("%s: title, text and section must all be filled (text %d chars)", r.ID, len(r.Text))
		}
		// The texts stand alone: no pointer to a file outside the repository.
		if strings.Contains(r.Text+r.Section, ".md") {
			t.Errorf("%s points at a file; the catalogue is the only copy", r.ID)
		}
	}
	for id, level := range map[string]Level{"SYNC-3": Should, "SYNC-4": Should, "SYNC-9": Should, "SOFTFAIL-2": Must, "SOFTFAIL-4": Should, "COMPAT-1": Must, "COMPAT-3": Must,
		"SEND-8": Must, "FED-3": Should, "FED-7": May, "TIME-2": Must} {
		if r, ok := Lookup(id); !ok || r.Level != level {
			t.Errorf("%s: want level %s, got %+v", id, level, r)
		}
	}
}

// Every requirement records the proposal statement it comes from (issue 16), so the next reading
// of the proposal against the catalogue is a diff; a statement names its section, or says it is
// derived and why; no statement is left for an ID the catalogue no longer has.
func TestEveryRequirementHasAStatement(t *testing.T) {
	for _, r := range Catalogue {
		st, ok := Statements[r.ID]
		if !ok || len(st) < 40 {
			t.Errorf("%s: no proposal statement in Statements (helpers/spec/statements.go): %q", r.ID, st)
			continue
		}
		if !strings.HasPrefix(st, "MSC4354 §") && !strings.HasPrefix(st, "MSC4480 §") && !strings.HasPrefix(st, "MSC4354 (") &&
			!strings.HasPrefix(st, "Derived") {
			t.Errorf("%s: the statement must open with the section it is read from (\"MSC4354 § ...\") or say \"Derived\": %q", r.ID, st)
		}
		if strings.Contains(st, ".md") {
			t.Errorf("%s: the statement points at a file; the project stands alone", r.ID)
		}
	}
	for id := range Statements {
		if _, ok := Lookup(id); !ok {
			t.Errorf("Statements has %s, which the catalogue does not", id)
		}
	}
}
