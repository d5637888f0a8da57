package tests

import (
	"fmt"
	"testing"
	"time"

	"stickler/blueprints"
	"stickler/helpers/checks/bound"
	"stickler/helpers/checks/must"
	"stickler/helpers/checks/sticky"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/federation"
	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
)

// ENC: encrypted sticky events, sent by a client and by the federation peer.

// encryptedContent is an opaque Megolm-shaped payload: the server never decrypts it.
func encryptedContent(i int) map[string]any {
	return map[string]any{
		"algorithm":  "m.megolm.v1.aes-sha2",
		"ciphertext": fmt.Sprintf("opaque-ciphertext-%d", i),
		"device_id":  "STICKLER",
		"sender_key": "c3RpY2tsZXI",
		"session_id": "c2Vzc2lvbg",
	}
}

// An encrypted event sent with a duration is sticky in every way.
func TestEncryptedSticky(t *testing.T) {
	blueprints.OverBothFeeds(t, []string{"ENC-1"}, []string{"ENC-1"}, func(t *testing.T, kind client.Feed) {
		alice, room := blueprints.UserInRoom(t, "alice")
		bob := blueprints.NewUser(t, blueprints.OneServer(t), "bob")
		s := alice.SendSticky(t, room, "m.room.encrypted", encryptedContent(1), blueprints.LongSticky)
		ev := alice.GetEvent(t, room, s)
		must.As("encrypted-not-sticky").JSONEqual(t, ev.JSON, alice.StickyDurationPath(), blueprints.LongSticky.Milliseconds(), "the encrypted event's sticky object")

		_, r := sticky.NowOver(t, alice, kind, room, s)
		e := must.As("encrypted-not-sticky").Has(t, r.Sticky(room), s, "the sender's sticky section")
		spec.ShouldCheck(t, "SYNC-3", "remaining-time", func(t *testing.T) {
			if _, ok := alice.Remaining(e); !ok {
				spec.Fatalf(t, "no-remaining-time", "expected a remaining-time field on the encrypted sticky event, got %s", e.Raw)
			}
		})
		bob.JoinRoom(t, room)
		f := bob.NewStream(kind, client.TimelineLimit(1))
		f.Labels[s] = "the encrypted sticky event"
		f.MustSyncUntil(t, client.DefaultWait, client.Delivered(s))
	})
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
	f := blueprints.NewPeerRoom(t, 1, body)
	ciphertext := func(who string) map[string]any {
		return map[string]any{"algorithm": "m.megolm.v1.aes-sha2", "ciphertext": "AwgAEnB" + who,
			"device_id": "PEERDEVICE", "sender_key": "c2VuZGVyX2tleQ", "session_id": "c2Vzc2lvbg"}
	}
	t.Run("peer-to-server", func(t *testing.T) {
		spec.Covers(t, "ENC-1")
		const life = blueprints.PeerShortLife
		control := sticky.ExpiryControl(t, f.Alice, f.Room.ID, life) // ends before the peer's event: sent first, same lifetime
		sent := time.Now()                                           // the event's origin_server_ts and its receipt are after this...
		e := f.SendPeer(t, "m.room.encrypted", ciphertext("peer"), f.Peer.StickyFor(life), 0)
		accepted := time.Now() // ...and before this: the server answers /send once it has handled the PDU
		f.Alice.MustSyncUntil(t, client.Delivered(e.ID).Named("the peer's encrypted sticky event at alice"))
		sticky.RequireFor(t, f.Alice, f.Room.ID, e.ID, life, sent, "encrypted sticky event from the peer")
		time.Sleep(time.Until(accepted.Add(life + blueprints.ExpiryGrace))) // let the lifetime pass
		sticky.RequireExpired(t, f.Alice, f.Room.ID, []string{"ENC-1"}, "still-sticky", "ttl-when-not-sticky", e.ID, control, "encrypted sticky event after its duration")
	})
	t.Run("server-to-peer", func(t *testing.T) {
		spec.Covers(t, "ENC-1")
		sent := time.Now()
		id := f.Alice.SendSticky(t, f.Room.ID, "m.room.encrypted", ciphertext("alice"), blueprints.PushSticky)
		// The push to the peer has no deadline in the proposal: while the event is sticky.
		var r *federation.Received
		within := bound.Sticky("ENC-1", sent, blueprints.PushSticky, "alice's encrypted sticky event")
		if err := within.Await(t, "alice's encrypted sticky event at the peer", func(left time.Duration) error {
			all, ok := f.Peer.TryWaitPDUs(left, func(rs []*federation.Received) bool { return federation.FindPDU(rs, id) != nil })
			if !ok {
				return fmt.Errorf("not received; the peer received %d PDU(s):\n%s", len(all), federation.Describe(all))
			}
			r = federation.FindPDU(all, id)
			return nil
		}); err != nil {
			t.Fatalf("the federation peer waited %s for alice's encrypted sticky event %s: %v", within, id, err)
		}
		got := r.Event.Parsed.Get(wire.Path("", f.Peer.Names.EventKey, "duration_ms"))
		if got.Int() != blueprints.PushSticky.Milliseconds() {
			spec.Fatalf(t, "encrypted-not-sticky", "alice's encrypted sticky event reached the peer without its sticky object (expected duration_ms %d): %s", blueprints.PushSticky.Milliseconds(), r.Event.JSON)
		}
	})
}
