package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"stickler/helpers/harness/profile"
)

func TestParseProcStat(t *testing.T) {
	text := "cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1 2 3\n"
	busy, total, err := parseProcStat(text)
	if err != nil {
		t.Fatal(err)
	}
	// user nice system idle iowait irq softirq steal (guest, already in user, left out)
	if busy != 100+5+50+3+2 || total != 100+5+50+800+40+3+2 {
		t.Errorf("busy %d total %d", busy, total)
	}
	if _, _, err := parseProcStat("intr 1 2\n"); err == nil {
		t.Error("no cpu line: want an error")
	}
}

func TestSplitArgs(t *testing.T) {
	got, err := splitArgs(`-run 'TestSend|TestFedNewcomer' -count=1 "-skip" x`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-run", "TestSend|TestFedNewcomer", "-count=1", "-skip", "x"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := splitArgs(`-run 'x`); err == nil {
		t.Error("unclosed quote: want an error")
	}
}

// fakeRun is a run of three top-level tests: TestA sequential, TestB and TestC parallel with
// one slot between them (TestC waits for TestB), and TestB's subtest pausing too.
func fakeRun(t0 time.Time) []event {
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	return []event{
		{at(0), "start", "stickler/tests", ""},
		{at(0), "run", "stickler/tests", "TestA"},
		{at(10), "pass", "stickler/tests", "TestA"},
		{at(10), "run", "stickler/tests", "TestB"},
		{at(10), "pause", "stickler/tests", "TestB"},
		{at(10), "run", "stickler/tests", "TestC"},
		{at(10), "pause", "stickler/tests", "TestC"},
		{at(10), "cont", "stickler/tests", "TestB"},
		{at(11), "run", "stickler/tests", "TestB/x"},
		{at(11), "pause", "stickler/tests", "TestB/x"},
		{at(12), "cont", "stickler/tests", "TestB/x"},
		{at(40), "pass", "stickler/tests", "TestB/x"},
		{at(40), "pass", "stickler/tests", "TestB"},
		{at(40), "cont", "stickler/tests", "TestC"},
		{at(100), "fail", "stickler/tests", "TestC"},
		{at(100), "fail", "stickler/tests", ""},
	}
}

func TestSpans(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	ss := spans(fakeRun(t0))
	if len(ss) != 3 {
		t.Fatalf("got %d spans, want 3 top-level tests: %+v", len(ss), ss)
	}
	c := ss[2]
	if c.Name != "TestC" || c.waited() != 30*time.Second || c.ran() != 60*time.Second || c.Outcome != "fail" {
		t.Errorf("last span %+v: want TestC waiting 30 s and running 60 s, failed", c)
	}
	if a := ss[0]; a.Name != "TestA" || a.waited() != 0 || a.ran() != 10*time.Second {
		t.Errorf("first span %+v: want TestA, no wait, 10 s", a)
	}
}

func TestTimeline(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	ss := spans(fakeRun(t0))
	samples := []cpuSample{
		{At: t0, Busy: 0, Total: 0, Load1: 1},
		{At: t0.Add(30 * time.Second), Busy: 3000, Total: 6000, Load1: 2},  // 50% in 0:00-0:30
		{At: t0.Add(60 * time.Second), Busy: 9000, Total: 12000, Load1: 4}, // 100% in 0:30-1:00
		{At: t0.Add(100 * time.Second), Busy: 9000, Total: 20000, Load1: 3},
	}
	starts := []profile.Start{{At: t0.Add(11 * time.Second)}, {At: t0.Add(45 * time.Second)}, {At: t0.Add(46 * time.Second)}}
	bs := timeline(t0, t0.Add(100*time.Second), 30*time.Second, samples, ss, starts)
	if len(bs) != 4 {
		t.Fatalf("%d buckets, want 4 (100 s in steps of 30 s)", len(bs))
	}
	if bs[0].Busy != 0.5 || bs[1].Busy != 1 || bs[0].Load1 != 2 || bs[1].Load1 != 4 {
		t.Errorf("busy/load: %+v", bs)
	}
	// 0:00-0:30: TestA 10 s, TestB 20 s -> 1 test on average; 0:30-1:00: TestB 10 s, TestC 20 s.
	if bs[0].Tests != 1 || bs[1].Tests != 1 || bs[0].Starts != 1 || bs[1].Starts != 2 {
		t.Errorf("tests/starts: %+v", bs)
	}
	out := chart(bs, 30*time.Second)
	if !strings.Contains(out, " 0:30 |####################| 100%  load  4.0  tests  1.0  starts 2") {
		t.Errorf("chart:\n%s", out)
	}
}

