package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/client"
	"stickler/helpers/deploy"
	"stickler/helpers/federation"
	"stickler/helpers/spec"
	"stickler/helpers/wire"
)

// peerStickyType is the event type of the sticky events in these tests.
const peerStickyType = "org.example.sticky"

// hs1Deployment returns the shared n-server deployment, after checking hs1 advertises sticky
// events.
func hs1Deployment(t *testing.T, n int) *deploy.Deployment {
	t.Helper()
	d := deploy.Shared(t, n)
	requireSticky(t, d.Server("hs1"))
	return d
}

// sendPlain sends n ordinary messages.
func sendPlain(t *testing.T, c *client.Client, roomID string, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		c.SendText(t, roomID, fmt.Sprintf("plain %d", i))
	}
}

// stickyTTL is the lifetime of sticky events that must stay sticky for a whole test.
const stickyTTL = 10 * time.Minute

// A newcomer gets from each server exactly that server's own unexpired sticky events: the
// peer joins through hs1 a room where hs1 and hs2 both have sticky events, and from hs1 it
// receives hs1's unexpired ones, none of hs2's, none expired, none redacted. A failure means
// hs1 does not push its sticky events to a newcomer, or pushes events it must not.
func TestPeerNewcomerGetsOnlyOwnStickyEvents(t *testing.T) {
	spec.Covers(t, "FED-3", "FED-2")
	t.Parallel()
	hs1, hs2 := twoServers(t)
	alice := newUser(t, hs1, "alice")
	bob := newUser(t, hs2, "bob")
	roomID := alice.CreateRoom(t, client.PublicRoom(""))
	bob.JoinRoom(t, roomID, hs1.Name)

	expired := alice.SendSticky(t, roomID, peerStickyType, map[string]any{"n": "expired"}, 1000)
	redacted := alice.SendSticky(t, roomID, peerStickyType, map[string]any{"n": "redacted"}, stickyTTL.Milliseconds())
	alice.Redact(t, roomID, redacted)
	own := []string{
		alice.SendSticky(t, roomID, peerStickyType, map[string]any{"n": "a1"}, stickyTTL.Milliseconds()),
		alice.SendSticky(t, roomID, peerStickyType, map[string]any{"n": "a2"}, stickyTTL.Milliseconds()),
	}
	others := []string{
		bob.SendSticky(t, roomID, peerStickyType, map[string]any{"n": "b1"}, stickyTTL.Milliseconds()),
		bob.SendSticky(t, roomID, peerStickyType, map[string]any{"n": "b2"}, stickyTTL.Milliseconds()),
	}
	seen := map[string]bool{}
	alice.NewSyncer("").Until(t, peerWait, "bob's sticky events on hs1", func(r gjson.Result) bool {
		for _, id := range client.EventIDs(append(client.Timeline(r, roomID), alice.Sticky(r, roomID)...)) {
			seen[id] = true
		}
		return seen[others[0]] && seen[others[1]]
	})
	time.Sleep(1500 * time.Millisecond) // let the 1 s sticky event expire before the join

	d := hs1Deployment(t, 2)
	p := federation.New(t, d)
	p.Join(t, hs1, roomID, p.UserID("newcomer"))
	fromHS1 := func(rs []*federation.Received) map[string]bool {
		got := map[string]bool{}
		for _, r := range rs {
			if r.Origin == hs1.Name && r.RoomID == roomID {
				got[r.Event.ID] = true
			}
		}
		return got
	}
	p.TryWaitPDUs(peerWait, func(rs []*federation.Received) bool {
		got := fromHS1(rs)
		return got[own[0]] && got[own[1]]
	})
	time.Sleep(peerSettle) // keep listening: what must not be sent would come now
	all := p.PDUs()
	got := fromHS1(all)
	var problems []string
	for _, id := range own {
		if !got[id] {
			problems = append(problems, "hs1's own unexpired sticky event "+id+" was not pushed")
		}
	}
	for _, id := range others {
		if got[id] {
			problems = append(problems, "hs1 forwarded hs2's sticky event "+id)
		}
	}
	if got[expired] {
		problems = append(problems, "hs1 pushed its expired sticky event "+expired)
	}
	if got[redacted] {
		problems = append(problems, "hs1 pushed its redacted sticky event "+redacted)
	}
	if len(problems) > 0 {
		t.Fatalf("newcomer push from hs1 is wrong:\n  %s\nthe peer received:\n%s", strings.Join(problems, "\n  "), federation.Describe(all))
	}
}

