package stickymap

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/harness/wire"
)

// t0 is the fake epoch of these tests: origin_server_ts values are ms after it.
var t0 = time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)

func at(ms int64) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

var kA = Key{RoomID: "!r:hs1", Sender: "@alice:hs1", Type: "m.rtc.member", StickyKey: "LAPTOP"}

// write is a live delivery of a write: sent at ts (ms after t0) for dur ms, received at recv
// with the remaining time the server would give (end - recv).
func write(id string, k Key, ts, dur, recv int64) Delivery {
	return Delivery{EventID: id, Key: k, OriginTS: t0.UnixMilli() + ts, DurationMS: dur,
		Remaining: wire.Remaining{MS: ts + dur - recv, Present: true}, Received: at(recv), Content: `{"v":1}`}
}

func removal(id string, k Key, ts, dur, recv int64) Delivery {
	d := write(id, k, ts, dur, recv)
	d.Removal, d.Content = true, `{"sticky_key":"`+k.StickyKey+`"}`
	return d
}

type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func newMap(owner string, r Rule) (*Map, *fakeClock) {
	c := &fakeClock{now: t0}
	return New(owner, Config{Rule: r, Clock: c.Now}), c
}

// wantExpiry checks that k holds id until the millisecond before end and nothing from end on.
func wantExpiry(t *testing.T, m *Map, c *fakeClock, k Key, id string, end int64) {
	t.Helper()
	c.now = at(end - 1)
	wantValue(t, m, k, id)
	c.now = at(end)
	wantValue(t, m, k, "")
}

// wantExplained checks that the map's explanation of k says part; complaint says what is
// missing otherwise.
func wantExplained(t *testing.T, m *Map, k Key, part, complaint string) {
	t.Helper()
	if ex := m.Explain(k); !strings.Contains(ex, part) {
		t.Fatalf("%s (%q):\n%s", complaint, part, ex)
	}
}

func wantValue(t *testing.T, m *Map, k Key, want string) {
	t.Helper()
	e, ok := m.Get(k)
	switch {
	case want == "" && ok:
		t.Fatalf("%s: key %v holds %s, want absent\n%s", m.Owner, k, e.EventID, m.Explain(k))
	case want != "" && !ok:
		t.Fatalf("%s: key %v is absent, want %s\n%s", m.Owner, k, want, m.Explain(k))
	case want != "" && e.EventID != want:
		t.Fatalf("%s: key %v holds %s, want %s\n%s", m.Owner, k, e.EventID, want, m.Explain(k))
	}
}

func TestExpiryByRemainingTimeAsReceived(t *testing.T) {
	m, c := newMap("alice", RuleLatest)
	// Sent at 0 for 5000 ms, received at 1000 with 3500 ms left (the server's view, which the
	// client trusts over origin_server_ts + duration): local expiry 4500.
	d := write("$a", kA, 0, 5000, 1000)
	d.Remaining.MS = 3500
	m.Add(d)
	wantExpiry(t, m, c, kA, "$a", 4500)
	wantExplained(t, m, kA, "expired at 12:00:04.500", "explanation does not say when it expired")
}

func TestNotStickyWhenDeliveredTakesNoPart(t *testing.T) {
	m, _ := newMap("bob", RuleLatest)
	late := write("$z", kA, 100, 5000, 200)
	late.Remaining = wire.Remaining{}
	m.Add(write("$a", kA, 0, 5000, 10))
	m.Add(late) // ranks higher, but arrived as an ordinary event: must not win
	wantValue(t, m, kA, "$a")
	if delivered, sticky := m.Received("$z"); !delivered || sticky {
		t.Fatalf("Received($z) = %v, %v; want true, false", delivered, sticky)
	}
	wantExplained(t, m, kA, "not sticky when delivered", "explanation does not mention the non-sticky delivery")
}

