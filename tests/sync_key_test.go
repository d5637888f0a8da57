package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"stickler/blueprints"
	"stickler/helpers/harness/client"
	"stickler/helpers/spec"
)

// SYNC-12: the server ignores content.sticky_key (the map is the clients' business).

// Three sticky events of one sender and type sharing a sticky key, and a fourth with another
// key as a control, are all delivered, each with its own content: the server neither collapses
// them into the latest nor replaces one by another. Checked on the stream that saw them sent
// and on a fresh initial sync whose one-event timeline holds a filler, so that every one of
// them must come through the sticky section.
func TestStickyKeyIgnoredByServer(t *testing.T) {
	// Declared here too, so a run that skips both feeds still reports SYNC-12 as skipped.
	spec.Covers(t, "SYNC-12")
	blueprints.OverBothFeeds(t, []string{"SYNC-12"}, []string{"SYNC-12"}, func(t *testing.T, kind client.Feed) {
		alice, room := blueprints.UserInRoom(t, "alice")
		key := alice.Names.StickyKey
		f := alice.NewStream(kind, client.TimelineLimit(1)).Start(t)
		var shared []string
		content := map[string]int{}
		for i := 0; i < 3; i++ {
			id := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{key: "shared-key", "n": i}, blueprints.LongSticky)
			shared = append(shared, id)
			content[id] = i
			f.Labels[id] = fmt.Sprintf("write %d of key shared-key", i)
		}
		control := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{key: "other-key", "n": 9}, blueprints.LongSticky)
		content[control] = 9
		f.Labels[control] = "the control with another key"
		filler := alice.SendText(t, room, "filler: pushes the sticky events out of a one-event timeline")

		f.MustSyncUntil(t, client.DefaultWait, client.Delivered(append(shared, control)...).As("collapsed-by-sticky-key"))
		fresh := alice.NewStream(kind, client.TimelineLimit(1))
		fresh.Labels = f.Labels
		r := fresh.InitialUntil(t, client.ShowsInTimeline(room, filler))
		sticky := r.Sticky(room)
		if !client.Contains(sticky, control) {
			spec.ControlFailed(t, "the event with its own key %s is not in the sticky section of an initial sync with a one-event timeline; the sticky section holds %v, the timeline %v",
				control, client.EventIDs(sticky), client.EventIDs(r.Timeline(room)))
		}
		var missing []string
		for _, id := range shared {
			if !client.Contains(sticky, id) {
				missing = append(missing, fresh.Labels[id]+" ("+id+")")
			}
		}
		if len(missing) > 0 {
			spec.Fatalf(t, "collapsed-by-sticky-key", "expected all 3 sticky events sharing key shared-key in the sticky section of an initial sync over %s; missing %v; the sticky section holds %s",
				kind, missing, describeEvents(sticky))
		}
		for _, e := range append(sticky, r.Timeline(room)...) {
			id := e.Get("event_id").Str
			if want, ok := content[id]; ok && e.Get("content.n").Int() != int64(want) {
				spec.Fatalf(t, "collapsed-by-sticky-key", "%s came with the content of another write of its key: expected n=%d, got %s", id, want, e.Get("content").Raw)
			}
		}
	})
}

// describeEvents lists events with their content, for failure messages.
func describeEvents(events []gjson.Result) string {
	if len(events) == 0 {
		return "nothing"
	}
	var parts []string
	for _, e := range events {
		parts = append(parts, e.Get("event_id").Str+" "+e.Get("content").Raw)
	}
	return strings.Join(parts, "; ")
}
