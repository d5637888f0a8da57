package mapclient

import (
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
