package tests

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"stickler/blueprints"
	"stickler/helpers/client"
	"stickler/helpers/must"
	"stickler/helpers/spec"
	"stickler/helpers/wire"
)

// PUT /send with the duration parameter makes an event whose top-level sticky object carries
// that duration, and every endpoint that serves the event shows it, on both servers.
func TestSendStickyVisibleEverywhere(t *testing.T) {
	spec.Covers(t, "SEND-1")
	t.Parallel()
	hs1, hs2 := blueprints.TwoServers(t)
	alice := blueprints.NewUser(t, hs1, "alice")
	bob := blueprints.NewUser(t, hs2, "bob")
	room := alice.CreateRoom(t, client.PublicRoom(""))
	bob.JoinRoom(t, room, hs1.Name)
	const duration = 123456 // ms
	ev := alice.SendSticky(t, room, "org.example.sticky", map[string]any{"body": "sticky"}, duration*time.Millisecond)

	res := alice.GetEvent(t, room, ev)
	must.Status(t, res, 200, "GET /event of the sticky event")
	must.JSONEqual(t, res.JSON, alice.StickyDurationPath(), duration, "GET /event on the sender's server")

	sync := alice.NewStream(client.Sync, client.Filter("")).Next(t, 0)
	e := must.Has(t, client.Timeline(sync, room), ev, "the sender's initial /sync timeline")
	must.JSONEqual(t, e, alice.StickyDurationPath(), duration, "the /sync timeline")

	msgs := alice.Messages(t, room, 10)
	must.Status(t, msgs, 200, "GET /messages")
	e = must.Has(t, msgs.JSON.Get("chunk").Array(), ev, "/messages")
	must.JSONEqual(t, e, alice.StickyDurationPath(), duration, "/messages")

	ctx := alice.Context(t, room, ev, 2)
	must.Status(t, ctx, 200, "GET /context")
	must.JSONEqual(t, ctx.JSON.Get("event"), alice.StickyDurationPath(), duration, "/context")

	// The other server gets the event with the same sticky object.
	onHS2 := bob.NewStream(client.Sync, client.Filter(""))
	onHS2.Labels[ev] = "alice's sticky event"
	onHS2.Await(t, client.DefaultWait, ev)
	delivered := onHS2.Of(ev)[0].Event
	must.JSONEqual(t, delivered, bob.StickyDurationPath(), duration, "the receiving server's /sync")
	remote := bob.GetEvent(t, room, ev)
	must.Status(t, remote, 200, "GET /event on the receiving server")
	must.JSONEqual(t, remote.JSON, bob.StickyDurationPath(), duration, "GET /event on the receiving server")
}

// Valid durations are the integers 0..3600000; anything else is refused with 400 and a Matrix
// error, and creates nothing (the transaction ID can be used again).
func TestSendDurationValidation(t *testing.T) {
	spec.Covers(t, "SEND-2")
	t.Parallel()
	hs := blueprints.OneServer(t)
	alice := blueprints.NewUser(t, hs, "alice")
	room := alice.CreateRoom(t, client.PublicRoom(""))

	for _, d := range []int{0, 1, 3600000} {
		ds := fmt.Sprint(d)
		res := alice.Do(t, alice.SendRequest(room, "org.example.sticky", client.TxnID(), map[string]any{"d": d}, ds))
		must.Status(t, res, 200, "sending with valid duration "+ds)
		ev := alice.GetEvent(t, room, res.JSON.Get("event_id").Str)
		must.JSONEqual(t, ev.JSON, alice.StickyDurationPath(), d, "the event sent with duration "+ds)
	}

	invalid := []string{"-1", "1.5", "abc", ""} // negative, fractional, non-numeric, empty
	var refusedTxns []string
	for i, d := range invalid {
		txn := client.TxnID()
		req := alice.SendRequest(room, "org.example.sticky", txn, map[string]any{"invalid": i}, "x")
		req.Query = url.Values{alice.Names.DurationParam: {d}} // sent as is, even when empty
		res := alice.Do(t, req)
		must.MatrixError(t, res, 400, "", fmt.Sprintf("sending with invalid duration %q", d))
		refusedTxns = append(refusedTxns, txn)
	}
	// Nothing was created: the refused transaction IDs make fresh events when used again.
	for i, txn := range refusedTxns {
		res := alice.MustDo(t, alice.SendRequest(room, "org.example.sticky", txn, map[string]any{"retry": i}, "1000"))
		ev := alice.GetEvent(t, room, res.JSON.Get("event_id").Str)
		must.JSONEqual(t, ev.JSON, "content.retry", i, fmt.Sprintf("reusing the txnId refused for %q must create a new event", invalid[i]))
	}
	msgs := alice.Messages(t, room, 50)
	for _, e := range msgs.JSON.Get("chunk").Array() {
		if e.Get("content.invalid").Exists() {
			t.Fatalf("a send with an invalid duration created an event anyway: %s", e.Raw)
		}
	}
}

// Without the parameter the event is ordinary: no sticky key, never in the sticky section.
func TestSendWithoutDurationIsNotSticky(t *testing.T) {
	spec.Covers(t, "SEND-4")
	t.Parallel()
	hs := blueprints.OneServer(t)
	alice := blueprints.NewUser(t, hs, "alice")
	room := alice.CreateRoom(t, client.PublicRoom(""))
	plain := alice.SendMessage(t, room, "org.example.sticky", map[string]any{"body": "plain"})
	// Control: a sticky event sent the same way does reach the sticky section, so the absence
	// of the plain one means something.
	sticky := alice.SendSticky(t, room, "org.example.sticky", map[string]any{"body": "sticky"}, blueprints.LongSticky)
	alice.SendText(t, room, "pushes both out of a one-event timeline")

	ev := alice.GetEvent(t, room, plain)
	must.Status(t, ev, 200, "GET /event of the plain event")
	must.Missing(t, ev.JSON, wire.Escape(alice.Names.EventKey), "GET /event of an event sent without the parameter")

	sync := alice.NewStream(client.Sync, client.Filter(`{"room":{"timeline":{"limit":1}}}`)).Next(t, 0)
	section := alice.Sticky(sync, room)
	must.Has(t, section, sticky, "the sticky section (control: a sticky event outside the timeline)")
	must.HasNot(t, section, plain, "the sticky section")
}
