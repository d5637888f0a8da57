// Package stickymap is the suite's reference ephemeral map (REQUIREMENTS.md, MAP; the
// proposal's "Implementing an ephemeral map"). A test feeds every sticky event a client's server
// delivered into that client's Map; clients that were delivered enough end with equal maps.
//
// The model, kept deliberately literal so a failure points at the server and not at the map:
//
//   - key: (room_id, sender, type, content.<sticky key>), the content key name from wire.Names;
//   - winner: among every event of a key that was delivered as sticky, the highest
//     origin_server_ts + duration_ms, then the highest event ID (RuleLatest, the latest
//     revision), or the highest origin_server_ts, then the highest event ID (RuleSeed, the seed
//     revision). The winner is chosen over all such events, expired or not, so the result does
//     not depend on delivery order;
//   - expiry: the client's local expiry of an event is the time it was received plus the
//     remaining-time field it carried; the key reads as absent once its winner has expired
//     (a losing event never comes back when the winner expires);
//   - removal: a content holding nothing but the sticky key wins like any write, and the key
//     then reads as absent;
//   - an event delivered without the remaining-time field was not sticky when delivered
//     (expired, or an ordinary timeline copy after expiry) and does not take part.
package stickymap

import (
	"errors"
	"fmt"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/harness/wire"
)

// Key names one entry of the map.
type Key struct {
	RoomID    string
	Sender    string
	Type      string
	StickyKey string
}

func (k Key) String() string {
	return fmt.Sprintf("(%s, %s, %s, %q)", k.RoomID, k.Sender, k.Type, k.StickyKey)
}

// Delivery is one sticky event as one client received it.
type Delivery struct {
	EventID    string
	Key        Key
	OriginTS   int64 // origin_server_ts, ms since the epoch
	DurationMS int64 // <sticky>.duration_ms as written in the event (not capped)
	// Remaining is the remaining-time field of unsigned; not Present when the server omitted
	// it (the event was not sticky when delivered).
	Remaining wire.Remaining
	Received  time.Time // when the client received it (local clock)
	Removal   bool      // content holds only the sticky key
	Content   string    // the content as JSON, for explanations
	Via       string    // optional: where it came from ("sync sticky section", "timeline", ...)
}

// LocalExpiry is when this delivery says the event stops being sticky for its client.
func (d Delivery) LocalExpiry() time.Time {
	return d.Received.Add(time.Duration(d.Remaining.MS) * time.Millisecond)
}

// ErrNotMapEvent is returned by FromClientEvent for an event that is not a map write: no
// sticky key in its content, or no sticky duration.
var ErrNotMapEvent = errors.New("not an ephemeral-map event")

// FromClientEvent reads a client-format event (from /sync, Sliding Sync, /event, ...) as a
// delivery received at the given time. roomID names the room when the event does not carry
// room_id itself (events inside /sync's rooms.join.<id> do not); when both are set they must
// agree. The error wraps ErrNotMapEvent for events that are not map writes.
func FromClientEvent(ev gjson.Result, roomID string, received time.Time, n wire.Names) (Delivery, error) {
	id := ev.Get("event_id").String()
	if id == "" {
		return Delivery{}, fmt.Errorf("stickymap: event has no event_id: %s", ev.Raw)
	}
	if r := ev.Get("room_id").String(); r != "" {
		if roomID != "" && r != roomID {
			return Delivery{}, fmt.Errorf("stickymap: event %s has room_id %s, delivered for room %s", id, r, roomID)
		}
		roomID = r
	}
	if roomID == "" {
		return Delivery{}, fmt.Errorf("stickymap: event %s: room unknown (no room_id, none given)", id)
	}
	content := ev.Get("content")
	sk := content.Get(wire.Escape(n.StickyKey))
	if !sk.Exists() || sk.Type != gjson.String {
		return Delivery{}, fmt.Errorf("stickymap: event %s: content.%s missing or not a string: %w", id, n.StickyKey, ErrNotMapEvent)
	}
	dur := ev.Get(wire.Path("", n.EventKey, "duration_ms"))
	if dur.Type != gjson.Number {
		return Delivery{}, fmt.Errorf("stickymap: event %s: no numeric %s.duration_ms: %w", id, n.EventKey, ErrNotMapEvent)
	}
	ts := ev.Get("origin_server_ts")
	if ts.Type != gjson.Number {
		return Delivery{}, fmt.Errorf("stickymap: event %s: no numeric origin_server_ts", id)
	}
	d := Delivery{
		EventID:    id,
		Key:        Key{RoomID: roomID, Sender: ev.Get("sender").String(), Type: ev.Get("type").String(), StickyKey: sk.String()},
		OriginTS:   ts.Int(),
		DurationMS: dur.Int(),
		Received:   received,
		Content:    content.Raw,
	}
	if rem := ev.Get(wire.Path("unsigned", n.RemainingField)); rem.Exists() {
		if rem.Type != gjson.Number {
			return Delivery{}, fmt.Errorf("stickymap: event %s: unsigned.%s is not a number: %s", id, n.RemainingField, rem.Raw)
		}
		d.Remaining = wire.Remaining{MS: rem.Int(), Present: true}
	}
	count := 0
	content.ForEach(func(_, _ gjson.Result) bool { count++; return true })
	d.Removal = count == 1
	return d, nil
}
