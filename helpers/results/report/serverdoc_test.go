package report

import (
	"strings"
	"testing"

	"stickler/helpers/results/reqmap"
)

// A server's findings document groups its fail lines by code, states its rules and a fix, and
// says what another recipe's expectations change.
func TestServerDoc(t *testing.T) {
	parse := func(s string) Expectations {
		e, err := ParseExpectations(strings.NewReader(s), "x")
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	main := parse("# Synapse 9.8.7\nTestA/sync  fail  still-sticky-after-redaction  stays in /sync\nTestA/sliding  fail  still-sticky-after-redaction  stays in the extension\nTestB  fail  brand-new-code  does something new\nTestC  skip  inconclusive: see REDACT-1\n")
	other := parse("TestA/sync  fail  still-sticky-after-redaction  stays in /sync\nTestA/sliding  fail  still-sticky-after-redaction  stays in the extension, slower\nTestD  fail  lost-events  only here\n")
	m := &reqmap.Map{ByID: map[string][]reqmap.Entry{"REDACT-1": {{Test: "TestA", Sub: "sync"}, {Test: "TestA", Sub: "sliding"}}, "SYNC-9": {{Test: "TestB"}}},
		HasSubtests: map[string]bool{"TestA": true}}
	d := ServerDoc{Server: "Synapse", Version: VersionOf("# Synapse 9.8.7\n"), Main: ServerRecipe{Recipe: "synapse", What: "Synapse on SQLite", Path: "a.txt", Expectations: main},
		Others: []ServerRecipe{{Recipe: "synapse-postgres", What: "Synapse on PostgreSQL", Path: "b.txt", Expectations: other}}, Tests: m,
		Meanings: map[string]string{"still-sticky-after-redaction": "a redacted sticky event is still in the sticky section (REDACT-1)"}, Sources: []string{"a.txt"}}
	doc := d.Markdown()
	for _, want := range []string{
		"# Findings: Synapse 9.8.7",
		"## 1. Synapse 9.8.7: a redacted sticky event is still served as sticky (`still-sticky-after-redaction`)",
		"[REDACT-1](../requirements.md#redact-1) (MUST)",
		"STICKLER_SERVER=synapse STICKLER_EXPECTATIONS= ./run.sh -run '^(TestA)$/^(sliding|sync)$'",
		"STICKLER_SERVER=synapse-postgres STICKLER_EXPECTATIONS= ./run.sh -run '^(TestA)$/^(sliding|sync)$'",
		"**A fix must:** Redaction removes the `sticky` key",
		// SHOULD after MUST; a code without an entry in Fixes gets a fix from its rule's text.
		"## 2. Synapse 9.8.7: fails with brand-new-code (`brand-new-code`)",
		"**A fix must:** The server must meet SYNC-9 (SHOULD): ",
		"`TestB` is not listed there (it passes)",
		"`TestA/sliding` fails alike, observed there as: stays in the extension, slower",
		"only there: `TestD` `fail lost-events`: only here",
		"## Skipped on Synapse on SQLite (not defects)",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("expected %q in\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "STICKLER_SERVER=synapse-postgres STICKLER_EXPECTATIONS= ./run.sh -run '^(TestB)$'") {
		t.Errorf("a defect the other recipe does not show has no reproduction there:\n%s", doc)
	}
}
