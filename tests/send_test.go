package tests

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/blueprints"
	"stickler/helpers/checks/bound"
	"stickler/helpers/checks/must"
	"stickler/helpers/checks/realtime"
	"stickler/helpers/checks/sticky"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
)

// SEND: sending sticky events through the client-server API.

// Durations outside the valid range 0..3600000, below it (-1) and above it (3600001,
// 99999999), follow one rule (SEND-3): the proposal gives the range and names no status for a
// value outside it, so the server may refuse the request (400 with a Matrix error) or accept
// it. An accepted value never makes the event sticky beyond the range: a negative one not at
// all (an event is sticky only with a valid value), one above the hour either not at all
// (invalid) or for at most an hour (capped by the end-time rule). Which of these the server
// chose is reported. The hour itself is not waited out here (TIME-2 is judged over federation
// by TestPeerDurationCappedAtOneHour and TestPeerOverlongDurationLeavesAtCap); the
// remaining-time field of a capped event (at most one hour) is a SHOULD (SYNC-3), judged in its
// own subtest.
func TestSendAboveCap(t *testing.T) {
	spec.Covers(t, "SEND-3") // here too, so a server that skips the subtests shows it
	t.Parallel()
	hs := blueprints.OneServer(t)
	for _, d := range []int64{-1, blueprints.MaxSticky.Milliseconds() + 1, 99999999} {
		t.Run(strconv.FormatInt(d, 10), func(t *testing.T) {
			spec.Covers(t, "SEND-3")
			t.Parallel()
			alice := blueprints.NewUser(t, hs, "alice")
			room := alice.CreateRoom(t, client.PublicRoom(""))
			sent := time.Now()
			res := alice.Do(t, alice.SendRequest(room, blueprints.StickyType, client.TxnID(), map[string]any{"d": d}, strconv.FormatInt(d, 10)))
			if res.StatusCode == 400 {
				must.MatrixError(t, res, 400, "", "refusing a duration outside 0..3600000")
				spec.Choice(t, "SEND-3", fmt.Sprintf("%d refused with 400 %s", d, res.JSON.Get("errcode").Str))
				return
			}
			must.Status(t, res, 200, "sending a duration outside 0..3600000 (accepted or 400 are both allowed)")
			ev := res.JSON.Get("event_id").Str
			filler := alice.SendText(t, room, "pushes the sticky event out of a one-event timeline")
			r := alice.NewStream(client.Sync, client.TimelineLimit(1)).InitialUntil(t, client.ShowsInTimeline(room, filler))
			elapsed := time.Since(sent)
			stored, _ := alice.StickyDuration(alice.GetEvent(t, room, ev).JSON)
			e := client.Find(r.Sticky(room), ev)
			if !e.Exists() {
				spec.Choice(t, "SEND-3", fmt.Sprintf("%d accepted; event carries duration_ms %s and is not sticky (treated as invalid)", d, stored.Raw))
				return
			}
			if d < 0 {
				spec.Fatalf(t, "out-of-range-sticky", "the duration %d is below the valid range 0..3600000, so the event it made must not be sticky, but it is in the sticky section: %s", d, e.Raw)
			}
			spec.Choice(t, "SEND-3", fmt.Sprintf("%d accepted; event carries duration_ms %s and is sticky (capped)", d, stored.Raw))
			sticky.CheckRemaining(t, "remaining-time", alice, e, blueprints.MaxSticky, elapsed, fmt.Sprintf("duration %d accepted", d))
		})
	}
}

// Repeating a transaction ID returns the same event and makes no second sticky event.
func TestSendIdempotent(t *testing.T) {
	spec.Covers(t, "SEND-5")
	t.Parallel()
	alice, room := blueprints.UserInRoom(t, "alice")
	txn := client.TxnID()
	req := alice.SendRequest(room, blueprints.StickyType, txn, map[string]any{"once": true}, strconv.FormatInt(blueprints.LongSticky.Milliseconds(), 10))
	first := alice.MustDo(t, req).JSON.Get("event_id").Str
	second := alice.MustDo(t, req).JSON.Get("event_id").Str
	if first != second {
		t.Fatalf("the same txnId gave two event IDs: %s then %s", first, second)
	}
	// Counted in the room's history, so this checks creation, not sticky delivery (SYNC-*).
	var made []string
	for _, e := range alice.MustMessagesShowing(t, room, 50, first).JSON.Get("chunk").Array() {
		if e.Get("content.once").Bool() {
			made = append(made, e.Get("event_id").Str)
		}
	}
	if len(made) != 1 {
		t.Fatalf("expected exactly one event from the repeated txnId in /messages, found %d: %v", len(made), made)
	}
}