// Every unexpired sticky event of the server reaches a newly joined server, including one
// more than 50 events back, with no other activity in the room. A failure means the server
// relies on ordinary event traffic and never pushes old sticky events to a newcomer.
func TestPeerNewcomerGetsOldStickyEvents(t *testing.T) {
	spec.Covers(t, "FED-2")
	t.Parallel()
	d := hs1Deployment(t, 1)
	hs1 := d.Server("hs1")
	alice := newUser(t, hs1, "alice")
	roomID := alice.CreateRoom(t, client.PublicRoom(""))
	old := alice.SendSticky(t, roomID, peerStickyType, map[string]any{"n": "old"}, stickyTTL.Milliseconds())
	sendPlain(t, alice, roomID, 60)
	recent := alice.SendSticky(t, roomID, peerStickyType, map[string]any{"n": "recent"}, stickyTTL.Milliseconds())
	sendPlain(t, alice, roomID, 3)

	p := federation.New(t, d)
	p.Join(t, hs1, roomID, p.UserID("newcomer"))
	p.WaitPDUs(t, peerWait, "both unexpired sticky events of hs1 (one 60+ events back) pushed to the newcomer", func(rs []*federation.Received) bool {
		return federation.FindPDU(rs, old) != nil && federation.FindPDU(rs, recent) != nil
	})
}

// A sticky event whose prev_events the server does not know: the server fetches them from the
// peer and delivers the sticky event to clients while it is unexpired, both when the gap is
// small and when it is wider than what the server fetches with get_missing_events. A failure
// means "old" sticky events (the way they reach newcomers) are lost.
func TestPeerStickyWithUnknownPrevEvents(t *testing.T) {
	spec.Covers(t, "FED-8")
	t.Parallel()
	for name, gap := range map[string]int{"gap-1": 1, "gap-25": 25} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newPeerFixture(t, 1, nil)
			for i := 0; i < gap; i++ { // events the server never receives directly
				f.room.Craft(t, federation.Message(f.user, "m.room.message", map[string]any{"msgtype": "m.text", "body": fmt.Sprintf("unsent %d", i)}))
			}
			sent := time.Now()
			e := f.sendPeer(t, peerStickyType, map[string]any{"n": "after a gap"}, f.p.StickyFor(stickyTTL), 0)
			waitDelivered(t, f.alice, f.room.ID, e.ID, fmt.Sprintf("the sticky event after %d unknown events at alice", gap))
			requireStickyFor(t, f.alice, f.room.ID, e.ID, stickyTTL, sent, "sticky event with unknown prev_events")
		})
	}
}

