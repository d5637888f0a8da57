package tests

import (
	"testing"

	"stickler/blueprints"
	"stickler/helpers/harness/client"
	"stickler/helpers/spec"
)

// SYNC-10 over both feeds: a membership that ended (a leave, a kick, a ban) ends the delivery
// of the room's sticky events, over /sync and over Sliding Sync alike. (TestOnlyMembersReceiveSticky
// in sync_test.go keeps the never-joined case over /sync.)

// After bob's membership of a room ends, sticky events sent there later never reach him: not
// in his incremental syncs, not in a fresh initial sync, whatever section. The control is the
// same stream's delivery, as sticky (outside a one-event timeline), of a sticky event sent
// while he was joined; a server whose control fails cannot be judged here and is skipped with
// that reason. A canary in a second room both share, sent after the event, tells when bob's
// stream has moved past it.
func TestEndedMembershipGetsNoSticky(t *testing.T) {
	blueprints.OverBothFeeds(t, []string{"SYNC-10"}, []string{"SYNC-10"}, func(t *testing.T, kind client.Feed) {
		hs := blueprints.OneServer(t)
		for _, how := range []string{"left", "kicked", "banned"} {
			t.Run(how, func(t *testing.T) {
				spec.Covers(t, "SYNC-10")
				t.Parallel()
				alice := blueprints.NewUser(t, hs, "alice")
				bob := blueprints.NewUser(t, hs, "bob")
				room := alice.CreateRoom(t, client.PublicRoom(""))
				canaryRoom := alice.CreateRoom(t, client.PublicRoom(""))
				bob.JoinRoom(t, room)
				bob.JoinRoom(t, canaryRoom)

				// Control: while bob is joined, a sticky event reaches him as sticky, outside a
				// one-event timeline (the message after it fills the timeline).
				before := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": "before"}, blueprints.LongSticky)
				alice.SendText(t, room, "after the control: fills a one-event timeline")
				f := bob.NewStream(kind, client.TimelineLimit(1))
				f.Labels[before] = "the sticky event sent while bob is joined (control)"
				if err := f.SyncUntil(t, client.DefaultWait, client.Delivered(before)); err != nil {
					spec.ControlFailed(t, "a sticky event sent while bob is joined never reached bob over %s: %v", kind, err)
				}
				if len(f.StickyOf(before)) == 0 {
					spec.ControlFailed(t, "the sticky event sent while bob is joined reached him only in a timeline, not as sticky over %s: %s", kind, f.Describe(before))
				}

				switch how {
				case "left":
					bob.LeaveRoom(t, room)
				case "kicked":
					alice.Kick(t, room, bob.UserID)
				case "banned":
					alice.Ban(t, room, bob.UserID)
				}
				// The change is stored once the call returns: everything sent from now on is
				// after the end of bob's membership.
				after := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": "after"}, blueprints.LongSticky)
				alice.SendText(t, room, "after the sticky event: fills a one-event timeline")
				canary := alice.SendSticky(t, canaryRoom, blueprints.StickyType, map[string]any{"n": "canary"}, blueprints.LongSticky)
				f.Labels[after] = "the sticky event sent after bob's membership ended"
				f.Labels[canary] = "the canary in the room bob is still in"

				leak := ""
				watch := client.Responds("bob's responses, watched for the sticky event sent after his membership ended", func(r client.SyncResponse) error {
					if leak == "" && r.Mentions(after) {
						leak = r.Raw
					}
					return nil
				})
				f.MustSyncUntil(t, client.DefaultWait, watch, client.Delivered(canary))
				if leak != "" {
					spec.Fatalf(t, "delivered-to-non-member", "bob (%s) received over %s sticky event %s, sent after his membership ended, in: %s",
						how, kind, after, client.Truncate(leak, 2000))
				}
				r := bob.NewStream(kind, client.TimelineLimit(1)).InitialUntil(t, client.Delivered(canary))
				if r.Mentions(after) {
					spec.Fatalf(t, "delivered-to-non-member", "bob's initial sync over %s (%s) holds sticky event %s, sent after his membership ended: %s",
						kind, how, after, client.Truncate(r.Raw, 2000))
				}
			})
		}
	})
}