// delayTolerance covers the delayed-event scheduler's lateness and request latency.
const delayTolerance = 1500 * time.Millisecond

// delayedEventSlack is how much later than scheduled MSC4140 lets a server send a delayed
// event ("homeservers MAY add up to 30 seconds to the scheduled send time", for batching).
const delayedEventSlack = 30 * time.Second

// A delayed sticky event is sticky from when it is actually sent, not from when it was
// scheduled. MSC4140 lets the server send it up to 30 s after the scheduled time, so the test
// waits that long for the send and measures from the send it sees. Its remaining-time field
// is a SHOULD (SYNC-3), judged in its own subtest. The event is scheduled the way the server
// offers (scheduleDelayedSticky): MSC4140's dedicated endpoint, else the older
// org.matrix.msc4140.delay query parameter on /send.
func TestDelayedStickyFromSendTime(t *testing.T) {
	spec.Covers(t, "SEND-6")
	t.Parallel()
	hs := blueprints.OneServer(t)
	alice := blueprints.NewUser(t, hs, "alice")
	versions := alice.MustDo(t, client.Request{Method: "GET", Path: []string{"_matrix", "client", "versions"}})
	if !versions.JSON.Get(`unstable_features.org\.matrix\.msc4140`).Bool() {
		spec.NotImplemented(t, fmt.Sprintf("%s (%s)", hs.Name, hs.Image), "org.matrix.msc4140", "%s does not advertise org.matrix.msc4140 (delayed events) in /versions", hs.Name)
	}
	rooms := blueprints.RoomPerAttempt(alice, alice.CreateRoom(t, client.PublicRoom("")))
	// The check comes at +lifetime+delay/2 from scheduling, so the delayed event must be seen
	// sent before then; when a loaded machine shows it later, the scenario is played again with
	// the longer lifetime, which moves the check later.
	realtime.Run(t, []time.Duration{6 * time.Second, 20 * time.Second}, func(lifetime time.Duration) error {
		return delayedStickyFromSendTime(t, alice, rooms(t), lifetime)
	})
}

