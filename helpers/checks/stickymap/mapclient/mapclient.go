// Package mapclient drives the ephemeral-map model (package stickymap) with real clients:
// observers build their maps only from what their own server delivers, over /sync or Sliding
// Sync; a writer sends map writes and keeps the oracle, the map a client would have that was
// given every write at once. The MAP tests are scenarios over these.
//
// It is a package of its own so that the model stays free of the harness: stickymap needs
// only the wire names, mapclient adds the client and the report's timeline.
package mapclient

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/checks/stickymap"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/timeline"
)

// Type is the event type of the map writes.
const Type = "org.example.map"

// Key is the map key of sender's writes of key in room.
func Key(room string, sender *client.Client, key string) stickymap.Key {
	return stickymap.Key{RoomID: room, Sender: sender.UserID, Type: Type, StickyKey: key}
}

// Observer is one client device building its ephemeral map only from what its own server
// delivers, over /sync or Sliding Sync.
type Observer struct {
	Name   string
	Client *client.Client
	Map    *stickymap.Map
	feed   *client.Stream
	fed    int // how much of feed.Log the map has been fed
	room   string
	seen   map[string]bool
}

// NewObserver follows room for c over the given feed, into a map under rule. It takes no sync
// yet: Poll does.
func NewObserver(name string, c *client.Client, kind client.Feed, room string, rule stickymap.Rule) *Observer {
	label := fmt.Sprintf("%s (%s)", name, kind)
	return &Observer{Name: label, Client: c, feed: c.NewStream(kind, client.TimelineLimit(5)), room: room, seen: map[string]bool{},
		Map: stickymap.New(label, stickymap.Config{Rule: rule})}
}

// Observers makes two observers per user (users[i] on the server named servers[i]): the
// user's device over /sync and a second device over Sliding Sync, and takes their initial
// syncs.
func Observers(t *testing.T, users []*client.Client, servers []string, room string, rule stickymap.Rule) []*Observer {
	t.Helper()
	var obs []*Observer
	for i, u := range users {
		second := u.Login(t)
		obs = append(obs,
			NewObserver(fmt.Sprintf("%s dev1@%s", client.Localpart(u.UserID), servers[i]), u, client.Sync, room, rule),
			NewObserver(fmt.Sprintf("%s dev2@%s", client.Localpart(u.UserID), servers[i]), second, client.Sliding, room, rule))
	}
	for _, o := range obs {
		o.Poll(t, 0)
	}
	return obs
}

// Seen says whether the observer was delivered the event (in the timeline or as sticky).
func (o *Observer) Seen(id string) bool { return o.seen[id] }

// Value is the value the observer's map holds for any key ("_" for nothing), as the
// proposal's diagrams write it.
func (o *Observer) Value() string {
	v := "_"
	for _, e := range o.Map.State() {
		v = gjson.Get(e.Content, "value").Str
	}
	return v
}

// Poll performs one sync (long-polling up to timeout) and feeds what arrived into the map:
// the stream's delivery log since the last poll (the stream read the response once; the map
// takes its deliveries, whatever the feed), each through stickymap's AddDelivered.
func (o *Observer) Poll(t *testing.T, timeout time.Duration) {
	t.Helper()
	o.feed.Next(t, timeout)
	if o.fed > len(o.feed.Log) { // the stream started over: feed it all again (Add is idempotent)
		o.fed = 0
	}
	var firstErr error
	for _, d := range o.feed.Log[o.fed:] {
		if _, err := o.Map.AddDelivered(d.Event, d.Room, d.At, via(o.feed.Feed, d.Section), o.Client.Names); err != nil && firstErr == nil {
			firstErr = err
		}
		if d.Room != o.room || d.Event.Get("type").Str != Type || o.seen[d.EventID] {
			continue
		}
		o.seen[d.EventID] = true
		timeline.Seen(t, o.Name, d.EventID, d.At, d.Remaining)
	}
	o.fed = len(o.feed.Log)
	if firstErr != nil {
		t.Errorf("%s: reading a delivery into the map: %v", o.Name, firstErr)
	}
}

// via names where a delivery came, for the map's explanations ("sync sticky section",
// "sliding sync extension").
func via(feed client.Feed, where client.Section) string {
	if feed == client.Sliding {
		return "sliding sync " + string(where)
	}
	return "sync " + string(where)
}

// Writer sends map writes and feeds them into the oracle: the map a client would have that
// was delivered every write at once.
type Writer struct {
	mu     sync.Mutex
	oracle *stickymap.Map
	sent   []string
}

