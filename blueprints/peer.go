package blueprints

import (
	"testing"

	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
	"stickler/helpers/harness/federation"
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
