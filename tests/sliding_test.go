package tests

import (
	"testing"

	"github.com/tidwall/gjson"

	"stickler/blueprints"
	"stickler/helpers/client"
	"stickler/helpers/must"
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
	s.Await(t, client.DefaultWait, sIn, sOutside)
	// One more exchange, so a late delivery of the unmatched room's event is seen too.
	last := s.Next(t, 0)
	if len(s.Of(sUnmatched)) > 0 || client.Mentions(last, sUnmatched) {
		spec.Fatalf(t, "delivered-outside-lists", "the sticky event of a room no list matches (unencrypted room, list filter is_encrypted) was delivered")
	}
}

// The extension's limit is honoured down to its minimum of 1, and paging with next_batch loses
// and repeats nothing.
func TestSlidingLimitOne(t *testing.T) {
	spec.Covers(t, "SSS-3")
	t.Parallel()
	alice, room := blueprints.UserInRoom(t, "alice")
	var ids []string
	for i := 0; i < 3; i++ {
		ids = append(ids, alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": i}, blueprints.LongSticky))
	}
	alice.SendText(t, room, "pushes the sticky events out of a one-event timeline")
	f := alice.NewStream(client.Sliding, client.TimelineLimit(1), client.ExtLimit(1))
	var pages [][]string
	f.Until(t, client.DefaultWait, "all 3 sticky events, one per page", func(r gjson.Result) error {
		st := f.Sticky(r, room)
		if len(st) > 1 {
			spec.Fatalf(t, "limit-ignored", "the extension returned %d events with limit 1: %v", len(st), client.EventIDs(st))
		}
		pages = append(pages, client.EventIDs(st))
		return spec.WithCode("lost-events", f.Delivered(ids...))
	})
	spec.ErrorOn(t, f.OnceEach(ids...)) // duplicate-delivery
	must.As("not-oldest-first").OldestFirst(t, ids, pages)
}
