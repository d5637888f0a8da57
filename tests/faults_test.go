package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"stickler/helpers/client"
	"stickler/helpers/deploy"
	"stickler/helpers/must"
	"stickler/helpers/spec"
)

// Federation under faults. Every test here cuts a server off, so each one runs on a deployment
// of its own (isolatedFederation): no other test can be hurt by its partition, pause or crash.

const (
	// fedHealWait bounds delivery after a fault ends when the test provokes the sender (see
	// provoker): the image's longest backoff is 5 s (destination_max_retry_interval), a request
	// stuck on a dead connection gives up after 10 s (client_timeout), plus margin for a loaded
	// two-core machine.
	fedHealWait = 40 * time.Second
	// fedNoProvokeWait bounds delivery after a partition heals when nobody provokes the sender.
	// A sender that honours the image's retry settings tries again at most 5 s after its last
	// failure. Synapse, though, only retries a backed-off peer when it has a new event for it
	// or when its catch-up loop runs, once a minute (WAKEUP_RETRY_PERIOD, not configurable):
	// 60 s + 5 s backoff + 10 s request timeout + 15 s margin. A shorter bound would make the
	// outcome depend on where that minute falls, so it would vary between runs.
	fedNoProvokeWait = 90 * time.Second
	// fedOutage is how long a partition, pause or crash lasts at least: several times the
	// sub-second delivery between healthy servers, so the sender's first attempts surely fail
	// and it backs off; the tests that use it provoke the sender afterwards, so the outage
	// need not outlast its in-flight retries (fedLongOutage does).
	fedOutage = 5 * time.Second
	// fedLongOutage is the outage of the tests that need the sender to give up its in-flight
	// transaction and fall back to backoff and catch-up. Observed on the image: the first
	// attempt hangs on the pooled connection to the vanished peer until client_timeout (10 s),
	// then 3 long retries 4-5 s apart (x0.8-1.4 jitter) fail at once on DNS: the transaction
	// failed 25 s after the send. 35 s covers the worst jitter (10 + 5.6 + 7 + 7) with margin.
	fedLongOutage = 35 * time.Second
	// fedExpiryMargin is added when waiting for a short-lived event to expire: the test process
	// and the servers read the same host clock, and 1.5 s covers a slow request on a loaded
	// machine between reading the clock and the server acting.
	fedExpiryMargin = 1500 * time.Millisecond
	// fedShortSticky is the lifetime of events meant to expire during a test: long enough to be
	// sent and federated before a fault starts, short enough to keep the test quick.
	fedShortSticky = 3000
)

