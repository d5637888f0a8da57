package timeline

import (
	"fmt"
	"os"
	"stickler/helpers/harness/wire"
	"strings"
	"testing"
	"time"

	"stickler/helpers/spec/marker"
)

// recorder captures Logf lines instead of writing them to the test log.
type recorder struct {
	testing.TB
	lines []string
}

func (r *recorder) Logf(format string, args ...any) {
	r.lines = append(r.lines, strings.TrimSpace(fmt.Sprintf(format, args...)))
}

func TestRecordsRoundTrip(t *testing.T) {
	rec := &recorder{TB: t}
	at := time.UnixMilli(1767355200123)
	Sent(rec, "hs1", "$a", "alice/LAPTOP", 1767355200000, 5000)
	Seen(rec, "bob@hs2", "$a", at, wire.Remaining{MS: 4877, Present: true})
	Seen(rec, "carol@hs3", "$a", at, wire.Remaining{MS: 0, Present: true})
	Seen(rec, "dave@hs3", "$a", at, wire.Remaining{})
	Fault(rec, "hs2", Partition, at, at.Add(2*time.Second))
	MapState(rec, "bob@hs2", "@alice:hs1/m.rtc.member/LAPTOP=$a")
	Diverged(rec, "bob@hs2", "bob@hs2 never received $b\nsecond line")
	Mark(rec, "A", at)
	end := Begin(rec, "hs3", Pause)
	end()
	end() // a second call records nothing

	if len(rec.lines) != 9 {
		t.Fatalf("want 9 lines, got %d:\n%s", len(rec.lines), strings.Join(rec.lines, "\n"))
	}
	var got []Record
	for _, l := range rec.lines {
		if !strings.HasPrefix(l, marker.Prefix+" {") || strings.Contains(l, "\n") {
			t.Fatalf("not a one-line marker: %q", l)
		}
		r, ok := Parse("    map_test.go:12: " + l + "\n")
		if !ok {
			t.Fatalf("Parse rejected %q", l)
		}
		got = append(got, r)
	}
	four, zero := int64(4877), int64(0)
	checks := []struct {
		ok   bool
		what string
	}{
		{got[0] == Record{Kind: KindSent, At: 1767355200000, Server: "hs1", Event: "$a", Key: "alice/LAPTOP", DurationMS: 5000}, "sent"},
		{got[1].Kind == KindSeen && got[1].At == at.UnixMilli() && got[1].Client == "bob@hs2" && got[1].RemainingMS != nil && *got[1].RemainingMS == four, "seen with remaining"},
		{got[2].RemainingMS != nil && *got[2].RemainingMS == zero, "seen with remaining 0 keeps the 0"},
		{got[3].RemainingMS == nil, "seen without remaining"},
		{got[4].Kind == KindFault && got[4].Fault == Partition && got[4].To-got[4].At == 2000 && got[4].Server == "hs2", "fault"},
		{got[5].Kind == KindMap && got[5].Text == "@alice:hs1/m.rtc.member/LAPTOP=$a", "map"},
		{got[6].Kind == KindDiverged && got[6].Text == "bob@hs2 never received $b\nsecond line", "diverged keeps newlines"},
		{got[7].Kind == KindMark && got[7].Text == "A", "mark"},
		{got[8].Kind == KindFault && got[8].Fault == Pause && got[8].To >= got[8].At, "begin/end"},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: records %+v", c.what, got)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, l := range []string{"", "plain output", marker.Prefix, marker.Prefix + " not json",
		marker.Prefix + ` {"kind":"timeline","timeline":{"at":1}}`, marker.Line(marker.Record{Kind: marker.Covers, IDs: []string{"SYNC-1"}})} {
		if r, ok := Parse(l); ok {
			t.Errorf("Parse(%q) = %+v, true", l, r)
		}
	}
}

// TestEmitForReport writes a known timeline into its own log; the report's tests run it
// through `go test -json` to check the whole path from a test to the report. It does nothing
// unless they ask for it.
func TestEmitForReport(t *testing.T) {
	if os.Getenv("STICKLER_TIMELINE_EMIT") != "1" {
		t.Skip("skipped: emits a timeline only when run by the report's tests (STICKLER_TIMELINE_EMIT=1)")
	}
	base := time.UnixMilli(1767355200000)
	Sent(t, "hs1", "$S", "alice/LAPTOP", base.UnixMilli(), 3000)
	Seen(t, "bob@hs2", "$S", base.Add(150*time.Millisecond), wire.Remaining{MS: 2850, Present: true})
	Fault(t, "hs2", Crash, base.Add(time.Second), base.Add(2*time.Second))
	// Longer than test2json's line limit, so the stream splits it.
	Diverged(t, "bob@hs2", "bob@hs2 never received $S2; "+strings.Repeat("x", 5000)+" END")
}
