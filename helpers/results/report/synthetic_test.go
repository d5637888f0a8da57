package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"stickler/helpers/harness/timeline"
	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
	"stickler/helpers/spec/marker"
)

// logLine captures what a marker call logs, so the synthetic stream holds exactly the lines
// the real helpers write.
type logLine struct {
	testing.TB
	lines []string
}

func (l *logLine) Logf(format string, args ...any) {
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}
func (l *logLine) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

func markerLine(t *testing.T, call func(tb testing.TB)) string {
	l := &logLine{TB: t}
	call(l)
	if len(l.lines) != 1 {
		t.Fatalf("marker call logged %d lines", len(l.lines))
	}
	return l.lines[0]
}

// stream builds a `go test -json` stream the way test2json writes it.
type stream struct {
	t   *testing.T
	b   strings.Builder
	now time.Time
	pkg string
}

func newStream(t *testing.T) *stream {
	return &stream{t: t, now: time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC), pkg: "stickler/tests"}
}

func (s *stream) emit(action, test, output string, elapsed float64) {
	ev := map[string]any{"Time": s.now.Format(time.RFC3339Nano), "Action": action, "Package": s.pkg}
	if test != "" {
		ev["Test"] = test
	}
	if output != "" {
		ev["Output"] = output
	}
	if action == "pass" || action == "fail" || action == "skip" {
		ev["Elapsed"] = elapsed
	}
	b, _ := json.Marshal(ev)
	s.b.Write(b)
	s.b.WriteByte('\n')
	s.now = s.now.Add(10 * time.Millisecond)
}

func (s *stream) run(test string) {
	s.emit("run", test, "", 0)
	s.emit("output", test, "=== RUN   "+test+"\n", 0)
}

// log writes one t.Log line as testing prints it.
func (s *stream) log(test, text string) {
	s.emit("output", test, "    file_test.go:42: "+text+"\n", 0)
}

func (s *stream) mark(test string, call func(tb testing.TB)) { s.log(test, markerLine(s.t, call)) }

// covers writes the test's spec.Covers line.
func (s *stream) covers(test string, ids ...string) {
	s.mark(test, func(tb testing.TB) { spec.Covers(tb, ids...) })
}

// test writes a whole test that has no subtests: its start, its spec.Covers line, the lines it
// logs and its end.
func (s *stream) test(name, action string, secs float64, ids []string, logs ...string) {
	s.run(name)
	s.covers(name, ids...)
	for _, l := range logs {
		s.log(name, l)
	}
	s.end(name, action, secs)
}

// ending writes a whole test that ends as a spec ending does (spec.Inconclusive and the
// others): its start, its spec.Covers line, the ending record, the skip line with the record's
// reason, and its end.
func (s *stream) ending(name string, ids []string, r marker.Record) {
	s.run(name)
	s.covers(name, ids...)
	s.log(name, marker.Line(r))
	s.log(name, r.Reason())
	s.end(name, "skip", 0.01)
}

// rem is a remaining-time field of ms milliseconds, as delivered.
func rem(ms int64) wire.Remaining { return wire.Remaining{MS: ms, Present: true} }

func (s *stream) end(test, action string, secs float64) {
	word := map[string]string{"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}[action]
	s.emit("output", test, fmt.Sprintf("--- %s: %s (%.2fs)\n", word, test, secs), 0)
	s.emit(action, test, "", secs)
}

// base is the fake wall clock of the timeline records (Unix ms).
var base = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)

func ms(d int) time.Time { return base.Add(time.Duration(d) * time.Millisecond) }

const syntheticExpectations = `# synthetic
TestFedCatchUpAfterCrash  fail  lost-events  Synapse's federation sender has no sticky catch-up
TestSyncIgnoredUsers      fail  ignored-delivered  sticky events of ignored users are delivered
`

