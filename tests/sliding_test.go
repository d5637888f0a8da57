package tests

import (
	"fmt"
	"testing"
	"time"

	"stickler/blueprints"
	"stickler/helpers/checks/must"
	"stickler/helpers/harness/client"
	"stickler/helpers/spec"
)

// SSS: what only the Sliding Sync extension has (list scope, its limit and pagination).

// Sliding Sync delivers sticky events of every room a list matches, even outside the list's
// top-N window, and none of rooms no list matches.
func TestSlidingListsScope(t *testing.T) {
	spec.Covers(t, "SSS-1")
	t.Parallel()
	hs := blueprints.OneServer(t)
	alice := blueprints.NewUser(t, hs, "alice")
	encrypted := map[string]any{"preset": "public_chat", "initial_state": []any{map[string]any{
		"type": "m.room.encryption", "state_key": "", "content": map[string]any{"algorithm": "m.megolm.v1.aes-sha2"}}}}
	inWindow := alice.CreateRoom(t, encrypted)
	outsideWindow := alice.CreateRoom(t, encrypted)
	unmatched := alice.CreateRoom(t, client.PublicRoom(""))
	sOutside := alice.SendSticky(t, outsideWindow, blueprints.StickyType, map[string]any{"room": "outside"}, blueprints.LongSticky)
	sUnmatched := alice.SendSticky(t, unmatched, blueprints.StickyType, map[string]any{"room": "unmatched"}, blueprints.LongSticky)
	alice.SendTexts(t, outsideWindow, 2)
	alice.SendTexts(t, unmatched, 2)
	sIn := alice.SendSticky(t, inWindow, blueprints.StickyType, map[string]any{"room": "in"}, blueprints.LongSticky)
	alice.SendTexts(t, inWindow, 2) // the most recent room: the one inside the 1-room window

	s := alice.NewStream(client.Sliding, client.TimelineLimit(1))
	s.Lists = map[string]any{"encrypted": map[string]any{
		"ranges": [][]int{{0, 0}}, "timeline_limit": 1, "required_state": [][]string{},
		"filters": map[string]any{"is_encrypted": true},
	}}
	s.Labels[sIn], s.Labels[sOutside] = "the sticky event of the room in the window", "the sticky event of the encrypted room outside the window"
	s.MustSyncUntil(t, client.DefaultWait, client.Delivered(sIn, sOutside))
	// One more exchange, so a late delivery of the unmatched room's event is seen too.
	last := s.Next(t, 0)
	if len(s.Of(sUnmatched)) > 0 || last.Mentions(sUnmatched) {
		spec.Fatalf(t, "delivered-outside-lists", "the sticky event of a room no list matches (unencrypted room, list filter is_encrypted) was delivered")
	}
}

// The extension's limit is honoured down to its minimum of 1, and paging with next_batch loses
// and repeats nothing.
func TestSlidingLimitOne(t *testing.T) {
	spec.Covers(t, "SSS-3", "SYNC-5")
	t.Parallel()
	alice, room := blueprints.UserInRoom(t, "alice")
	ids := threeBehindFiller(t, alice, room)
	f := alice.NewStream(client.Sliding, client.TimelineLimit(1), client.ExtLimit(1))
	var pages [][]string
	f.MustSyncUntil(t, client.DefaultWait, client.Responds("one sticky event per page", func(r client.SyncResponse) error {
		st := r.Sticky(room)
		if len(st) > 1 {
			spec.Fatalf(t, "limit-ignored", "the extension returned %d events with limit 1: %v", len(st), client.EventIDs(st))
		}
		pages = append(pages, client.EventIDs(st))
		return nil
	}), client.Delivered(ids...).As("lost-events"))
	spec.ErrorOn(t, f.OnceEach(ids...)) // lost-events or repeated-in-same-response
	spec.ShouldCheck(t, "SYNC-5", "once-across-responses", func(t *testing.T) {
		spec.ErrorOn(t, f.RepeatedAcross(ids...)) // duplicate-delivery
	})
	must.As("not-oldest-first").OldestFirst(t, ids, pages)
}

// threeBehindFiller sends three long-lived sticky events and then a text that pushes them out
// of a one-event timeline, and returns the sticky events' IDs, oldest first.
func threeBehindFiller(t *testing.T, alice *client.Client, room string) []string {
	t.Helper()
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": i}, blueprints.LongSticky))
	}
	alice.SendText(t, room, "pushes the sticky events out of a one-event timeline")
	return ids
}

