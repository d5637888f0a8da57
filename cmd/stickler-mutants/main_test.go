package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"stickler/helpers/results/report"
	"stickler/helpers/spec/marker"
)

// writeRun fakes one variant's run directory: exit status, summary.json and results.json.
func writeRun(t *testing.T, dir string, exit string, tests []report.TestSummary, results string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(report.Summary{Tests: tests})
	for name, body := range map[string]string{"exit": exit + "\n", "summary.json": string(b), "results.json": results} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func failing(name string, covers ...string) report.TestSummary {
	return report.TestSummary{Name: name, Verdict: report.Failed, Outcome: "fail", Counted: true, Covers: covers, Message: "what was seen\nmore"}
}

func codeLine(test, code string) string {
	b, _ := json.Marshal(map[string]string{"Action": "output", "Test": test, "Output": "    x.go:1: " + marker.Line(marker.Record{Kind: marker.FailCode, Code: code}) + "\n"})
	return string(b) + "\n"
}

func TestJudge(t *testing.T) {
	root := t.TempDir()
	coded := Variant{Name: "v", Requirements: []string{"SYNC-2"}, Codes: []string{"duplicate-delivery"}}
	uncoded := Variant{Name: "v", Requirements: []string{"SYNC-2", "LOAD-1"}}
	legal := Variant{Name: "v", Legal: true}
	shouldOnly := Variant{Name: "v", Legal: true, ShouldOnly: true, Requirements: []string{"SYNC-3", "SYNC-4"}}
	warning := func(name string, covers ...string) report.TestSummary {
		return report.TestSummary{Name: name, Verdict: report.Warning, Outcome: "fail", Counted: true, Covers: covers}
	}
	cases := []struct {
		name    string
		v       Variant
		exit    string
		tests   []report.TestSummary
		results string
		verdict string
		good    bool
	}{
		{"caught with the expected code", coded, "1", []report.TestSummary{failing("TestA/sync", "SYNC-2")}, codeLine("TestA/sync", "duplicate-delivery"), "caught", true},
		{"caught, test emits no code", coded, "1", []report.TestSummary{failing("TestA/sync", "SYNC-2")}, "", "caught", true},
		{"caught on the second listed requirement", uncoded, "1", []report.TestSummary{failing("TestL", "LOAD-1")}, "", "caught", true},
		{"fails with another code", coded, "1", []report.TestSummary{failing("TestA/sync", "SYNC-2")}, codeLine("TestA/sync", "lost-events"), "fails-differently", false},
		{"fails on another requirement only", uncoded, "1", []report.TestSummary{failing("TestB", "SYNC-9")}, "", "failed-elsewhere", false},
		{"run passes", uncoded, "0", []report.TestSummary{{Name: "TestA", Verdict: report.Passed, Counted: true, Covers: []string{"SYNC-2"}}}, "", "escaped", false},
		{"run could not start", uncoded, "2", nil, "", "error", false},
		{"legal variant passes", legal, "0", nil, "", "legal-pass", true},
		{"legal variant fails", legal, "1", []report.TestSummary{failing("TestA", "SYNC-7")}, "", "legal-failed", false},
		{"legal-should variant warns on its SHOULD", shouldOnly, "0", []report.TestSummary{warning("TestT/remaining-time", "SYNC-3")}, "", "legal-warned", true},
		{"legal-should variant fails a MUST", shouldOnly, "1", []report.TestSummary{warning("TestT/remaining-time", "SYNC-3"), failing("TestT", "TIME-1")}, "", "legal-failed", false},
		{"legal-should variant warns elsewhere only", shouldOnly, "0", []report.TestSummary{warning("TestX", "SYNC-9")}, "", "legal-no-warning", false},
		{"legal-should variant leaves no trace", shouldOnly, "0", nil, "", "legal-no-warning", false},
	}
	for i, c := range cases {
		dir := filepath.Join(root, strings.ReplaceAll(c.name, " ", "-"))
		writeRun(t, dir, c.exit, c.tests, c.results)
		o := Judge(c.v, dir)
		if o.Verdict != c.verdict || o.Good != c.good {
			t.Errorf("case %d (%s): expected verdict %s good=%v, got %s good=%v (%+v)", i, c.name, c.verdict, c.good, o.Verdict, o.Good, o)
		}
	}
}

func TestParseManifest(t *testing.T) {
	p := filepath.Join(t.TempDir(), "manifest.txt")
	body := "# comment\nno-dedup | SYNC-2 | ^TestX$ | duplicate-delivery | repeats\ncap-10 | - | ^(TestA|TestB)$ | legal | smaller cap\n" +
		"no-ttl | SYNC-3,SYNC-4 | ^TestT$ | legal-should | no field\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	vs, err := ParseManifest(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || vs[0].Codes[0] != "duplicate-delivery" || !vs[1].Legal || vs[1].ShouldOnly || vs[1].Tests != "^(TestA|TestB)$" ||
		!vs[2].Legal || !vs[2].ShouldOnly || len(vs[2].Requirements) != 2 {
		t.Fatalf("expected three variants (coded no-dedup, legal cap-10 with its regexp intact, legal-should no-ttl), got %+v", vs)
	}
	for _, bad := range []string{"x | SYNC-2 | ^T$ | Bad_Code | d\n", "x | - | ^T$ | - | d\n", "x | SYNC-2 | ^T$\n",
		"x | - | ^T$ | legal-should | names no SHOULD\n", "x | TIME-1 | ^T$ | legal-should | names a MUST\n"} {
		if err := os.WriteFile(p, []byte(bad), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ParseManifest(p); err == nil {
			t.Errorf("expected an error for manifest line %q, got none", bad)
		}
	}
}

// Several manifests make one table: each variant is shown with its manifest's recipe, and a
// name in two manifests is refused (the variants share one directory in the reference image).
func TestSeveralManifests(t *testing.T) {
	root := t.TempDir()
	write := func(recipe, body string) string {
		dir := filepath.Join(root, recipe, "mutants")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, "manifest.txt")
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := write("synapse", "no-dedup | SYNC-2 | ^TestX$ | duplicate-delivery | repeats\n")
	b := write("synapse-reference", "ref-forgets | SYNC-7 | ^TestY$ | duplicate-delivery | forgets\n")
	out := filepath.Join(root, "out")
	for _, n := range []string{"no-dedup", "ref-forgets"} {
		writeRun(t, filepath.Join(out, n), "1", nil, "")
	}
	var stdout, stderr strings.Builder
	run([]string{"-manifest", a + "," + b, "-dir", out}, &stdout, &stderr)
	for _, want := range []string{"no-dedup", "ref-forgets", "synapse-reference"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("expected %q in the table, got:\n%s%s", want, stdout.String(), stderr.String())
		}
	}
	dup := write("other", "no-dedup | SYNC-2 | ^TestZ$ | duplicate-delivery | again\n")
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"-manifest", a + "," + dup, "-dir", out}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "in both") {
		t.Errorf("expected exit 2 and 'in both' for a name in two manifests, got %d: %s", code, stderr.String())
	}
}