func TestWhereTimeGoes(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	prof := profile.File{
		ProcessCPU: 12 * time.Second,
		Starts: []profile.Start{
			{At: t0.Add(41 * time.Second), Test: "TestC", Server: "hs1", Fresh: true, Queued: time.Second, Ready: 3 * time.Second},
			{At: t0.Add(41 * time.Second), Test: "TestC", Server: "hs2", Fresh: true, Queued: 2 * time.Second, Ready: 3 * time.Second},
			{At: t0.Add(70 * time.Second), Test: "TestC", Server: "hs2", Ready: 2 * time.Second},
			{At: t0.Add(1 * time.Second), Test: "TestA", Server: "hs1", Fresh: true, Ready: 2 * time.Second},
		},
		ServerCPU: []profile.ServerCPU{{Container: "a", CPU: 4 * time.Second}, {Container: "b", CPU: 5 * time.Second}, {Container: "b", CPU: time.Second}},
		Tests: map[string]profile.States{
			"TestC": {profile.ServerStart: 9 * time.Second, profile.Sleep: 40 * time.Second, profile.Polling: 8 * time.Second, profile.Running: 3 * time.Second},
			"TestA": {profile.Running: 10 * time.Second},
		},
	}
	tb := &table{}
	chartText := whereTimeGoes(tb, fakeRun(t0), []profile.File{prof}, nil)
	got := map[string]string{}
	for _, r := range tb.rows {
		got[r[0]] = r[1]
	}
	for what, want := range map[string]string{
		"critical path: last tests to end":    "TestC 40s-100s (waited 30s for a slot, ran 1m0s, fail); TestB 10s-40s",
		"critical path: the last test's time": "TestC: 1m30s in all: parallel wait 30s; started 3 server(s) itself, 11s queued and starting; server start 9.00s, polling 8.00s, real-time sleep 40s, running 3.00s",
		"server starts":                       "4 (3 fresh, 1 restarts) in 2 tests; until ready 10s in sum, p50 2.00s, p95 3.00s",
		"CPU time":                            "servers 10s (2 containers, 5.00s per container on average, read at each crash and removal), test process 12s",
		"tests running in the last 60 s":      "1: TestC (1m0s)",
	} {
		if !strings.HasPrefix(got[what], want) {
			t.Errorf("%s:\n got %q\nwant it to start with %q", what, got[what], want)
		}
	}
	if !strings.Contains(got["server starts"], "queued for a start slot 3.00s in sum; most: TestC 3, TestA 1") {
		t.Errorf("server starts: %q", got["server starts"])
	}
	if !strings.Contains(got["test time by what the tests did (all tests)"], "real-time sleep 40s, running 13s") {
		t.Errorf("by state: %q", got["test time by what the tests did (all tests)"])
	}
	if got["most real-time sleep"] != "TestC 40s" || got["most running"] != "" || got["most server start"] != "TestC 9.00s" {
		t.Errorf("most: sleep %q, start %q", got["most real-time sleep"], got["most server start"])
	}
	if !strings.Contains(chartText, " 1:30 |                    |    -  load    -  tests  0.3  starts 0") {
		t.Errorf("chart without CPU samples:\n%s", chartText)
	}
}

// A reused report directory keeps older runs' profiles: only the one that began with this
// run's first test is read.
func TestProfilesFor(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Date(2026, 12, 2, 18, 0, 0, 0, time.UTC)
	for name, began := range map[string]time.Time{"old": t0.Add(-3 * time.Minute), "this": t0.Add(-time.Second), "later": t0.Add(5 * time.Minute)} {
		b, _ := json.Marshal(profile.File{Started: began, ProcessCPU: time.Second})
		if err := os.WriteFile(filepath.Join(dir, "profile-"+name+".json"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := profilesFor(filepath.Join(dir, "results.json"), t0, t0.Add(10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || !got[0].Started.Equal(t0.Add(-time.Second)) {
		t.Errorf("got %+v, want only the profile begun with the run", got)
	}
}
