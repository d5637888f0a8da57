package tests

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/blueprints"
	"stickler/helpers/checks/sticky"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
)

// COMPAT: rooms shared by servers that implement sticky events and servers that do not
// (STICKLER_SERVER=mixed: hs1 and hs3 Synapse, hs2 Dendrite). Roles are read from /versions
// (blueprints.Classify); a deployment without the mix skips these tests, saying which kind of
// server it lacks.

// A sticky event from an implementing server reaches a non-implementing server's client as an
// ordinary timeline event, with its content, and the server keeps it (GET /event). An ordinary
// event sent right after it tells "never sent/received" (neither arrives) from "rejected or
// soft-failed for the extra key" (only the later one arrives: its prev event is the sticky one,
// so a server that accepted it has received or fetched the sticky one).
func TestCompatStickyReachesNonImplementing(t *testing.T) {
	spec.Covers(t, "COMPAT-1")
	t.Parallel()
	b, roles := blueprints.MixedFederation(t, 3, 1, 1)
	alice, bob := b.UserOn(roles.Implementing[0]), b.UserOn(roles.NonImplementing[0])
	w := bob.Follow(t)
	body := fmt.Sprintf("sticky from %s to %s", alice.ServerName(), bob.ServerName())
	ev := alice.SendSticky(t, b.Room, blueprints.StickyType, map[string]any{"body": body}, blueprints.LongSticky)
	after := alice.SendText(t, b.Room, "ordinary event after the sticky one")
	w.Label(map[string]string{ev: "the sticky event", after: "the ordinary event sent after it"})
	if err := w.SyncUntil(t, client.DefaultWait, client.Delivered(ev, after)); err != nil {
		held := bob.GetEvent(t, b.Room, ev)
		if len(w.Of(after)) > 0 {
			spec.Fatalf(t, "rejected-by-non-implementing", "expected %s's sticky event %s to reach %s on the non-implementing %s as an ordinary event; the ordinary event sent after it arrived, the sticky one did not within %v (rejected or soft-failed for its %s key?): %v; GET /event there answers %s",
				alice.ServerName(), ev, bob.UserID, bob.ServerName(), client.DefaultWait, bob.Names.EventKey, err, held)
		}
		spec.Fatalf(t, "not-received-by-non-implementing", "expected %s's sticky event %s and the ordinary event after it to reach %s on the non-implementing %s within %v: %v; GET /event there answers %s",
			alice.ServerName(), ev, bob.UserID, bob.ServerName(), client.DefaultWait, err, held)
	}
	got := w.Of(ev)[0]
	if got.Section != client.InTimeline {
		spec.Errorf(t, "not-ordinary-timeline-event", "expected the non-implementing server to deliver the sticky event in the room timeline, it came in %s: %s", got.Section, got.Event.Raw)
	}
	if got.Event.Get("type").Str != blueprints.StickyType || got.Event.Get("content.body").Str != body {
		spec.Errorf(t, "redacted-by-non-implementing", "expected %s's client to see the event with type %q and content.body %q (a stripped content means the server redacted it, failing its hash check); it sees %s",
			bob.UserID, blueprints.StickyType, body, got.Event.Raw)
	}
	held := bob.GetEvent(t, b.Room, ev)
	if held.StatusCode != 200 || held.JSON.Get("content.body").Str != body {
		spec.Errorf(t, "rejected-by-non-implementing", "expected the non-implementing %s to keep the sticky event %s with its content (GET /event 200); it answers %s", bob.ServerName(), ev, held)
	}
	// Not required: a non-implementing server's client API may drop unknown top-level keys.
	// What it shows is reported; whether the key survives on the wire is COMPAT-3's check.
	if dur, ok := bob.StickyDuration(held.JSON); ok {
		t.Logf("observed: the non-implementing %s serves the event to its client with the %s key intact: %s", bob.ServerName(), bob.Names.EventKey, dur.Raw)
	} else {
		t.Logf("observed: the non-implementing %s serves the event to its client without the %s key (its client format keeps no unknown top-level key): %s", bob.ServerName(), bob.Names.EventKey, client.Truncate(held.JSON.Raw, 600))
	}
}