// delayedStickyFromSendTime is one attempt of TestDelayedStickyFromSendTime.
func delayedStickyFromSendTime(t *testing.T, alice *client.Client, room string, lifetime time.Duration) error {
	t.Helper()
	// The check lands half-way between the end measured from scheduling (+lifetime) and the
	// end measured from the actual send (+delay+lifetime): 2.5 s from either.
	const delay = 5 * time.Second
	checkOffset := lifetime + delay/2
	scheduledAt := time.Now()
	how := scheduleDelayedSticky(t, alice, room, map[string]any{"delayed": true}, lifetime, delay)
	t.Logf("scheduled the delayed sticky event through %s", how)
	f := alice.NewStream(client.Sync, client.Filter(`{"room":{"timeline":{"limit":10}}}`))
	var ev gjson.Result
	f.MustSyncUntil(t, delay+delayedEventSlack+client.DefaultWait, client.Responds("the delayed sticky event to be sent", func(r client.SyncResponse) error {
		for _, e := range append(r.Timeline(room), r.Sticky(room)...) {
			if e.Get("content.delayed").Bool() {
				ev = e
				return nil
			}
		}
		return fmt.Errorf("no event with content.delayed in %v since scheduling", time.Since(scheduledAt).Round(time.Millisecond))
	}))
	sentTS := client.OriginTS(ev)
	if sentTS.Before(scheduledAt.Add(delay - delayTolerance)) {
		spec.Fatalf(t, "sticky-from-scheduling", "the delayed event's origin_server_ts is %v after scheduling, expected about %v: its stickiness (from min(received_ts, origin_server_ts)) counts from before the send", sentTS.Sub(scheduledAt), delay)
	}
	alice.SendText(t, room, "pushes the sticky event out of a one-event timeline")
	// Had stickiness started at scheduling, the event would have expired at +lifetime. Check it
	// is still sticky well after that, and well before the end measured from the actual send
	// (sentTS + lifetime, at least +delay+lifetime): a server that added MSC4140's batching
	// delay only widens that window, so a check later than planned still tells the two apart.
	checkAt := scheduledAt.Add(checkOffset)
	if now := time.Now(); now.After(checkAt) {
		checkAt = now
	}
	if left := sentTS.Add(lifetime).Sub(checkAt); left < delay/2 {
		return realtime.SetupTooSlow("the delayed event was seen and the filler sent only %v before its end measured from the send (%v needed)", left.Round(time.Millisecond), delay/2)
	}
	time.Sleep(time.Until(checkAt)) // lets real time pass beyond the end measured from scheduling
	r := alice.NewStream(client.Sync, client.TimelineLimit(1)).Next(t, 0)
	e := must.As("sticky-from-scheduling").Has(t, r.Sticky(room), ev.Get("event_id").Str,
		fmt.Sprintf("the sticky section %v after scheduling (sticky until send + %v = about +%v)", time.Since(scheduledAt).Round(time.Millisecond), lifetime, sentTS.Add(lifetime).Sub(scheduledAt).Round(time.Millisecond)))
	want := time.Until(sentTS.Add(lifetime))
	spec.ShouldCheck(t, "SYNC-3", "remaining-time", func(t *testing.T) {
		rem, ok := alice.Remaining(e)
		if !ok {
			spec.Fatalf(t, "no-remaining-time", "expected unsigned.%s on the delivered delayed sticky event, got %s", alice.Names.RemainingField, e.Raw)
		}
		if (time.Duration(rem)*time.Millisecond - want).Abs() > delayTolerance {
			spec.Fatalf(t, "ttl-inaccurate", "remaining time %d ms, expected about %d ms (measured from the actual send)", rem, want.Milliseconds())
		}
	})
	return nil
}

// scheduleDelayedSticky schedules a sticky event of the given lifetime to be sent after delay,
// the way the server offers, and says which way it used. MSC4140 schedules through its
// dedicated endpoint (PUT .../rooms/{roomId}/delayed_event/{eventType}/{txnId}, body
// {"delay_ms", "content"}; unstable prefix org.matrix.msc4140, else v3) and lists the older
// query parameter on /send (org.matrix.msc4140.delay) among its alternatives. The dedicated
// endpoint is tried first: a server without it answers 404 or 405 (M_UNRECOGNIZED), which is
// a safe sign, whereas a server that does not know the query parameter ignores it and sends at
// once. Neither proposal says how the sticky duration rides on the dedicated endpoint; the
// suite's reading (SEND-6) is the same query parameter as on /send, since MSC4140 gives that
// endpoint the same path parameters as /send and MSC4354 adds its parameter to the endpoints
// that create events. A server that schedules through neither is skipped as not implementing
// MSC4140.
func scheduleDelayedSticky(t *testing.T, c *client.Client, room string, content map[string]any, lifetime, delay time.Duration) string {
	t.Helper()
	q := url.Values{c.Names.DurationParam: {strconv.FormatInt(lifetime.Milliseconds(), 10)}}
	body := map[string]any{"delay_ms": delay.Milliseconds(), "content": content}
	var unknown []string
	for _, prefix := range [][]string{{"unstable", "org.matrix.msc4140"}, {"v3"}} {
		path := append(append([]string{"_matrix", "client"}, prefix...), "rooms", room, "delayed_event", blueprints.StickyType, client.TxnID())
		res := c.Do(t, client.Request{Method: "PUT", Path: path, Query: q, Body: body})
		if res.StatusCode == 404 || res.StatusCode == 405 {
			unknown = append(unknown, fmt.Sprintf("PUT /%s: %d %s", strings.Join(path[:len(path)-4], "/"), res.StatusCode, res.JSON.Get("errcode").Str))
			continue
		}
		must.Status(t, res, 200, "scheduling a delayed sticky event through MSC4140's dedicated endpoint")
		if res.JSON.Get("delay_id").Str == "" {
			t.Fatalf("expected a delay_id from MSC4140's dedicated endpoint, got %s", res)
		}
		return "MSC4140's dedicated endpoint /" + strings.Join(path[:len(path)-4], "/") + "/{roomId}/delayed_event/{eventType}/{txnId} with " + c.Names.DurationParam
	}
	req := c.SendRequest(room, blueprints.StickyType, client.TxnID(), content, strconv.FormatInt(lifetime.Milliseconds(), 10))
	req.Query.Set("org.matrix.msc4140.delay", strconv.FormatInt(delay.Milliseconds(), 10))
	res := c.MustDo(t, req)
	if res.JSON.Get("delay_id").Str == "" {
		spec.NotImplemented(t, c.ServerName(), "org.matrix.msc4140", "the server advertises org.matrix.msc4140 but schedules through neither the dedicated endpoint (%s) nor the org.matrix.msc4140.delay query parameter on /send (answered %s, no delay_id)",
			strings.Join(unknown, "; "), res)
	}
	return "the org.matrix.msc4140.delay query parameter on /send (the dedicated endpoint is unknown to the server: " + strings.Join(unknown, "; ") + ")"
}

