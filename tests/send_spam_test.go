package tests

import (
	"context"
	"fmt"
	"testing"

	"stickler/blueprints"
	"stickler/helpers/checks/sticky"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
	"stickler/helpers/harness/federation"
	"stickler/helpers/spec"
)

// SEND-9: anti-spam measures still apply to sticky events, and a flagged event is not sticky.

// SpamCheckerLabel is the image label by which an image declares a spam checker the suite can
// trigger: its value is the content field that, set to true, makes the checker flag an event
// (README, image contract). The project's Synapse recipe carries one (stickler_spam.py).
const SpamCheckerLabel = "org.stickler.spam-checker"

// spamMarker returns the content field that triggers the server's spam checker, skipping the
// test (with the reason) when its image declares none.
func spamMarker(t *testing.T, hs *deploy.Server) string {
	t.Helper()
	marker, err := hs.ImageLabel(context.Background(), SpamCheckerLabel)
	if err != nil {
		t.Fatal(err)
	}
	if marker == "" {
		spec.NotApplicable(t, "the image %s declares no spam checker the suite can trigger (image label %s); SEND-9 is tested only where it does", hs.Image, SpamCheckerLabel)
	}
	return marker
}

// A sticky event the server's spam checker flags is never sticky: sent by a local user it is
// refused, or accepted without stickiness; sent over federation it never reaches a client as
// sticky. In each case an identical event without the marker, sent right after, is the control:
// it is sticky, so the checker flags only the marked event and the wait for it bounds the wait
// for the flagged one.
func TestSpamFlaggedNeverSticky(t *testing.T) {
	spec.Covers(t, "SEND-9")
	t.Parallel()
	t.Run("client", func(t *testing.T) {
		spec.Covers(t, "SEND-9")
		t.Parallel()
		hs := blueprints.OneServer(t)
		marker := spamMarker(t, hs)
		alice, room := blueprints.UserInRoom(t, "alice")
		f := alice.NewStream(client.Sync, client.TimelineLimit(10)).Start(t)
		res := alice.Do(t, alice.SendRequest(room, blueprints.StickyType, client.TxnID(),
			map[string]any{marker: true, "what": "flagged"}, fmt.Sprint(blueprints.LongSticky.Milliseconds())))
		control := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"what": "control"}, blueprints.LongSticky)
		f.Labels[control] = "the control sticky event without the marker"
		if res.StatusCode != 200 {
			if res.StatusCode < 400 || res.StatusCode > 499 {
				t.Fatalf("expected the flagged sticky event refused with a 4xx (or accepted), got %s", res)
			}
			spec.Choice(t, "SEND-9", fmt.Sprintf("local sender: the flagged sticky event is refused with %d %s", res.StatusCode, res.JSON.Get("errcode").Str))
			return
		}
		spam := res.JSON.Get("event_id").Str
		f.Labels[spam] = "the flagged sticky event"
		filler := alice.SendText(t, room, "filler: pushes older events out of a one-event timeline")
		f.MustSyncUntil(t, client.DefaultWait, client.Delivered(control))
		if ds := f.StickyOf(spam); len(ds) > 0 {
			spec.Fatalf(t, "spam-sticky", "the sticky event the spam checker flagged (accepted with 200) reached the client as sticky: %s; event: %s", f.Describe(spam), ds[0].Event.Raw)
		}
		fresh := alice.NewStream(client.Sync, client.TimelineLimit(1))
		r := fresh.InitialUntil(t, client.ShowsInTimeline(room, filler))
		sticky := r.Sticky(room)
		if !client.Contains(sticky, control) {
			spec.ControlFailed(t, "%s (no marker) is not in the sticky section of an initial sync, so the flagged event's absence proves nothing; it holds %v", control, client.EventIDs(sticky))
		}
		if ev := client.Find(sticky, spam); ev.Exists() {
			spec.Fatalf(t, "spam-sticky", "the sticky event the spam checker flagged (accepted with 200) is in the sticky section of an initial sync: %s", ev.Raw)
		}
		spec.Choice(t, "SEND-9", fmt.Sprintf("local sender: the flagged sticky event is accepted (200) without stickiness; delivered %s", f.Describe(spam)))
	})
	t.Run("federation", func(t *testing.T) {
		spec.Covers(t, "SEND-9")
		t.Parallel()
		pr := blueprints.NewPeerRoom(t, 1, nil)
		marker := spamMarker(t, pr.HS)
		f := pr.Alice.NewStream(client.Sync, client.TimelineLimit(10)).Start(t)
		spam := pr.Room.Craft(t, federation.Proto{Type: blueprints.StickyType, Sender: pr.User, Content: map[string]any{marker: true, "what": "flagged"}, Extra: pr.Peer.StickyFor(blueprints.LongSticky)})
		verdict := pr.Peer.Send(t, pr.HS, spam)
		control := pr.SendPeer(t, blueprints.StickyType, map[string]any{"what": "control"}, pr.Peer.StickyFor(blueprints.LongSticky), 0)
		pr.Alice.SendText(t, pr.Room.ID, "filler: pushes older events out of a one-event timeline")
		f.Label(map[string]string{spam.ID: "the flagged sticky PDU", control.ID: "the control sticky PDU without the marker"})
		f.MustSyncUntil(t, client.DefaultWait, client.Delivered(control.ID))
		if ds := f.StickyOf(spam.ID); len(ds) > 0 {
			spec.Fatalf(t, "spam-sticky", "the sticky PDU the spam checker flagged reached the client as sticky: %s; event: %s", f.Describe(spam.ID), ds[0].Event.Raw)
		}
		if ev, r := sticky.Now(t, pr.Alice, pr.Room.ID, spam.ID); ev.Exists() {
			spec.Fatalf(t, "spam-sticky", "the sticky PDU the spam checker flagged is in the sticky section of an initial sync: %s", ev.Raw)
		} else if !client.Contains(r.Sticky(pr.Room.ID), control.ID) {
			spec.ControlFailed(t, "the sticky PDU without the marker %s is not in the sticky section of an initial sync, so the flagged PDU's absence proves nothing; it holds %v", control.ID, client.EventIDs(r.Sticky(pr.Room.ID)))
		}
		spec.Choice(t, "SEND-9", fmt.Sprintf("federated sender: the flagged sticky PDU got /send verdict %q and is not sticky; delivered to the client: %s", verdict[spam.ID], f.Describe(spam.ID)))
	})
}