// In a room with a non-implementing server, an implementing server delivers that server's
// ordinary events to its users, and still treats its own sticky events as sticky for its own
// users and for a second implementing server: in a fresh sync whose one-event timeline holds a
// later filler, the event is in the sticky section with a remaining time.
func TestCompatImplementingKeepsSticky(t *testing.T) {
	spec.Covers(t, "COMPAT-2")
	t.Parallel()
	b, roles := blueprints.MixedFederation(t, 3, 2, 1)
	alice, carol := b.UserOn(roles.Implementing[0]), b.UserOn(roles.Implementing[1])
	bob := b.UserOn(roles.NonImplementing[0])
	wa, wc := alice.Follow(t), carol.Follow(t)

	plain := bob.SendText(t, b.Room, "ordinary event from the non-implementing server")
	for _, w := range []*client.Stream{wa, wc} {
		w.Label(map[string]string{plain: "the non-implementing server's event"})
		if err := w.SyncUntil(t, client.DefaultWait, client.Delivered(plain)); err != nil {
			spec.Errorf(t, "lost-non-implementing-event", "expected the ordinary event %s of %s on the non-implementing %s to reach %s within %v: %v",
				plain, bob.UserID, bob.ServerName(), w.Client().UserID, client.DefaultWait, err)
		}
	}

	// Sent after the non-implementing server's event, so it sits on top of it in the DAG.
	ev := alice.SendSticky(t, b.Room, blueprints.StickyType, map[string]any{"body": "sticky in a mixed room"}, blueprints.LongSticky)
	sent := time.Now()
	checks := []struct {
		w       *client.Stream
		code    string
		who     string
		arrived bool
	}{
		{w: wa, code: "not-sticky-for-own-clients", who: "its own user"},
		{w: wc, code: "not-sticky-on-implementing-peer", who: "the other implementing server's user"},
	}
	// Both wait before either sends the filler of a fresh sync: a later event would make the
	// other server fetch the sticky one as a missing prev event and hide a missing push.
	for i := range checks {
		c := &checks[i]
		c.w.Label(map[string]string{ev: "the sticky event"})
		if err := c.w.SyncUntil(t, client.DefaultWait, client.Delivered(ev)); err != nil {
			spec.Errorf(t, c.code, "expected %s's sticky event %s to reach %s (%s) within %v, with nothing sent after it, in a room with the non-implementing %s: %v",
				alice.ServerName(), ev, c.w.Client().UserID, c.who, client.DefaultWait, bob.ServerName(), err)
			continue
		}
		c.arrived = true
	}
	for _, c := range checks {
		if !c.arrived {
			continue
		}
		user := c.w.Client()
		got, r := sticky.Now(t, user, b.Room, ev)
		if !got.Exists() {
			spec.Errorf(t, c.code, "expected %s's sticky event %s in the %s section of a fresh sync of %s (%s) in a room with the non-implementing %s: it is not there; the room in that response: %s",
				alice.ServerName(), ev, user.Names.SyncSection, user.UserID, c.who, bob.ServerName(), client.Truncate(r.Get(wire.Path("rooms.join", b.Room)).Raw, 1500))
			continue
		}
		checkRemainingWithin(t, user, got, blueprints.LongSticky, sent)
	}
}