// The project's own manifests parse, every variant has its patch, and no name is in both (the
// variants share /stickler/mutants/ in the reference image and mutants.sh's report).
func TestProjectManifest(t *testing.T) {
	names := map[string]string{}
	for _, tc := range []struct {
		recipe          string
		minMutants      int
		needLegal       bool
		needReferencePx bool
	}{
		{"synapse", 8, true, false},
		{"synapse-reference", 5, false, true},
	} {
		dir := "../../servers/" + tc.recipe + "/mutants"
		vs, err := ParseManifest(filepath.Join(dir, "manifest.txt"))
		if err != nil {
			t.Fatal(err)
		}
		legal := 0
		for _, v := range vs {
			if _, err := os.Stat(filepath.Join(dir, v.Name+".patch")); err != nil {
				t.Errorf("variant %s: expected %s.patch beside the manifest: %v", v.Name, v.Name, err)
			}
			if v.Server != tc.recipe {
				t.Errorf("variant %s: expected server %q (from the manifest's directory), got %q", v.Name, tc.recipe, v.Server)
			}
			if other, dup := names[v.Name]; dup {
				t.Errorf("variant %s is in the %s and the %s manifests", v.Name, other, tc.recipe)
			}
			names[v.Name] = tc.recipe
			if tc.needReferencePx && !strings.HasPrefix(v.Name, "ref-") {
				t.Errorf("reference variant %s: expected the prefix ref-", v.Name)
			}
			if v.Legal {
				legal++
			}
		}
		if (tc.needLegal && legal == 0) || len(vs)-legal < tc.minMutants {
			t.Errorf("%s: expected at least %d variants (and a legal one: %v), got %d variants (%d legal)", tc.recipe, tc.minMutants, tc.needLegal, len(vs), legal)
		}
	}
}
