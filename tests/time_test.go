package tests

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"stickler/blueprints"
	"stickler/helpers/checks/realtime"
	"stickler/helpers/checks/sticky"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/federation"
	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
)

// TIME: when a federated sticky event is sticky, checked with events the federation peer
// crafts (truthful, future and past timestamps, over-long and invalid sticky objects).

// A sticky state event from a remote server. The proposal lets clients create sticky state
// events (PUT /state takes the duration parameter, SEND-8), and nothing stops one arriving over
// federation; where a server then shows it in /sync (sticky section, state, timeline) the
// proposal does not say. The test requires the event to be accepted and reach the client like
// any authorised state event, and reports where it shows up (a MAY, spec.Choice). A failure
// means the server refuses or loses a state event because it carries a sticky object.
func TestPeerStickyStateEvent(t *testing.T) {
	spec.Covers(t, "SEND-8")
	t.Parallel()
	// Anyone may send this state type, so the peer's user (power 0) is authorised.
	body := client.PublicRoom("")
	body["power_level_content_override"] = map[string]any{"events": map[string]any{"org.example.sticky_state": 0}}
	f := blueprints.NewPeerRoom(t, 1, body)
	e := f.Room.Craft(t, federation.Proto{Type: "org.example.sticky_state", StateKey: federation.Str(f.User), Sender: f.User,
		Content: map[string]any{"n": "state"}, Extra: f.Peer.StickyFor(blueprints.LongSticky)})
	f.Peer.Send(t, f.HS, e).MustAccept(t, e)
	f.Alice.MustSyncUntil(t, client.Delivered(e.ID).Named("the sticky state event at alice"))
	ev, _ := sticky.Now(t, f.Alice, f.Room.ID, e.ID)
	rem, hasRem := f.Alice.Remaining(ev)
	r := f.Alice.NewStream(client.Sync, client.TimelineLimit(1)).Next(t, 0)
	inState := client.Contains(r.Get(wire.Path("rooms.join", f.Room.ID, "state", "events")).Array(), e.ID)
	current := f.Alice.Do(t, client.Request{Method: "GET", Path: client.V3("rooms", f.Room.ID, "state", "org.example.sticky_state", f.User)})
	spec.Choice(t, "SEND-8", fmt.Sprintf("remote sticky state event: in sticky section=%v (remaining %d, field present=%v), in initial-sync state=%v, current state GET=%d",
		ev.Exists(), rem, hasRem, inState, current.StatusCode))
}

// A remote sticky event with a truthful timestamp is sticky from its arrival for its
// duration, and no longer. A failure means the server computes the window of a federated
// sticky event wrongly (too short, too long, or not at all).
func TestPeerStickyWindowFromOriginTS(t *testing.T) {
	spec.Covers(t, "TIME-1")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	realtime.Run(t, peerLives, func(life time.Duration) error {
		control := sticky.ExpiryControl(t, f.Alice, f.Room.ID, life) // ends before the peer's event: sent first, same lifetime
		sent := time.Now()                                           // the event's origin_server_ts and its receipt are after this...
		e := f.SendPeer(t, blueprints.StickyType, map[string]any{"n": 1}, f.Peer.StickyFor(life), 0)
		accepted := time.Now() // ...and before this: the server answers /send once it has handled the PDU
		f.Alice.MustSyncUntil(t, client.Delivered(e.ID).Named("the peer's sticky event at alice"))
		if err := realtime.Need(sent.Add(life), peerCheckTime, "the check that it is sticky"); err != nil {
			return err
		}
		sticky.RequireFor(t, f.Alice, f.Room.ID, e.ID, life, sent, "right after arrival")
		time.Sleep(time.Until(accepted.Add(life + blueprints.ExpiryGrace))) // let the lifetime pass
		sticky.RequireExpired(t, f.Alice, f.Room.ID, []string{"TIME-1"}, "still-sticky", "ttl-when-not-sticky", e.ID, control, "after its duration")
		return nil
	})
}

// peerLives are the lifetimes of a peer's event a test first sees sticky and then watches
// expire: blueprints.PeerShortLife, and a longer plan for when a loaded machine took so long
// to deliver it that too little of the first was left for the check (realtime.Run).
var peerLives = []time.Duration{blueprints.PeerShortLife, 45 * time.Second}

// peerCheckTime is what a check that an event is sticky (a filler send and an initial sync,
// sticky.Now) needs before the event's end on a loaded two-core machine.
const peerCheckTime = 5 * time.Second