func TestRemoval(t *testing.T) {
	m, c := newMap("alice", RuleLatest)
	m.Add(write("$a", kA, 0, 10000, 0))
	m.Add(removal("$b", kA, 100, 10000, 100))
	c.now = at(200)
	wantValue(t, m, kA, "")
	wantExplained(t, m, kA, "is a removal", "explanation does not name the removal")
	// An older write delivered late does not bring the key back.
	m.Add(write("$old", kA, 50, 10000, 300))
	c.now = at(300)
	wantValue(t, m, kA, "")
	// A newer write does.
	m.Add(write("$c", kA, 400, 10000, 400))
	c.now = at(400)
	wantValue(t, m, kA, "$c")
}

func TestTieBreaks(t *testing.T) {
	t.Run("latest: same end, higher event ID wins", func(t *testing.T) {
		m, _ := newMap("alice", RuleLatest)
		m.Add(write("$B", kA, 0, 5000, 0)) // end 5000
		m.Add(write("$A", kA, 1000, 4000, 1000))
		m.Add(write("$C", kA, 2000, 3000, 2000)) // end 5000, highest ID
		wantValue(t, m, kA, "$C")
		wantExplained(t, m, kA, "same origin_server_ts+duration_ms", "explanation does not give the tie-break")
	})
	t.Run("latest: later end wins over later send", func(t *testing.T) {
		m, _ := newMap("alice", RuleLatest)
		m.Add(write("$long", kA, 0, 9000, 0))
		m.Add(write("$later", kA, 1000, 3000, 1000))
		wantValue(t, m, kA, "$long")
	})
	t.Run("seed: later send wins, then higher event ID", func(t *testing.T) {
		m, _ := newMap("alice", RuleSeed)
		m.Add(write("$long", kA, 0, 9000, 0))
		m.Add(write("$later", kA, 1000, 3000, 1000))
		wantValue(t, m, kA, "$later")
		m.Add(write("$same", kA, 1000, 3000, 1000))
		wantValue(t, m, kA, "$same") // "$same" > "$later"
	})
	t.Run("event IDs compare bytewise (A < Z < a)", func(t *testing.T) {
		m, _ := newMap("alice", RuleLatest)
		m.Add(write("$Zz", kA, 0, 5000, 0))
		m.Add(write("$aa", kA, 0, 5000, 0))
		wantValue(t, m, kA, "$aa")
	})
}

// The proposal's second lifetime diagram: S long, S' shorter and later. The latest rule keeps
// S once S' is gone for a client that saw both; the seed rule picks S' and then has nothing.
func TestBothRulesOnTheShorterOverwriteDiagram(t *testing.T) {
	for _, tc := range []struct {
		rule     Rule
		atA, atB string
	}{
		{RuleLatest, "$S", "$S"},
		{RuleSeed, "$S2", ""},
	} {
		m, c := newMap("carol", tc.rule)
		m.Add(write("$S", kA, 0, 10000, 0))
		m.Add(write("$S2", kA, 3000, 3000, 3000))
		c.now = at(4000) // A
		wantValue(t, m, kA, tc.atA)
		c.now = at(7000) // B: S' expired, S not
		wantValue(t, m, kA, tc.atB)
	}
}

func TestDuplicatesKeepEarliestExpiry(t *testing.T) {
	m, c := newMap("alice", RuleLatest)
	first := write("$a", kA, 0, 5000, 100)
	again := first
	again.Received, again.Remaining.MS = at(2000), 2500 // says 4500: tighter than 5000
	gone := first
	gone.Received, gone.Remaining.Present = at(6000), false // a later non-sticky copy
	for _, d := range []Delivery{gone, first, again, first} {
		m.Add(d)
	}
	wantExpiry(t, m, c, kA, "$a", 4500)
	wantExplained(t, m, kA, "delivered 4 time(s)", "explanation does not count deliveries")
}

func TestConflictingDeliveriesAreFlagged(t *testing.T) {
	m, _ := newMap("alice", RuleLatest)
	m.Add(write("$a", kA, 0, 5000, 0))
	m.Add(write("$a", kA, 0, 9000, 0))
	wantExplained(t, m, kA, "duration_ms 5000 vs 9000", "a disagreeing re-delivery is not flagged")
}

