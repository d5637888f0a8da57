package client

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/wire"
)

// DefaultWait is how long a SyncUntil waits for a condition unless told otherwise: long
// enough for a loaded two-core machine to federate an event, short enough to fail fast.
const DefaultWait = 20 * time.Second

// Syncer follows /sync for one client, keeping every response, so a test can count how
// often an event was delivered across consecutive syncs.
type Syncer struct {
	c         *Client
	Filter    string // filter ID or inline JSON; "" for none
	Since     string
	Responses []gjson.Result
}

// NewSyncer starts with an initial sync at the first call.
func (c *Client) NewSyncer(filter string) *Syncer { return &Syncer{c: c, Filter: filter} }

// Once performs one /sync, long-polling up to timeout, and advances since.
func (s *Syncer) Once(t testing.TB, timeout time.Duration) gjson.Result {
	t.Helper()
	q := url.Values{"timeout": {strconv.FormatInt(timeout.Milliseconds(), 10)}}
	if s.Since != "" {
		q.Set("since", s.Since)
	}
	if s.Filter != "" {
		q.Set("filter", s.Filter)
	}
	res := s.c.MustDo(t, Request{Method: "GET", Path: V3("sync"), Query: q})
	next := res.JSON.Get("next_batch").Str
	if next == "" {
		t.Fatalf("/sync answer has no next_batch: %s", res)
	}
	s.Since = next
	s.Responses = append(s.Responses, res.JSON)
	return res.JSON
}

// Until syncs until check accepts a response, or fails the test after wait, saying what was
// awaited and what the last response held.
func (s *Syncer) Until(t testing.TB, wait time.Duration, what string, check func(gjson.Result) bool) gjson.Result {
	t.Helper()
	return PollUntil(t, wait, what+" via /sync as "+s.c.UserID, func(poll time.Duration) gjson.Result { return s.Once(t, poll) }, check)
}

// PollUntil repeats a long-polling request (at most a second each) until check accepts a
// response, or fails the test after wait with what was awaited and the last response.
func PollUntil(t testing.TB, wait time.Duration, what string, once func(time.Duration) gjson.Result, check func(gjson.Result) bool) gjson.Result {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		r := once(min(max(time.Until(deadline), 0), time.Second))
		if check(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; not seen. Last response: %s", wait, what, truncate(r.Raw, 3000))
		}
	}
}

// Sticky returns the events of a room's sticky section in one /sync response, under the wire
// names this client speaks.
func (c *Client) Sticky(resp gjson.Result, roomID string) []gjson.Result {
	return StickySection(c.Names, resp, roomID)
}

// Remaining returns an event's remaining-time field and whether it is present.
func (c *Client) Remaining(event gjson.Result) (int64, bool) {
	r := event.Get(wire.Path("unsigned", c.Names.RemainingField))
	return r.Int(), r.Exists()
}

// StickyDuration returns the event's top-level sticky duration_ms and whether it is present.
func (c *Client) StickyDuration(event gjson.Result) (gjson.Result, bool) {
	r := event.Get(wire.Path("", c.Names.EventKey, "duration_ms"))
	return r, r.Exists()
}

// StickySection returns the sticky events of a joined room in a /sync response.
func StickySection(names wire.Names, resp gjson.Result, roomID string) []gjson.Result {
	return resp.Get(wire.Path("rooms.join", roomID, names.SyncSection, "events")).Array()
}

// Timeline returns the timeline events of a joined room in a /sync response.
func Timeline(resp gjson.Result, roomID string) []gjson.Result {
	return resp.Get(wire.Path("rooms.join", roomID, "timeline", "events")).Array()
}

// EventIDs returns the event_id of each event.
func EventIDs(events []gjson.Result) []string {
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, e.Get("event_id").Str)
	}
	return out
}

// Contains says whether events includes the event with the given ID.
func Contains(events []gjson.Result, eventID string) bool {
	return Find(events, eventID).Exists()
}

// Find returns the event with the given ID, or an empty result.
func Find(events []gjson.Result, eventID string) gjson.Result {
	for _, e := range events {
		if e.Get("event_id").Str == eventID {
			return e
		}
	}
	return gjson.Result{}
}