// An implementing server that learns of a sticky event only through a non-implementing one
// still verifies it and treats it as sticky. The learner's federation with the origin is cut
// (PartitionFrom: both still federate with the relay), and it learns the origin's sticky event
// in one of two ways, one room each:
//   - missing-events: the learner's user is in the room (joined through the relay); the sticky
//     event reaches only the relay, whose user then sends an ordinary event on top of it, so
//     the learner fetches the missing sticky event from the relay.
//   - join-after: the sticky event is sent before the learner's user joins through the relay;
//     paging back (/messages) makes the learner backfill it from the relay.
//
// Controls: before the cut the origin and the learner reach each other (which also gives the
// learner the origin's signing key: the image has no key notary), and from the cut to the end
// neither does. A key or content stripped on the way fails the hash check (the learner redacts
// the event) or the stickiness.
func TestCompatStickyThroughNonImplementing(t *testing.T) {
	spec.Covers(t, "COMPAT-3")
	t.Parallel()
	blueprints.Classify(t, deploy.Shared(t, 3)).RequireMix(t, 2, 1) // skip before deploying
	d := deploy.Deploy(t, 3)
	roles := blueprints.Classify(t, d)
	roles.RequireMix(t, 2, 1)
	origin, relay, learner := roles.Implementing[0], roles.NonImplementing[0], roles.Implementing[1]
	t.Logf("origin %s (%s), relay %s (%s), learner %s (%s)", origin.Name, origin.Image, relay.Name, relay.Image, learner.Name, learner.Image)

	alice := blueprints.NewUser(t, origin, "alice")
	bob := blueprints.NewUser(t, relay, "bob")
	carol := blueprints.NewUser(t, learner, "carol")
	cutLearner(t, alice, carol, origin, learner, relay)

	// room makes a room on the origin that the relay's user has joined.
	room := func(t *testing.T) string {
		r := alice.CreateRoom(t, blueprints.MixedRoomBody())
		bob.JoinRoom(t, r, origin.Name)
		alice.WaitMembership(t, r, bob.UserID, "join", client.DefaultWait)
		return r
	}
	// joinThroughRelay joins the learner's user through the relay only.
	joinThroughRelay := func(t *testing.T, r string) {
		carol.JoinRoom(t, r, relay.Name)
		for _, who := range []string{alice.UserID, bob.UserID} {
			carol.WaitMembership(t, r, who, "join", client.DefaultWait)
		}
		alice.WaitMembership(t, r, carol.UserID, "join", client.DefaultWait) // the relay sent it
	}
	body := "sticky event that reaches the learner only through the non-implementing server"

	t.Run("missing-events", func(t *testing.T) {
		r := room(t)
		joinThroughRelay(t, r)
		wc := carol.Follow(t)
		ev := alice.SendSticky(t, r, blueprints.StickyType, map[string]any{"body": body}, blueprints.LongSticky)
		sent := time.Now()
		relayHolds(t, bob, r, ev)
		if res := carol.GetEvent(t, r, ev); res.StatusCode == 200 {
			spec.ControlFailed(t, "%s holds %s before %s sent anything on top of it, so it did not come only through %s: %s", learner.Name, ev, relay.Name, relay.Name, res)
		}
		after := bob.SendText(t, r, "ordinary event on top of the sticky one")
		wc.Label(map[string]string{after: "the relay's ordinary event", ev: "the origin's sticky event"})
		if err := wc.SyncUntil(t, client.DefaultWait, client.Delivered(after)); err != nil {
			spec.Fatalf(t, "lost-non-implementing-event", "expected %s's ordinary event %s to reach %s on %s within %v: %v", relay.Name, after, carol.UserID, learner.Name, client.DefaultWait, err)
		}
		held, err := awaitEvent(t, carol, r, ev)
		if err != nil {
			spec.Fatalf(t, "not-verified-through-relay", "expected %s to fetch the missing sticky event %s (the prev event of %s's event %s, which it has) from %s and accept it within %v: %v; %s's /sync saw: %s",
				learner.Name, ev, relay.Name, after, relay.Name, client.DefaultWait, err, carol.UserID, wc.Arrived(r))
		}
		requireStickyThroughRelay(t, carol, r, ev, body, held, sent, learner, relay)
		t.Logf("%s learnt %s's sticky event %s only through %s; its /sync showed: %s", learner.Name, origin.Name, ev, relay.Name, wc.Describe(ev))
	})

	t.Run("join-after", func(t *testing.T) {
		r := room(t)
		ev := alice.SendSticky(t, r, blueprints.StickyType, map[string]any{"body": body}, blueprints.LongSticky)
		sent := time.Now()
		relayHolds(t, bob, r, ev)
		joinThroughRelay(t, r)
		t.Logf("right after the join, GET /event on %s answers %d", learner.Name, carol.GetEvent(t, r, ev).StatusCode)
		if _, err := carol.MessagesShowing(t, r, 30, ev); err != nil {
			spec.Fatalf(t, "not-verified-through-relay", "expected %s, joined through %s after the sticky event %s was sent, to backfill it from %s when its user pages back within %v: %v",
				learner.Name, relay.Name, ev, relay.Name, client.DefaultWait, err)
		}
		held, err := awaitEvent(t, carol, r, ev)
		if err != nil {
			spec.Fatalf(t, "not-verified-through-relay", "%s lists %s in /messages but GET /event fails: %v", learner.Name, ev, err)
		}
		requireStickyThroughRelay(t, carol, r, ev, body, held, sent, learner, relay)
	})
	requireCut(t, origin, learner, "after both ways")
}

