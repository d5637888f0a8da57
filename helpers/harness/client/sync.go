package client

import (
	"fmt"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/harness/wire"
)

// DefaultWait is how long a wait for delivery lasts for a condition unless told otherwise: long
// enough for a loaded two-core machine to federate an event, short enough to fail fast.
const DefaultWait = 20 * time.Second

// Remaining returns an event's remaining-time field and whether it is present
// (wire.RemainingOf).
func (c *Client) Remaining(event gjson.Result) (int64, bool) {
	r := wire.RemainingOf(event, c.Names)
	return r.MS, r.Present
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

// HasEvent checks that events (a section of one response) hold the event; where names the
// section for the error, which lists what it holds instead.
func HasEvent(events []gjson.Result, eventID, where string) error {
	if Contains(events, eventID) {
		return nil
	}
	return fmt.Errorf("%s not in %s, which holds %v", eventID, where, EventIDs(events))
}
