// Package sticky holds the checks every test makes of one client's view of a room: is an event
// in the sticky section now, with what remaining time, and has it left once its window ended.
// Each check states its requirement level: a MUST fails the test with a failure code; the
// remaining-time field, a SHOULD, is judged in a subtest of its own (spec.ShouldCheck), so a
// server that leaves it out gets a warning and nothing else.
package sticky

import (
	"fmt"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/checks/must"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
)

// controlType is the event type of expiry controls: the type the tests' own sticky events use.
const controlType = "org.example.sticky"

// readSlack is how far below the ideal a remaining time may be, beyond the time the test
// itself measured since sending: the server reads its clock before answering /sync, the test
// after. The servers and the peer share this machine's clock, so no skew.
const readSlack = 500 * time.Millisecond

// Now is NowOver /sync.
func Now(t testing.TB, c *client.Client, room, eventID string) (gjson.Result, client.SyncResponse) {
	t.Helper()
	return NowOver(t, c, client.Sync, room, eventID)
}

// NowOver looks for the event among the room's sticky events of a fresh initial sync of c's over
// the feed (/sync's sticky section, Sliding Sync's extension) whose one-event timeline holds a
// newer event: c sends a filler first, and the sync is made again until its timeline holds the
// filler or an event that came after it (another server's, say), never the event itself. It
// returns the event there (empty when it is not) and the response.
func NowOver(t testing.TB, c *client.Client, feed client.Feed, room, eventID string) (gjson.Result, client.SyncResponse) {
	t.Helper()
	before := time.Now()
	filler := c.SendText(t, room, "filler: pushes older events out of a one-event timeline")
	pushedOut := client.Check{What: fmt.Sprintf("a one-event timeline of %s holding the filler %s or a later event", room, filler),
		Test: func(_ *client.Stream, r client.SyncResponse) error {
			tl := r.Timeline(room)
			switch {
			case client.Contains(tl, filler):
				return nil
			case len(tl) == 1 && !client.Contains(tl, eventID) && !client.OriginTS(tl[0]).Before(before):
				return nil // an event of another sender that came after the filler
			}
			return fmt.Errorf("the timeline holds %v", client.EventIDs(tl))
		}}
	r := c.NewStream(feed, client.Offline(), client.TimelineLimit(1)).InitialUntil(t, pushedOut)
	return client.Find(r.Sticky(room), eventID), r
}

// RequireFor checks that the event is in c's sticky section of the room now: a MUST (an
// unexpired sticky event is delivered there, SYNC-1), failure code not-sticky. Its
// remaining-time field (SYNC-3, a SHOULD) is judged by CheckRemaining: at most want, at least
// want less the time since since.
func RequireFor(t *testing.T, c *client.Client, room, eventID string, want time.Duration, since time.Time, why string) {
	t.Helper()
	ev, r := Now(t, c, room, eventID)
	elapsed := time.Since(since)
	if !ev.Exists() {
		spec.Fatalf(t, "not-sticky", "%s: expected %s in the sticky section (outside the timeline) %v into its %v lifetime, it is not; the sticky section holds %v, the timeline %v",
			why, eventID, elapsed.Round(time.Millisecond), want, client.EventIDs(r.Sticky(room)), client.EventIDs(r.Timeline(room)))
	}
	CheckRemaining(t, "remaining-time", c, ev, want, elapsed, why)
}

// CheckRemaining checks, in a subtest of the given name that names SYNC-3 alone (a SHOULD: a
// failure is a warning), that a sticky event handed to c carries the remaining-time field, at
// most want (its lifetime when the test's clock started) and at least want minus elapsed (the
// time since then) and a little slack. Failure codes: no-remaining-time, ttl-too-long,
// ttl-too-short.
func CheckRemaining(t *testing.T, name string, c *client.Client, ev gjson.Result, want, elapsed time.Duration, why string) {
	t.Helper()
	spec.ShouldCheck(t, "SYNC-3", name, func(t *testing.T) {
		rem, ok := c.Remaining(ev)
		if !ok {
			spec.Fatalf(t, "no-remaining-time", "%s: the sticky event has no unsigned.%s: %s", why, c.Names.RemainingField, ev.Raw)
		}
		lo, hi := (want - elapsed - readSlack).Milliseconds(), want.Milliseconds()
		if rem > hi {
			spec.Fatalf(t, "ttl-too-long", "%s: expected the remaining time in [%d, %d] ms, got %d (longer): %s", why, lo, hi, rem, ev.Raw)
		}
		if rem < lo {
			spec.Fatalf(t, "ttl-too-short", "%s: expected the remaining time in [%d, %d] ms, got %d (shorter): %s", why, lo, hi, rem, ev.Raw)
		}
	})
}

