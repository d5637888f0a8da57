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

// Re-evaluation that keeps refusing (SOFTFAIL-1 beside SOFTFAIL-2): a soft-failed sticky
// event must be checked against the room's current state, so a state change that still does
// not let its sender send leaves it withheld.

// Two of the peer's users, peter and quinn, are kicked; each then sends a sticky event built on
// the state before the kicks, which hs1 soft-fails. Then the state changes without letting
// peter send: alice invites him (his own membership changes, to one that may not send) and a
// new local user joins (someone else's membership). quinn then re-joins: his event being
// delivered (the witness) shows the server re-evaluates soft-failed events and has handled
// the changes before his re-join; a server that shows no re-evaluation at all cannot be judged
// here and is skipped. peter's event must still be withheld, from a client that kept syncing
// and from a fresh sync (a server that re-checks the event against its own auth events, where
// peter was joined, lets it through at the invite). Last, peter re-joins and his event is
// delivered (SOFTFAIL-2).
func TestPeerSoftFailStillRefused(t *testing.T) {
	spec.Covers(t, "SOFTFAIL-1", "SOFTFAIL-2")
	t.Parallel()
	f := blueprints.NewPeerRoom(t, 1, nil)
	peter := f.User
	paul, quinn := f.Peer.UserID("paul"), f.Peer.UserID("quinn")
	var joins []string
	for _, u := range []string{paul, quinn} {
		j := f.Room.Craft(t, federation.Proto{Type: "m.room.member", StateKey: federation.Str(u), Sender: u,
			Content: map[string]any{"membership": "join"}})
		f.Peer.Send(t, f.HS, j).MustAccept(t, j)
		joins = append(joins, j.ID)
	}
	f.Alice.MustSyncUntil(t, client.Delivered(joins...).Named("the joins of the peer's users paul and quinn at alice"))
	beforeKicks := f.Room.Latest()
	f.Alice.Kick(t, f.Room.ID, peter)
	f.Alice.Kick(t, f.Room.ID, quinn)
	f.Peer.WaitPDUs(t, client.DefaultWait, "the kicks of peter and quinn", func(rs []*federation.Received) bool {
		left := map[string]bool{}
		for _, r := range rs {
			if sk, _ := r.Event.StateKey(); r.Event.Type() == "m.room.member" && r.Event.Parsed.Get("content.membership").Str == "leave" {
				left[sk] = true
			}
		}
		return left[peter] && left[quinn]
	})
	// Built on the DAG before the kicks, authorised by their joins, kept off the peer's DAG.
	sent := time.Now()
	craftSticky := func(sender, n string) *federation.Event {
		return f.Room.Craft(t, federation.Proto{Type: blueprints.StickyType, Sender: sender, PrevEvents: beforeKicks, Detached: true,
			Content: map[string]any{"n": n}, Extra: f.Peer.StickyFor(blueprints.PushSticky)})
	}
	e, witness := craftSticky(peter, "peter, concurrent with his kick"), craftSticky(quinn, "quinn, concurrent with his kick (the witness)")
	marker := f.Room.Craft(t, federation.Message(paul, "m.room.message", map[string]any{"msgtype": "m.text", "body": "marker"}))
	f.Peer.Send(t, f.HS, e, witness, marker).MustAccept(t, e, witness, marker)
	live := f.Alice.Follow(t)
	live.Labels[e.ID] = "peter's soft-failed sticky event"
	live.Labels[witness.ID] = "quinn's soft-failed sticky event (the witness)"
	live.MustSyncUntil(t, client.DefaultWait, client.Delivered(marker.ID).Named("the marker sent after the concurrent sticky events"))
	if len(live.Of(e.ID)) > 0 || len(live.Of(witness.ID)) > 0 {
		spec.ControlFailed(t, "the server did not soft-fail the concurrent sticky events at all (SOFTFAIL-1, TestPeerSoftFailedStickyReevaluated): %s; %s", live.Describe(e.ID), live.Describe(witness.ID))
	}

	// State changes that still refuse peter: his membership becomes invite; carol joins.
	f.Alice.MustDo(t, client.Request{Method: "POST", Path: client.V3("rooms", f.Room.ID, "invite"), Body: map[string]any{"user_id": peter}})
	f.Alice.WaitMembership(t, f.Room.ID, peter, "invite", client.DefaultWait)
	carol := blueprints.NewUser(t, f.HS, "carol")
	carol.JoinRoom(t, f.Room.ID)
	f.Alice.WaitMembership(t, f.Room.ID, carol.UserID, "join", client.DefaultWait)
	// The witness: quinn re-joins, which lets his event through.
	rejoinQuinn := f.Room.Craft(t, federation.Proto{Type: "m.room.member", StateKey: federation.Str(quinn), Sender: quinn,
		Content: map[string]any{"membership": "join"}})
	f.Peer.Send(t, f.HS, rejoinQuinn).MustAccept(t, rejoinQuinn)
	// No deadline in the proposal for re-evaluation: the events' stickiness bounds both waits.
	if err := bound.Sticky("SOFTFAIL-2", sent, blueprints.PushSticky, "quinn's soft-failed sticky event (the witness)").SyncUntil(t, live, client.Delivered(witness.ID)); err != nil {
		spec.ControlFailed(t, "the witness, quinn's soft-failed sticky event, was not delivered after he re-joined, so the server shows no re-evaluation to tell a refusal from (SOFTFAIL-2's failure, TestPeerSoftFailedStickyReevaluated): %v", err)
	}

	t.Run("withheld-while-refused", func(t *testing.T) {
		// A failure means the server let a soft-failed sticky event through on a state change
		// that still refuses its sender (peter is invited, not joined).
		spec.Covers(t, "SOFTFAIL-1")
		if len(live.Of(e.ID)) > 0 {
			spec.Fatalf(t, "soft-failed-delivered", "expected peter's soft-failed sticky event %s to stay withheld while peter is only invited (alice's invite and carol's join do not let him send), but alice's client got it: %s",
				e.ID, live.Describe(e.ID))
		}
		if ev, _ := sticky.Now(t, f.Alice, f.Room.ID, e.ID); ev.Exists() {
			spec.Fatalf(t, "soft-failed-delivered", "expected peter's soft-failed sticky event %s to stay withheld while peter is only invited, but it is in a fresh sync's sticky section: %s", e.ID, ev.Raw)
		}
	})

	t.Run("delivered-after-join", func(t *testing.T) {
		// A failure means the server did not re-evaluate the event when peter's membership
		// let it pass again.
		spec.Covers(t, "SOFTFAIL-2")
		join := f.Room.Craft(t, federation.Proto{Type: "m.room.member", StateKey: federation.Str(peter), Sender: peter,
			Content: map[string]any{"membership": "join"}})
		f.Peer.Send(t, f.HS, join).MustAccept(t, join)
		bound.Sticky("SOFTFAIL-2", sent, blueprints.PushSticky, "peter's soft-failed sticky event").MustSyncUntil(t, live, client.Delivered(e.ID).As("not-reevaluated"))
		sticky.RequireFor(t, f.Alice, f.Room.ID, e.ID, blueprints.PushSticky, sent, "re-evaluated soft-failed sticky event")
	})
}

