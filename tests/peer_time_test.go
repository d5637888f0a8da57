package tests

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/blueprints"
	"stickler/helpers/client"
	"stickler/helpers/federation"
	"stickler/helpers/must"
	"stickler/helpers/spec"
	"stickler/helpers/wire"
)

const (
	// peerWait bounds a wait for federation traffic between a container and the peer, or for
	// a remote event to reach a client: long enough for a loaded two-core machine.
	peerWait = client.DefaultWait
	// peerReadSlack is how far below the ideal a remaining time may be, beyond the time the
	// test itself measured since sending: the server reads its clock before answering /sync,
	// the test after. The servers and the peer share this machine's clock, so no skew.
	peerReadSlack = 500 * time.Millisecond
	// peerExpiryGrace is how long after the computed end an event may still be served as
	// sticky: the server's expiry is real time checked at request time, plus request latency.
	peerExpiryGrace = 1500 * time.Millisecond
	// peerSettle is how long the peer keeps listening when checking that something is NOT
	// sent, after everything that must be sent has arrived (or its wait ran out).
	peerSettle = 5 * time.Second
	// peerShortLife is the lifetime of a sticky event a test first sees sticky and then
	// watches expire. Before it may expire the test waits for its delivery (waitDelivered), sends
	// a filler and makes an initial sync (stickyNow); on a loaded two-core machine running about
	// six tests at once that has taken several seconds, so 15 s leaves a wide margin while the
	// wait for the expiry stays short.
	peerShortLife = 15 * time.Second
)

// waitDelivered waits until the client has the events: in a /sync timeline or sticky section,
// so a test never checks stickiness before an event has arrived.
func waitDelivered(t *testing.T, c *client.Client, what string, eventIDs ...string) {
	t.Helper()
	s := c.NewStream(client.Sync, client.Filter(""))
	for _, id := range eventIDs {
		s.Labels[id] = what
	}
	s.Await(t, peerWait, eventIDs...)
}

// stickyNow reports whether the event is in the room's sticky section of a fresh initial
// sync whose one-event timeline holds a newer filler, and its remaining-time field.
func stickyNow(t *testing.T, c *client.Client, roomID, eventID string) (ev gjson.Result, remaining int64, hasRemaining bool) {
	t.Helper()
	ev, remaining, hasRemaining, _ = stickySync(t, c, roomID, eventID)
	return ev, remaining, hasRemaining
}

// stickySync is stickyNow that also returns the sync response, for failure messages.
func stickySync(t *testing.T, c *client.Client, roomID, eventID string) (ev gjson.Result, remaining int64, hasRemaining bool, r gjson.Result) {
	t.Helper()
	filler := c.SendText(t, roomID, "filler: pushes older events out of a one-event timeline")
	r = c.NewStream(client.Sync, client.Filter(`{"room":{"timeline":{"limit":1}}}`)).Next(t, 0)
	if tl := client.Timeline(r, roomID); !client.Contains(tl, filler) {
		t.Fatalf("the one-event timeline should hold the filler %s, it holds %v", filler, client.EventIDs(tl))
	}
	ev = client.Find(c.Sticky(r, roomID), eventID)
	if !ev.Exists() {
		return ev, 0, false, r
	}
	remaining, hasRemaining = c.Remaining(ev)
	return ev, remaining, hasRemaining, r
}

// requireStickyFor checks that the event is sticky now with a remaining time of at most want
// (its lifetime as of when the test built it, at since) and at least want minus the time that
// has passed since then (and a little slack).
func requireStickyFor(t *testing.T, c *client.Client, roomID, eventID string, want time.Duration, since time.Time, why string) {
	t.Helper()
	ev, rem, ok, r := stickySync(t, c, roomID, eventID)
	if !ev.Exists() {
		t.Fatalf("%s: expected %s in the sticky section (outside the timeline) %v into its %v lifetime, it is not; the sticky section holds %v, the timeline %v",
			why, eventID, time.Since(since).Round(time.Millisecond), want, client.EventIDs(c.Sticky(r, roomID)), client.EventIDs(client.Timeline(r, roomID)))
	}
	if !ok {
		t.Fatalf("%s: the sticky event has no unsigned.%s: %s", why, c.Names.RemainingField, ev.Raw)
	}
	lo, hi := (want - time.Since(since) - peerReadSlack).Milliseconds(), want.Milliseconds()
	if rem > hi || rem < lo {
		t.Fatalf("%s: expected the remaining time in [%d, %d] ms, got %d: %s", why, lo, hi, rem, ev.Raw)
	}
}

