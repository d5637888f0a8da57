package client

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
)

// Feed is how a Stream follows the server.
type Feed string

const (
	// Sync follows /sync: sticky events come in each joined room's sticky section.
	Sync Feed = "sync"
	// Sliding follows Simplified Sliding Sync (MSC4186) with the sticky events extension
	// (MSC4480): sticky events come in the extension, per room.
	Sliding Feed = "sliding"
)

// SlidingPath is the Simplified Sliding Sync (MSC4186) endpoint.
var SlidingPath = []string{"_matrix", "client", "unstable", "org.matrix.simplified_msc3575", "sync"}

// Section is where a delivery came.
type Section string

const (
	InTimeline  Section = "timeline"
	InSticky    Section = "sticky section" // /sync's per-room sticky section
	InExtension Section = "extension"      // Sliding Sync's sticky events extension
)

// Delivery is one appearance of one event in one response.
type Delivery struct {
	Room, EventID string
	Section       Section
	Remaining     wire.Remaining // the remaining-time field (Present false when absent)
	At            time.Time      // when the response arrived
	Asked         time.Time      // when its request was sent: the server built the response in [Asked, At]
	Event         gjson.Result
}

// AsSticky says whether the delivery hands the event to the client as sticky: outside the
// timeline, or in it with a positive remaining time.
func (d Delivery) AsSticky() bool { return d.Section != InTimeline || d.Remaining.Positive() }

// SyncResponse is one response of a stream, /sync or Sliding Sync, that knows its feed and wire
// names: a test asks it for a room's sticky events or timeline without knowing where each feed
// puts them. The raw JSON is the embedded gjson.Result.
type SyncResponse struct {
	gjson.Result
	Feed  Feed
	names wire.Names
}

// Sticky returns a room's sticky events: /sync's sticky section, or Sliding Sync's extension.
func (r SyncResponse) Sticky(room string) []gjson.Result {
	if r.Feed == Sliding {
		return r.Get(wire.Path("extensions", r.names.SlidingExtension, "rooms", room, "events")).Array()
	}
	return r.Get(wire.Path("rooms.join", room, r.names.SyncSection, "events")).Array()
}

// Timeline returns a room's timeline events.
func (r SyncResponse) Timeline(room string) []gjson.Result {
	if r.Feed == Sliding {
		return r.Get(wire.Path("rooms", room, "timeline")).Array()
	}
	return r.Get(wire.Path("rooms.join", room, "timeline", "events")).Array()
}

// Mentions says whether the response holds the event ID anywhere.
func (r SyncResponse) Mentions(eventID string) bool {
	return strings.Contains(r.Raw, `"`+eventID+`"`)
}

// Extension returns the Sliding Sync sticky events extension (empty over /sync).
func (r SyncResponse) Extension() gjson.Result {
	return r.Get(wire.Path("extensions", r.names.SlidingExtension))
}

// Stream follows one client's sync (over /sync or Sliding Sync) and keeps every response and a
// log of every delivery of every event, so a test can ask afterwards what came, where, when
// and how often.
type Stream struct {
	c    *Client
	Feed Feed

	Filter   string         // Sync: filter ID or inline JSON ("" none)
	Presence string         // Sync: set_presence ("" leaves it out)
	Lists    map[string]any // Sliding: list name -> list request
	// Subscriptions are Sliding Sync room subscriptions (room ID -> room subscription); nil
	// sends none.
	Subscriptions map[string]any
	ExtLimit      int // Sliding: the extension's limit; 0 leaves it out (server default)
	Labels        map[string]string

	since, pos, extSince string
	Responses            []SyncResponse
	Log                  []Delivery
	// NoNextBatch lists the indices (into Responses) of Sliding Sync responses whose extension
	// carried sticky events without a next_batch (SSS-6): the stream could not advance its
	// extension token and sent the old one again.
	NoNextBatch []int
}

// StreamOption sets up a Stream.
type StreamOption func(*Stream)

// TimelineLimit sets how many timeline events a room carries per response (default 50).
func TimelineLimit(n int) StreamOption {
	return func(s *Stream) {
		s.Filter = `{"room":{"timeline":{"limit":` + strconv.Itoa(n) + `}}}`
		s.Lists = map[string]any{"all": map[string]any{"ranges": [][]int{{0, 99}}, "timeline_limit": n, "required_state": [][]string{}}}
	}
}

