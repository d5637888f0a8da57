package tests

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/client"
)

// stickyWatcher follows a client's /sync and records every delivery of every event of one
// room: in the sticky section or the timeline, with the remaining time and when it came. It
// syncs with set_presence=offline so that watching does not make the server send presence to
// its peers: such traffic would be an inbound request that provokes a backed-off sender.
type stickyWatcher struct {
	c          *client.Client
	room       string
	since      string
	Filter     string // sync filter (inline JSON)
	Deliveries []delivery
}

type delivery struct {
	EventID   string
	InSticky  bool  // sticky section (else timeline)
	Remaining int64 // -1 when the field is absent
	At        time.Time
	Raw       string
}

func newStickyWatcher(c *client.Client, room string) *stickyWatcher {
	return &stickyWatcher{c: c, room: room, Filter: `{"room":{"timeline":{"limit":50}}}`}
}

// once performs one /sync (long-polling up to timeout) and records what came.
func (w *stickyWatcher) once(t *testing.T, timeout time.Duration) gjson.Result {
	t.Helper()
	q := url.Values{"timeout": {fmt.Sprint(timeout.Milliseconds())}, "set_presence": {"offline"}, "filter": {w.Filter}}
	if w.since != "" {
		q.Set("since", w.since)
	}
	res := w.c.MustDo(t, client.Request{Method: "GET", Path: client.V3("sync"), Query: q})
	at := time.Now()
	next := res.JSON.Get("next_batch").Str
	if next == "" {
		t.Fatalf("/sync answer has no next_batch: %s", res)
	}
	w.since = next
	record := func(events []gjson.Result, inSticky bool) {
		for _, e := range events {
			rem, ok := w.c.Remaining(e)
			if !ok {
				rem = -1
			}
			w.Deliveries = append(w.Deliveries, delivery{EventID: e.Get("event_id").Str, InSticky: inSticky, Remaining: rem, At: at, Raw: e.Raw})
		}
	}
	record(w.c.Sticky(res.JSON, w.room), true)
	record(client.Timeline(res.JSON, w.room), false)
	return res.JSON
}

// got returns the deliveries of one event.
func (w *stickyWatcher) got(eventID string) []delivery {
	var out []delivery
	for _, d := range w.Deliveries {
		if d.EventID == eventID {
			out = append(out, d)
		}
	}
	return out
}

// stickyDeliveries returns the deliveries of the event that hand it to the client as sticky:
// in the sticky section, or in the timeline with a positive remaining time.
func (w *stickyWatcher) stickyDeliveries(eventID string) []delivery {
	var out []delivery
	for _, d := range w.got(eventID) {
		if d.InSticky || d.Remaining > 0 {
			out = append(out, d)
		}
	}
	return out
}

// until syncs until every event has been delivered (anywhere) or within passes; it returns
// the events still missing (it does not fail the test).
func (w *stickyWatcher) until(t *testing.T, within time.Duration, eventIDs ...string) []string {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var missing []string
		for _, id := range eventIDs {
			if len(w.got(id)) == 0 {
				missing = append(missing, id)
			}
		}
		left := time.Until(deadline)
		if len(missing) == 0 || left <= 0 {
			return missing
		}
		w.once(t, min(left, time.Second))
	}
}

// watch syncs for the whole duration, recording everything.
func (w *stickyWatcher) watch(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for left := time.Until(deadline); left > 0; left = time.Until(deadline) {
		w.once(t, min(left, time.Second))
	}
}

func (w *stickyWatcher) describe(eventID string) string {
	ds := w.got(eventID)
	if len(ds) == 0 {
		return "never delivered"
	}
	var parts []string
	for _, d := range ds {
		where := "timeline"
		if d.InSticky {
			where = "sticky section"
		}
		parts = append(parts, fmt.Sprintf("%s at %s (remaining %d)", where, d.At.Format("15:04:05.000"), d.Remaining))
	}
	return strings.Join(parts, "; ")
}