// Soft failure with crafted concurrency: the peer's user is kicked; the peer then sends a
// sticky event built on the state before the kick (so it passes at its place in the DAG but
// fails against the current state). It must not reach clients. The user then rejoins: the
// event now passes the current state and must be re-evaluated and delivered as sticky. A
// failure of the first part means soft failure is ignored for sticky events; of the second,
// that soft-failed sticky events are never re-evaluated.
func TestPeerSoftFailedStickyReevaluated(t *testing.T) {
	spec.Covers(t, "SOFTFAIL-1", "SOFTFAIL-2")
	t.Parallel()
	f := newPeerFixture(t, 1, nil)
	// A second user of the peer, who stays joined, sends the marker that tells when the
	// server has handled the concurrent event (it handles a room's PDUs in order).
	paul := f.p.UserID("paul")
	paulJoin := f.room.Craft(t, federation.Proto{Type: "m.room.member", StateKey: federation.Str(paul), Sender: paul,
		Content: map[string]any{"membership": "join"}})
	f.p.Send(t, f.hs, paulJoin).MustAccept(t, paulJoin)
	waitDelivered(t, f.alice, f.room.ID, paulJoin.ID, "the peer's second user's join at alice")
	beforeKick := f.room.Latest()
	f.alice.Kick(t, f.room.ID, f.user)
	f.p.WaitPDUs(t, peerWait, "the kick of the peer's user", func(rs []*federation.Received) bool {
		for _, r := range rs {
			if sk, _ := r.Event.StateKey(); r.Event.Type() == "m.room.member" && sk == f.user &&
				r.Event.Parsed.Get("content.membership").Str == "leave" {
				return true
			}
		}
		return false
	})
	// Built on the pre-kick DAG, authorised by the peer user's join; kept off the peer's DAG
	// so later events do not name it as a prev_event (that would make it an accepted ancestor).
	sent := time.Now()
	e := f.room.Craft(t, federation.Proto{Type: peerStickyType, Sender: f.user, PrevEvents: beforeKick, Detached: true,
		Content: map[string]any{"n": "concurrent with the kick"}, Extra: f.p.StickyFor(stickyTTL)})
	marker := f.room.Craft(t, federation.Message(paul, "m.room.message", map[string]any{"msgtype": "m.text", "body": "marker"}))
	f.p.Send(t, f.hs, e, marker).MustAccept(t, e, marker)
	waitDelivered(t, f.alice, f.room.ID, marker.ID, "the marker sent after the concurrent sticky event")

	t.Run("not-delivered-while-failing", func(t *testing.T) {
		spec.Covers(t, "SOFTFAIL-1")
		r := f.alice.NewSyncer(`{"room":{"timeline":{"limit":50}}}`).Once(t, 0)
		if client.Contains(client.Timeline(r, f.room.ID), e.ID) || client.Contains(f.alice.Sticky(r, f.room.ID), e.ID) {
			t.Fatalf("the soft-failed sticky event %s was delivered to alice while its sender is not joined", e.ID)
		}
		if ev, _, _ := stickyNow(t, f.alice, f.room.ID, e.ID); ev.Exists() {
			t.Fatalf("the soft-failed sticky event %s is in the sticky section: %s", e.ID, ev.Raw)
		}
		// Evidence for the report: a soft-failed event is stored (GET /event may serve it), a
		// rejected one is not; only the former can be re-evaluated.
		t.Logf("GET /event of the concurrent sticky event: %s", f.alice.GetEvent(t, f.room.ID, e.ID))
	})

	t.Run("delivered-after-rejoin", func(t *testing.T) {
		spec.Covers(t, "SOFTFAIL-2")
		rejoin := f.room.Craft(t, federation.Proto{Type: "m.room.member", StateKey: federation.Str(f.user), Sender: f.user,
			Content: map[string]any{"membership": "join"}})
		f.p.Send(t, f.hs, rejoin).MustAccept(t, rejoin)
		waitDelivered(t, f.alice, f.room.ID, rejoin.ID, "the peer user's rejoin at alice")
		f.alice.NewSyncer("").Until(t, peerWait, "the re-evaluated sticky event "+e.ID+" after the rejoin", func(r gjson.Result) bool {
			return client.Contains(f.alice.Sticky(r, f.room.ID), e.ID) || client.Contains(client.Timeline(r, f.room.ID), e.ID)
		})
		requireStickyFor(t, f.alice, f.room.ID, e.ID, stickyTTL, sent, "re-evaluated soft-failed sticky event")
	})
}