// Filter sets a /sync filter (ID or inline JSON); "" sends none.
func Filter(f string) StreamOption { return func(s *Stream) { s.Filter = f } }

// Offline syncs with set_presence=offline, so that following the stream does not make the
// server send presence to its peers: such traffic would be an inbound request that provokes a
// backed-off sender (see traffic.Provoke).
func Offline() StreamOption { return func(s *Stream) { s.Presence = "offline" } }

// ExtLimit sets the Sliding Sync extension's page size.
func ExtLimit(n int) StreamOption { return func(s *Stream) { s.ExtLimit = n } }

// NewStream makes a stream that starts with an initial sync at its first Next. By default it
// follows every room the user is in (Sliding Sync: one list of rooms 0..99) with a timeline of
// 50 events.
func (c *Client) NewStream(feed Feed, opts ...StreamOption) *Stream {
	s := &Stream{c: c, Feed: feed, Labels: map[string]string{}}
	TimelineLimit(50)(s)
	for _, o := range opts {
		o(s)
	}
	return s
}

// Follow follows c's /sync from now on (its initial sync done), with presence offline so that
// following makes c's server send no presence to its peers: that traffic would be an inbound
// request that provokes a backed-off sender (see traffic.Provoke).
func (c *Client) Follow(t testing.TB, opts ...StreamOption) *Stream {
	t.Helper()
	return c.NewStream(Sync, append([]StreamOption{Offline()}, opts...)...).Start(t)
}

// Start makes the stream's initial sync and returns the stream, for tests that follow what
// comes after it.
func (s *Stream) Start(t testing.TB) *Stream {
	t.Helper()
	s.Next(t, 0)
	return s
}

// InitialUntil makes the stream's initial sync, again until every check accepts it or
// DefaultWait has passed. A server may build a sync begun right after a send from a stream
// position before that event (seen on Synapse with PostgreSQL), and a test that reads a
// snapshot needs the event there. An attempt that is discarded leaves nothing in the stream.
func (s *Stream) InitialUntil(t testing.TB, checks ...Check) SyncResponse {
	t.Helper()
	var r SyncResponse
	Wait(t, DefaultWait, "an initial "+s.describe(checks), 250*time.Millisecond, func(time.Duration) error {
		s.since, s.pos, s.extSince = "", "", ""
		s.Responses, s.Log, s.NoNextBatch = nil, nil, nil
		r = s.Next(t, 0)
		return s.judge(r, checks)
	})
	return r
}

// Client is the client the stream follows.
func (s *Stream) Client() *Client { return s.c }

// Next performs one request, long-polling up to timeout, advances the tokens and logs every
// delivery it carries.
func (s *Stream) Next(t testing.TB, timeout time.Duration) SyncResponse {
	t.Helper()
	q := url.Values{"timeout": {strconv.FormatInt(timeout.Milliseconds(), 10)}}
	asked := time.Now()
	r := SyncResponse{Feed: s.Feed, names: s.c.Names}
	if s.Feed == Sliding {
		ext := map[string]any{"enabled": true}
		if s.ExtLimit > 0 {
			ext["limit"] = s.ExtLimit
		}
		if s.extSince != "" {
			ext["since"] = s.extSince
		}
		if s.pos != "" {
			q.Set("pos", s.pos)
		}
		body := map[string]any{
			"lists":      s.Lists,
			"extensions": map[string]any{s.c.Names.SlidingExtension: ext},
		}
		if s.Subscriptions != nil {
			body["room_subscriptions"] = s.Subscriptions
		}
		r.Result = s.c.MustDo(t, Request{Method: "POST", Path: SlidingPath, Query: q, Body: body}).JSON
		if pos := r.Get("pos").Str; pos != "" {
			s.pos = pos
		}
		extension := r.Extension()
		if nb := extension.Get("next_batch").Str; nb != "" {
			s.extSince = nb
		} else if ExtensionEvents(extension) > 0 {
			// MSC4480 requires next_batch whenever there are changes (SSS-6). Without it the
			// stream can only send its old token again; it says so, and TestSlidingNextBatch
			// judges it.
			s.NoNextBatch = append(s.NoNextBatch, len(s.Responses))
			t.Logf("stream %s over %s: response %d carries %d sticky event(s) in the extension but no next_batch (SSS-6); the next request sends the old since %q again",
				s.c.UserID, s.Feed, len(s.Responses), ExtensionEvents(extension), s.extSince)
		}
	} else {
		if s.since != "" {
			q.Set("since", s.since)
		}
		if s.Filter != "" {
			q.Set("filter", s.Filter)
		}
		if s.Presence != "" {
			q.Set("set_presence", s.Presence)
		}
		res := s.c.MustDo(t, Request{Method: "GET", Path: V3("sync"), Query: q})
		r.Result = res.JSON
		if s.since = r.Get("next_batch").Str; s.since == "" {
			t.Fatalf("/sync answer has no next_batch: %s", res)
		}
	}
	s.record(r, asked, time.Now())
	return r
}

