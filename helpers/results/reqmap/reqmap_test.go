package reqmap

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"stickler/helpers/spec"
)

const synthetic = `package tests

func TestWhole(t *testing.T) {
	spec.Covers(t, "SEND-1", "SEND-2")
}

func TestFeeds(t *testing.T) {
	blueprints.OverBothFeeds(t, []string{"SYNC-1"}, []string{"SSS-1"}, func(t *testing.T, kind client.Feed) {})
}

func TestParentAndSubs(t *testing.T) {
	spec.Covers(t, "HISVIS-2")
	t.Run("event", func(t *testing.T) {
		spec.Covers(t, "HISVIS-2")
	})
}

func TestOnlySubs(t *testing.T) {
	t.Run("own pushed", func(t *testing.T) {
		spec.Covers(t, "FED-2")
	})
	t.Run("others", func(t *testing.T) {
		spec.Covers(t, "FED-3")
	})
}

func TestLoopSubs(t *testing.T) {
	for _, name := range []string{"a", "b"} {
		t.Run(name, func(t *testing.T) {
			spec.Covers(t, "TIME-5")
		})
	}
}

func helper(t *testing.T) {}
`

func scanSource(t *testing.T, src string) (*Map, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return Scan(dir)
}

// matches runs name ("Test/sub" or "Test") through pattern the way go test -run does: the
// pattern split at unbracketed slashes, one part per level; a level with no part matches.
func matches(t *testing.T, pattern, name string) bool {
	t.Helper()
	var parts []string
	depth, start := 0, 0
	for i, c := range pattern {
		switch c {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case '/':
			if depth == 0 {
				parts = append(parts, pattern[start:i])
				start = i + 1
			}
		}
	}
	parts = append(parts, pattern[start:])
	for i, level := range strings.Split(name, "/") {
		if i >= len(parts) {
			return true
		}
		if !regexp.MustCompile(parts[i]).MatchString(level) {
			return false
		}
	}
	return true
}

func TestScanSynthetic(t *testing.T) {
	m, err := scanSource(t, synthetic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"SEND-1":   "TestWhole",
		"SEND-2":   "TestWhole",
		"SYNC-1":   "TestFeeds/sync",
		"SSS-1":    "TestFeeds/sliding",
		"HISVIS-2": "TestParentAndSubs TestParentAndSubs/event",
		"FED-2":    "TestOnlySubs/own_pushed",
		"FED-3":    "TestOnlySubs/others",
		"TIME-5":   "TestLoopSubs",
	}
	for id, w := range want {
		var got []string
		for _, e := range m.ByID[id] {
			got = append(got, e.String())
		}
		if strings.Join(got, " ") != w {
			t.Errorf("%s: want tests %q, got %q", id, w, strings.Join(got, " "))
		}
	}
	if len(m.ByID) != len(want) {
		t.Errorf("want %d IDs mapped, got %d: %v", len(want), len(m.ByID), m.ByID)
	}
	for _, name := range []string{"TestFeeds", "TestParentAndSubs", "TestOnlySubs", "TestLoopSubs"} {
		if !m.HasSubtests[name] {
			t.Errorf("%s starts subtests, but the scan did not see them", name)
		}
	}
	if m.HasSubtests["TestWhole"] {
		t.Errorf("TestWhole has no subtests, the scan says it has")
	}
}

