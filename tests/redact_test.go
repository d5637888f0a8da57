package tests

import (
	"testing"

	"stickler/blueprints"
	"stickler/helpers/checks/must"
	"stickler/helpers/checks/sticky"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
)

// REDACT: a redacted sticky event is no longer sticky.

// A redacted sticky event loses the sticky key and its stickiness.
func TestRedactedStickyNotSticky(t *testing.T) {
	// Declared here too, so a run that skips both feeds still reports REDACT-1 as skipped.
	spec.Covers(t, "REDACT-1")
	blueprints.OverBothFeeds(t, []string{"REDACT-1"}, []string{"REDACT-1"}, func(t *testing.T, kind client.Feed) {
		alice, room := blueprints.UserInRoom(t, "alice")
		s := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": 1}, blueprints.LongSticky)
		_, r := sticky.NowOver(t, alice, kind, room, s)
		must.Has(t, r.Sticky(room), s, "the sticky section before the redaction (control)")

		alice.Redact(t, room, s)
		ev := alice.GetEvent(t, room, s)
		must.Status(t, ev, 200, "GET /event of the redacted event")
		must.As("sticky-key-kept-after-redaction").Missing(t, ev.JSON, wire.Escape(alice.Names.EventKey), "the redacted event")
		// A remaining time on the redacted event (no longer sticky) is SYNC-4's, a SHOULD.
		spec.ShouldCheck(t, "SYNC-4", "no-remaining-time-after-redaction", func(t *testing.T) {
			must.As("ttl-after-redaction").Missing(t, ev.JSON, "unsigned."+wire.Escape(alice.Names.RemainingField), "the redacted event")
		})
		r = alice.NewStream(kind, client.TimelineLimit(1)).Next(t, 0)
		must.As("still-sticky-after-redaction").HasNot(t, r.Sticky(room), s, "the sticky section after the redaction")
	})
}