// ExtensionEvents counts the sticky events of every room in a Sliding Sync extension response.
func ExtensionEvents(extension gjson.Result) int {
	n := 0
	extension.Get("rooms").ForEach(func(_, room gjson.Result) bool {
		n += len(room.Get("events").Array())
		return true
	})
	return n
}

// record logs a response's deliveries: each room's sticky events first, then its timeline.
func (s *Stream) record(r SyncResponse, asked, at time.Time) {
	s.Responses = append(s.Responses, r)
	rooms, stickyRooms, section := r.Get("rooms.join"), r.Get("rooms.join"), InSticky
	if s.Feed == Sliding {
		rooms, section = r.Get("rooms"), InExtension
		stickyRooms = r.Get(wire.Path("extensions", s.c.Names.SlidingExtension, "rooms"))
	}
	stickyRooms.ForEach(func(room, _ gjson.Result) bool {
		s.add(room.Str, r.Sticky(room.Str), section, asked, at)
		return true
	})
	rooms.ForEach(func(room, _ gjson.Result) bool {
		s.add(room.Str, r.Timeline(room.Str), InTimeline, asked, at)
		return true
	})
}

func (s *Stream) add(room string, events []gjson.Result, where Section, asked, at time.Time) {
	for _, e := range events {
		s.Log = append(s.Log, Delivery{Room: room, EventID: e.Get("event_id").Str, Section: where, Remaining: wire.RemainingOf(e, s.c.Names), At: at, Asked: asked, Event: e})
	}
}

// Of returns every delivery of the event so far.
func (s *Stream) Of(eventID string) []Delivery {
	var out []Delivery
	for _, d := range s.Log {
		if d.EventID == eventID {
			out = append(out, d)
		}
	}
	return out
}

// StickyOf returns the deliveries that handed the event to the client as sticky.
func (s *Stream) StickyOf(eventID string) []Delivery {
	var out []Delivery
	for _, d := range s.Of(eventID) {
		if d.AsSticky() {
			out = append(out, d)
		}
	}
	return out
}

// Count returns how often the event came in a timeline and outside it.
func (s *Stream) Count(eventID string) (timeline, sticky int) {
	for _, d := range s.Of(eventID) {
		if d.Section == InTimeline {
			timeline++
		} else {
			sticky++
		}
	}
	return timeline, sticky
}

// Describe says where and when the event came, for failure messages.
func (s *Stream) Describe(eventID string) string {
	ds := s.Of(eventID)
	if len(ds) == 0 {
		return "never delivered"
	}
	var parts []string
	for _, d := range ds {
		parts = append(parts, fmt.Sprintf("%s at %s (remaining %s)", d.Section, d.At.Format("15:04:05.000"), d.Remaining))
	}
	return strings.Join(parts, "; ")
}

// Arrived lists what came for a room (each event once, the first few, with its type and
// section), for failure messages that must show what was seen.
func (s *Stream) Arrived(room string) string {
	const most = 20
	var parts []string
	seen := map[string]bool{}
	for _, d := range s.Log {
		if d.Room != room || seen[d.EventID] {
			continue
		}
		seen[d.EventID] = true
		if len(parts) == most {
			parts = append(parts, "…")
			break
		}
		parts = append(parts, fmt.Sprintf("%s (%s, %s, remaining %s)", d.EventID, d.Event.Get("type").Str, d.Section, d.Remaining))
	}
	if len(parts) == 0 {
		return "nothing for this room"
	}
	return fmt.Sprintf("%d distinct event(s): %s", len(seen), strings.Join(parts, "; "))
}