// requireNotSticky checks that the event is in no sticky section and that GET /event shows
// no remaining-time field.
func requireNotSticky(t *testing.T, c *client.Client, roomID, eventID, why string) {
	t.Helper()
	if ev, _, _ := stickyNow(t, c, roomID, eventID); ev.Exists() {
		t.Fatalf("%s: expected %s NOT to be in the sticky section, but it is: %s", why, eventID, ev.Raw)
	}
	res := c.GetEvent(t, roomID, eventID)
	must.Status(t, res, 200, why+": GET /event")
	must.Missing(t, res.JSON, wire.Path("unsigned", c.Names.RemainingField), why+": GET /event")
}

// A remote sticky event with a truthful timestamp is sticky from its arrival for its
// duration, and no longer. A failure means the server computes the window of a federated
// sticky event wrongly (too short, too long, or not at all).
func TestPeerStickyWindowFromOriginTS(t *testing.T) {
	spec.Covers(t, "TIME-1")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	const life = peerShortLife
	sent := time.Now() // the event's origin_server_ts and its receipt are after this...
	e := f.SendPeer(t, "org.example.sticky", map[string]any{"n": 1}, f.Peer.StickyFor(life), 0)
	accepted := time.Now() // ...and before this: the server answers /send once it has handled the PDU
	waitDelivered(t, f.Alice, "the peer's sticky event at alice", e.ID)
	requireStickyFor(t, f.Alice, f.Room.ID, e.ID, life, sent, "right after arrival")
	time.Sleep(time.Until(accepted.Add(life + peerExpiryGrace))) // let the lifetime pass
	requireNotSticky(t, f.Alice, f.Room.ID, e.ID, "after its duration")
}

// origin_server_ts one hour in the future: the start is the time of receipt, so the event is
// sticky for its duration from arrival, not until an hour from now. A failure means a sender
// can extend stickiness with a future timestamp.
func TestPeerFutureOriginTSDoesNotExtend(t *testing.T) {
	spec.Covers(t, "TIME-3", "TIME-1")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	const life = peerShortLife
	sent := time.Now() // the server receives the event after this...
	e := f.SendPeer(t, "org.example.sticky", map[string]any{"n": 1}, f.Peer.StickyFor(life), federation.Now()+time.Hour.Milliseconds())
	accepted := time.Now() // ...and before this: the server answers /send once it has handled the PDU
	waitDelivered(t, f.Alice, "the future-dated sticky event at alice", e.ID)
	requireStickyFor(t, f.Alice, f.Room.ID, e.ID, life, sent, "future origin_server_ts")
	time.Sleep(time.Until(accepted.Add(life + peerExpiryGrace))) // let the lifetime (from receipt) pass
	requireNotSticky(t, f.Alice, f.Room.ID, e.ID, "after duration from receipt (future origin_server_ts)")
}

// origin_server_ts in the past: the window is measured from it, so the event expires early;
// one whose window ended before it arrived (or a zero duration) is never sticky, though it is
// delivered as an ordinary event. A failure means the server measures from receipt alone.
func TestPeerPastOriginTSExpiresEarly(t *testing.T) {
	spec.Covers(t, "TIME-4", "TIME-1")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	t.Run("early", func(t *testing.T) {
		spec.Covers(t, "TIME-4", "TIME-1")
		// peerShortLife of stickiness is left on arrival. The age is what tells the right window
		// (from origin_server_ts) from a wrong one (from receipt): a server measuring from
		// receipt keeps the event sticky at least age longer than the expiry check assumes, and
		// the check comes peerExpiryGrace plus a filler send and a sync after the right end, so
		// age leaves several seconds for those on a loaded machine.
		const age = 10 * time.Second
		const life = peerShortLife + age
		ts := time.Now().Add(-age)
		e := f.SendPeer(t, "org.example.sticky", map[string]any{"n": "early"}, f.Peer.StickyFor(life), ts.UnixMilli())
		waitDelivered(t, f.Alice, "the back-dated sticky event at alice", e.ID)
		requireStickyFor(t, f.Alice, f.Room.ID, e.ID, life-age, ts.Add(age), fmt.Sprintf("origin_server_ts %v in the past, %v duration", age, life))
		time.Sleep(time.Until(ts.Add(life + peerExpiryGrace))) // let the (shortened) lifetime pass
		requireNotSticky(t, f.Alice, f.Room.ID, e.ID, fmt.Sprintf("%v after its origin_server_ts (%v after receipt), %v duration", life+peerExpiryGrace, life+peerExpiryGrace-age, life))
	})
	// expired-on-arrival: its window ended peerShortLife before it was sent, so a server that
	// measured from receipt would keep it sticky for peerShortLife, long enough for the check
	// after waitDelivered to see it on a loaded machine.
	for name, tc := range map[string]struct{ life, age time.Duration }{
		"expired-on-arrival": {peerShortLife, 2 * peerShortLife},
		"zero-duration":      {0, 0},
	} {
		t.Run(name, func(t *testing.T) {
			spec.Covers(t, "TIME-4", "TIME-1")
			e := f.SendPeer(t, "org.example.sticky", map[string]any{"n": name}, f.Peer.StickyFor(tc.life), time.Now().Add(-tc.age).UnixMilli())
			waitDelivered(t, f.Alice, "the already-expired sticky event as an ordinary event at alice", e.ID)
			requireNotSticky(t, f.Alice, f.Room.ID, e.ID, name)
		})
	}
}

