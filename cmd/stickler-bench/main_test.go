package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"stickler/helpers/spec/marker"
)

func TestStats(t *testing.T) {
	var ds []time.Duration
	for i := 20; i >= 1; i-- { // 1 s .. 20 s, in reverse to show the input is sorted
		ds = append(ds, time.Duration(i)*time.Second)
	}
	got := stats(ds)
	want := "p50 10s, p95 19s (min 1.00s, max 20s)"
	if got != want {
		t.Errorf("stats of 1..20 s: got %q, want %q", got, want)
	}
	if got, want := stats([]time.Duration{3 * time.Second}), "p50 3.00s, p95 3.00s (min 3.00s, max 3.00s)"; got != want {
		t.Errorf("stats of one start: got %q, want %q", got, want)
	}
}

// A run's results: top-level tests ranked by time (from their events: go test's own elapsed
// time of a parent leaves out its parallel subtests), subtests counted in their parent, group
// time from the requirements a test or its subtests cover.
func TestBenchResults(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	var b strings.Builder
	emit := func(at time.Duration, action, test, output string, elapsed float64) {
		ev := map[string]any{"Time": t0.Add(at).Format(time.RFC3339Nano), "Action": action, "Package": "stickler/tests", "Test": test}
		if output != "" {
			ev["Output"] = output
		}
		if elapsed > 0 {
			ev["Elapsed"] = elapsed
		}
		line, _ := json.Marshal(ev)
		b.Write(line)
		b.WriteByte('\n')
	}
	emit(0, "run", "TestA", "", 0)
	emit(0, "output", "TestA", "    a_test.go:1: "+marker.Line(marker.Record{Kind: marker.Covers, IDs: []string{"SYNC-1"}})+"\n", 0)
	emit(0, "run", "TestB", "", 0)
	emit(0, "run", "TestB/x", "", 0)
	emit(0, "output", "TestB/x", "    b_test.go:1: "+marker.Line(marker.Record{Kind: marker.Covers, IDs: []string{"FED-1"}})+"\n", 0)
	emit(0, "run", "TestB/y", "", 0)
	emit(0, "output", "TestB/y", "    b_test.go:2: "+marker.Line(marker.Record{Kind: marker.Covers, IDs: []string{"SYNC-2"}})+"\n", 0)
	emit(0, "run", "TestC", "", 0)
	emit(0, "output", "TestC", "    c_test.go:1: "+marker.Line(marker.Record{Kind: marker.Covers, IDs: []string{"SEND-1"}})+"\n", 0)
	emit(time.Second, "skip", "TestC", "", 0)
	emit(30*time.Second, "pass", "TestA", "", 30)
	emit(60*time.Second, "pass", "TestB/x", "", 60)
	emit(100*time.Second, "fail", "TestB/y", "", 100)
	emit(100*time.Second, "fail", "TestB", "", 0.01) // go test leaves its parallel subtests out
	path := filepath.Join(t.TempDir(), "results.json")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	tb := &table{}
	if err := benchResults(tb, path); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range tb.rows {
		got[r[0]] = r[1]
	}
	for what, want := range map[string]string{
		"slowest test 1":                  "TestB 1m40s (fail)",
		"slowest test 2":                  "TestA 30s (pass)",
		"slowest test 3":                  "TestC 1.00s (skip)",
		"test time per requirement group": "SYNC 2m10s (2), FED 1m40s (1), SEND 1.00s (1) (",
	} {
		if !strings.HasPrefix(got[what], want) {
			t.Errorf("%s: got %q, want it to start with %q", what, got[what], want)
		}
	}
	if _, ok := got["slowest test 4"]; ok {
		t.Errorf("only 3 top-level tests, yet a 4th slowest was listed: %q", got["slowest test 4"])
	}
	if !strings.Contains(got["results read"], "3 tests") {
		t.Errorf("results read: got %q, want it to count 3 top-level tests", got["results read"])
	}
}
