package tests

import (
	"fmt"
	"testing"
	"time"

	"stickler/blueprints"
	"stickler/helpers/checks/bound"
	"stickler/helpers/harness/client"
	"stickler/helpers/spec"
)

// LOAD: many sticky events from several senders.

// Hundreds of sticky events from several senders all reach syncing clients, over /sync and
// Sliding Sync at once; the server may slow senders down but loses nothing.
func TestLoadManySenders(t *testing.T) {
	spec.Covers(t, "LOAD-1")
	t.Parallel()
	owner, room := blueprints.UserInRoom(t, "owner")
	hs := blueprints.OneServer(t)
	senders := []*client.Client{owner}
	for i := 0; i < 3; i++ {
		c := blueprints.NewUser(t, hs, "sender")
		c.JoinRoom(t, room)
		senders = append(senders, c)
	}
	watcher := blueprints.NewUser(t, hs, "watcher")
	watcher.JoinRoom(t, room)
	feeds := []*client.Stream{watcher.NewStream(client.Sync, client.TimelineLimit(5)), watcher.NewStream(client.Sliding, client.TimelineLimit(5))}
	for _, f := range feeds {
		f.Next(t, 0)
	}
	const n = 200
	start := time.Now()
	ids := client.SendStickyBatch(t, senders, room, blueprints.StickyType, blueprints.LoadSticky, n)
	t.Logf("sent %d sticky events from %d senders in %v", n, len(senders), time.Since(start).Round(time.Millisecond))
	within := bound.Sticky("LOAD-1", start, blueprints.LoadSticky, fmt.Sprintf("the %d sticky events", n))
	for _, f := range feeds {
		within.MustSyncUntil(t, f, client.Delivered(ids...).As("lost-events"))
		// Repeats are SYNC-5/SYNC-7's concern (TestManyStickyAllDelivered); here they are noted.
		repeats := 0
		for _, id := range ids {
			tl, st := f.Count(id)
			repeats += max(tl+st-1, 0)
		}
		t.Logf("over %s: all %d sticky events arrived; %d repeated deliveries", f.Feed, n, repeats)
	}
}
