package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// root is the repository root, from this package's directory.
const root = "../.."

// Each generated document is what its sources give now, so it cannot drift from them.
func TestGeneratedDocsAreFresh(t *testing.T) {
	for path, gen := range map[string]func(string) (string, error){SettingsPath: settingsDoc, SynapsePath: synapseFindings} {
		want, err := gen(root)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		got, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			t.Errorf("%s: %v (run go run ./cmd/stickler-docs from the repository root)", path, err)
			continue
		}
		if string(got) != want {
			t.Errorf("%s is stale: run go run ./cmd/stickler-docs from the repository root", path)
		}
	}
}

// The Synapse findings have an entry per failure code of its expectations file, each with
// the parts of a bug report.
func TestSynapseFindingsHaveTheParts(t *testing.T) {
	doc, err := synapseFindings(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Findings: Synapse", "**Rule.**", "**Observed**", "**Reproduce:**", "**A fix must:**",
		"STICKLER_SERVER=synapse STICKLER_EXPECTATIONS= ./run.sh -run", "on PostgreSQL"} {
		if !strings.Contains(doc, want) {
			t.Errorf("docs/findings/synapse.md lacks %q", want)
		}
	}
	exp, err := os.ReadFile(filepath.Join(root, "servers/synapse/expectations.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^\S+\s+fail\s+(\S+)`).FindAllStringSubmatch(string(exp), -1) {
		for _, code := range strings.Split(m[1], ",") {
			if !strings.Contains(doc, "(`"+code+"`)\n") {
				t.Errorf("expected an entry for the failure code %s of servers/synapse/expectations.txt", code)
			}
		}
	}
}
