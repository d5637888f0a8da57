package tests

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/client"
	"stickler/helpers/deploy"
)

// Blueprints for federation tests: n federating servers, one user on each and a room created
// on hs1 that every user has joined (and every server has seen every join).
//
// Two kinds, and the choice matters:
//   - sharedFederation uses the process-wide deployment of n servers (deploy.Shared), with
//     fresh users and a fresh room, so it costs well under a second. Tests that need
//     federation working use it. Nothing may cut these servers off.
//   - isolatedFederation starts a deployment of its own (deploy.Deploy) that the test may
//     partition, pause or crash at will; it costs a server start (about 9 s for two servers on
//     an idle two-core machine). Every test that injects a fault uses it, so a fault never
//     touches a server that another test relies on.

// fedBlueprint is a ready federated room.
type fedBlueprint struct {
	D     *deploy.Deployment
	Room  string
	Users []*client.Client // Users[i] is on D.Servers[i]
}

// S returns server i (0-based, matching Users).
func (b *fedBlueprint) S(i int) *deploy.Server { return b.D.Servers[i] }

func sharedFederation(t *testing.T, n int, createBody map[string]any) *fedBlueprint {
	t.Helper()
	start := time.Now()
	b := fedSetup(t, sharedDeployment(t, n), createBody)
	t.Logf("blueprint: shared %d-server federation ready in %v", n, time.Since(start).Round(time.Millisecond))
	return b
}

// sharedDeployment is deploy.Shared (server starts are queued by the deployer itself, which
// bounds how many start at once).
func sharedDeployment(t *testing.T, n int) *deploy.Deployment {
	t.Helper()
	return deploy.Shared(t, n)
}

func isolatedFederation(t *testing.T, n int, createBody map[string]any) *fedBlueprint {
	t.Helper()
	start := time.Now()
	b := fedSetup(t, deploy.Deploy(t, n), createBody)
	t.Logf("blueprint: isolated %d-server federation ready in %v", n, time.Since(start).Round(time.Millisecond))
	return b
}

func fedSetup(t *testing.T, d *deploy.Deployment, createBody map[string]any) *fedBlueprint {
	t.Helper()
	for _, s := range d.Servers {
		requireSticky(t, s)
	}
	if createBody == nil {
		createBody = client.PublicRoom("")
	}
	b := &fedBlueprint{D: d}
	for i, s := range d.Servers {
		u := newUser(t, s, "user"+s.Name)
		b.Users = append(b.Users, u)
		if i == 0 {
			b.Room = u.CreateRoom(t, createBody)
		} else {
			u.JoinRoom(t, b.Room, d.Servers[0].Name)
		}
	}
	for i := range b.Users {
		for _, u := range b.Users {
			waitMembership(t, b.Users[i], b.Room, u.UserID, "join", client.DefaultWait)
		}
	}
	return b
}

// waitMembership polls c's server until it holds the given membership for userID in the room.
func waitMembership(t *testing.T, c *client.Client, room, userID, membership string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		res := c.Do(t, client.Request{Method: "GET", Path: client.V3("rooms", room, "state", "m.room.member", userID)})
		if res.StatusCode == 200 && res.JSON.Get("membership").Str == membership {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("expected %s's server to see %s with membership %q in %s within %v; last answer: %s", c.UserID, userID, membership, room, within, res)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// provoker makes each server of the pairs send a signed federation request (a profile lookup
// of a user on the other server) every second, until stopped. A server that receives a signed
// request from a peer it had backed off from resets its backoff and resumes sending to it at
// once (the proposal: servers push "whilst respecting per-server backoff times"; an inbound
// request is the usual sign a peer is back, and Synapse acts on it: "Marking origin as up").
// Tests that use it say so in a comment and in the log; each such test has a twin that waits
// without it. No room event is sent, so nothing "wakes" a room.
func provoker(t *testing.T, why string, pairs ...[2]*client.Client) (stop func()) {
	t.Helper()
	var names []string
	for _, p := range pairs {
		names = append(names, fmt.Sprintf("%s asks %s", p[0].ServerName(), p[1].ServerName()))
	}
	t.Logf("PROVOKING the senders instead of waiting out their backoff (%s): %s, every second", why, strings.Join(names, "; "))
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			for _, p := range pairs {
				profileQuietly(p[0], p[1].UserID)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	var once sync.Once
	return func() { once.Do(func() { close(done); wg.Wait() }) }
}

// profileQuietly looks up a display name through c's server, ignoring the outcome (it runs
// outside the test goroutine and only serves to make c's server contact the other one).
func profileQuietly(c *client.Client, userID string) {
	req, err := http.NewRequest("GET", c.BaseURL+"/_matrix/client/v3/profile/"+url.PathEscape(userID)+"/displayname", nil)
	if err != nil {
		return
	}
	req.Header.Set("Authorization", "Bearer "+c.AccessToken)
	hc := &http.Client{Timeout: 5 * time.Second}
	if res, err := hc.Do(req); err == nil {
		res.Body.Close()
	}
}

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