// Sticky events are authorised like any event: a user who is not joined gets 403 and nothing
// is created.
func TestSendStickyNotJoined(t *testing.T) {
	spec.Covers(t, "SEND-7") // here too, so a server that skips the subtests shows it
	t.Parallel()
	hs := blueprints.OneServer(t)
	for _, how := range []string{"never-joined", "left", "kicked", "banned"} {
		t.Run(how, func(t *testing.T) {
			spec.Covers(t, "SEND-7")
			t.Parallel()
			alice := blueprints.NewUser(t, hs, "alice")
			mallory := blueprints.NewUser(t, hs, "mallory")
			room := alice.CreateRoom(t, client.PublicRoom(""))
			if how != "never-joined" {
				mallory.JoinRoom(t, room)
				switch how {
				case "left":
					mallory.LeaveRoom(t, room)
				case "kicked":
					alice.Kick(t, room, mallory.UserID)
				case "banned":
					alice.Ban(t, room, mallory.UserID)
				}
			}
			res := mallory.Do(t, mallory.SendRequest(room, blueprints.StickyType, client.TxnID(), map[string]any{"intruder": true}, strconv.FormatInt(blueprints.LongSticky.Milliseconds(), 10)))
			must.As("non-member-send-accepted").MatrixError(t, res, 403, "", "a sticky send by a user who is "+how)
			// A marker sent after the refused send: once history shows it, it shows everything
			// sent before it.
			marker := alice.SendText(t, room, "after the refused send")
			msgs := alice.MustMessagesShowing(t, room, 50, marker)
			must.As("refused-send-created-event").NoneWith(t, msgs.JSON.Get("chunk").Array(), "content.intruder", "the refused sticky send must create no event (/messages)")
			r := alice.NewStream(client.Sync, client.TimelineLimit(1)).InitialUntil(t, client.ShowsInTimeline(room, marker))
			must.As("refused-send-created-event").NoneWith(t, r.Sticky(room), "content.intruder", "the refused sticky send must not appear in the sticky section")
		})
	}
}

