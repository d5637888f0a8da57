package client

import (
	"strings"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/harness/wire"
)

// DefaultWait is how long a wait for delivery lasts for a condition unless told otherwise: long
// enough for a loaded two-core machine to federate an event, short enough to fail fast.
const DefaultWait = 20 * time.Second

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

// OriginTS is an event's origin_server_ts as a time (the zero Unix time when it has none).
func OriginTS(event gjson.Result) time.Time {
	return time.UnixMilli(event.Get("origin_server_ts").Int())
}

// StickyDuration returns the event's top-level sticky duration_ms and whether it is present.
func (c *Client) StickyDuration(event gjson.Result) (gjson.Result, bool) {
	r := event.Get(c.StickyDurationPath())
	return r, r.Exists()
}

// StickyDurationPath is the gjson path of an event's top-level sticky duration_ms.
func (c *Client) StickyDurationPath() string { return wire.Path("", c.Names.EventKey, "duration_ms") }

// Mentions says whether a response holds the event ID anywhere.
func Mentions(r gjson.Result, eventID string) bool {
	return strings.Contains(r.Raw, `"`+eventID+`"`)
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
