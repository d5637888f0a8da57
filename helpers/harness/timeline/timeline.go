// Package timeline lets a test record what happened over time (which server sent which sticky
// event, when each client saw it, when a server was cut off, paused or down, what each
// client's map held, and which client diverged) so that the report can draw it. Each call
// writes one marker line (package marker, kind timeline) into the test log,
//
//	STICKLER: {"kind":"timeline","timeline":{"kind":"seen","at":1767355200123,"client":"bob@hs2","event":"$abc","remaining_ms":4877}}
//
// which the report reads back from the `go test -json` stream, like spec.Covers. Times are
// Unix milliseconds. Recording never fails a test.
package timeline

import (
	"encoding/json"
	"testing"
	"time"

	"stickler/helpers/harness/wire"
	"stickler/helpers/spec/marker"
)

// Kind says what a record is.
type Kind string

const (
	KindSent     Kind = "sent"     // a sticky event was created
	KindSeen     Kind = "seen"     // a client was delivered an event
	KindFault    Kind = "fault"    // a server was cut off, paused or down for a span
	KindMap      Kind = "map"      // a client's map at one instant
	KindDiverged Kind = "diverged" // a client's map differs from what it should be
	KindMark     Kind = "mark"     // a named instant (the proposal's "A" and "B")
)

// FaultKind names the kind of outage in a Fault span.
type FaultKind string

const (
	Partition FaultKind = "partition" // cut off from the other servers (clients still reach it)
	Pause     FaultKind = "pause"     // frozen: requests hang
	Crash     FaultKind = "crash"     // stopped, then started again with its data
)

// Record is one timeline line.
type Record struct {
	Kind        Kind      `json:"kind"`
	At          int64     `json:"at"`           // Unix ms: origin_server_ts (sent), receipt (seen), span start (fault), instant otherwise
	To          int64     `json:"to,omitempty"` // Unix ms: span end (fault)
	Server      string    `json:"server,omitempty"`
	Client      string    `json:"client,omitempty"`
	Event       string    `json:"event,omitempty"`
	Key         string    `json:"key,omitempty"`
	DurationMS  int64     `json:"duration_ms,omitempty"`
	RemainingMS *int64    `json:"remaining_ms,omitempty"` // seen: nil when the field was absent
	Fault       FaultKind `json:"fault,omitempty"`
	Text        string    `json:"text,omitempty"`
}

// Sent records that server created a sticky event: its ID, the map key it writes (any label,
// e.g. "alice/LAPTOP"), its origin_server_ts (Unix ms) and its duration_ms.
func Sent(t testing.TB, server, eventID, key string, originTS, durationMS int64) {
	t.Helper()
	log(t, Record{Kind: KindSent, At: originTS, Server: server, Event: eventID, Key: key, DurationMS: durationMS})
}

// Seen records that a client was delivered an event at a (local) time, with the
// remaining-time field it carried (none: delivered, but not as sticky).
func Seen(t testing.TB, client, eventID string, at time.Time, remaining wire.Remaining) {
	t.Helper()
	r := Record{Kind: KindSeen, At: at.UnixMilli(), Client: client, Event: eventID}
	if remaining.Present {
		r.RemainingMS = &remaining.MS
	}
	log(t, r)
}

// Fault records that a server was cut off, paused or down from one time to another.
func Fault(t testing.TB, server string, kind FaultKind, from, to time.Time) {
	t.Helper()
	log(t, Record{Kind: KindFault, At: from.UnixMilli(), To: to.UnixMilli(), Server: server, Fault: kind})
}

// Begin starts a fault span now and returns the function that ends and records it:
//
//	end := timeline.Begin(t, "hs2", timeline.Partition)
//	... hs2 cut off ...
//	end()
func Begin(t testing.TB, server string, kind FaultKind) (end func()) {
	from := time.Now()
	done := false
	return func() {
		t.Helper()
		if !done {
			done = true
			Fault(t, server, kind, from, time.Now())
		}
	}
}

// MapState records what a client's map holds now, as a short summary (stickymap's Summary).
func MapState(t testing.TB, client, summary string) {
	t.Helper()
	clientNote(t, KindMap, client, time.Now(), summary)
}

// MapStateAt is MapState at a given time (for tests that read the map on a fake clock).
func MapStateAt(t testing.TB, client string, at time.Time, summary string) {
	t.Helper()
	clientNote(t, KindMap, client, at, summary)
}

// Diverged records that a client's map is not what it should be, and why, in words a reader
// of the report understands without the logs (stickymap's Diff gives them).
func Diverged(t testing.TB, client, why string) {
	t.Helper()
	clientNote(t, KindDiverged, client, time.Now(), why)
}

// DivergedAt is Diverged at a given time.
func DivergedAt(t testing.TB, client string, at time.Time, why string) {
	t.Helper()
	clientNote(t, KindDiverged, client, at, why)
}

// clientNote records a text about one client at one instant.
func clientNote(t testing.TB, kind Kind, client string, at time.Time, text string) {
	t.Helper()
	log(t, Record{Kind: kind, At: at.UnixMilli(), Client: client, Text: text})
}

// Mark records a named instant, drawn as a vertical line (e.g. the proposal's times A and B).
func Mark(t testing.TB, label string, at time.Time) {
	t.Helper()
	log(t, Record{Kind: KindMark, At: at.UnixMilli(), Text: label})
}

func log(t testing.TB, r Record) {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil { // cannot happen for these field types
		t.Logf("timeline: %v", err)
		return
	}
	marker.Log(t, marker.Record{Kind: marker.Timeline, Timeline: b})
}

// FromMarker reads the timeline record a marker record of kind timeline carries; ok is false
// for any other marker.
func FromMarker(m marker.Record) (r Record, ok bool) {
	if m.Kind != marker.Timeline {
		return Record{}, false
	}
	if err := json.Unmarshal(m.Timeline, &r); err != nil || r.Kind == "" {
		return Record{}, false
	}
	return r, true
}

// Parse reads a record from one line of test output; ok is false when the line holds none.
func Parse(line string) (r Record, ok bool) {
	m, ok := marker.Parse(line)
	if !ok {
		return Record{}, false
	}
	return FromMarker(m)
}