// origin_server_ts one hour in the future: the start is the time of receipt, so the event is
// sticky for its duration from arrival, not until an hour from now. A failure means a sender
// can extend stickiness with a future timestamp.
func TestPeerFutureOriginTSDoesNotExtend(t *testing.T) {
	spec.Covers(t, "TIME-3", "TIME-1")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	realtime.Run(t, peerLives, func(life time.Duration) error {
		control := sticky.ExpiryControl(t, f.Alice, f.Room.ID, life) // ends before the peer's event's end from receipt
		sent := time.Now()                                           // the server receives the event after this...
		e := f.SendPeer(t, blueprints.StickyType, map[string]any{"n": 1}, f.Peer.StickyFor(life), federation.Now()+time.Hour.Milliseconds())
		accepted := time.Now() // ...and before this: the server answers /send once it has handled the PDU
		f.Alice.MustSyncUntil(t, client.Delivered(e.ID).Named("the future-dated sticky event at alice"))
		if err := realtime.Need(sent.Add(life), peerCheckTime, "the check that it is sticky"); err != nil {
			return err
		}
		sticky.RequireFor(t, f.Alice, f.Room.ID, e.ID, life, sent, "future origin_server_ts")
		time.Sleep(time.Until(accepted.Add(life + blueprints.ExpiryGrace))) // let the lifetime (from receipt) pass
		sticky.RequireExpired(t, f.Alice, f.Room.ID, []string{"TIME-3", "TIME-1"}, "sticky-from-future-ts", "ttl-from-future-ts", e.ID, control, "after duration from receipt (future origin_server_ts)")
		return nil
	})
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
		// blueprints.PeerShortLife of stickiness is left on arrival. The age is what tells the right window
		// (from origin_server_ts) from a wrong one (from receipt): a server measuring from
		// receipt keeps the event sticky at least age longer than the expiry check assumes, and
		// the check comes blueprints.ExpiryGrace plus a filler send and a sync after the right end, so
		// age leaves several seconds for those on a loaded machine.
		const age = 10 * time.Second
		realtime.Run(t, peerLives, func(left time.Duration) error {
			life := left + age
			control := sticky.ExpiryControl(t, f.Alice, f.Room.ID, left) // ends before the back-dated event's end (ts + life)
			ts := time.Now().Add(-age)
			e := f.SendPeer(t, blueprints.StickyType, map[string]any{"n": "early"}, f.Peer.StickyFor(life), ts.UnixMilli())
			f.Alice.MustSyncUntil(t, client.Delivered(e.ID).Named("the back-dated sticky event at alice"))
			if err := realtime.Need(ts.Add(life), peerCheckTime, "the check that it is sticky"); err != nil {
				return err
			}
			sticky.RequireFor(t, f.Alice, f.Room.ID, e.ID, life-age, ts.Add(age), fmt.Sprintf("origin_server_ts %v in the past, %v duration", age, life))
			time.Sleep(time.Until(ts.Add(life + blueprints.ExpiryGrace))) // let the (shortened) lifetime pass
			sticky.RequireExpired(t, f.Alice, f.Room.ID, []string{"TIME-4", "TIME-1"}, "still-sticky", "ttl-when-not-sticky", e.ID, control, fmt.Sprintf("%v after its origin_server_ts (%v after receipt), %v duration", life+blueprints.ExpiryGrace, life+blueprints.ExpiryGrace-age, life))
			// A check that ended after the end measured from receipt would pass on a server
			// that measures from receipt too: it proved nothing.
			if wrongEnd := ts.Add(age + life); time.Now().After(wrongEnd) { // the server received it after ts+age
				return realtime.SetupTooSlow("the not-sticky check ended %v after the end measured from receipt, so it cannot tell the two apart", time.Since(wrongEnd).Round(time.Millisecond))
			}
			return nil
		})
	})
	// expired-on-arrival: its window (life) ended life before it was sent, so a server that
	// measured from receipt would keep it sticky for life, long enough for the check after
	// the wait for delivery to see it on a loaded machine. A check that ends later than that would
	// pass on such a server too, so then it is played again with the longer plan.
	for name, lives := range map[string][]time.Duration{
		"expired-on-arrival": peerLives,
		"zero-duration":      {0},
	} {
		t.Run(name, func(t *testing.T) {
			spec.Covers(t, "TIME-4", "TIME-1")
			realtime.Run(t, lives, func(life time.Duration) error {
				before := time.Now()
				control := sticky.ExpiryControl(t, f.Alice, f.Room.ID, time.Millisecond) // over long before the check
				e := f.SendPeer(t, blueprints.StickyType, map[string]any{"n": name}, f.Peer.StickyFor(life), time.Now().Add(-2*life).UnixMilli())
				f.Alice.MustSyncUntil(t, client.Delivered(e.ID).Named("the already-expired sticky event as an ordinary event at alice"))
				sticky.RequireExpired(t, f.Alice, f.Room.ID, []string{"TIME-4", "TIME-1"}, "still-sticky", "ttl-when-not-sticky", e.ID, control, name)
				if life > 0 && time.Since(before) > life {
					return realtime.SetupTooSlow("the not-sticky check ended %v after the send, later than the %v a server measuring from receipt would keep it sticky", time.Since(before).Round(time.Millisecond), life)
				}
				return nil
			})
		})
	}
}