func (s *Stream) label(id string) string {
	if l := s.Labels[id]; l != "" {
		return l + " (" + id + ")"
	}
	return id
}

// undelivered checks that every event came at least once; the error names the missing ones
// and what did come.
func (s *Stream) undelivered(ids ...string) error {
	var missing, rooms []string
	seenRoom := map[string]bool{}
	for _, id := range ids {
		if len(s.Of(id)) == 0 {
			missing = append(missing, s.label(id))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	for _, d := range s.Log {
		if !seenRoom[d.Room] {
			seenRoom[d.Room] = true
			rooms = append(rooms, d.Room+": "+s.Arrived(d.Room))
		}
	}
	if len(rooms) == 0 {
		rooms = []string{"nothing"}
	}
	return spec.WithCode("not-delivered", fmt.Errorf("%d of %d event(s) never delivered to %s over %s: %s; what did arrive: %s",
		len(missing), len(ids), s.c.UserID, s.Feed, strings.Join(missing, ", "), strings.Join(rooms, " | ")))
}

// OnceEach checks what the proposal's MUSTs say of repeats and losses: every event came (code
// lost-events for those that never did), and no response carried one twice, in its timeline
// and its sticky section or extension together (code repeated-in-same-response; MSC4354 §
// Sync API changes and MSC4480 say MUST NOT within one response). An event handed over again
// by a later response is RepeatedAcross's, a SHOULD (SYNC-5).
func (s *Stream) OnceEach(ids ...string) error {
	var twice, never []string
	for _, id := range ids {
		perResponse := map[time.Time]int{}
		for _, d := range s.Of(id) {
			perResponse[d.At]++
		}
		if len(perResponse) == 0 {
			never = append(never, s.label(id))
		}
		for at, n := range perResponse {
			if n > 1 {
				tl, st := s.Count(id)
				twice = append(twice, fmt.Sprintf("%s %d times in the response of %s (timeline %d, sticky %d over the whole stream)", s.label(id), n, at.Format("15:04:05.000"), tl, st))
			}
		}
	}
	var errs []error
	if len(twice) > 0 {
		errs = append(errs, spec.WithCode("repeated-in-same-response", fmt.Errorf("over %s, expected no sticky event twice in one response; %d came twice in one: %s", s.Feed, len(twice), strings.Join(twice, "; "))))
	}
	if len(never) > 0 {
		errs = append(errs, spec.WithCode("lost-events", fmt.Errorf("over %s, expected every sticky event to arrive; %d never came: %s", s.Feed, len(never), strings.Join(never, ", "))))
	}
	return errors.Join(errs...)
}

// RepeatedAcross checks that no event came in more than one response (code
// duplicate-delivery): the stream-like behaviour MSC4354 describes ("clients will receive a
// sticky event S once") without a MUST, judged as SYNC-5, a SHOULD.
func (s *Stream) RepeatedAcross(ids ...string) error {
	var again []string
	for _, id := range ids {
		responses := map[time.Time]bool{}
		for _, d := range s.Of(id) {
			responses[d.At] = true
		}
		if len(responses) > 1 {
			tl, st := s.Count(id)
			again = append(again, fmt.Sprintf("%s in %d responses (timeline %d, sticky %d)", s.label(id), len(responses), tl, st))
		}
	}
	if len(again) == 0 {
		return nil
	}
	return spec.WithCode("duplicate-delivery", fmt.Errorf("over %s, expected every sticky event in one response only; %d came again in a later response: %s", s.Feed, len(again), strings.Join(again, "; ")))
}

// Label names events for the stream's failure messages and returns the stream.
func (s *Stream) Label(names map[string]string) *Stream {
	maps.Copy(s.Labels, names)
	return s
}

// SyncFor syncs for the whole duration, logging everything: for tests that look afterwards at
// what came (and what did not).
func (s *Stream) SyncFor(t testing.TB, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for left := time.Until(deadline); left > 0; left = time.Until(deadline) {
		s.Next(t, min(left, time.Second))
	}
}