func TestFromClientEvent(t *testing.T) {
	for _, set := range []string{"unstable", "stable"} {
		n, _ := wire.Select(set)
		ev := func(content, unsigned string) gjson.Result {
			return gjson.Parse(`{"event_id":"$e1","sender":"@alice:hs1","type":"m.rtc.member","origin_server_ts":1767355200000,` +
				`"` + n.EventKey + `":{"duration_ms":5000},"content":` + content + `,"unsigned":` + unsigned + `}`)
		}
		key := `"` + n.StickyKey + `":"LAPTOP"`
		d, err := FromClientEvent(ev(`{`+key+`,"x":1}`, `{"`+n.RemainingField+`":4000}`), "!r:hs1", t0, n)
		if err != nil {
			t.Fatalf("%s: %v", set, err)
		}
		want := Delivery{EventID: "$e1", Key: kA, OriginTS: 1767355200000, DurationMS: 5000, Remaining: wire.Remaining{MS: 4000, Present: true},
			Received: t0, Content: `{` + key + `,"x":1}`}
		if d != want {
			t.Fatalf("%s: got %+v\nwant %+v", set, d, want)
		}
		if d.LocalExpiry() != at(4000) {
			t.Fatalf("%s: local expiry %v", set, d.LocalExpiry())
		}
		if d, _ := FromClientEvent(ev(`{`+key+`}`, `{}`), "!r:hs1", t0, n); !d.Removal || d.Remaining.Present {
			t.Fatalf("%s: sticky-key-only content without remaining time: %+v", set, d)
		}
		if _, err := FromClientEvent(ev(`{"x":1}`, `{}`), "!r:hs1", t0, n); !isNotMap(err) {
			t.Fatalf("%s: content without sticky key: err = %v, want ErrNotMapEvent", set, err)
		}
		if _, err := FromClientEvent(ev(`{`+key+`}`, `{}`), "!other:hs1", t0, n); err != nil {
			t.Fatalf("%s: room given, event has none: %v", set, err)
		}
		withRoom := gjson.Parse(strings.Replace(ev(`{`+key+`}`, `{}`).Raw, `{"event_id"`, `{"room_id":"!x:hs1","event_id"`, 1))
		if _, err := FromClientEvent(withRoom, "!r:hs1", t0, n); err == nil || isNotMap(err) {
			t.Fatalf("%s: room_id disagreeing with the room delivered in was accepted: %v", set, err)
		}
	}
	n, _ := wire.Select("unstable")
	noSticky := gjson.Parse(`{"event_id":"$e","sender":"@a:hs1","type":"t","origin_server_ts":1,"content":{"msc4354_sticky_key":"k"}}`)
	if _, err := FromClientEvent(noSticky, "!r:hs1", t0, n); !isNotMap(err) {
		t.Fatalf("event without sticky object: err = %v, want ErrNotMapEvent", err)
	}
}