// Power raised, but not far enough (SOFTFAIL-1 beside SOFTFAIL-4): sending the sticky event
// type needs power 50, which the peer's users peter and quinn have; alice lowers both to 0, and
// each then sends a sticky event built on the state before, which hs1 soft-fails (it passes at
// its place in the DAG, where they had 50). Then one power-levels event raises quinn to 50 and
// peter only to 25. quinn's event being delivered (the witness) shows the server re-evaluates
// soft-failed events on that change; a server that does not (SOFTFAIL-4 is a SHOULD, judged by
// TestSoftFailPowerRestored) is skipped here. peter's event must stay withheld, from a client
// that kept syncing and from a fresh sync (a server that checks it against its own power
// levels, or only asks whether his power went up, lets it through). Last, alice raises peter
// to 50 and his event is delivered (SOFTFAIL-4).
func TestPeerSoftFailPowerNotEnough(t *testing.T) {
	spec.Covers(t, "SOFTFAIL-1", "SOFTFAIL-4")
	t.Parallel()
	const needed = 50
	f := blueprints.NewPeerRoom(t, 1, nil)
	peter := f.User
	paul, quinn := f.Peer.UserID("paul"), f.Peer.UserID("quinn")
	var joins []string
	for _, u := range []string{paul, quinn} {
		j := f.Room.Craft(t, federation.Proto{Type: "m.room.member", StateKey: federation.Str(u), Sender: u,
			Content: map[string]any{"membership": "join"}})
		f.Peer.Send(t, f.HS, j).MustAccept(t, j)
		joins = append(joins, j.ID)
	}
	f.Alice.MustSyncUntil(t, client.Delivered(joins...).Named("the joins of the peer's users paul and quinn at alice"))
	// The peer builds on what it has received, so it waits for each power-levels event.
	pl := setPowers(t, f.Alice, f.Room.ID, map[string]int{peter: needed, quinn: needed}, needed)
	f.Peer.WaitEvent(t, client.DefaultWait, pl, "the power levels giving peter and quinn the power to send sticky events")
	beforeLowering := f.Room.Latest()
	lowered := setPowers(t, f.Alice, f.Room.ID, map[string]int{peter: 0, quinn: 0}, needed)
	f.Peer.WaitEvent(t, client.DefaultWait, lowered, "the power levels lowering peter and quinn to 0")

	// Built on the DAG before the lowering, authorised by the power levels giving them 50,
	// kept off the peer's DAG. peter's comes first, so a server that re-evaluates in order has
	// looked at it by the time the witness is delivered.
	sent := time.Now()
	craftSticky := func(sender, n string) *federation.Event {
		return f.Room.Craft(t, federation.Proto{Type: blueprints.StickyType, Sender: sender, PrevEvents: beforeLowering, Detached: true,
			Content: map[string]any{"n": n}, Extra: f.Peer.StickyFor(blueprints.PushSticky)})
	}
	e, witness := craftSticky(peter, "peter, concurrent with the lowering"), craftSticky(quinn, "quinn, concurrent with the lowering (the witness)")
	marker := f.Room.Craft(t, federation.Message(paul, "m.room.message", map[string]any{"msgtype": "m.text", "body": "marker"}))
	f.Peer.Send(t, f.HS, e, witness, marker).MustAccept(t, e, witness, marker)
	live := f.Alice.Follow(t)
	live.Labels[e.ID] = "peter's soft-failed sticky event"
	live.Labels[witness.ID] = "quinn's soft-failed sticky event (the witness)"
	live.MustSyncUntil(t, client.DefaultWait, client.Delivered(marker.ID).Named("the marker sent after the concurrent sticky events"))
	if len(live.Of(e.ID)) > 0 || len(live.Of(witness.ID)) > 0 {
		spec.ControlFailed(t, "the server did not soft-fail the sticky events whose senders' power it had lowered (SOFTFAIL-1, TestSoftFailPowerRestored): %s; %s", live.Describe(e.ID), live.Describe(witness.ID))
	}

	// One change: quinn back to the needed level (the witness), peter raised but still below it.
	setPowers(t, f.Alice, f.Room.ID, map[string]int{peter: needed / 2, quinn: needed}, needed)
	if err := bound.Sticky("SOFTFAIL-4", sent, blueprints.PushSticky, "quinn's soft-failed sticky event (the witness)").SyncUntil(t, live, client.Delivered(witness.ID)); err != nil {
		spec.ControlFailed(t, "the witness, quinn's soft-failed sticky event, was not delivered after his power was restored, so the server shows no re-evaluation on power-level changes to tell a refusal from (SOFTFAIL-4, a SHOULD, TestSoftFailPowerRestored): %v", err)
	}

	t.Run("withheld-while-power-too-low", func(t *testing.T) {
		// A failure means the server let a soft-failed sticky event through on a power-level
		// change that leaves its sender below the level its type needs.
		spec.Covers(t, "SOFTFAIL-1")
		live.SyncFor(t, 2*time.Second)
		if len(live.Of(e.ID)) > 0 {
			spec.Fatalf(t, "soft-failed-delivered", "expected peter's soft-failed sticky event %s to stay withheld while his power (%d) is below the %d its type needs, but alice's client got it: %s",
				e.ID, needed/2, needed, live.Describe(e.ID))
		}
		if ev, _ := sticky.Now(t, f.Alice, f.Room.ID, e.ID); ev.Exists() {
			spec.Fatalf(t, "soft-failed-delivered", "expected peter's soft-failed sticky event %s to stay withheld while his power (%d) is below the %d its type needs, but it is in a fresh sync's sticky section: %s",
				e.ID, needed/2, needed, ev.Raw)
		}
	})

	spec.ShouldCheck(t, "SOFTFAIL-4", "delivered-once-power-suffices", func(t *testing.T) {
		// A failure means the server did not re-evaluate the event when the power levels let
		// it pass (a state change other than membership: SOFTFAIL-4, a SHOULD).
		setPowers(t, f.Alice, f.Room.ID, map[string]int{peter: needed}, needed)
		requireReevaluated(t, bound.Sticky("SOFTFAIL-4", sent, blueprints.PushSticky, "peter's soft-failed sticky event"), live, e.ID, f.Alice.UserID, "raising peter's power to the level the type needs")
	})
}