// cutLearner partitions the learner from the origin (both still federate with the relay),
// after checking that each reaches the other before the cut: the learner verifies the origin's
// signed request, so it holds the origin's key when it must later verify the origin's events.
func cutLearner(t *testing.T, onOrigin, onLearner *client.Client, origin, learner, relay *deploy.Server) {
	t.Helper()
	for _, p := range [][2]*client.Client{{onOrigin, onLearner}, {onLearner, onOrigin}} {
		if res := profile(t, p[0], p[1].UserID); res.StatusCode != 200 {
			t.Fatalf("setup: before the partition %s should reach %s (profile of %s), got %s", p[0].ServerName(), p[1].ServerName(), p[1].UserID, res)
		}
	}
	if err := learner.PartitionFrom(origin); err != nil {
		t.Fatalf("partitioning %s from %s: %v", learner.Name, origin.Name, err)
	}
	t.Logf("%s: partitioned from %s at %s (both still federate with %s)", learner.Name, origin.Name, time.Now().Format("15:04:05.000"), relay.Name)
	t.Cleanup(func() { _ = learner.HealFrom(origin) })
	requireCut(t, origin, learner, "before the rooms")
}

// relayHolds waits until the relay's user's server has the origin's sticky event: the
// precondition of learning it through the relay.
func relayHolds(t *testing.T, c *client.Client, room, ev string) {
	t.Helper()
	if _, err := awaitEvent(t, c, room, ev); err != nil {
		spec.Fatalf(t, "not-received-by-non-implementing", "expected the origin's sticky event %s to reach the non-implementing %s (which the origin still reaches) within %v: %v", ev, c.ServerName(), client.DefaultWait, err)
	}
}

// requireStickyThroughRelay checks the event a learner got through a relay: content and sticky
// key as sent (GET /event), and in the sticky section of a fresh sync with a remaining time.
func requireStickyThroughRelay(t *testing.T, c *client.Client, room, ev, body string, held *client.Response, sent time.Time, learner, relay *deploy.Server) {
	t.Helper()
	if dur, ok := c.StickyDuration(held.JSON); !ok || dur.Int() != blueprints.LongSticky.Milliseconds() || held.JSON.Get("content.body").Str != body {
		spec.Fatalf(t, "lost-sticky-key", "expected the event %s on %s, learnt through %s, to keep content.body %q and %s.duration_ms %d; GET /event answers %s",
			ev, learner.Name, relay.Name, body, c.Names.EventKey, blueprints.LongSticky.Milliseconds(), held)
	}
	got, r := sticky.Now(t, c, room, ev)
	if !got.Exists() {
		spec.Fatalf(t, "not-sticky-through-relay", "expected the sticky event %s, learnt by %s only through %s, in the %s section of a fresh sync of %s: it is not there; the room in that response: %s",
			ev, learner.Name, relay.Name, c.Names.SyncSection, c.UserID, client.Truncate(r.Get(wire.Path("rooms.join", room)).Raw, 1500))
	}
	checkRemainingWithin(t, c, got, blueprints.LongSticky, sent)
}