// Without a limit the extension carries at most its default of 100 events per response (a
// server may give fewer), and pages out the rest: 130 sticky events sent while the client is
// not syncing come over several responses, none lost or repeated.
func TestSlidingDefaultLimit(t *testing.T) {
	spec.Covers(t, "SSS-5", "SYNC-5")
	t.Parallel()
	alice, room := blueprints.UserInRoom(t, "alice")
	f := alice.NewStream(client.Sliding, client.TimelineLimit(1)).Start(t) // no extension limit: the server's default
	const n, defaultLimit = 130, 100
	ids := client.SendStickyBatch(t, []*client.Client{alice}, room, blueprints.StickyType, blueprints.LongSticky, n)
	alice.SendText(t, room, "pushes the sticky events out of a one-event timeline")
	var pages []int
	f.MustSyncUntil(t, 90*time.Second, client.Responds(fmt.Sprintf("all %d sticky events", n), func(r client.SyncResponse) error {
		ext := r.Extension()
		got := client.ExtensionEvents(ext)
		if got > 0 {
			pages = append(pages, got)
		}
		if got > defaultLimit {
			ids := client.EventIDs(r.Sticky(room))
			spec.Fatalf(t, "limit-ignored", "a request without an extension limit got %d sticky events in one response; the default limit is %d (pages so far %v); the first event IDs: %v",
				got, defaultLimit, pages, ids[:min(len(ids), 5)])
		}
		return nil
	}), client.Delivered(ids...).As("lost-events"))
	t.Logf("the %d sticky events came in extension pages of %v events (and the room timeline)", n, pages)
	spec.ErrorOn(t, f.OnceEach(ids...)) // lost-events or repeated-in-same-response
	spec.ShouldCheck(t, "SYNC-5", "once-across-responses", func(t *testing.T) {
		spec.ErrorOn(t, f.RepeatedAcross(ids...)) // duplicate-delivery
	})
}

// Every response whose extension carries sticky events has a next_batch token: with a limit of
// 1 and three events the client pages with it, and an event sent later arrives with one too.
// Without it the client could only send its old token again (client.Stream records that).
func TestSlidingNextBatch(t *testing.T) {
	spec.Covers(t, "SSS-6")
	t.Parallel()
	alice, room := blueprints.UserInRoom(t, "alice")
	ids := threeBehindFiller(t, alice, room)
	f := alice.NewStream(client.Sliding, client.TimelineLimit(1), client.ExtLimit(1))
	nextBatch := client.Responds("a next_batch with every page", func(r client.SyncResponse) error {
		ext := r.Extension()
		if got := client.ExtensionEvents(ext); got > 0 && !ext.Get("next_batch").Exists() {
			spec.Fatalf(t, "no-next-batch", "response %d carries %d sticky event(s) in the extension but no next_batch: %s",
				len(f.Responses)-1, got, client.Truncate(ext.Raw, 1500))
		}
		return nil
	})
	f.MustSyncUntil(t, client.DefaultWait, nextBatch, client.Delivered(ids...)) // the 3 sticky events, paged with limit 1
	later := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": "later"}, blueprints.LongSticky)
	alice.SendText(t, room, "pushes the later sticky event out of the timeline")
	f.MustSyncUntil(t, client.DefaultWait, nextBatch, client.Delivered(later))
	if len(f.NoNextBatch) > 0 {
		spec.Fatalf(t, "no-next-batch", "responses %v carried sticky events without next_batch", f.NoNextBatch)
	}
	t.Logf("%d responses, each with events carried a next_batch", len(f.Responses))
}

// A room the client follows through a room subscription, and that no list matches, gets its
// sticky events through the extension: the client is interested in it. Control: the
// subscription itself works (the room and its timeline come back).
func TestSlidingRoomSubscription(t *testing.T) {
	spec.Covers(t, "SSS-7")
	t.Parallel()
	alice, room := blueprints.UserInRoom(t, "alice")
	before := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": "before"}, blueprints.LongSticky)
	filler := alice.SendText(t, room, "pushes the sticky event out of a one-event timeline")
	f := alice.NewStream(client.Sliding, client.TimelineLimit(1))
	// A list that matches no room of alice's (none is encrypted), and the room by subscription.
	f.Lists = map[string]any{"encrypted": map[string]any{"ranges": [][]int{{0, 9}}, "timeline_limit": 1, "required_state": [][]string{},
		"filters": map[string]any{"is_encrypted": true}}}
	f.Subscriptions = map[string]any{room: map[string]any{"timeline_limit": 1, "required_state": [][]string{}}}
	f.Labels[before] = "the sticky event sent before the first sync"
	// control: the subscribed room's one-event timeline holds the filler (else the room is not
	// followed at all, or the server has not yet shown alice her own send).
	f.InitialUntil(t, client.ShowsInTimeline(room, filler))
	if err := f.SyncUntil(t, 5*time.Second, client.Delivered(before)); err != nil {
		spec.Fatalf(t, "subscription-not-covered", "the sticky event of a room followed by a room subscription (no list matches it) never came in the extension: %v", err)
	}
	later := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": "later"}, blueprints.LongSticky)
	alice.SendText(t, room, "pushes the later sticky event out of the timeline")
	f.Labels[later] = "the sticky event sent later"
	f.MustSyncUntil(t, client.DefaultWait, client.Delivered(later).As("subscription-not-covered"))
}