// duration_ms above the one-hour cap over federation. The proposal's valid range is
// 0..3600000 and it also caps the end at one hour, so a server may treat 99999999 as capped
// (sticky for one hour from its start) or as invalid (not sticky): a MAY, reported. What it
// must not do is mix the two: an event sent now and one dated 30 minutes ago are both sticky
// (capped) or both not (invalid). Capped, the remaining time is at most one hour, and the cap
// applies before the start is added (30 minutes left for the older one): the remaining-time
// field, a SHOULD (SYNC-3), judged in its own subtests. A failure means the server treats the
// same over-long duration one way for one event and another way for the other.
func TestPeerDurationCappedAtOneHour(t *testing.T) {
	spec.Covers(t, "TIME-2")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	huge := f.Peer.StickyValue(map[string]any{"duration_ms": 99999999})
	sentNow := time.Now()
	now := f.SendPeer(t, blueprints.StickyType, map[string]any{"n": "now"}, huge, 0)
	sentPast := time.Now()
	past := f.SendPeer(t, blueprints.StickyType, map[string]any{"n": "past"}, huge, sentPast.Add(-30*time.Minute).UnixMilli())
	f.Alice.MustSyncUntil(t, client.Delivered(now.ID, past.ID).Named("the over-long sticky events at alice"))
	evNow, r := sticky.Now(t, f.Alice, f.Room.ID, now.ID)
	elapsedNow, elapsedPast := time.Since(sentNow), time.Since(sentPast)
	evPast := client.Find(r.Sticky(f.Room.ID), past.ID)
	switch {
	case evNow.Exists() && evPast.Exists():
		spec.Choice(t, "TIME-2", "duration_ms 99999999 over federation: capped (sticky, for at most one hour from its start)")
		sticky.CheckRemaining(t, "remaining-time-now", f.Alice, evNow, time.Hour, elapsedNow, "duration_ms 99999999 sent now")
		sticky.CheckRemaining(t, "remaining-time-past", f.Alice, evPast, 30*time.Minute, elapsedPast, "duration_ms 99999999, origin_server_ts 30 min ago")
	case !evNow.Exists() && !evPast.Exists():
		spec.Choice(t, "TIME-2", "duration_ms 99999999 over federation: invalid (the events are delivered but not sticky)")
	default:
		spec.Fatalf(t, "inconsistent-cap", "two events from the peer with duration_ms 99999999 (one sent now, one dated 30 min ago, both within the capped hour) are treated differently: sticky now=%v, sticky 30 min ago=%v (capped, both are sticky; invalid, neither is); the sticky section holds %v",
			evNow.Exists(), evPast.Exists(), client.EventIDs(r.Sticky(f.Room.ID)))
	}
}