// awaitEvent polls GET /event until c's server has the event; the error carries its answer.
func awaitEvent(t *testing.T, c *client.Client, room, ev string) (*client.Response, error) {
	t.Helper()
	var held *client.Response
	err := client.Poll(client.DefaultWait, 200*time.Millisecond, func(time.Duration) error {
		if held = c.GetEvent(t, room, ev); held.StatusCode != 200 {
			return fmt.Errorf("GET /event answers %s", held)
		}
		return nil
	})
	return held, err
}

// requireCut ends the test as inconclusive (a control failed: the fault did not hold, so the
// verdict would prove nothing) unless a and b cannot reach each other: a fresh user of each asks
// for the profile of a fresh user of the other (fresh, so no server answers from a cache),
// both at once, since a request on a connection the cut left open waits out the sender's
// timeout (10 s in the Synapse image).
func requireCut(t *testing.T, a, b *deploy.Server, when string) {
	t.Helper()
	type probe struct {
		asker, target *client.Client
		res           *client.Response
		err           error
	}
	probes := []*probe{
		{asker: blueprints.NewUser(t, a, "asker"), target: blueprints.NewUser(t, b, "target")},
		{asker: blueprints.NewUser(t, b, "asker"), target: blueprints.NewUser(t, a, "target")},
	}
	var wg sync.WaitGroup
	for _, p := range probes {
		wg.Go(func() {
			p.res, p.err = p.asker.Try(client.Request{Method: "GET", Path: client.V3("profile", p.target.UserID)})
		})
	}
	wg.Wait()
	for _, p := range probes {
		if p.err == nil && p.res.StatusCode == 200 {
			spec.ControlFailed(t, "%s: %s reached %s (profile of %s answered %s), so the event may not have come only through the relay",
				when, p.asker.ServerName(), p.target.ServerName(), p.target.UserID, p.res)
		}
	}
	t.Logf("control %s: %s and %s cannot reach each other (profile lookups both ways failed)", when, a.Name, b.Name)
}

// checkRemainingWithin checks, in a subtest naming SYNC-3 alone (a SHOULD: a failure is a
// warning, never a failure of the COMPAT test around it), that ev (found in a sticky section)
// carries a remaining time in (0, life].
func checkRemainingWithin(t *testing.T, c *client.Client, ev gjson.Result, life time.Duration, sent time.Time) {
	t.Helper()
	spec.ShouldCheck(t, "SYNC-3", "remaining-time-"+c.ServerName(), func(t *testing.T) {
		rem, ok := c.Remaining(ev)
		if !ok {
			spec.Fatalf(t, "no-remaining-time", "the sticky event is there without unsigned.%s: %s", c.Names.RemainingField, ev.Raw)
		}
		most := life.Milliseconds()
		got := fmt.Sprintf("its unsigned.%s is %d, want between 1 and %d (sent %v ago): %s", c.Names.RemainingField, rem, most, time.Since(sent).Round(time.Millisecond), ev.Raw)
		if rem <= 0 {
			spec.Fatalf(t, "ttl-too-short", "%s", got)
		}
		if rem > most {
			spec.Fatalf(t, "ttl-too-long", "%s", got)
		}
	})
}

// profile asks c's server for another user's profile: for a user of another server, a
// federation request from c's server to that one.
func profile(t *testing.T, c *client.Client, userID string) *client.Response {
	t.Helper()
	return c.Do(t, client.Request{Method: "GET", Path: client.V3("profile", userID)})
}