// syntheticStream is a run with every kind of outcome: passes (one with subtests and a MAY
// choice), an expected failure with a fault timeline, an unexpected pass, two skips (with and
// without the "skipped: " prefix), a map test that failed with a divergence (its marker line
// split by test2json), a panicking test and one that never finished.
func syntheticStream(t *testing.T) string {
	s := newStream(t)
	s.test("TestDiscover", "pass", 0.21, []string{"DISCOVER-1"})
	s.test("TestSendStickyVisibleEverywhere", "pass", 2.5, []string{"SEND-1"})

	s.run("TestSendDurationBounds")
	s.covers("TestSendDurationBounds", "SEND-2", "SEND-3")
	s.run("TestSendDurationBounds/negative")
	s.end("TestSendDurationBounds/negative", "pass", 0.05)
	s.run("TestSendDurationBounds/above_cap")
	s.mark("TestSendDurationBounds/above_cap", func(tb testing.TB) {
		spec.Choice(tb, "SEND-3", "accepted; remaining time capped at 3600000")
	})
	s.end("TestSendDurationBounds/above_cap", "pass", 0.07)
	s.end("TestSendDurationBounds", "pass", 0.13)

	const fed = "TestFedCatchUpAfterCrash"
	s.run(fed)
	s.covers(fed, "FED-4")
	s.mark(fed, func(tb testing.TB) { timeline.Sent(tb, "hs1", "$crashA", "alice/LAPTOP", ms(0).UnixMilli(), 8000) })
	s.mark(fed, func(tb testing.TB) { timeline.Seen(tb, "alice@hs1", "$crashA", ms(120), rem(7880)) })
	s.mark(fed, func(tb testing.TB) { timeline.Fault(tb, "hs2", timeline.Crash, ms(500), ms(3500)) })
	s.mark(fed, func(tb testing.TB) { timeline.Sent(tb, "hs1", "$crashB", "alice/PHONE", ms(1000).UnixMilli(), 8000) })
	s.mark(fed, func(tb testing.TB) { timeline.Seen(tb, "alice@hs1", "$crashB", ms(1100), rem(7900)) })
	s.mark(fed, func(tb testing.TB) { timeline.Seen(tb, "bob@hs2", "$crashA", ms(4200), rem(3800)) })
	s.mark(fed, func(tb testing.TB) { spec.MarkFailure(tb, "lost-events") })
	s.log(fed, "sync.go:88: bob@hs2 never received $crashB within 5s")
	s.end(fed, "fail", 9.4)

	s.test("TestSyncIgnoredUsers", "pass", 1.2, []string{"SYNC-11"})
	s.test("TestSSSExtension", "skip", 0.02, []string{"SSS-1"}, "skipped: hs1 does not serve Simplified Sliding Sync")
	s.test("TestHisvisThreeServers", "skip", 0, []string{"HISVIS-2"}, "needs a third server image")

	const mp = "TestMapConvergesAfterPartition"
	s.run(mp)
	s.covers(mp, "MAP-2", "MAP-1")
	s.mark(mp, func(tb testing.TB) { timeline.Sent(tb, "hs1", "$S", "alice/LAPTOP", ms(0).UnixMilli(), 10000) })
	s.mark(mp, func(tb testing.TB) { timeline.Seen(tb, "alice@hs1", "$S", ms(80), rem(9920)) })
	s.mark(mp, func(tb testing.TB) { timeline.Seen(tb, "bob@hs2", "$S", ms(400), rem(9600)) })
	s.mark(mp, func(tb testing.TB) { timeline.Fault(tb, "hs2", timeline.Partition, ms(1000), ms(6000)) })
	s.mark(mp, func(tb testing.TB) { timeline.Sent(tb, "hs1", "$S2", "alice/LAPTOP", ms(2000).UnixMilli(), 3000) })
	s.mark(mp, func(tb testing.TB) { timeline.Seen(tb, "alice@hs1", "$S2", ms(2050), rem(2950)) })
	s.mark(mp, func(tb testing.TB) { timeline.Seen(tb, "carol@hs3", "$S2", ms(2300), rem(2700)) })
	s.mark(mp, func(tb testing.TB) { timeline.Seen(tb, "bob@hs2", "$S2", ms(6500), wire.Remaining{}) })
	s.mark(mp, func(tb testing.TB) { timeline.Mark(tb, "A", ms(4000)) })
	s.mark(mp, func(tb testing.TB) { timeline.Mark(tb, "B", ms(7000)) })
	s.mark(mp, func(tb testing.TB) {
		timeline.MapStateAt(tb, "alice@hs1", ms(7000), "@alice:hs1/m.rtc.member/LAPTOP=- ($S2 expired)")
	})
	s.mark(mp, func(tb testing.TB) { timeline.MapStateAt(tb, "bob@hs2", ms(7000), "@alice:hs1/m.rtc.member/LAPTOP=$S") })
	// The divergence line is longer than test2json's line limit: it arrives in two pieces.
	why := "key (!room:hs1, @alice:hs1, m.rtc.member, \"LAPTOP\"): alice@hs1 has nothing, bob@hs2 has $S: " +
		"for alice@hs1 the winner $S2 expired at 12:00:05.000; bob@hs2 received $S2 only without the remaining-time field (not sticky when delivered) " +
		strings.Repeat("padding ", 530) + " END-OF-WHY"
	line := "    file_test.go:42: " + markerLine(t, func(tb testing.TB) { timeline.DivergedAt(tb, "bob@hs2", ms(7000), why) }) + "\n"
	s.emit("output", mp, line[:4096], 0)
	s.emit("output", mp, line[4096:], 0)
	s.log(mp, "map_test.go:120: maps differ after healing (see above)")
	s.end(mp, "fail", 12.7)

	s.run("TestLoadMany")
	s.covers("TestLoadMany", "LOAD-1")
	s.log("TestLoadMany", "sent 150 of 400 sticky events")

	s.run("TestPanics")
	s.covers("TestPanics", "REDACT-1")
	s.emit("output", "TestPanics", "--- FAIL: TestPanics (0.30s)\n", 0)
	s.emit("output", "TestPanics", "panic: runtime error: index out of range [3] with length 3 [recovered]\n", 0)
	s.emit("fail", "TestPanics", "", 0.3)
	s.emit("output", "", "panic: test timed out after 45m0s\n", 0)
	s.emit("output", "", "FAIL\tstickler/tests\t2700.123s\n", 0)
	s.emit("fail", "", "", 2700.123)
	return s.b.String()
}