// A sticky state event from a remote server (the latest revision forbids creating them through
// PUT /state but not over federation): it has a valid sticky object, so it is sticky by
// TIME-1. The test reports how the server delivers it (state section, sticky section,
// remaining time). A failure means the server ignores the sticky object of state events.
func TestPeerStickyStateEvent(t *testing.T) {
	spec.Covers(t, "TIME-1")
	t.Parallel()
	// Anyone may send this state type, so the peer's user (power 0) is authorised.
	body := client.PublicRoom("")
	body["power_level_content_override"] = map[string]any{"events": map[string]any{"org.example.sticky_state": 0}}
	f := newPeerFixture(t, 1, body)
	sent := time.Now()
	e := f.room.Craft(t, federation.Proto{Type: "org.example.sticky_state", StateKey: federation.Str(f.user), Sender: f.user,
		Content: map[string]any{"n": "state"}, Extra: f.p.StickyFor(stickyTTL)})
	f.p.Send(t, f.hs, e).MustAccept(t, e)
	waitDelivered(t, f.alice, f.room.ID, e.ID, "the sticky state event at alice")
	ev, rem, hasRem := stickyNow(t, f.alice, f.room.ID, e.ID)
	r := f.alice.NewSyncer(`{"room":{"timeline":{"limit":1}}}`).Once(t, 0)
	inState := client.Contains(r.Get(wire.Path("rooms.join", f.room.ID, "state", "events")).Array(), e.ID)
	current := f.alice.Do(t, client.Request{Method: "GET", Path: client.V3("rooms", f.room.ID, "state", "org.example.sticky_state", f.user)})
	spec.Choice(t, "TIME-1", fmt.Sprintf("remote sticky state event: in sticky section=%v (remaining %d, field present=%v), in initial-sync state=%v, current state GET=%d",
		ev.Exists(), rem, hasRem, inState, current.StatusCode))
	requireStickyFor(t, f.alice, f.room.ID, e.ID, stickyTTL, sent, "remote sticky state event")
}

// Encrypted sticky events over federation, both ways: the peer's m.room.encrypted event with
// a sticky object is sticky at the server for its duration and then expires; the server's
// encrypted sticky event reaches the peer with its sticky object intact. A failure means the
// server treats encrypted sticky events differently (it needs nothing from their content).
func TestPeerEncryptedStickyEvents(t *testing.T) {
	spec.Covers(t, "ENC-1")
	t.Parallel()
	body := client.PublicRoom("")
	body["initial_state"] = []any{map[string]any{"type": "m.room.encryption", "state_key": "",
		"content": map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}}}
	f := newPeerFixture(t, 1, body)
	ciphertext := func(who string) map[string]any {
		return map[string]any{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnB" + who,
			"device_id": "PEERDEVICE", "sender_key": "c2VuZGVyX2tleQ", "session_id": "c2Vzc2lvbg"}
	}
	t.Run("peer-to-server", func(t *testing.T) {
		const life = 4 * time.Second
		sent := time.Now()
		e := f.sendPeer(t, "m.room.encrypted", ciphertext("peer"), f.p.StickyFor(life), 0)
		waitDelivered(t, f.alice, f.room.ID, e.ID, "the peer's encrypted sticky event at alice")
		requireStickyFor(t, f.alice, f.room.ID, e.ID, life, sent, "encrypted sticky event from the peer")
		time.Sleep(time.Until(sent.Add(life + peerExpiryGrace))) // let the lifetime pass
		requireNotSticky(t, f.alice, f.room.ID, e.ID, "encrypted sticky event after its duration")
	})
	t.Run("server-to-peer", func(t *testing.T) {
		id := f.alice.SendSticky(t, f.room.ID, "m.room.encrypted", ciphertext("alice"), stickyTTL.Milliseconds())
		r := f.p.WaitEvent(t, peerWait, id, "alice's encrypted sticky event at the peer")
		got := r.Event.Parsed.Get(wire.Path("", f.p.Names.EventKey, "duration_ms"))
		if got.Int() != stickyTTL.Milliseconds() {
			t.Fatalf("alice's encrypted sticky event reached the peer without its sticky object (expected duration_ms %d): %s", stickyTTL.Milliseconds(), r.Event.JSON)
		}
	})
}