// PUT /state takes the duration parameter too (MSC4354 § Proposal lists both endpoints): it
// makes a state event whose sticky object carries the duration, and the value is validated
// like on /send (SEND-2: 0..3600000 accepted; fractional, non-numeric and empty refused with
// 400, leaving the state as it was; integers outside the range are SEND-3's, tested on /send). Where the server then shows the event in
// /sync (sticky section, state, timeline) the proposal does not say: reported (a MAY).
func TestStickyParamOnStateEndpoint(t *testing.T) {
	spec.Covers(t, "SEND-8")
	t.Parallel()
	alice, room := blueprints.UserInRoom(t, "alice")
	const stateType = "org.example.state"
	put := func(key, duration string, content map[string]any) *client.Response {
		q := url.Values{alice.Names.DurationParam: {duration}} // sent as is, even when empty
		return alice.Do(t, client.Request{Method: "PUT", Path: client.V3("rooms", room, "state", stateType, key), Query: q, Body: content})
	}
	var sticky string
	for _, d := range []int64{blueprints.LongSticky.Milliseconds(), 0, blueprints.MaxSticky.Milliseconds()} {
		ds := strconv.FormatInt(d, 10)
		res := put("valid-"+ds, ds, map[string]any{"d": d})
		must.As("refused-valid-duration").Status(t, res, 200, "PUT /state with the valid duration "+ds)
		id := res.JSON.Get("event_id").Str
		ev := alice.GetEvent(t, room, id)
		must.Status(t, ev, 200, "GET /event of the state event sent with duration "+ds)
		must.As("state-not-sticky").JSONEqual(t, ev.JSON, alice.StickyDurationPath(), d, "the state event sent through PUT /state with duration "+ds)
		if d == blueprints.LongSticky.Milliseconds() {
			sticky = id
		}
	}
	// Invalid values: refused, and the state keeps the content it had.
	before := put("invalid", "1000", map[string]any{"v": "before"})
	must.Status(t, before, 200, "PUT /state of the state the invalid values must not change")
	for _, d := range []string{"1.5", "abc", ""} {
		res := put("invalid", d, map[string]any{"v": "invalid " + d})
		must.As("accepted-invalid-duration").MatrixError(t, res, 400, "", fmt.Sprintf("PUT /state with the invalid duration %q", d))
	}
	cur := alice.Do(t, client.Request{Method: "GET", Path: client.V3("rooms", room, "state", stateType, "invalid")})
	must.Status(t, cur, 200, "GET the state after the refused PUTs")
	must.As("refused-send-created-event").JSONEqual(t, cur.JSON, "v", "before", "the state after PUT /state with invalid durations (a refused PUT changes nothing)")

	// Where the sticky state event shows up in /sync: not specified, reported.
	filler := alice.SendText(t, room, "pushes the state event out of a one-event timeline")
	r := alice.NewStream(client.Sync, client.TimelineLimit(1)).InitialUntil(t, client.ShowsInTimeline(room, filler))
	inSection := client.Contains(r.Sticky(room), sticky)
	inState := client.Contains(r.Get(wire.Path("rooms.join", room, "state", "events")).Array(), sticky)
	spec.Choice(t, "SEND-8", fmt.Sprintf("PUT /state with the parameter makes a sticky state event; in an initial /sync with a one-event timeline: sticky section=%v, state=%v", inSection, inState))
}

// PUT /send with the duration parameter makes an event whose top-level sticky object carries
// that duration, and every endpoint that serves the event shows it, on both servers.
func TestSendStickyVisibleEverywhere(t *testing.T) {
	spec.Covers(t, "SEND-1")
	t.Parallel()
	b := blueprints.SharedFederation(t, 2, nil)
	alice, bob, room := b.Users[0], b.Users[1], b.Room
	const duration = 123456 // ms
	sent := time.Now()
	ev := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"body": "sticky"}, duration*time.Millisecond)

	res := alice.GetEvent(t, room, ev)
	must.Status(t, res, 200, "GET /event of the sticky event")
	must.JSONEqual(t, res.JSON, alice.StickyDurationPath(), duration, "GET /event on the sender's server")

	sync := alice.NewStream(client.Sync, client.Filter("")).InitialUntil(t, client.ShowsInTimeline(room, ev))
	e := must.Has(t, sync.Timeline(room), ev, "the sender's initial /sync timeline")
	must.JSONEqual(t, e, alice.StickyDurationPath(), duration, "the /sync timeline")

	msgs := alice.MustMessagesShowing(t, room, 10, ev)
	e = must.Has(t, msgs.JSON.Get("chunk").Array(), ev, "/messages")
	must.JSONEqual(t, e, alice.StickyDurationPath(), duration, "/messages")

	ctx := alice.Context(t, room, ev, 2)
	must.Status(t, ctx, 200, "GET /context")
	must.JSONEqual(t, ctx.JSON.Get("event"), alice.StickyDurationPath(), duration, "/context")

	// The other server gets the event with the same sticky object.
	onHS2 := bob.NewStream(client.Sync, client.Filter(""))
	onHS2.Labels[ev] = "alice's sticky event"
	// The push to hs2 has no deadline in the proposal: while the event is sticky.
	bound.Sticky("SEND-1", sent, duration*time.Millisecond, "alice's sticky event").MustSyncUntil(t, onHS2, client.Delivered(ev))
	delivered := onHS2.Of(ev)[0].Event
	must.JSONEqual(t, delivered, bob.StickyDurationPath(), duration, "the receiving server's /sync")
	remote := bob.GetEvent(t, room, ev)
	must.Status(t, remote, 200, "GET /event on the receiving server")
	must.JSONEqual(t, remote.JSON, bob.StickyDurationPath(), duration, "GET /event on the receiving server")
}

