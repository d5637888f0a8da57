package tests

import (
	"testing"
	"time"

	"stickler/blueprints"
	"stickler/helpers/checks/bound"
	"stickler/helpers/checks/sticky"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/federation"
	"stickler/helpers/spec"
)

// SOFTFAIL with the federation peer (the other SOFTFAIL tests are in softfail_test.go).

// Soft failure with crafted concurrency: the peer's user is kicked; the peer then sends a
// sticky event built on the state before the kick (so it passes at its place in the DAG but
// fails against the current state). It must not reach clients. The user then rejoins: the
// event now passes the current state and must be re-evaluated and delivered as sticky, to a
// fresh sync and to a client that kept syncing since before the rejoin. A failure of the first
// part means soft failure is ignored for sticky events; of the second, that soft-failed sticky
// events are never re-evaluated (or, seen only by the client that kept syncing, that the
// re-evaluated event is not handed out anew).
func TestPeerSoftFailedStickyReevaluated(t *testing.T) {
	spec.Covers(t, "SOFTFAIL-1", "SOFTFAIL-2")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	// A second user of the peer, who stays joined, sends the marker that tells when the
	// server has handled the concurrent event (it handles a room's PDUs in order).
	paul := f.Peer.UserID("paul")
	paulJoin := f.Room.Craft(t, federation.Proto{Type: "m.room.member", StateKey: federation.Str(paul), Sender: paul,
		Content: map[string]any{"membership": "join"}})
	f.Peer.Send(t, f.HS, paulJoin).MustAccept(t, paulJoin)
	f.Alice.MustSyncUntil(t, client.Delivered(paulJoin.ID).Named("the peer's second user's join at alice"))
	beforeKick := f.Room.Latest()
	f.Alice.Kick(t, f.Room.ID, f.User)
	f.Peer.WaitPDUs(t, client.DefaultWait, "the kick of the peer's user", func(rs []*federation.Received) bool {
		for _, r := range rs {
			if sk, _ := r.Event.StateKey(); r.Event.Type() == "m.room.member" && sk == f.User &&
				r.Event.Parsed.Get("content.membership").Str == "leave" {
				return true
			}
		}
		return false
	})
	// Built on the pre-kick DAG, authorised by the peer user's join; kept off the peer's DAG
	// so later events do not name it as a prev_event (that would make it an accepted ancestor).
	sent := time.Now()
	e := f.Room.Craft(t, federation.Proto{Type: blueprints.StickyType, Sender: f.User, PrevEvents: beforeKick, Detached: true,
		Content: map[string]any{"n": "concurrent with the kick"}, Extra: f.Peer.StickyFor(blueprints.PushSticky)})
	marker := f.Room.Craft(t, federation.Message(paul, "m.room.message", map[string]any{"msgtype": "m.text", "body": "marker"}))
	f.Peer.Send(t, f.HS, e, marker).MustAccept(t, e, marker)
	f.Alice.MustSyncUntil(t, client.Delivered(marker.ID).Named("the marker sent after the concurrent sticky event"))

	t.Run("not-delivered-while-failing", func(t *testing.T) {
		spec.Covers(t, "SOFTFAIL-1")
		r := f.Alice.NewStream(client.Sync, client.Filter(`{"room":{"timeline":{"limit":50}}}`)).Next(t, 0)
		if ev := client.Find(r.Timeline(f.Room.ID), e.ID); ev.Exists() {
			spec.Fatalf(t, "soft-failed-delivered", "the soft-failed sticky event %s was delivered to alice in the timeline while its sender is not joined: %s", e.ID, ev.Raw)
		}
		if ev := client.Find(r.Sticky(f.Room.ID), e.ID); ev.Exists() {
			spec.Fatalf(t, "soft-failed-delivered", "the soft-failed sticky event %s was delivered to alice in the sticky section while its sender is not joined: %s", e.ID, ev.Raw)
		}
		if ev, _ := sticky.Now(t, f.Alice, f.Room.ID, e.ID); ev.Exists() {
			spec.Fatalf(t, "soft-failed-delivered", "the soft-failed sticky event %s is in the sticky section: %s", e.ID, ev.Raw)
		}
		// Evidence for the report: a soft-failed event is stored (GET /event may serve it), a
		// rejected one is not; only the former can be re-evaluated.
		t.Logf("GET /event of the concurrent sticky event: %s", f.Alice.GetEvent(t, f.Room.ID, e.ID))
	})

	t.Run("delivered-after-rejoin", func(t *testing.T) {
		spec.Covers(t, "SOFTFAIL-2")
		// A client that keeps syncing from before the rejoin: its position is already past
		// the withheld event, so it receives the event only if re-evaluation hands it out
		// anew (a fresh sync alone would find it at its old place).
		live := f.Alice.Follow(t)
		live.Labels[e.ID] = "the re-evaluated sticky event after the rejoin"
		rejoin := f.Room.Craft(t, federation.Proto{Type: "m.room.member", StateKey: federation.Str(f.User), Sender: f.User,
			Content: map[string]any{"membership": "join"}})
		f.Peer.Send(t, f.HS, rejoin).MustAccept(t, rejoin)
		f.Alice.MustSyncUntil(t, client.Delivered(rejoin.ID).Named("the peer user's rejoin at alice"))
		// No deadline in the proposal for re-evaluation: the event's stickiness bounds both waits.
		within := bound.Sticky("SOFTFAIL-2", sent, blueprints.PushSticky, "the soft-failed sticky event")
		within.MustSyncUntil(t, f.Alice.NewStream(client.Sync), client.Delivered(e.ID).Named("the re-evaluated sticky event after the rejoin").As("not-reevaluated"))
		within.MustSyncUntil(t, live, client.Delivered(e.ID).As("not-reevaluated"))
		sticky.RequireFor(t, f.Alice, f.Room.ID, e.ID, blueprints.PushSticky, sent, "re-evaluated soft-failed sticky event")
	})
}
