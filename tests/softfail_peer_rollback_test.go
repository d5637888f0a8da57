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

// The proposal's footnote on soft failure (MSC4354 § Proposal, [^softfail]): "if Charlie sends
// some sticky event E and then Bob kicks Charlie, but concurrently Alice kicks Bob", a server
// that saw "Bob kicks Charlie" first soft-fails E, and "would need to [roll it] back when they
// see 'Alice kicks Bob'". Built with the federation peer: the peer's user peter is Charlie;
// hs1's user bob (power 50) is Bob; the peer's user dave (power 100) is the footnote's Alice.
//
// bob kicks peter on hs1. peter's sticky event E, built on the DAG before the kick, arrives
// next and is soft-failed (SOFTFAIL-1). Then dave's kick of bob arrives, also built on the DAG
// before bob's kick: a fork. hs1's state resolution (v2, the room versions from 2 on) orders the
// two kicks by their senders' power, dave's first; bob's kick is then checked against a state
// where bob has left and is dropped, so peter is a member again without any new event of his
// own. That membership change must re-evaluate E and deliver it (SOFTFAIL-2), also to a client
// that kept syncing. A server whose state resolution leaves peter out is skipped (the fork is
// not the rollback the footnote describes there).
func TestPeerSoftFailRollback(t *testing.T) {
	spec.Covers(t, "SOFTFAIL-1", "SOFTFAIL-2")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	peter, dave := f.User, f.Peer.UserID("dave")
	daveJoin := f.Room.Craft(t, federation.Proto{Type: "m.room.member", StateKey: federation.Str(dave), Sender: dave,
		Content: map[string]any{"membership": "join"}})
	f.Peer.Send(t, f.HS, daveJoin).MustAccept(t, daveJoin)
	bob := blueprints.NewUser(t, f.HS, "bob")
	bob.JoinRoom(t, f.Room.ID)
	f.Alice.WaitMembership(t, f.Room.ID, bob.UserID, "join", client.DefaultWait)
	f.Alice.WaitMembership(t, f.Room.ID, dave, "join", client.DefaultWait)
	// The peer builds the fork on what it has received, so it waits for the power levels (sent
	// after bob's join, which reaches it first).
	pl := setPowers(t, f.Alice, f.Room.ID, map[string]int{bob.UserID: 50, dave: 100}, 0)
	f.Peer.WaitEvent(t, client.DefaultWait, pl, "the power levels giving bob 50 and dave 100")
	beforeKick := f.Room.Latest()

	bob.Kick(t, f.Room.ID, peter)
	f.Peer.WaitPDUs(t, client.DefaultWait, "bob's kick of peter", func(rs []*federation.Received) bool {
		for _, r := range rs {
			if sk, _ := r.Event.StateKey(); r.Event.Type() == "m.room.member" && sk == peter && r.Event.Sender() == bob.UserID &&
				r.Event.Parsed.Get("content.membership").Str == "leave" {
				return true
			}
		}
		return false
	})
	// E: built on the DAG before the kick, authorised by peter's join, kept off the peer's DAG.
	sent := time.Now()
	e := f.Room.Craft(t, federation.Proto{Type: blueprints.StickyType, Sender: peter, PrevEvents: beforeKick, Detached: true,
		Content: map[string]any{"n": "peter's E, concurrent with bob's kick"}, Extra: f.Peer.StickyFor(blueprints.PushSticky)})
	marker := f.Room.Craft(t, federation.Message(dave, "m.room.message", map[string]any{"msgtype": "m.text", "body": "marker"}))
	f.Peer.Send(t, f.HS, e, marker).MustAccept(t, e, marker)
	live := f.Alice.Follow(t)
	live.Labels[e.ID] = "peter's soft-failed sticky event E"
	live.MustSyncUntil(t, client.DefaultWait, client.Delivered(marker.ID).Named("the marker sent after E"))

	t.Run("soft-failed-after-kick", func(t *testing.T) {
		// A failure means the server handed out a sticky event whose sender its current state
		// has kicked.
		spec.Covers(t, "SOFTFAIL-1")
		if len(live.Of(e.ID)) > 0 {
			spec.Fatalf(t, "soft-failed-delivered", "expected peter's sticky event E %s, concurrent with bob's kick of peter, to be soft-failed and withheld; alice's client got it: %s", e.ID, live.Describe(e.ID))
		}
		if ev, _ := sticky.Now(t, f.Alice, f.Room.ID, e.ID); ev.Exists() {
			spec.Fatalf(t, "soft-failed-delivered", "expected peter's sticky event E %s to be withheld after bob's kick, but it is in a fresh sync's sticky section: %s", e.ID, ev.Raw)
		}
	})
	if len(live.Of(e.ID)) > 0 {
		spec.ControlFailed(t, "the rollback cannot be judged, E was never soft-failed (%s)", live.Describe(e.ID))
	}

	// The footnote's "concurrently Alice kicks Bob": dave kicks bob on the DAG before bob's kick.
	daveKick := f.Room.Craft(t, federation.Proto{Type: "m.room.member", StateKey: federation.Str(bob.UserID), Sender: dave, PrevEvents: beforeKick, Detached: true,
		Content: map[string]any{"membership": "leave", "reason": "concurrent with bob's kick of peter"}})
	f.Peer.Send(t, f.HS, daveKick).MustAccept(t, daveKick)
	if err := client.Poll(client.DefaultWait, 200*time.Millisecond, func(time.Duration) error {
		return f.Alice.MembershipIs(t, f.Room.ID, peter, "join")
	}); err != nil {
		spec.Inconclusive(t, "after dave's concurrent kick of bob, hs1's current state does not have peter joined again (its state resolution kept bob's kick: %v; bob: %v), so there is no rollback to re-evaluate on",
			err, f.Alice.MembershipIs(t, f.Room.ID, bob.UserID, "leave"))
	}
	t.Logf("state resolution rolled bob's kick back: peter is joined again on hs1; bob is left: %v", f.Alice.MembershipIs(t, f.Room.ID, bob.UserID, "leave"))

	t.Run("delivered-after-rollback", func(t *testing.T) {
		// A failure means the server did not re-evaluate E when state resolution made its
		// sender a member again (no new membership event of his: only the current state moved).
		spec.Covers(t, "SOFTFAIL-2")
		requireReevaluated(t, bound.Sticky("SOFTFAIL-2", sent, blueprints.PushSticky, "peter's soft-failed sticky event E"), live, e.ID, f.Alice.UserID, "state resolution rolling back bob's kick of peter")
		within := bound.Sticky("SOFTFAIL-2", sent, blueprints.PushSticky, "peter's soft-failed sticky event E")
		within.MustSyncUntil(t, f.Alice.NewStream(client.Sync), client.Delivered(e.ID).Named("E in a fresh sync after the rollback").As("not-reevaluated"))
	})
}
