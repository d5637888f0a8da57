package blueprints

import (
	"testing"
	"time"

	"stickler/helpers/client"
	"stickler/helpers/deploy"
	"stickler/helpers/federation"
	"stickler/helpers/must"
	"stickler/helpers/spec"
	"stickler/helpers/wire"

	"github.com/tidwall/gjson"
)

// PeerRoom is a room on a server under test that the in-process federation peer has joined.
type PeerRoom struct {
	D     *deploy.Deployment
	HS    *deploy.Server
	Alice *client.Client // the room's creator, on HS
	Peer  *federation.Peer
	Room  *federation.Room
	User  string // the peer's user, joined to the room
}

// NewPeerRoom makes a room on hs1 of the shared n-server deployment (createRoom body given,
// nil for a public room), and has a fresh peer join it.
func NewPeerRoom(t testing.TB, n int, body map[string]any) *PeerRoom {
	t.Helper()
	d := deploy.Shared(t, n)
	hs := d.Server("hs1")
	RequireSticky(t, hs)
	f := &PeerRoom{D: d, HS: hs, Alice: NewUser(t, hs, "alice")}
	if body == nil {
		body = client.PublicRoom("")
	}
	roomID := f.Alice.CreateRoom(t, body)
	f.Peer = federation.New(t, d)
	f.User = f.Peer.UserID("peter")
	f.Room = f.Peer.Join(t, hs, roomID, f.User)
	return f
}

// SendPeer crafts an event from the peer's user with the given top-level fields (extra, nil
// for none) and origin_server_ts (now when 0), sends it, and requires the server to accept it.
func (f *PeerRoom) SendPeer(t testing.TB, typ string, content any, extra map[string]any, ts int64) *federation.Event {
	t.Helper()
	e := f.Room.Craft(t, federation.Proto{Type: typ, Sender: f.User, Content: content, Extra: extra, OriginServerTS: ts})
	f.Peer.Send(t, f.HS, e).MustAccept(t, e)
	return e
}

// readSlack is how far below the ideal a remaining time may be, beyond the time the test
// itself measured since sending: the server reads its clock before answering /sync, the test
// after. The servers and the peer share this machine's clock, so no skew.
const readSlack = 500 * time.Millisecond

// WaitDelivered waits until Alice's client has the events, in a /sync timeline or sticky
// section, so a test never checks stickiness before an event has arrived.
func (f *PeerRoom) WaitDelivered(t testing.TB, what string, eventIDs ...string) {
	t.Helper()
	f.WaitDeliveredAs(t, "not-delivered", what, eventIDs...)
}

// WaitDeliveredAs is WaitDelivered failing with the given failure code (what the missing
// events mean for the test).
func (f *PeerRoom) WaitDeliveredAs(t testing.TB, code, what string, eventIDs ...string) {
	t.Helper()
	s := f.Alice.NewStream(client.Sync, client.Filter(""))
	for _, id := range eventIDs {
		s.Labels[id] = what
	}
	s.AwaitAs(t, code, client.DefaultWait, eventIDs...)
}

// StickyNow looks for the event in the room's sticky section of a fresh initial sync of
// Alice's whose one-event timeline holds a newer filler. It returns the event (empty when not
// there), its remaining-time field and whether that is present, and the sync response.
func (f *PeerRoom) StickyNow(t testing.TB, eventID string) (ev gjson.Result, remaining int64, hasRemaining bool, r gjson.Result) {
	t.Helper()
	c, roomID := f.Alice, f.Room.ID
	filler := c.SendText(t, roomID, "filler: pushes older events out of a one-event timeline")
	r = c.NewStream(client.Sync, client.Filter(`{"room":{"timeline":{"limit":1}}}`)).Next(t, 0)
	if tl := client.Timeline(r, roomID); !client.Contains(tl, filler) {
		t.Fatalf("the one-event timeline should hold the filler %s, it holds %v", filler, client.EventIDs(tl))
	}
	ev = client.Find(c.Sticky(r, roomID), eventID)
	if !ev.Exists() {
		return ev, 0, false, r
	}
	remaining, hasRemaining = c.Remaining(ev)
	return ev, remaining, hasRemaining, r
}

// RequireStickyFor checks that the event is sticky for Alice now with a remaining time of at
// most want (its lifetime as of when the test built it, at since) and at least want minus the
// time that has passed since then (and a little slack).
func (f *PeerRoom) RequireStickyFor(t testing.TB, eventID string, want time.Duration, since time.Time, why string) {
	t.Helper()
	c := f.Alice
	ev, rem, ok, r := f.StickyNow(t, eventID)
	if !ev.Exists() {
		spec.Fatalf(t, "not-sticky", "%s: expected %s in the sticky section (outside the timeline) %v into its %v lifetime, it is not; the sticky section holds %v, the timeline %v",
			why, eventID, time.Since(since).Round(time.Millisecond), want, client.EventIDs(c.Sticky(r, f.Room.ID)), client.EventIDs(client.Timeline(r, f.Room.ID)))
	}
	if !ok {
		spec.Fatalf(t, "no-remaining-time", "%s: the sticky event has no unsigned.%s: %s", why, c.Names.RemainingField, ev.Raw)
	}
	lo, hi := (want - time.Since(since) - readSlack).Milliseconds(), want.Milliseconds()
	if rem > hi {
		spec.Fatalf(t, "ttl-too-long", "%s: expected the remaining time in [%d, %d] ms, got %d (longer): %s", why, lo, hi, rem, ev.Raw)
	}
	if rem < lo {
		spec.Fatalf(t, "ttl-too-short", "%s: expected the remaining time in [%d, %d] ms, got %d (shorter): %s", why, lo, hi, rem, ev.Raw)
	}
}

// RequireNotSticky checks that the event is in no sticky section of Alice's (failure code
// still-sticky) and that GET /event shows no remaining-time field (ttl-when-not-sticky).
func (f *PeerRoom) RequireNotSticky(t testing.TB, eventID, why string) {
	t.Helper()
	f.RequireNotStickyAs(t, "still-sticky", "ttl-when-not-sticky", eventID, why)
}

// RequireNotStickyAs is RequireNotSticky with the test's own failure codes: inSection when
// the event is still in the sticky section, field when GET /event shows a remaining time.
func (f *PeerRoom) RequireNotStickyAs(t testing.TB, inSection, field, eventID, why string) {
	t.Helper()
	c := f.Alice
	if ev, _, _, _ := f.StickyNow(t, eventID); ev.Exists() {
		spec.Fatalf(t, inSection, "%s: expected %s NOT to be in the sticky section, but it is: %s", why, eventID, ev.Raw)
	}
	res := c.GetEvent(t, f.Room.ID, eventID)
	must.Status(t, res, 200, why+": GET /event")
	must.As(field).Missing(t, res.JSON, wire.Path("unsigned", c.Names.RemainingField), why+": GET /event")
}