// duration_ms above the one-hour cap over federation: the remaining time is at most one hour,
// and the cap applies before the start is added (an event from 30 minutes ago has 30 minutes
// left). A failure means a remote server can make events sticky for longer than an hour.
func TestPeerDurationCappedAtOneHour(t *testing.T) {
	spec.Covers(t, "TIME-2")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	huge := f.Peer.StickyValue(map[string]any{"duration_ms": 99999999})
	sent := time.Now()
	now := f.SendPeer(t, "org.example.sticky", map[string]any{"n": "now"}, huge, 0)
	waitDelivered(t, f.Alice, "the over-long sticky event at alice", now.ID)
	requireStickyFor(t, f.Alice, f.Room.ID, now.ID, time.Hour, sent, "duration_ms 99999999 sent now")
	sent = time.Now()
	past := f.SendPeer(t, "org.example.sticky", map[string]any{"n": "past"}, huge, sent.Add(-30*time.Minute).UnixMilli())
	waitDelivered(t, f.Alice, "the over-long back-dated sticky event at alice", past.ID)
	requireStickyFor(t, f.Alice, f.Room.ID, past.ID, 30*time.Minute, sent, "duration_ms 99999999, origin_server_ts 30 min ago")
}

// Every invalid sticky object: the event is not sticky (never in the sticky section, no
// remaining-time field) and is otherwise handled as a normal event: delivered to clients, or,
// for a fractional number, refused as room versions 6+ refuse any non-integer. A valid sticky
// event sent alongside is the control that shows the sticky section works. A failure means
// the server makes an event sticky from a malformed object, or drops a valid event because
// of it.
func TestPeerInvalidStickyObjects(t *testing.T) {
	spec.Covers(t, "TIME-5")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	control := f.SendPeer(t, "org.example.sticky", map[string]any{"control": true}, f.Peer.StickyFor(10*time.Minute), 0)
	waitDelivered(t, f.Alice, "the valid control sticky event at alice", control.ID)
	cases := []struct {
		name  string
		value any
	}{
		{"negative", map[string]any{"duration_ms": -5000}},
		{"fractional", map[string]any{"duration_ms": json.RawMessage("5000.5")}},
		{"string", map[string]any{"duration_ms": "5000"}},
		{"null-duration", map[string]any{"duration_ms": nil}},
		{"missing-duration", map[string]any{}},
		{"sticky-not-object", 5000},
		{"sticky-null", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec.Covers(t, "TIME-5")
			// The event is kept off the peer's DAG (Detached): a server that refuses it must
			// not then refuse every later event that would name it as a prev_event.
			latest := f.Room.Latest()
			e := f.Room.Craft(t, federation.Proto{Type: "org.example.sticky", Sender: f.User, Detached: true,
				PrevEvents: latest, Content: map[string]any{"case": tc.name}, Extra: f.Peer.StickyValue(tc.value)})
			marker := f.Room.Craft(t, federation.Proto{Type: "m.room.message", Sender: f.User, Detached: true,
				PrevEvents: latest, Content: map[string]any{"msgtype": "m.text", "body": "marker after " + tc.name}})
			verdict := f.Peer.Send(t, f.HS, e, marker)
			// The server handles a room's PDUs in order, so once the marker reached alice the
			// event has been handled too (its /send verdict may come before the handling).
			waitDelivered(t, f.Alice, "the marker sent after the "+tc.name+" event", marker.ID)
			res := f.Alice.GetEvent(t, f.Room.ID, e.ID)
			if res.StatusCode != 200 {
				if tc.name == "fractional" {
					spec.Choice(t, "TIME-5", fmt.Sprintf("fractional duration_ms: PDU refused as non-canonical JSON (send verdict %q; GET /event %d)", verdict[e.ID], res.StatusCode))
					return
				}
				t.Fatalf("the event with a %s sticky object was not delivered (send verdict %q, GET /event: %s); it must be handled as an ordinary event", tc.name, verdict[e.ID], res)
			}
			spec.Choice(t, "TIME-5", tc.name+": delivered as an event")
			requireNotSticky(t, f.Alice, f.Room.ID, e.ID, tc.name+" sticky object")
			if ev, _, _, r := stickySync(t, f.Alice, f.Room.ID, control.ID); !ev.Exists() {
				t.Fatalf("control: the valid sticky event %s left the sticky section, so its absence proves nothing; the sticky section holds %v",
					control.ID, client.EventIDs(f.Alice.Sticky(r, f.Room.ID)))
			}
		})
	}
}