// AddDelivered takes map writes as a stream logged them (room, time, where), with where in the
// explanation, and passes over events that are not map writes; a map write it cannot read is
// an error.
func TestAddDelivered(t *testing.T) {
	n, _ := wire.Select("unstable")
	ev := func(id, key string, ts int64) gjson.Result {
		return gjson.Parse(`{"event_id":"` + id + `","sender":"@alice:hs1","type":"m.rtc.member","origin_server_ts":` +
			itoa(t0.UnixMilli()+ts) + `,"msc4354_sticky":{"duration_ms":5000},"content":{"msc4354_sticky_key":"` + key +
			`","device":"x"},"unsigned":{"msc4354_sticky_duration_ttl_ms":` + itoa(5000-ts) + `}}`)
	}
	plain := gjson.Parse(`{"event_id":"$plain","sender":"@alice:hs1","type":"m.room.message","origin_server_ts":1,"content":{"body":"hi"}}`)
	m, _ := newMap("alice", RuleLatest)
	for _, tc := range []struct {
		ev   gjson.Result
		room string
		via  string
		want bool
	}{
		{plain, "!r:hs1", "sync timeline", false},
		{ev("$t", "A", 10), "!r:hs1", "sync timeline", true},
		{ev("$s", "B", 20), "!r:hs1", "sync sticky section", true},
		{ev("$v", "D", 40), "!q:hs1", "sliding sync extension", true},
	} {
		if got, err := m.AddDelivered(tc.ev, tc.room, t0, tc.via, n); got != tc.want || err != nil {
			t.Fatalf("AddDelivered(%s) = %v, %v; want %v, nil", tc.ev.Get("event_id").Str, got, err, tc.want)
		}
	}
	if len(m.State()) != 3 {
		t.Fatalf("state after three map writes: %s", m.Summary())
	}
	wantExplained(t, m, Key{"!r:hs1", "@alice:hs1", "m.rtc.member", "B"}, "via sync sticky section", "explanation does not say where the event came from")
	if _, ok := m.Get(Key{"!q:hs1", "@alice:hs1", "m.rtc.member", "D"}); !ok {
		t.Fatalf("extension event missing: %s", m.Summary())
	}
	bad := gjson.Parse(`{"event_id":"$bad","sender":"@alice:hs1","type":"m.rtc.member","msc4354_sticky":{"duration_ms":5000},"content":{"msc4354_sticky_key":"E"}}`)
	if got, err := m.AddDelivered(bad, "!r:hs1", t0, "sync timeline", n); got || err == nil {
		t.Fatalf("a map write without origin_server_ts: AddDelivered = %v, %v; want false and an error", got, err)
	}
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func TestSummary(t *testing.T) {
	m, c := newMap("alice", RuleLatest)
	if s := m.Summary(); !strings.Contains(s, "empty") {
		t.Fatalf("empty summary: %q", s)
	}
	kB := kA
	kB.StickyKey = "PHONE"
	m.Add(write("$a", kA, 0, 1000, 0))
	m.Add(removal("$r", kB, 0, 1000, 0))
	c.now = at(500)
	want := "@alice:hs1/m.rtc.member/LAPTOP=$a; @alice:hs1/m.rtc.member/PHONE=- (removed by $r)"
	if s := m.Summary(); s != want {
		t.Fatalf("summary\n got %q\nwant %q", s, want)
	}
	c.now = at(1000)
	if s := m.Summary(); !strings.Contains(s, "LAPTOP=- ($a expired)") {
		t.Fatalf("summary after expiry: %q", s)
	}
}

// A delivery without the remaining-time field (a SHOULD a server may leave out) is judged by
// the proposal's algorithm, as a client would: live until origin_server_ts + min(duration,
// one hour); expired by that rule it stays not live; with the field it is left alone.
func TestByAlgorithmWithoutRemainingField(t *testing.T) {
	d := write("$a", kA, 0, 10000, 4000)
	d.Remaining = wire.Remaining{}
	if got := ByAlgorithm(d); !got.Remaining.Present || got.Remaining.MS != 6000 {
		t.Errorf("unexpired without the field: want 6000 ms left by the algorithm, got %+v", got)
	}
	long := write("$b", kA, 0, 99999999, 1000)
	long.Remaining.Present = false
	if got := ByAlgorithm(long); got.Remaining.MS != 3600000-1000 {
		t.Errorf("over-long duration: want the one-hour cap applied, got %d ms", got.Remaining.MS)
	}
	old := write("$c", kA, 0, 10000, 12000)
	old.Remaining = wire.Remaining{}
	if got := ByAlgorithm(old); got.Remaining.Present {
		t.Errorf("expired by the algorithm: want not live, got %+v", got)
	}
	with := write("$d", kA, 0, 10000, 4000)
	with.Remaining.MS = 1234 // what the server said, even if the algorithm says otherwise
	if got := ByAlgorithm(with); got.Remaining.MS != 1234 {
		t.Errorf("with the field: want it kept (1234), got %d", got.Remaining.MS)
	}
}
