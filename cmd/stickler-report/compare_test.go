package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runWithEnv runs the tool with the given environment only.
func runWithEnv(t *testing.T, env map[string]string, stdin string, args ...string) (int, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb, env)
	return code, out.String() + errb.String()
}

func TestSummaryLabel(t *testing.T) {
	for _, c := range []struct {
		env   map[string]string
		label string
	}{
		{map[string]string{"COMPLEMENT_BASE_IMAGE": "img:1"}, "img:1"},
		{map[string]string{"COMPLEMENT_BASE_IMAGE": "img:1", "STICKLER_SERVER": "dendrite"}, "dendrite"},
		{map[string]string{"COMPLEMENT_BASE_IMAGE": "img:1", "STICKLER_SERVER": "mixed", "STICKLER_LABEL": "mixed, hs2 dendrite"}, "mixed, hs2 dendrite"},
	} {
		dir := t.TempDir()
		c.env["COMPLEMENT_BASE_IMAGE_HS2"] = "other:2"
		if code, out := runWithEnv(t, c.env, passing, "-dir", dir); code != 0 {
			t.Fatalf("exit %d\n%s", code, out)
		}
		var s struct {
			Meta struct {
				Label   string
				Servers map[string]string
			}
		}
		b, _ := os.ReadFile(filepath.Join(dir, "summary.json"))
		if err := json.Unmarshal(b, &s); err != nil || s.Meta.Label != c.label || s.Meta.Servers["hs2"] != "other:2" {
			t.Errorf("env %v: summary meta %+v (err %v), want label %q and hs2 other:2", c.env, s.Meta, err, c.label)
		}
	}
}

func TestCompareCommand(t *testing.T) {
	root := t.TempDir()
	syn, den := filepath.Join(root, "reports-synapse"), filepath.Join(root, "reports-dendrite")
	if code, out := runWithEnv(t, map[string]string{"STICKLER_SERVER": "synapse"}, passing, "-dir", syn); code != 0 {
		t.Fatalf("synapse run: exit %d\n%s", code, out)
	}
	if code, out := runWithEnv(t, map[string]string{"STICKLER_SERVER": "dendrite"}, failing, "-dir", den); code != 1 {
		t.Fatalf("dendrite run: exit %d\n%s", code, out)
	}
	out := filepath.Join(root, "side-by-side")
	code, text := runWithEnv(t, nil, "", "-compare", "-dir", out, filepath.Join(syn, "summary.json"), den)
	if code != 0 {
		t.Fatalf("-compare: exit %d\n%s", code, text)
	}
	for _, want := range []string{
		"  synapse   PASS  stickler: 1 passed, 0 failed, 0 skipped, 0 warnings\n",
		"  dendrite  FAIL  stickler: 0 passed, 1 failed, 0 skipped, 0 warnings\n",
		"  SEND-1         MUST   pass             not covered      synapse\n",
		"  SYNC-1         MUST   not covered      FAIL             -\n",
		"  dendrite: FAIL SYNC-1: [no-sticky-section] no sticky section\n",
		"comparison: " + filepath.Join(out, "compare.html"),
	} {
		if !strings.Contains(text, want) {
			t.Errorf("-compare output lacks %q:\n%s", want, text)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, "compare.html"))
	if err != nil || !strings.Contains(string(page), `<td class="cell" data-state="fail">`) {
		t.Errorf("compare.html not written or without the failing cell: %v", err)
	}
	code, text = runWithEnv(t, nil, "", "-compare", "-seen-passing", syn, den)
	if want := "seen passing: 1 of "; code != 0 || !strings.HasPrefix(text, want) || !strings.Contains(text, "\nnever seen passing: DISCOVER-1 SEND-2 ") {
		t.Errorf("-compare -seen-passing: exit %d, want 0 and a first line starting %q and the IDs never seen passing:\n%s", code, want, text)
	}
	if !strings.Contains(string(page), `<td class="seenon">synapse</td>`) {
		t.Errorf("compare.html does not say SEND-1 was seen passing on synapse")
	}
	for _, bad := range [][]string{
		{"-seen-passing", syn},
		{"-compare"},
		{"-compare", filepath.Join(root, "nowhere.json")},
		{"-compare", filepath.Join(syn, "results.json")},
	} {
		if code, text := runWithEnv(t, nil, "", bad...); code != 2 || !strings.Contains(text, "stickler-report: ") {
			t.Errorf("%v: exit %d, want 2 with one line saying why\n%s", bad, code, text)
		}
	}
}