// Valid durations are the integers 0..3600000; a value that is not an integer at all
// (fractional, non-numeric, empty) is refused with 400 and a Matrix error, and creates nothing.
// Integers outside the range (negative, above the hour) are SEND-3's (TestSendAboveCap). Each
// request has its own fresh transaction ID: nothing promises that a refused one can be used
// again, so "creates nothing" is read from the room's history.
func TestSendDurationValidation(t *testing.T) {
	spec.Covers(t, "SEND-2")
	t.Parallel()
	alice, room := blueprints.UserInRoom(t, "alice")

	for _, d := range []int{0, 1, 3600000} {
		ds := fmt.Sprint(d)
		res := alice.Do(t, alice.SendRequest(room, blueprints.StickyType, client.TxnID(), map[string]any{"d": d}, ds))
		must.As("refused-valid-duration").Status(t, res, 200, "sending with valid duration "+ds)
		ev := alice.GetEvent(t, room, res.JSON.Get("event_id").Str)
		must.JSONEqual(t, ev.JSON, alice.StickyDurationPath(), d, "the event sent with duration "+ds)
	}

	for i, d := range []string{"1.5", "abc", ""} { // fractional, non-numeric, empty
		req := alice.SendRequest(room, blueprints.StickyType, client.TxnID(), map[string]any{"invalid": i}, "x")
		req.Query = url.Values{alice.Names.DurationParam: {d}} // sent as is, even when empty
		res := alice.Do(t, req)
		must.As("accepted-invalid-duration").MatrixError(t, res, 400, "", fmt.Sprintf("sending with invalid duration %q", d))
	}
	// A marker sent after the refused requests: once /messages shows it, it shows everything
	// sent before it.
	marker := alice.SendText(t, room, "after the refused sends")
	msgs := alice.MustMessagesShowing(t, room, 50, marker)
	must.As("refused-send-created-event").NoneWith(t, msgs.JSON.Get("chunk").Array(), "content.invalid", "a send with an invalid duration must create no event (/messages)")
}

// Without the parameter the event is ordinary: no sticky key, never in the sticky section.
func TestSendWithoutDurationIsNotSticky(t *testing.T) {
	spec.Covers(t, "SEND-4")
	t.Parallel()
	alice, room := blueprints.UserInRoom(t, "alice")
	plain := alice.SendMessage(t, room, blueprints.StickyType, map[string]any{"body": "plain"})
	// Control: a sticky event sent the same way does reach the sticky section, so the absence
	// of the plain one means something.
	sticky := alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"body": "sticky"}, blueprints.LongSticky)
	filler := alice.SendText(t, room, "pushes both out of a one-event timeline")

	ev := alice.GetEvent(t, room, plain)
	must.Status(t, ev, 200, "GET /event of the plain event")
	must.Missing(t, ev.JSON, wire.Escape(alice.Names.EventKey), "GET /event of an event sent without the parameter")

	sync := alice.NewStream(client.Sync, client.TimelineLimit(1)).InitialUntil(t, client.ShowsInTimeline(room, filler))
	section := sync.Sticky(room)
	must.Has(t, section, sticky, "the sticky section (control: a sticky event outside the timeline)")
	must.HasNot(t, section, plain, "the sticky section")
}