// NewWriter starts an empty oracle under rule.
func NewWriter(rule stickymap.Rule) *Writer {
	return &Writer{oracle: stickymap.New("oracle (every write, as sent)", stickymap.Config{Rule: rule})}
}

// Oracle is the map of every write so far.
func (w *Writer) Oracle() *stickymap.Map { return w.oracle }

// Sent is how many writes were made.
func (w *Writer) Sent() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.sent)
}

// Write has c (a client of the server named server) set key to value in room for duration,
// and returns the event ID; value "" writes a removal (content with only the sticky key).
func (w *Writer) Write(t *testing.T, c *client.Client, server, room, key, value string, duration time.Duration) string {
	t.Helper()
	content := map[string]any{c.Names.StickyKey: key}
	if value != "" {
		content["value"] = value
	}
	id := c.SendSticky(t, room, Type, content, duration)
	ev := c.GetEvent(t, room, id)
	if ev.StatusCode != 200 {
		t.Fatalf("reading back the write %s: %s", id, ev)
	}
	timeline.Sent(t, server, id, key, client.OriginTS(ev.JSON).UnixMilli(), duration.Milliseconds())
	// The oracle receives it as sticky: with the server's remaining time, or where the server
	// leaves that field out, with the time the proposal's algorithm gives.
	d, err := stickymap.FromClientEvent(ev.JSON, room, time.Now(), c.Names)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.oracle.Add(stickymap.ByAlgorithm(d))
	w.sent = append(w.sent, id)
	return id
}

// winners is a map's state as key -> winning event ID, for comparisons.
func winners(s stickymap.State) map[string]string {
	out := map[string]string{}
	for k, e := range s {
		out[k.String()] = e.EventID
	}
	return out
}

// States describes each observer's value ("_" for nothing).
func States(obs []*Observer) string {
	var parts []string
	for _, o := range obs {
		parts = append(parts, fmt.Sprintf("%s=%s", o.Name, o.Value()))
	}
	return strings.Join(parts, ", ")
}

// ValueSet is the set of values the observers' maps hold, as in the proposal's diagrams:
// "{_, S}".
func ValueSet(obs ...*Observer) string {
	set := map[string]bool{}
	for _, o := range obs {
		set[o.Value()] = true
	}
	vs := slices.Sorted(maps.Keys(set))
	if set["_"] { // "_" first, as the proposal writes it
		vs = append([]string{"_"}, slices.DeleteFunc(vs, func(v string) bool { return v == "_" })...)
	}
	return "{" + strings.Join(vs, ", ") + "}"
}

// WaitSeen polls the observers until each was delivered the event.
func WaitSeen(t *testing.T, obs []*Observer, id string) {
	t.Helper()
	client.Wait(t, client.DefaultWait, "every client to be delivered "+id, 0, func(time.Duration) error {
		var missing []string
		for _, o := range obs {
			if !o.seen[id] {
				o.Poll(t, 500*time.Millisecond)
			}
			if !o.seen[id] {
				missing = append(missing, o.Name)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("not yet delivered to %s", strings.Join(missing, ", "))
		}
		return nil
	})
}

// Converged polls every observer until each map equals the oracle's, and returns nil, or
// after wait an error that says per client where its map differs and why; it marks each
// divergence for the report. The caller decides what a failure means (a verdict with its
// code, or a control's failure without one).
func Converged(t *testing.T, obs []*Observer, oracle *stickymap.Map, wait time.Duration, what string) error {
	t.Helper()
	err := client.Poll(wait, 0, func(time.Duration) error {
		for _, o := range obs {
			o.Poll(t, 200*time.Millisecond)
		}
		want := winners(oracle.State())
		var off []string
		for _, o := range obs {
			if !maps.Equal(winners(o.Map.State()), want) {
				off = append(off, o.Name)
			}
		}
		if len(off) > 0 {
			return fmt.Errorf("the maps of %s differ from the writes that were made", strings.Join(off, ", "))
		}
		return nil
	})
	if err == nil {
		for _, o := range obs {
			timeline.MapState(t, o.Name, o.Map.Summary())
		}
		return nil
	}
	msg := fmt.Sprintf("after %v (%s): %v", wait, what, err)
	now := time.Now()
	for _, o := range obs {
		diffs := stickymap.Diff(o.Map, oracle, now)
		if len(diffs) == 0 {
			continue
		}
		var why []string
		for _, d := range diffs {
			why = append(why, d.String())
		}
		timeline.Diverged(t, o.Name, strings.Join(why, "; "))
		msg += fmt.Sprintf("\n%s: its map differs from the writes that were made:\n  %s\n  map: %s",
			o.Name, strings.Join(why, "\n  "), o.Map.Summary())
	}
	return errors.New(msg)
}
