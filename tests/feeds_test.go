package tests

import (
	"strconv"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/client"
	"stickler/helpers/spec"
)

// feed is one way a client receives sticky events: /sync (sticky section of each joined room)
// or Simplified Sliding Sync (the MSC4480 extension). Sync-shaped tests run over both.
type feed interface {
	Kind() string
	Next(t *testing.T, timeout time.Duration) gjson.Result
	Sticky(r gjson.Result, room string) []gjson.Result
	Timeline(r gjson.Result, room string) []gjson.Result
}

type syncFeed struct {
	c *client.Client
	s *client.Syncer
}

func (f *syncFeed) Kind() string { return "sync" }
func (f *syncFeed) Next(t *testing.T, timeout time.Duration) gjson.Result {
	t.Helper()
	return f.s.Once(t, timeout)
}
func (f *syncFeed) Sticky(r gjson.Result, room string) []gjson.Result { return f.c.Sticky(r, room) }
func (f *syncFeed) Timeline(r gjson.Result, room string) []gjson.Result {
	return client.Timeline(r, room)
}

type slidingFeed struct{ s *client.SlidingSyncer }

func (f *slidingFeed) Kind() string { return "sliding" }
func (f *slidingFeed) Next(t *testing.T, timeout time.Duration) gjson.Result {
	t.Helper()
	return f.s.Once(t, timeout)
}
func (f *slidingFeed) Sticky(r gjson.Result, room string) []gjson.Result {
	return f.s.Sticky(r, room)
}
func (f *slidingFeed) Timeline(r gjson.Result, room string) []gjson.Result {
	return f.s.Timeline(r, room)
}

// newFeed makes a fresh feed (starting with an initial sync) of the given kind.
func newFeed(kind string, c *client.Client, timelineLimit int) feed {
	if kind == "sliding" {
		return &slidingFeed{c.NewSlidingSyncer(timelineLimit)}
	}
	filter := `{"room":{"timeline":{"limit":` + strconv.Itoa(timelineLimit) + `}}}`
	return &syncFeed{c: c, s: c.NewSyncer(filter)}
}

// overBoth runs body twice as subtests: over /sync covering syncIDs, and over Sliding Sync
// covering slidingIDs. Where no SSS requirement states the rule, the Sliding Sync run names
// the /sync one; its test name ("/sliding") says which feed failed.
func overBoth(t *testing.T, syncIDs, slidingIDs []string, body func(t *testing.T, kind string)) {
	t.Helper()
	t.Run("sync", func(t *testing.T) {
		spec.Covers(t, syncIDs...)
		t.Parallel()
		body(t, "sync")
	})
	t.Run("sliding", func(t *testing.T) {
		spec.Covers(t, slidingIDs...)
		t.Parallel()
		body(t, "sliding")
	})
}

// waitFeed advances the feed until check accepts a response, failing after wait with what was
// awaited and the last response.
func waitFeed(t *testing.T, f feed, wait time.Duration, what string, check func(gjson.Result) bool) gjson.Result {
	t.Helper()
	return client.PollUntil(t, wait, what+" over "+f.Kind(), func(poll time.Duration) gjson.Result { return f.Next(t, poll) }, check)
}

// deliveries counts, over every response a feed gave, how often each event appeared in a
// room's timeline or sticky section.
type deliveries struct {
	timeline, sticky map[string]int
}

func newDeliveries() *deliveries {
	return &deliveries{timeline: map[string]int{}, sticky: map[string]int{}}
}

func (d *deliveries) add(f feed, r gjson.Result, room string) {
	for _, e := range f.Timeline(r, room) {
		d.timeline[e.Get("event_id").Str]++
	}
	for _, e := range f.Sticky(r, room) {
		d.sticky[e.Get("event_id").Str]++
	}
}

func (d *deliveries) total(id string) int { return d.timeline[id] + d.sticky[id] }

// all says whether every one of the events was delivered at least once.
func (d *deliveries) all(ids []string) bool {
	for _, id := range ids {
		if d.total(id) == 0 {
			return false
		}
	}
	return true
}

// onceEach fails the test for every event not delivered exactly once.
func (d *deliveries) onceEach(t *testing.T, ids []string, over string) {
	t.Helper()
	for _, id := range ids {
		if n := d.total(id); n != 1 {
			t.Errorf("over %s, sticky event %s was delivered %d times (timeline %d, sticky section %d), expected exactly once",
				over, id, n, d.timeline[id], d.sticky[id])
		}
	}
}
