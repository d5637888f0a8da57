package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const passing = `{"Action":"run","Package":"stickler/tests","Test":"TestA"}
{"Action":"output","Package":"stickler/tests","Test":"TestA","Output":"    a_test.go:9: STICKLER: {\"kind\":\"covers\",\"ids\":[\"SEND-1\"]}\n"}
{"Action":"pass","Package":"stickler/tests","Test":"TestA","Elapsed":0.5}
{"Action":"pass","Package":"stickler/tests","Elapsed":0.6}
`

const failing = `{"Action":"run","Package":"stickler/tests","Test":"TestB"}
{"Action":"output","Package":"stickler/tests","Test":"TestB","Output":"    b_test.go:9: STICKLER: {\"kind\":\"covers\",\"ids\":[\"SYNC-1\"]}\n"}
{"Action":"output","Package":"stickler/tests","Test":"TestB","Output":"    b_test.go:11: STICKLER: {\"kind\":\"failcode\",\"code\":\"no-sticky-section\"}\n"}
{"Action":"output","Package":"stickler/tests","Test":"TestB","Output":"    b_test.go:12: no sticky section\n"}
{"Action":"fail","Package":"stickler/tests","Test":"TestB","Elapsed":1.5}
{"Action":"output","Package":"stickler/tests","Output":"FAIL\tstickler/tests\t1.6s\n"}
{"Action":"fail","Package":"stickler/tests","Elapsed":1.6}
`

func runTool(t *testing.T, stdin string, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := map[string]string{"COMPLEMENT_BASE_IMAGE": "img:test"}
	code := run(args, strings.NewReader(stdin), &out, &errb, env)
	return code, out.String() + errb.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestExitCodesAndClosingLine(t *testing.T) {
	dir := t.TempDir()
	expFile := filepath.Join(dir, "exp.txt")
	os.WriteFile(expFile, []byte("TestB fail no-sticky-section the server has no sticky section\n"), 0o644)

	for _, c := range []struct {
		name, stdin string
		args        []string
		code        int
		last        string
	}{
		{"all pass", passing, []string{"-live"}, 0, "stickler: 1 passed, 0 failed, 0 skipped, 0 warnings"},
		{"a failure", failing, nil, 1, "stickler: 0 passed, 1 failed, 0 skipped, 0 warnings"},
		{"an expected failure", failing, []string{"-expectations", expFile}, 0, "stickler: 0 passed, 0 failed, 0 skipped, 0 warnings"},
		{"an unexpected pass", strings.ReplaceAll(failing, `"fail"`, `"pass"`), []string{"-expectations", expFile}, 1, "stickler: 0 passed, 1 failed, 0 skipped, 0 warnings"},
		{"an empty stream", "", nil, 1, "stickler: 0 passed, 0 failed, 0 skipped, 0 warnings"},
		{"a missing expectations file", passing, []string{"-expectations", filepath.Join(dir, "none.txt")}, 2, ""},
		{"a bad flag", passing, []string{"-nope"}, 2, ""},
	} {
		code, out := runTool(t, c.stdin, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, code, c.code, out)
		}
		if c.last != "" && lastLine(out) != c.last {
			t.Errorf("%s: last line %q, want %q", c.name, lastLine(out), c.last)
		}
	}
}

func TestWritesTheReportFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "reports")
	code, out := runTool(t, failing, "-dir", dir, "-live")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if !strings.Contains(out, "fail              TestB (1.5s)") || !strings.Contains(out, "report: "+filepath.Join(dir, "report.html")) {
		t.Errorf("live line or report path missing:\n%s", out)
	}
	for _, f := range []string{"results.json", "summary.json", "junit.xml", "report.html", "findings.md"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s not written: %v", f, err)
		}
	}
	if findings, _ := os.ReadFile(filepath.Join(dir, "findings.md")); !strings.Contains(string(findings), "TestB") || !strings.Contains(out, "findings: "+filepath.Join(dir, "findings.md")+" (1 defect(s): 1 fails the run)") {
		t.Errorf("expected findings.md to list TestB's failure and the summary to point at it:\n%s\n%s", findings, out)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if string(raw) != failing {
		t.Errorf("results.json is not the stream as read")
	}
	var s struct {
		Meta         struct{ Image, Names string }
		Requirements map[string]struct{ Outcome string }
	}
	b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err := json.Unmarshal(b, &s); err != nil || s.Requirements["SYNC-1"].Outcome != "fail" || s.Meta.Image != "img:test" || s.Meta.Names != "unstable" {
		t.Errorf("summary.json: %v %+v", err, s)
	}
	// Reading the saved stream again gives the same verdicts and leaves results.json alone.
	code2, out2 := runTool(t, "", "-dir", dir, filepath.Join(dir, "results.json"))
	raw2, _ := os.ReadFile(filepath.Join(dir, "results.json"))
	if code2 != 1 || lastLine(out2) != lastLine(out) || string(raw2) != failing {
		t.Errorf("re-reading results.json: exit %d, last %q, results.json kept: %v", code2, lastLine(out2), string(raw2) == failing)
	}
}

// A run with findings and no report directory says how to get the findings page.
func TestSaysWhereFindingsGo(t *testing.T) {
	_, out := runTool(t, failing)
	if !strings.Contains(out, "STICKLER_REPORT_DIR=reports ./run.sh ... writes reports/findings.md") {
		t.Errorf("expected the hint about STICKLER_REPORT_DIR and findings.md:\n%s", out)
	}
	if _, out := runTool(t, passing); strings.Contains(out, "findings.md") {
		t.Errorf("a run without findings needs no hint:\n%s", out)
	}
}