// RequireNot checks that an event that was never sticky (an invalid sticky object) is in no
// sticky section of c's (failure code still-sticky: the server treats it as sticky, a MUST),
// and, in a subtest naming SYNC-4 alone, that GET /event shows no remaining-time field
// (ttl-when-not-sticky, a warning). For an event whose stickiness ended, use RequireExpired.
func RequireNot(t *testing.T, c *client.Client, room, eventID, why string) {
	t.Helper()
	if ev, _ := Now(t, c, room, eventID); ev.Exists() {
		spec.Fatalf(t, "still-sticky", "%s: expected %s NOT to be in the sticky section, but it is: %s", why, eventID, ev.Raw)
	}
	CheckNoRemaining(t, c, room, "ttl-when-not-sticky", eventID, why)
}

// CheckNoRemaining checks, in a subtest "remaining-time-gone" that names SYNC-4 alone (a
// SHOULD: a failure is a warning), that GET /event of an event that is not sticky shows no
// remaining-time field; code is the failure code.
func CheckNoRemaining(t *testing.T, c *client.Client, room, code, eventID, why string) {
	t.Helper()
	spec.ShouldCheck(t, "SYNC-4", "remaining-time-gone", func(t *testing.T) {
		res := c.GetEvent(t, room, eventID)
		must.Status(t, res, 200, why+": GET /event")
		must.As(code).Missing(t, res.JSON, wire.Path("unsigned", c.Names.RemainingField), why+": GET /event")
	})
}

// ExpiryControl sends a sticky event of c's with the given lifetime, for RequireExpired: send
// it right before the event under test, with a lifetime that makes it end no later than that
// event's correct end.
func ExpiryControl(t testing.TB, c *client.Client, room string, life time.Duration) string {
	t.Helper()
	return c.SendSticky(t, room, controlType, map[string]any{"control": "expiry"}, life)
}

// RequireExpired checks that an event whose stickiness has ended, by the rule of the
// requirements ids (TIME-1..4, ENC-1: MUST), has left c's sticky section. Expiry is seen only
// through a SHOULD: that expired events are no longer sent down /sync (SYNC-9). So it is judged
// beside control (ExpiryControl), an event of c's whose stickiness ended no later:
//   - the event gone: pass;
//   - both there: the server keeps expired events in the sticky section (SYNC-9, which its own
//     test reports as a warning), so this event's window cannot be seen: the subtest "expired"
//     is skipped as inconclusive (spec.ControlFailed), never failed;
//   - the event there, the control gone: the server expires events but kept this one past the
//     end its window has by the rule: a failure of ids, code inSection.
//
// Then GET /event's remaining-time field is checked in a subtest naming SYNC-4 alone (code
// field).
func RequireExpired(t *testing.T, c *client.Client, room string, ids []string, inSection, field, eventID, control, why string) {
	t.Helper()
	t.Run("expired", func(t *testing.T) {
		spec.Covers(t, ids...)
		ev, r := Now(t, c, room, eventID)
		ctl := client.Find(r.Sticky(room), control)
		switch {
		case !ev.Exists():
		case ctl.Exists():
			spec.ControlFailed(t, "%s: %s is still in the sticky section, but so is the control %s, an event of the server's own user whose stickiness ended earlier: "+
				"the server keeps expired events in the sticky section (SYNC-9, a SHOULD, reported by its own test), so expiry cannot show this event's window", why, eventID, control)
		default:
			spec.Fatalf(t, inSection, "%s: expected %s NOT to be in the sticky section, but it is, while the control %s (an event of the server's own user whose stickiness ended earlier) has left it: %s",
				why, eventID, control, ev.Raw)
		}
	})
	CheckNoRemaining(t, c, room, field, eventID, why)
}