func TestRunPattern(t *testing.T) {
	m, err := scanSource(t, synthetic)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{"TestWhole", "TestFeeds/sync", "TestFeeds/sliding", "TestParentAndSubs/event", "TestParentAndSubs/other",
		"TestOnlySubs/own_pushed", "TestOnlySubs/others", "TestLoopSubs/a", "TestLoopSubs/b", "TestWholeX", "TestFeedsSomething/sync"}
	cases := []struct {
		req     string
		pattern string
		run     []string // every name that must run; the others of all must not
	}{
		{"SSS-1", "^(TestFeeds)$/^(sliding)$", []string{"TestFeeds/sliding"}},
		{"SSS-1,SEND-1", "^(TestFeeds|TestWhole)$/^(sliding)$", []string{"TestFeeds/sliding", "TestWhole"}},
		{"FED-2", "^(TestOnlySubs)$/^(own_pushed)$", []string{"TestOnlySubs/own_pushed"}},
		// A whole test with subtests cannot take a subtest filter: everything runs whole.
		{"SSS-1,TIME-5", "^(TestFeeds|TestLoopSubs)$", []string{"TestFeeds/sync", "TestFeeds/sliding", "TestLoopSubs/a", "TestLoopSubs/b"}},
		{"HISVIS", "^(TestParentAndSubs)$", []string{"TestParentAndSubs/event", "TestParentAndSubs/other"}},
		{"SEND", "^(TestWhole)$", []string{"TestWhole"}},
	}
	for _, c := range cases {
		ids, err := Resolve(c.req)
		if err != nil {
			t.Fatalf("%s: %v", c.req, err)
		}
		entries, err := m.Select(ids)
		if err != nil {
			t.Fatalf("%s: %v", c.req, err)
		}
		p := m.RunPattern(entries)
		if p != c.pattern {
			t.Errorf("--req %s: want -run %q, got %q", c.req, c.pattern, p)
		}
		runs := map[string]bool{}
		for _, n := range c.run {
			runs[n] = true
		}
		for _, n := range all {
			if got := matches(t, p, n); got != runs[n] {
				t.Errorf("--req %s: -run %q: %s runs=%v, want %v", c.req, p, n, got, runs[n])
			}
		}
	}
}

func TestResolve(t *testing.T) {
	ids, err := Resolve("sync-3, FED")
	if err != nil {
		t.Fatal(err)
	}
	if ids[0] != "SYNC-3" || len(ids) < 2 || spec.GroupOf(ids[1]) != "FED" {
		t.Errorf("want SYNC-3 then the FED IDs, got %v", ids)
	}
	for _, bad := range []string{"FOO-1", "SYNC-99,SEND-1", "SYNCX", ",", ""} {
		if _, err := Resolve(bad); err == nil {
			t.Errorf("Resolve(%q): want an error, got none", bad)
		} else if bad != "," && bad != "" && !strings.Contains(err.Error(), strings.Split(bad, ",")[0]) {
			t.Errorf("Resolve(%q): the error should name the unknown name: %v", bad, err)
		}
	}
}

func TestScanRefusesWhatItCannotRead(t *testing.T) {
	for name, src := range map[string]string{
		"computed IDs": `package tests
func TestX(t *testing.T) { spec.Covers(t, ids...) }`,
		"unknown ID": `package tests
func TestX(t *testing.T) { spec.Covers(t, "SYNC-99") }`,
		"outside a test": `package tests
func check(t *testing.T) { spec.Covers(t, "SYNC-1") }`,
	} {
		if _, err := scanSource(t, src); err == nil {
			t.Errorf("%s: want a scan error, got none", name)
		}
	}
}

// The project's own tests: every catalogue ID has a test, every test function that declares
// requirements is in the map, and the selection for each ID matches its tests.
func TestScanProjectTests(t *testing.T) {
	m, err := Scan("../../../tests")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range spec.Catalogue {
		if len(m.ByID[r.ID]) == 0 {
			t.Errorf("%s: no test declares it (spec.Covers)", r.ID)
		}
	}
	files, _ := filepath.Glob("../../../tests/*_test.go")
	declares := regexp.MustCompile(`(?s)func (Test\w+)\(t \*testing\.T\) \{(.*?)\n\}`)
	for _, f := range files {
		src, _ := os.ReadFile(f)
		for _, mm := range declares.FindAllStringSubmatch(string(src), -1) {
			if !strings.Contains(mm[2], "spec.Covers") && !strings.Contains(mm[2], "OverBothFeeds") {
				continue
			}
			found := false
			for _, es := range m.ByID {
				for _, e := range es {
					found = found || e.Test == mm[1]
				}
			}
			if !found {
				t.Errorf("%s declares requirements but is not in the map", mm[1])
			}
		}
	}
	ids, _ := Resolve("SSS-1")
	entries, _ := m.Select(ids)
	p := m.RunPattern(entries)
	if !matches(t, p, "TestStickyOutsideTimeline/sliding") || matches(t, p, "TestStickyOutsideTimeline/sync") {
		t.Errorf("--req SSS-1: -run %q should run TestStickyOutsideTimeline/sliding and not its /sync half", p)
	}
}