func partitionServer(t *testing.T, s *deploy.Server) {
	t.Helper()
	if err := s.Partition(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s partitioned at %s", s.Name, time.Now().Format("15:04:05.000"))
}

func healServer(t *testing.T, s *deploy.Server) {
	t.Helper()
	if err := s.Heal(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s healed at %s", s.Name, time.Now().Format("15:04:05.000"))
}

// requireArrived fails the test unless every event reached the watcher's client.
func requireArrived(t *testing.T, w *stickyWatcher, within time.Duration, what map[string]string, ids ...string) {
	t.Helper()
	start := time.Now()
	missing := w.until(t, within, ids...)
	if len(missing) == 0 {
		t.Logf("all %d event(s) reached %s %v after recovery", len(ids), w.c.UserID, time.Since(start).Round(time.Millisecond))
		return
	}
	var names []string
	for _, id := range missing {
		names = append(names, fmt.Sprintf("%s (%s)", what[id], id))
	}
	var seen []string
	for _, id := range ids {
		if len(w.got(id)) > 0 {
			seen = append(seen, what[id])
		}
	}
	t.Fatalf("expected every unexpired sticky event to reach %s within %v of recovery; missing: %s; arrived: %v",
		w.c.UserID, within, strings.Join(names, ", "), seen)
}

// Partition, then sticky events on both sides, then heal. This test PROVOKES the senders
// (each server makes signed requests to the other after the heal) instead of waiting out
// their backoff; TestFedStickySurvivesPartitionUnprovoked waits. A failure means an unexpired
// sticky event created during the partition never reached the other side's client.
func TestFedStickySurvivesPartition(t *testing.T) {
	spec.Covers(t, "FED-4")
	t.Parallel()
	b := isolatedFederation(t, 2, nil)
	alice, bob := b.Users[0], b.Users[1]
	wa, wb := newStickyWatcher(alice, b.Room), newStickyWatcher(bob, b.Room)
	wa.once(t, 0)
	wb.once(t, 0)

	partitionServer(t, b.S(1))
	a1 := alice.SendSticky(t, b.Room, fedStickyType, map[string]any{"side": "hs1", "n": 1}, longSticky)
	b1 := bob.SendSticky(t, b.Room, fedStickyType, map[string]any{"side": "hs2", "n": 1}, longSticky)
	a2 := alice.SendSticky(t, b.Room, fedStickyType, map[string]any{"side": "hs1", "n": 2}, longSticky)
	b2 := bob.SendSticky(t, b.Room, fedStickyType, map[string]any{"side": "hs2", "n": 2}, longSticky)
	time.Sleep(fedOutage) // lets the outage last beyond the senders' in-flight retries
	healServer(t, b.S(1))

	stop := provoker(t, "after the partition heals", [2]*client.Client{alice, bob}, [2]*client.Client{bob, alice})
	defer stop()
	what := map[string]string{a1: "hs1's first", a2: "hs1's second", b1: "hs2's first", b2: "hs2's second"}
	requireArrived(t, wb, fedHealWait, what, a1, a2)
	requireArrived(t, wa, fedHealWait, what, b1, b2)
}

// The twin of TestFedStickySurvivesPartition without provoking: after the heal nobody sends
// anything to hs1 (hs2's user only watches, with presence offline so that hs2 sends no
// presence either) and hs1 must deliver by its own retries within fedNoProvokeWait. Only hs1
// sends during the partition: events from hs2 would make hs2 retry towards hs1, and that
// inbound traffic provokes hs1. A failure means the sender never retried by itself within a
// bound that covers its backoff.
func TestFedStickySurvivesPartitionUnprovoked(t *testing.T) {
	spec.Covers(t, "FED-4")
	t.Parallel()
	b := isolatedFederation(t, 2, nil)
	alice, bob := b.Users[0], b.Users[1]
	wb := newStickyWatcher(bob, b.Room)
	wb.once(t, 0)

	partitionServer(t, b.S(1))
	a1 := alice.SendSticky(t, b.Room, fedStickyType, map[string]any{"n": 1}, longSticky)
	a2 := alice.SendSticky(t, b.Room, fedStickyType, map[string]any{"n": 2}, longSticky)
	time.Sleep(fedLongOutage) // lets the outage last beyond the sender's in-flight retries
	healServer(t, b.S(1))
	t.Logf("not provoking: waiting up to %v for hs1 to retry by itself", fedNoProvokeWait)
	requireArrived(t, wb, fedNoProvokeWait, map[string]string{a1: "hs1's first", a2: "hs1's second"}, a1, a2)
}

// A paused (frozen) server returns. hs1 sends sticky events while hs2 is frozen; hs2's own
// clients cannot send while it is frozen (every request hangs), so its sticky event is sent
// just before the pause and must still reach hs1 afterwards. This test PROVOKES the senders
// after the unpause. A failure means a sticky event was lost across the pause.
func TestFedStickySurvivesPause(t *testing.T) {
	spec.Covers(t, "FED-4")
	t.Parallel()
	b := isolatedFederation(t, 2, nil)
	alice, bob := b.Users[0], b.Users[1]
	wa, wb := newStickyWatcher(alice, b.Room), newStickyWatcher(bob, b.Room)
	wa.once(t, 0)
	wb.once(t, 0)

	b1 := bob.SendSticky(t, b.Room, fedStickyType, map[string]any{"side": "hs2"}, longSticky)
	if err := b.S(1).Pause(); err != nil {
		t.Fatal(err)
	}
	paused := true
	t.Cleanup(func() {
		if paused {
			_ = b.S(1).Unpause()
		}
	})
	a1 := alice.SendSticky(t, b.Room, fedStickyType, map[string]any{"side": "hs1", "n": 1}, longSticky)
	a2 := alice.SendSticky(t, b.Room, fedStickyType, map[string]any{"side": "hs1", "n": 2}, longSticky)
	time.Sleep(fedOutage) // lets the pause last beyond the sender's in-flight retries
	if err := b.S(1).Unpause(); err != nil {
		t.Fatal(err)
	}
	paused = false

	stop := provoker(t, "after the unpause", [2]*client.Client{alice, bob}, [2]*client.Client{bob, alice})
	defer stop()
	what := map[string]string{a1: "hs1's first", a2: "hs1's second", b1: "hs2's (sent just before the pause)"}
	requireArrived(t, wb, fedHealWait, what, a1, a2)
	requireArrived(t, wa, fedHealWait, what, b1)
}

// A crashed server restarts with its data. hs1 sends sticky events while hs2 is down; hs2's
// clients cannot send while it is down, so hs2's sticky event is sent right after the restart
// (it must not be lost either, nor anything queued before). This test PROVOKES the senders
// after the restart. A failure means a sticky event was lost across the crash.
func TestFedStickySurvivesCrash(t *testing.T) {
	spec.Covers(t, "FED-4")
	t.Parallel()
	b := isolatedFederation(t, 2, nil)
	alice, bob := b.Users[0], b.Users[1]
	wa, wb := newStickyWatcher(alice, b.Room), newStickyWatcher(bob, b.Room)
	wa.once(t, 0)
	wb.once(t, 0)

	if err := b.S(1).Crash(); err != nil {
		t.Fatal(err)
	}
	t.Logf("hs2 crashed at %s", time.Now().Format("15:04:05.000"))
	a1 := alice.SendSticky(t, b.Room, fedStickyType, map[string]any{"side": "hs1", "n": 1}, longSticky)
	a2 := alice.SendSticky(t, b.Room, fedStickyType, map[string]any{"side": "hs1", "n": 2}, longSticky)
	time.Sleep(fedOutage) // lets the crash last beyond the sender's in-flight retries
	if err := b.S(1).Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("hs2 restarted at %s", time.Now().Format("15:04:05.000"))
	b1 := bob.SendSticky(t, b.Room, fedStickyType, map[string]any{"side": "hs2"}, longSticky)

	stop := provoker(t, "after the restart", [2]*client.Client{alice, bob}, [2]*client.Client{bob, alice})
	defer stop()
	what := map[string]string{a1: "hs1's first", a2: "hs1's second", b1: "hs2's (sent after the restart)"}
	requireArrived(t, wb, fedHealWait, what, a1, a2)
	requireArrived(t, wa, fedHealWait, what, b1)
}

// A large queue never drops a sticky event: during a partition hs1 sends one sticky event and
// then hundreds of ordinary events; after the heal the sticky event must reach hs2's client.
// This test PROVOKES the sender after the heal (the backlog, not the backoff, is the point
// here). A failure means the sticky event was dropped behind the backlog. It covers FED-4
// only: one sticky event is not LOAD-1's "hundreds of sticky events".
func TestFedStickySurvivesBacklog(t *testing.T) {
	spec.Covers(t, "FED-4")
	t.Parallel()
	b := isolatedFederation(t, 2, nil)
	alice, bob := b.Users[0], b.Users[1]
	wb := newStickyWatcher(bob, b.Room)
	wb.Filter = `{"room":{"timeline":{"limit":10}}}`
	wb.once(t, 0)

	partitionServer(t, b.S(1))
	sticky := alice.SendSticky(t, b.Room, fedStickyType, map[string]any{"behind": "the backlog"}, longSticky)
	const backlog = 250
	var last string
	start := time.Now()
	for i := range backlog {
		last = alice.SendText(t, b.Room, fmt.Sprintf("backlog %d", i))
	}
	t.Logf("sent %d ordinary events behind the sticky one in %v", backlog, time.Since(start).Round(time.Millisecond))
	// The sender must have given up its in-flight transaction (which still holds the sticky
	// event in memory), so that what it sends afterwards comes from its catch-up.
	time.Sleep(time.Until(start.Add(fedLongOutage))) // lets the outage outlast the in-flight retries
	healServer(t, b.S(1))

	stop := provoker(t, "after the partition heals", [2]*client.Client{bob, alice})
	defer stop()
	// Control first: the newest event shows that federation resumed, so a missing sticky
	// event is dropped, not merely late.
	requireArrived(t, wb, fedHealWait, map[string]string{last: "the last ordinary event (control)"}, last)
	// The sticky event may come a little after the newest one.
	requireArrived(t, wb, fedWait, map[string]string{sticky: fmt.Sprintf("the sticky event sent before %d ordinary events", backlog)}, sticky)
}

// An outage longer than a sticky event's lifetime: the event must never reach a sticky
// section (nor carry a remaining time) on the far side, even once hs2 learns of it. This test
// PROVOKES the sender after the heal and sends one ordinary event so that hs2 surely learns
// of the expired one.
//
// What it checks is the receiver, FED-5's second clause ("never appear in a sticky section"):
// hs2's clients (the one that watched through the outage and a fresh initial /sync) are never
// handed the expired event as sticky (sticky section, or timeline with a positive remaining
// time), and GET /event on hs2 carries no remaining time. What it cannot see is FED-5's first
// clause from the sender's side: whether hs1 re-pushed the expired event in its catch-up
// transaction (as a PDU with its sticky object) or hs2 fetched it as a predecessor of the
// control; either way hs2 may hold it as an ordinary event, and the test passes as long as hs2
// does not treat it as sticky. A failure means hs2 handed its clients an event that had
// expired during the outage as sticky.
func TestFedExpiredDuringOutageNotSticky(t *testing.T) {
	spec.Covers(t, "FED-5")
	t.Parallel()
	b := isolatedFederation(t, 2, nil)
	alice, bob := b.Users[0], b.Users[1]
	wb := newStickyWatcher(bob, b.Room)
	wb.once(t, 0)

	partitionServer(t, b.S(1))
	sent := time.Now()
	expiring := alice.SendSticky(t, b.Room, fedStickyType, map[string]any{"short": true}, fedShortSticky)
	time.Sleep(time.Until(sent.Add(fedShortSticky*time.Millisecond + fedExpiryMargin))) // lets the event expire during the outage
	healServer(t, b.S(1))
	stop := provoker(t, "after the partition heals", [2]*client.Client{bob, alice})
	defer stop()
	control := alice.SendText(t, b.Room, "after the heal")
	requireArrived(t, wb, fedHealWait, map[string]string{control: "the ordinary event sent after the heal (control)"}, control)
	// hs2 may fetch the expired event as a predecessor of the control: give it that time.
	wb.watch(t, 2*time.Second)
	fresh := newStickyWatcher(bob, b.Room)
	fresh.once(t, 0)
	for _, w := range []*stickyWatcher{wb, fresh} {
		if ds := w.stickyDeliveries(expiring); len(ds) > 0 {
			t.Fatalf("expected the sticky event %s, which expired during the outage, never to be delivered as sticky on hs2; got: %s",
				expiring, w.describe(expiring))
		}
	}
	if res := bob.GetEvent(t, b.Room, expiring); res.StatusCode == 200 {
		if rem, ok := bob.Remaining(res.JSON); ok {
			t.Fatalf("expected no remaining time on the expired event on hs2, got %d in %s", rem, res)
		}
	}
	t.Logf("the expired event on hs2's client: %s", wb.describe(expiring))
}

// Sticky events of a user erased (deactivated with erase) during an outage are not sent in
// catch-up (the outage outlasts the sender's in-flight retries). This test PROVOKES the sender after the heal. A failure means hs2 received the
// erased user's sticky event as sticky after its sender was erased.
func TestFedErasedUserStickyNotCaughtUp(t *testing.T) {
	spec.Covers(t, "FED-7")
	t.Parallel()
	b := isolatedFederation(t, 2, nil)
	alice, bob := b.Users[0], b.Users[1]
	eve := newUser(t, b.S(0), "eve")
	eve.JoinRoom(t, b.Room)
	waitMembership(t, bob, b.Room, eve.UserID, "join", fedWait)
	wb := newStickyWatcher(bob, b.Room)
	wb.once(t, 0)

	partitionServer(t, b.S(1))
	sent := time.Now()
	erased := eve.SendSticky(t, b.Room, fedStickyType, map[string]any{"secret": "eve's"}, longSticky)
	deactivateErase(t, eve)
	// Catch-up, not the retry of the transaction that already held the event before the
	// erasure, is what FED-7 is about: outlast the in-flight retries.
	time.Sleep(time.Until(sent.Add(fedLongOutage))) // lets the outage outlast the in-flight retries
	healServer(t, b.S(1))
	stop := provoker(t, "after the partition heals", [2]*client.Client{bob, alice})
	defer stop()
	// Control: hs2 learns that eve left (deactivation leaves every room), so catch-up ran.
	waitMembership(t, bob, b.Room, eve.UserID, "leave", fedHealWait)
	wb.watch(t, 2*time.Second)
	if ds := wb.stickyDeliveries(erased); len(ds) > 0 {
		t.Fatalf("expected the sticky event %s of the erased user not to be delivered as sticky on hs2; got: %s", erased, wb.describe(erased))
	}
	if res := bob.GetEvent(t, b.Room, erased); res.StatusCode == 200 {
		if _, ok := bob.StickyDuration(res.JSON); ok || res.JSON.Get("content.secret").Exists() {
			t.Fatalf("expected hs2 not to have received the erased user's sticky event in catch-up (or only redacted), got %s", res)
		}
		t.Logf("hs2 holds the erased user's event only redacted: %s", res.JSON.Raw)
	}
}

// deactivateErase deactivates the user's account with erase, answering the password stage.
func deactivateErase(t *testing.T, c *client.Client) {
	t.Helper()
	localpart := strings.TrimPrefix(strings.SplitN(c.UserID, ":", 2)[0], "@")
	res := c.Do(t, client.Request{Method: "POST", Path: client.V3("account", "deactivate"), Body: map[string]any{
		"erase": true,
		"auth": map[string]any{
			"type":       "m.login.password",
			"identifier": map[string]any{"type": "m.id.user", "user": c.UserID},
			"password":   client.Password(localpart),
		},
	}})
	must.Status(t, res, 200, "deactivating "+c.UserID+" with erase")
}

// The seed's hazard (MAP-3), end to end: S (long) from hs1 reaches hs2's client; hs2 is cut
// off; hs1 overwrites the same key with S' (short) and retries while S' expires; hs2 returns.
// No client of hs2 may be handed S' as sticky, and S must be expired for hs2's clients when its
// remaining time said, not later. This test PROVOKES the sender after the heal so that S'
// reaches hs2 while the test watches. A failure means a client of hs2 was left with a wrong
// view of the map (an expired S' as live, or S beyond its end).
func TestMapSeedHazardOfflineOverwrite(t *testing.T) {
	spec.Covers(t, "MAP-3")
	t.Parallel()
	b := isolatedFederation(t, 2, nil)
	alice, bob := b.Users[0], b.Users[1]
	wb := newStickyWatcher(bob, b.Room)
	wb.once(t, 0)
	const (
		sLife      = 15000          // S: long enough to outlive the whole outage
		sPrimeLife = fedShortSticky // S': expires while hs2 is away
		// remainingTolerance: how far a client's expiry (delivery time + remaining time)
		// may lie after the event's real end: the sync round trip on a loaded machine,
		// with the test and the servers on the same host clock.
		remainingTolerance = 1500 * time.Millisecond
	)
	with := func(v string) map[string]any { return map[string]any{bob.Names.StickyKey: "seed-key", "value": v} }
	s := alice.SendSticky(t, b.Room, fedStickyType, with("S"), sLife)
	requireArrived(t, wb, fedWait, map[string]string{s: "S"}, s)
	if len(wb.stickyDeliveries(s)) == 0 {
		t.Fatalf("expected S to reach hs2's client as sticky before the outage; got %s", wb.describe(s))
	}

	partitionServer(t, b.S(1))
	sentPrime := time.Now()
	sPrime := alice.SendSticky(t, b.Room, fedStickyType, with("S'"), sPrimeLife)
	time.Sleep(time.Until(sentPrime.Add(sPrimeLife*time.Millisecond + fedExpiryMargin))) // lets S' expire while hs2 is away (hs1 retries meanwhile)
	healServer(t, b.S(1))
	stop := provoker(t, "after hs2 returns", [2]*client.Client{bob, alice})
	defer stop()
	// S' reaching hs2's client (as an ordinary event) shows that hs2 heard of it. If it never
	// does, "no client of hs2 is handed S' as sticky" holds only trivially: the test still
	// checks that S ends on time for hs2's clients (MAP-3's second half) and then reports the
	// hazard as not exercised (skipped, with what was seen) rather than passing.
	arrived := len(wb.until(t, fedHealWait, sPrime)) == 0
	fresh := newStickyWatcher(bob.Login(t), b.Room)
	fresh.once(t, 0)
	arrived = arrived || len(fresh.got(sPrime)) > 0
	t.Logf("S' (%s) on hs2: arrived=%v; old client: %s; new device: %s", sPrime, arrived, wb.describe(sPrime), fresh.describe(sPrime))
	if !arrived {
		t.Logf("S' never reached hs2's clients within %v of the heal; checking only that S ends on time for them", fedHealWait)
	}
	for _, w := range []*stickyWatcher{wb, fresh} {
		if ds := w.stickyDeliveries(sPrime); len(ds) > 0 {
			t.Fatalf("expected no client of hs2 to be handed the expired overwrite S' (%s) as sticky; got: %s", sPrime, w.describe(sPrime))
		}
	}

	// S ends at its origin_server_ts + duration (hs1 received it first, so that is its start).
	ev := alice.GetEvent(t, b.Room, s)
	must.Status(t, ev, 200, "GET /event of S on hs1")
	end := time.UnixMilli(ev.JSON.Get("origin_server_ts").Int() + sLife)
	for _, w := range []*stickyWatcher{wb, fresh} {
		for _, d := range w.stickyDeliveries(s) {
			if d.Remaining < 0 {
				continue
			}
			if said := d.At.Add(time.Duration(d.Remaining) * time.Millisecond); said.After(end.Add(remainingTolerance)) {
				t.Fatalf("S ends at %s, but hs2 told %s at %s it had %d ms left (until %s, beyond the %v tolerance)",
					end.Format("15:04:05.000"), w.c.DeviceID, d.At.Format("15:04:05.000"), d.Remaining, said.Format("15:04:05.000"), remainingTolerance)
			}
		}
	}
	// After S's end, no client of hs2 is told S is still live.
	time.Sleep(time.Until(end.Add(remainingTolerance))) // lets S expire
	late := newStickyWatcher(bob.Login(t), b.Room)
	late.once(t, 0)
	if ds := late.stickyDeliveries(s); len(ds) > 0 {
		t.Fatalf("S ended at %s, yet at %s hs2 still hands a new client S as sticky: %s", end.Format("15:04:05.000"), time.Now().Format("15:04:05.000"), late.describe(s))
	}
	if ds := late.stickyDeliveries(sPrime); len(ds) > 0 {
		t.Fatalf("after S's end hs2 hands a new client the expired S' as sticky: %s", late.describe(sPrime))
	}
	t.Logf("S ended for hs2's clients by %s as its remaining time said (checked on the old client, a new device, and a device made after the end)", end.Add(remainingTolerance).Format("15:04:05.000"))
	if !arrived && len(late.got(sPrime)) == 0 {
		t.Skipf("inconclusive: S' (%s) never reached hs2 within %v of the heal (saw on the old client: %s; on a new device: %s; on a device made after S's end: %s), so \"no client of hs2 is handed S' as sticky\" held only trivially and the seed's hazard was not exercised; S did expire on time for hs2's clients",
			sPrime, fedHealWait, wb.describe(sPrime), fresh.describe(sPrime), late.describe(sPrime))
	}
}
