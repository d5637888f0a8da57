package tests

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/client"
	"stickler/helpers/stickymap"
	"stickler/helpers/timeline"
	"stickler/helpers/wire"
)

// mapType is the event type of ephemeral-map writes in the MAP tests.
const mapType = "org.example.map"

// observer is one client device building its ephemeral map only from what its own server
// delivers, over /sync or Sliding Sync.
type observer struct {
	name string
	c    *client.Client
	feed *client.Stream
	m    *stickymap.Map
	room string
	seen map[string]bool
}

func newObserver(t *testing.T, name string, c *client.Client, kind client.Feed, room string, rule stickymap.Rule) *observer {
	t.Helper()
	label := fmt.Sprintf("%s (%s)", name, kind)
	o := &observer{name: label, c: c, feed: c.NewStream(kind, client.TimelineLimit(5)), room: room, seen: map[string]bool{},
		m: stickymap.New(label, stickymap.Config{Rule: rule})}
	return o
}

// poll performs one sync (long-polling up to timeout) and feeds what arrived into the map.
func (o *observer) poll(t *testing.T, timeout time.Duration) {
	t.Helper()
	r := o.feed.Next(t, timeout)
	now := time.Now()
	var err error
	if o.feed.Feed == client.Sliding {
		_, err = o.m.AddSlidingSync(r, now, o.c.Names)
	} else {
		_, err = o.m.AddSync(r, now, o.c.Names)
	}
	if err != nil {
		t.Errorf("%s: reading a delivery into the map: %v", o.name, err)
	}
	for _, e := range append(o.feed.Timeline(r, o.room), o.feed.Sticky(r, o.room)...) {
		id := e.Get("event_id").Str
		if e.Get("type").Str != mapType || o.seen[id] {
			continue
		}
		o.seen[id] = true
		rem, ok := o.c.Remaining(e)
		if !ok {
			rem = timeline.NoRemaining
		}
		timeline.Seen(t, o.name, id, now, rem)
	}
}

// writer sends map writes and feeds them into the oracle: the map a client would have that
// was delivered every write at once.
type writer struct {
	mu     sync.Mutex
	oracle *stickymap.Map
	names  wire.Names
	sent   []string
}

func newWriter(rule stickymap.Rule, names wire.Names) *writer {
	return &writer{oracle: stickymap.New("oracle (every write, as sent)", stickymap.Config{Rule: rule}), names: names}
}

// write sets key to value (value "" writes a removal: content with only the sticky key).
func (w *writer) write(t *testing.T, c *client.Client, server, room, key, value string, duration time.Duration) string {
	t.Helper()
	content := map[string]any{c.Names.StickyKey: key}
	if value != "" {
		content["value"] = value
	}
	id := c.SendSticky(t, room, mapType, content, duration)
	ev := c.GetEvent(t, room, id)
	if ev.StatusCode != 200 {
		t.Fatalf("reading back the write %s: %s", id, ev)
	}
	origin := ev.JSON.Get("origin_server_ts").Int()
	timeline.Sent(t, server, id, key, origin, duration.Milliseconds())
	// The oracle receives it as sticky, with the remaining time the proposal's formula gives.
	raw := ev.JSON.Raw
	if _, ok := c.Remaining(ev.JSON); !ok {
		rem := min(duration.Milliseconds(), oneHour) - (time.Now().UnixMilli() - origin)
		raw = setRemaining(raw, c.Names, rem)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.oracle.AddClientEvent(gjson.Parse(raw), room, time.Now(), c.Names); err != nil {
		t.Fatalf("oracle: %v", err)
	}
	w.sent = append(w.sent, id)
	return id
}

// setRemaining adds the remaining-time field to an event's unsigned object.
func setRemaining(raw string, n wire.Names, rem int64) string {
	ev := gjson.Parse(raw)
	unsigned := ev.Get("unsigned").Raw
	if unsigned == "" || unsigned == "{}" {
		unsigned = "{}"
	}
	field := fmt.Sprintf("%q:%d", n.RemainingField, rem)
	if unsigned == "{}" {
		unsigned = "{" + field + "}"
	} else {
		unsigned = "{" + field + "," + strings.TrimPrefix(unsigned, "{")
	}
	if ev.Get("unsigned").Exists() {
		return strings.Replace(raw, ev.Get("unsigned").Raw, unsigned, 1)
	}
	return strings.TrimSuffix(strings.TrimSpace(raw), "}") + `,"unsigned":` + unsigned + "}"
}

// winners is a map's state as key -> winning event ID ("" keys absent), for comparisons.
func winners(s stickymap.State) map[string]string {
	out := map[string]string{}
	for k, e := range s {
		out[k.String()] = e.EventID
	}
	return out
}

func sameWinners(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// waitConverged polls every observer until each map equals the oracle's, or fails after wait,
// saying per client where its map differs and why, and marking the divergence for the report.
func waitConverged(t *testing.T, obs []*observer, oracle *stickymap.Map, wait time.Duration, what string) {
	t.Helper()
	err := client.Poll(wait, 0, func(time.Duration) error {
		for _, o := range obs {
			o.poll(t, 200*time.Millisecond)
		}
		want := winners(oracle.State())
		var off []string
		for _, o := range obs {
			if !sameWinners(winners(o.m.State()), want) {
				off = append(off, o.name)
			}
		}
		if len(off) > 0 {
			return fmt.Errorf("the maps of %s differ from the writes that were made", strings.Join(off, ", "))
		}
		return nil
	})
	if err == nil {
		for _, o := range obs {
			timeline.MapState(t, o.name, o.m.Summary())
		}
		return
	}
	t.Errorf("after %v (%s): %v", wait, what, err)
	now := time.Now()
	for _, o := range obs {
		diffs := stickymap.Diff(o.m, oracle, now)
		if len(diffs) == 0 {
			continue
		}
		var why []string
		for _, d := range diffs {
			why = append(why, d.String())
		}
		timeline.Diverged(t, o.name, strings.Join(why, "; "))
		t.Errorf("%s: after %v (%s) its map differs from the writes that were made:\n  %s\n  map: %s",
			o.name, wait, what, strings.Join(why, "\n  "), o.m.Summary())
	}
	t.FailNow()
}
