// Package bound says how long a wait that judges a requirement may last, and where that
// bound comes from in the proposal. MSC4354 sets no deadline for most of what the tests wait
// for: a server "MUST attempt to push" its sticky events (to joined servers and to newcomers),
// soft-failure checks "MUST be re-evaluated", a joiner's server "MUST include" the room's
// sticky events, an outage loses nothing that is still sticky. The one time limit the text
// gives all of them is the event's stickiness: "When an event loses its stickiness, these
// properties disappear with the stickiness" (§ Proposal), and servers "SHOULD deliver the
// event to clients before the sticky event expires" (§ Rate limits). So a wait for such a
// delivery lasts until the stickiness of the awaited event ends (Sticky), and a server that
// is slower than the suite's usual wait (client.DefaultWait) but delivers while the event is
// still sticky passes; the report shows how late it was (a "late delivery" record beside the
// test's outcome, spec.Choice). A fast server is judged as fast as ever: the waits poll and
// end as soon as the condition holds. The tests keep their sticky events' lifetimes as short
// as the scenario allows (blueprints.PushSticky and the like), so a server that never
// delivers still fails within minutes.
//
// client.DefaultWait stays the bound of waits that judge no requirement: setup (a join seen,
// a control event), where a slow server only makes the test slower to start.
package bound

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"stickler/helpers/harness/client"
	"stickler/helpers/spec"
)

// Source is the sentence of the proposal a stickiness bound rests on, for messages.
const Source = `MSC4354 sets no deadline for this delivery; "when an event loses its stickiness, these properties disappear with the stickiness" (§ Proposal), so the bound is the end of the event's stickiness`

// MinLeft is the least time a wait must have before its bound ends for the server to be
// judged at all: the usual wait. When the scenario's setup (on a loaded machine) ate more of
// the awaited event's lifetime than that, the test is skipped as inconclusive, never failed:
// the machine, not the server, used the time.
const MinLeft = client.DefaultWait

// usualWait and minLeft are DefaultWait and MinLeft, variables for the unit tests.
var usualWait, minLeft = client.DefaultWait, MinLeft

// Bound is how long a wait that judges requirement ID may last: until End.
type Bound struct {
	ID  string    // the requirement the wait judges
	End time.Time // when the wait ends at the latest
	// What names the end for messages ("the stickiness of the newcomer's 4 events (120s
	// lifetime, sent 12:00:01.000) ends").
	What string
}

// Sticky is the bound of a wait for the delivery of sticky events sent at sent (a time taken
// before the send, so no later than their origin_server_ts and their receipt anywhere) with
// the given lifetime, when the proposal sets no deadline for it: they must come while they are
// sticky, that is before sent+lifetime (never later than the end every server computes,
// min(received_ts, origin_server_ts) + duration). what names the events.
func Sticky(id string, sent time.Time, lifetime time.Duration, what string) Bound {
	return Bound{ID: id, End: sent.Add(lifetime), What: fmt.Sprintf("the stickiness of %s (%v lifetime, sent %s) ends", what, lifetime, sent.Format("15:04:05.000"))}
}

// Left is how long the wait may still last.
func (b Bound) Left() time.Duration { return max(time.Until(b.End), 0) }

// String says what the bound is and why, for failure messages.
func (b Bound) String() string {
	return fmt.Sprintf("until %s at %s (%s)", b.What, b.End.Format("15:04:05.000"), Source)
}

// Await runs wait with the time left before the bound ends and returns its error. When less
// than MinLeft is left at the start the test is skipped as inconclusive (the setup used the
// time). When wait succeeds later than client.DefaultWait after it began, the lateness is
// recorded for the report (never a failure). what names what is awaited.
func (b Bound) Await(t testing.TB, what string, wait func(within time.Duration) error) error {
	t.Helper()
	left := b.Left()
	if left < minLeft {
		spec.Inconclusive(t, "only %v was left %s when the wait for %s began (the setup took the rest on this machine; the server needs at least %v to be judged), so the server could not be judged",
			left.Round(time.Millisecond), "until "+b.What, what, minLeft)
	}
	start := time.Now()
	err := wait(left)
	if took := time.Since(start); err == nil {
		t.Logf("%s: held after %v (bound: %v left %s)", what, took.Round(time.Millisecond), left.Round(time.Millisecond), "until "+b.What)
		if took > usualWait {
			late(t, b.ID, fmt.Sprintf("%s came %v after the wait began, later than the usual %v but within its bound (%v were left until %s): passes",
				what, took.Round(100*time.Millisecond), usualWait, left.Round(time.Second), b.What))
		}
	}
	return err
}

// SyncUntil syncs the stream until every check holds (Stream.SyncUntil) within the bound.
func (b Bound) SyncUntil(t testing.TB, s *client.Stream, checks ...client.Check) error {
	t.Helper()
	return b.Await(t, describe(s, checks), func(within time.Duration) error { return s.SyncUntil(t, within, checks...) })
}

// MustSyncUntil is SyncUntil failing the test with what was awaited, the bound and what is
// still missing (with the checks' failure codes), and returns the newest response.
func (b Bound) MustSyncUntil(t testing.TB, s *client.Stream, checks ...client.Check) client.SyncResponse {
	t.Helper()
	if err := b.SyncUntil(t, s, checks...); err != nil {
		spec.MarkCodes(t, err)
		t.Fatalf("waited %s for %s: %v", b, describe(s, checks), err)
	}
	if len(s.Responses) == 0 {
		return client.SyncResponse{Feed: s.Feed}
	}
	return s.Responses[len(s.Responses)-1]
}

// describe names what a wait over the stream awaits.
func describe(s *client.Stream, checks []client.Check) string {
	var whats []string
	for _, c := range checks {
		whats = append(whats, c.What)
	}
	return fmt.Sprintf("%s over %s as %s", strings.Join(whats, " and "), s.Feed, s.Client().UserID)
}

// lateness collects each test's late deliveries per requirement, so that one record per
// requirement says all of them (a test's record for an ID replaces the earlier one).
var lateness = struct {
	sync.Mutex
	m map[testing.TB]map[string][]string
}{m: map[testing.TB]map[string][]string{}}

// late records, beside the test's outcome, that a delivery judged for id came later than the
// usual wait and within its bound.
func late(t testing.TB, id, what string) {
	t.Helper()
	lateness.Lock()
	byID := lateness.m[t]
	if byID == nil {
		byID = map[string][]string{}
		lateness.m[t] = byID
		t.Cleanup(func() {
			lateness.Lock()
			delete(lateness.m, t)
			lateness.Unlock()
		})
	}
	byID[id] = append(byID[id], what)
	all := strings.Join(byID[id], "; ")
	lateness.Unlock()
	spec.Choice(t, id, LatePrefix+all)
}

// LatePrefix opens every late-delivery record, so the report's readers (and greps) find them.
const LatePrefix = "late delivery: "