// duration_ms above the one-hour cap, with origin_server_ts almost an hour ago: the capped
// window ends capLead after arrival, and the event must then leave the sticky section (an
// uncapped window would keep it there for another day). Before that it is there if the server
// caps over-long durations; a server that treats them as invalid never makes it sticky (a MAY,
// reported, see TestPeerDurationCappedAtOneHour). The end is measured from origin_server_ts
// (TIME-4), so the test covers that too. Expiry is judged beside a control event of the
// server's own that ends earlier (blueprints.RequireExpired). A failure
// (still-sticky-past-cap) means the cap is applied to the remaining-time field at most, not to
// the expiry.
func TestPeerOverlongDurationLeavesAtCap(t *testing.T) {
	spec.Covers(t, "TIME-2", "TIME-4")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	huge := f.Peer.StickyValue(map[string]any{"duration_ms": 99999999})
	// Delivery, a filler and an initial sync (the control) must fit in capLead on a loaded
	// machine; the origin_server_ts is taken right before sending, so setup costs nothing.
	const capLead = 10 * time.Second
	control := sticky.ExpiryControl(t, f.Alice, f.Room.ID, capLead) // ends before the capped end: sent first, capLead long
	sent := time.Now()
	ts := sent.Add(-(blueprints.MaxSticky - capLead))
	end := ts.Add(blueprints.MaxSticky) // capped end: about capLead after arrival
	e := f.SendPeer(t, blueprints.StickyType, map[string]any{"n": "almost an hour old"}, huge, ts.UnixMilli())
	f.Alice.MustSyncUntil(t, client.Delivered(e.ID).Named("the over-long sticky event from almost an hour ago at alice"))
	if ev, r := sticky.Now(t, f.Alice, f.Room.ID, e.ID); !ev.Exists() {
		if left := time.Until(end); left < blueprints.ExpiryGrace {
			spec.Inconclusive(t, "setup too slow: the control sync came only %v before the capped end (%v after sending), too late to tell; the sticky section holds %v",
				left.Round(time.Millisecond), capLead, client.EventIDs(r.Sticky(f.Room.ID)))
		}
		// Not sticky before its capped end: the server treats the over-long duration as
		// invalid. Allowed; it must then stay not sticky, which the wait below also shows.
		spec.Choice(t, "TIME-2", fmt.Sprintf("duration_ms 99999999 (origin_server_ts %v ago) not sticky %v before its capped end: treated as invalid",
			blueprints.MaxSticky-capLead, time.Until(end).Round(time.Millisecond)))
	}
	// Tolerance: blueprints.ExpiryGrace after the capped end, plus the filler and sync that
	// RequireExpired makes.
	time.Sleep(time.Until(end.Add(blueprints.ExpiryGrace))) // lets the capped lifetime pass
	sticky.RequireExpired(t, f.Alice, f.Room.ID, []string{"TIME-2", "TIME-4"}, "still-sticky-past-cap", "ttl-when-not-sticky", e.ID, control, fmt.Sprintf("%v after the capped end (origin_server_ts + 1 h; sent with duration_ms 99999999 %v ago)", blueprints.ExpiryGrace, time.Since(sent).Round(time.Millisecond)))
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
	control := f.SendPeer(t, blueprints.StickyType, map[string]any{"control": true}, f.Peer.StickyFor(10*time.Minute), 0)
	f.Alice.MustSyncUntil(t, client.Delivered(control.ID).Named("the valid control sticky event at alice"))
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
			e := f.Room.Craft(t, federation.Proto{Type: blueprints.StickyType, Sender: f.User, Detached: true,
				PrevEvents: latest, Content: map[string]any{"case": tc.name}, Extra: f.Peer.StickyValue(tc.value)})
			marker := f.Room.Craft(t, federation.Proto{Type: "m.room.message", Sender: f.User, Detached: true,
				PrevEvents: latest, Content: map[string]any{"msgtype": "m.text", "body": "marker after " + tc.name}})
			verdict := f.Peer.Send(t, f.HS, e, marker)
			// The server handles a room's PDUs in order, so once the marker reached alice the
			// event has been handled too (its /send verdict may come before the handling).
			f.Alice.MustSyncUntil(t, client.Delivered(marker.ID).Named("the marker sent after the "+tc.name+" event"))
			res := f.Alice.GetEvent(t, f.Room.ID, e.ID)
			if res.StatusCode != 200 {
				if tc.name == "fractional" {
					spec.Choice(t, "TIME-5", fmt.Sprintf("fractional duration_ms: PDU refused as non-canonical JSON (send verdict %q; GET /event %d)", verdict[e.ID], res.StatusCode))
					return
				}
				t.Fatalf("the event with a %s sticky object was not delivered (send verdict %q, GET /event: %s); it must be handled as an ordinary event", tc.name, verdict[e.ID], res)
			}
			spec.Choice(t, "TIME-5", tc.name+": delivered as an event")
			sticky.RequireNot(t, f.Alice, f.Room.ID, e.ID, tc.name+" sticky object")
			if ev, r := sticky.Now(t, f.Alice, f.Room.ID, control.ID); !ev.Exists() {
				spec.ControlFailed(t, "the valid sticky event %s left the sticky section, so the invalid one's absence proves nothing; the sticky section holds %v",
					control.ID, client.EventIDs(r.Sticky(f.Room.ID)))
			}
		})
	}
}
