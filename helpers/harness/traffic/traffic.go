// Package traffic makes servers talk to each other in the background while a test waits: the
// conformance tests provoke a backed-off sender with signed requests (Provoke), the deployer's
// own tests nudge a room with ordinary events (Nudge).
package traffic

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"stickler/helpers/harness/client"
)

// Provoke makes each server of the pairs send a signed federation request (a profile lookup
// of a user on the other server) every second, until stopped. A server that receives a signed
// request from a peer it had backed off from resets its backoff and resumes sending to it at
// once (the proposal: servers push "whilst respecting per-server backoff times"; an inbound
// request is the usual sign a peer is back, and Synapse acts on it: "Marking origin as up").
// Tests that use it say so in a comment and in the log; each such test has a twin that waits
// without it. No room event is sent, so nothing "wakes" a room.
func Provoke(t testing.TB, why string, pairs ...[2]*client.Client) (stop func()) {
	t.Helper()
	var names []string
	for _, p := range pairs {
		names = append(names, fmt.Sprintf("%s asks %s", p[0].ServerName(), p[1].ServerName()))
	}
	t.Logf("PROVOKING the senders instead of waiting out their backoff (%s): %s, every second", why, strings.Join(names, "; "))
	return everySecond(func() {
		for _, p := range pairs {
			quietly(p[0], client.Request{Method: "GET", Path: client.V3("profile", p[1].UserID, "displayname")})
		}
	})
}

// Nudge makes the users send an ordinary event into the room every second until stopped.
// After a fault each new event makes its server try the peer again once its backoff has
// passed, and the first transaction that gets through makes the receiver reset its own backoff
// for the sender. The deployer's own tests bound recovery this way; the conformance tests use
// Provoke, which sends no room event.
func Nudge(room string, users ...*client.Client) (stop func()) {
	return everySecond(func() {
		for _, u := range users {
			quietly(u, client.Request{Method: "PUT", Path: client.V3("rooms", room, "send", "org.example.nudge", client.TxnID()), Body: map[string]any{}})
		}
	})
}

// everySecond runs do at once and then every second until stop is called.
func everySecond(do func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			do()
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

// quietly makes a request and ignores the outcome: it runs outside the test goroutine and only
// serves to make c's server contact another one.
func quietly(c *client.Client, req client.Request) {
	short := *c
	short.HTTP, short.Debug = shortHTTP, false
	_, _ = short.Try(req)
}

// shortHTTP gives up on a quiet request after 5 s: a stuck one must not hold up the next.
var shortHTTP = &http.Client{Timeout: 5 * time.Second}
