package tests

import (
	"testing"
	"time"

	"stickler/blueprints"
	"stickler/helpers/harness/client"
	"stickler/helpers/spec"
)

// HISVIS-3 for a joiner: sticky events whose stickiness ended before the join are ordinary
// events of the room's past by the time the user joins, so a 'joined' room's history
// visibility hides them, on every feed and endpoint; unexpired ones from before the join are
// handed over beside them (the control of each path).

// expiredBeforeJoinLife is the lifetime of the sticky event that ends before the join: short,
// since the test sleeps it out before bob joins (nothing has to happen within it).
const expiredBeforeJoinLife = 2 * time.Second

// joinAfterExpiry sets up a room with history_visibility "joined" where alice sent a long
// sticky event (the control) and then a short one, lets the short one expire, and returns
// with bob about to join (not yet joined). The returned stream (over kind, one-event
// timeline) has made its initial sync before the join, so the join comes in an incremental
// response.
func joinAfterExpiry(t *testing.T, kind client.Feed) (bob *client.Client, f *client.Stream, room, unexpired, expired string) {
	t.Helper()
	hs := blueprints.OneServer(t)
	alice := blueprints.NewUser(t, hs, "alice")
	bob = blueprints.NewUser(t, hs, "bob")
	room = alice.CreateRoom(t, client.PublicRoom("joined"))
	unexpired = alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": "unexpired"}, blueprints.LongSticky)
	expired = alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": "expires before the join"}, expiredBeforeJoinLife)
	alice.SendText(t, room, "after the sticky events: fills a one-event timeline")
	origin := client.OriginTS(alice.GetEvent(t, room, expired).JSON)
	f = bob.NewStream(kind, client.TimelineLimit(1)).Start(t)
	f.Labels[unexpired] = "the unexpired pre-join sticky event (control)"
	f.Labels[expired] = "the pre-join sticky event that expired before the join"
	// Lets the short event expire (real time must pass); the join comes after its end plus
	// the grace a server has to notice the end. No time budget to protect (realtime): a slow
	// machine only makes the join later, and the control lives for minutes.
	time.Sleep(time.Until(origin.Add(expiredBeforeJoinLife + blueprints.ExpiryGrace)))
	return bob, f, room, unexpired, expired
}

// A joiner's syncs hand over the unexpired pre-join sticky event and never the one that expired
// before the join: in the incremental responses after the join (where SYNC-8 puts the earlier
// sticky events) and in a fresh initial sync.
func TestJoinerGetsNoExpiredSticky(t *testing.T) {
	blueprints.OverBothFeeds(t, []string{"HISVIS-3"}, []string{"HISVIS-3"}, func(t *testing.T, kind client.Feed) {
		bob, f, room, unexpired, expired := joinAfterExpiry(t, kind)
		bob.JoinRoom(t, room)
		seen := ""
		watch := client.Responds("bob's responses, watched for the sticky event that expired before his join", func(r client.SyncResponse) error {
			if seen == "" && r.Mentions(expired) {
				seen = r.Raw
			}
			return nil
		})
		t.Run("incremental", func(t *testing.T) {
			spec.Covers(t, "HISVIS-3")
			if err := f.SyncUntil(t, client.DefaultWait, watch, client.Delivered(unexpired)); err != nil {
				spec.ControlFailed(t, "the unexpired pre-join sticky event never reached bob in the incremental %s responses after his join (SYNC-8's failure, TestJoinerReceivesEarlierSticky): %v", kind, err)
			}
			if seen != "" {
				spec.Fatalf(t, "visible-after-expiry", "bob joined the 'joined' room after sticky event %s had expired, yet an incremental %s response handed it to him: %s",
					expired, kind, client.Truncate(seen, 2000))
			}
		})
		t.Run("initial", func(t *testing.T) {
			spec.Covers(t, "HISVIS-3")
			g := bob.NewStream(kind, client.TimelineLimit(1))
			if err := g.SyncUntil(t, client.DefaultWait, client.Delivered(unexpired)); err != nil {
				spec.ControlFailed(t, "the unexpired pre-join sticky event never reached bob over %s after his join: %v", kind, err)
			}
			for i, r := range g.Responses {
				if r.Mentions(expired) {
					spec.Fatalf(t, "visible-after-expiry", "bob joined the 'joined' room after sticky event %s had expired, yet response %d of a fresh %s stream handed it to him: %s",
						expired, i, kind, client.Truncate(r.Raw, 2000))
				}
			}
		})
	})
}

// Over /event and /messages the expired pre-join sticky event is hidden from the joiner like
// any ordinary pre-join event of a 'joined' room, while the unexpired one is served (the
// control: a server that hides that one too, HISVIS-2's failure, cannot be judged here).
func TestJoinerGetsNoExpiredStickyEndpoints(t *testing.T) {
	spec.Covers(t, "HISVIS-3") // here too, so a server that skips the subtests shows it
	t.Parallel()
	bob, _, room, unexpired, expired := joinAfterExpiry(t, client.Sync)
	bob.JoinRoom(t, room)
	t.Run("event", func(t *testing.T) {
		spec.Covers(t, "HISVIS-3")
		if res := bob.GetEvent(t, room, unexpired); res.StatusCode != 200 {
			spec.ControlFailed(t, "GET /event hides even the unexpired pre-join sticky event from the joiner (HISVIS-2's failure): %s", res)
		}
		if res := bob.GetEvent(t, room, expired); res.StatusCode == 200 {
			spec.Fatalf(t, "visible-after-expiry", "bob joined the 'joined' room after sticky event %s had expired, yet GET /event serves it to him: %s", expired, res)
		}
	})
	t.Run("messages", func(t *testing.T) {
		spec.Covers(t, "HISVIS-3")
		res := bob.Messages(t, room, 100)
		if res.StatusCode != 200 || !client.Contains(res.JSON.Get("chunk").Array(), unexpired) {
			spec.ControlFailed(t, "GET /messages does not serve the unexpired pre-join sticky event to the joiner (HISVIS-2's failure): %s", client.Truncate(res.String(), 1500))
		}
		if client.Contains(res.JSON.Get("chunk").Array(), expired) {
			spec.Fatalf(t, "visible-after-expiry", "bob joined the 'joined' room after sticky event %s had expired, yet GET /messages serves it to him: %s", expired, client.Truncate(res.String(), 2000))
		}
	})
}
