package mapclient

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"stickler/helpers/checks/stickymap"
	"stickler/helpers/harness/client"

	"stickler/helpers/harness/wire"
)

// observerHolding is an observer whose map holds value (none for "") under one key, fed by
// hand: Value and ValueSet read only the map.
func observerHolding(name, value string, now time.Time) *Observer {
	m := stickymap.New(name, stickymap.Config{Clock: func() time.Time { return now }})
	if value != "" {
		m.Add(stickymap.Delivery{EventID: "$" + value, Key: Key("!r:hs1", &client.Client{UserID: "@a:hs1"}, "k"),
			OriginTS: now.UnixMilli(), DurationMS: 60000, Remaining: wire.Remaining{MS: 60000, Present: true}, Received: now,
			Content: `{"value":"` + value + `"}`})
	}
	return &Observer{Name: name, Map: m}
}

func TestValueSetWritesNothingFirst(t *testing.T) {
	now := time.UnixMilli(1_700_000_000_000)
	for _, tc := range []struct {
		values []string
		want   string
	}{
		{[]string{""}, "{_}"},
		{[]string{"S'", "", "S"}, "{_, S, S'}"},
		{[]string{"S", "S"}, "{S}"},
		{[]string{"S'", "S"}, "{S, S'}"},
	} {
		var obs []*Observer
		for i, v := range tc.values {
			obs = append(obs, observerHolding(string(rune('a'+i)), v, now))
		}
		if got := ValueSet(obs...); got != tc.want {
			t.Errorf("ValueSet of %q = %s, want %s", tc.values, got, tc.want)
		}
	}
	if got := States([]*Observer{observerHolding("bob", "S", now), observerHolding("carol", "", now)}); got != "bob=S, carol=_" {
		t.Errorf("States = %q, want %q", got, "bob=S, carol=_")
	}
}

// Poll feeds the map from the stream's delivery log, over /sync and Sliding Sync alike: a map
// write in the sticky section (with its remaining time) and one in the timeline without it (a
// write the map judges by the proposal's algorithm) both reach the map, once each however often
// the log holds them, and the observer has seen them.
func TestPollFeedsTheMapFromTheDeliveryLog(t *testing.T) {
	n, _ := wire.Select("unstable")
	now := time.Now().UnixMilli()
	write := func(id, key string, remaining bool) string {
		unsigned := ""
		if remaining {
			unsigned = `,"unsigned":{"` + n.RemainingField + `":50000}`
		}
		return `{"event_id":"` + id + `","sender":"@a:hs1","type":"` + Type + `","origin_server_ts":` + strconv.FormatInt(now, 10) +
			`,"` + n.EventKey + `":{"duration_ms":60000},"content":{"` + n.StickyKey + `":"` + key + `","value":"v"}` + unsigned + `}`
	}
	const room = "!r:hs1"
	bodies := map[client.Feed]string{
		client.Sync: `{"next_batch":"s1","rooms":{"join":{"` + room + `":{"timeline":{"events":[` + write("$t", "k2", false) + `]},"` +
			n.SyncSection + `":{"events":[` + write("$s", "k1", true) + `]}}}}}`,
		client.Sliding: `{"pos":"p1","rooms":{"` + room + `":{"timeline":[` + write("$t", "k2", false) + `]}},"extensions":{"` +
			n.SlidingExtension + `":{"next_batch":"n1","rooms":{"` + room + `":{"events":[` + write("$s", "k1", true) + `]}}}}}`,
	}
	for feed, body := range bodies {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, body) }))
		defer srv.Close()
		c := &client.Client{BaseURL: srv.URL, UserID: "@a:hs1", Names: n}
		o := NewObserver("alice", c, feed, room, stickymap.RuleLatest)
		o.Poll(t, 0)
		o.Poll(t, 0) // the same deliveries again: the map is fed each delivery once per poll, idempotently
		if len(o.Map.State()) != 2 || !o.Seen("$s") || !o.Seen("$t") {
			t.Errorf("%s: want both writes in the map and seen; map %s", feed, o.Map.Summary())
		}
		if e, ok := o.Map.Get(Key(room, c, "k1")); !ok || !strings.Contains(o.Map.Explain(Key(room, c, "k1")), "via "+string(feed)) || e.EventID != "$s" {
			t.Errorf("%s: want $s for k1 with where it came from: %s", feed, o.Map.Explain(Key(room, c, "k1")))
		}
	}
}
