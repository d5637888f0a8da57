package federation_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/tidwall/sjson"

	"stickler/blueprints"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
	"stickler/helpers/harness/federation"
)

func TestMain(m *testing.M) { deploy.Main(m) }

// peerWait bounds every wait for federation traffic between a container and the peer: long
// enough for a loaded two-core machine, short enough to fail fast.
const peerWait = 20 * time.Second

// The peer joins rooms of versions 10, 11 and 12 on a real server, and events flow both ways:
// the server accepts the peer's crafted event with its content intact (so hashes, signatures
// and event IDs are right) and sends its own events to the peer.
func TestPeerJoinsAndExchangesEvents(t *testing.T) {
	deploy.RequireDocker(t)
	d := deploy.Shared(t, 1)
	hs1 := d.Server("hs1")
	for _, ver := range []string{"10", "11", "12"} {
		t.Run("v"+ver, func(t *testing.T) {
			p := federation.New(t, d)
			alice := blueprints.NewUser(t, hs1, "alice-peer-v"+ver)
			roomID := alice.CreateRoom(t, map[string]any{"preset": "public_chat", "room_version": ver})
			user := p.UserID("peter")
			room := p.Join(t, hs1, roomID, user)
			if string(room.Version) != ver {
				t.Fatalf("joined room version %s, created %s", room.Version, ver)
			}
			ev := room.Craft(t, federation.Proto{Type: "m.room.message", Sender: user,
				Content: map[string]any{"msgtype": "m.text", "body": "from the peer"},
				Extra:   p.StickyFor(time.Minute)})
			p.Send(t, hs1, ev).MustAccept(t, ev)
			alice.NewStream(client.Sync, client.Filter("")).MustSyncUntil(t, peerWait, client.Responds("the peer's event in alice's timeline", func(r client.SyncResponse) error {
				return client.HasEvent(r.Timeline(roomID), ev.ID, "the timeline")
			}))
			got := alice.GetEvent(t, roomID, ev.ID)
			if got.StatusCode != 200 || got.JSON.Get("content.body").Str != "from the peer" {
				t.Fatalf("the peer's event should be served intact (content hash right), got %s", got)
			}
			mine := alice.SendText(t, roomID, "to the peer")
			r := p.WaitEvent(t, peerWait, mine, "alice's message at the peer")
			if r.Event.Parsed.Get("content.body").Str != "to the peer" || r.Origin != hs1.Name {
				t.Fatalf("alice's message arrived changed or from the wrong origin: %s from %s", r.Event.JSON, r.Origin)
			}
		})
	}
}

// Negative control: the server must not accept what the peer gets wrong, so that the peer
// cannot pass by accident. In one room: an event whose content was changed after hashing is
// redacted by the server (its content never reaches clients, as the hash check demands), and
// an event with a broken signature is refused outright; a correct event sent afterwards
// arrives intact, which shows the server did process the transaction.
func TestServerRejectsBrokenPeerEvents(t *testing.T) {
	deploy.RequireDocker(t)
	d := deploy.Shared(t, 1)
	hs1 := d.Server("hs1")
	p := federation.New(t, d)
	alice := blueprints.NewUser(t, hs1, "alice-neg")
	roomID := alice.CreateRoom(t, client.PublicRoom(""))
	user := p.UserID("mallory")
	room := p.Join(t, hs1, roomID, user)

	// Both broken events are kept off the peer's DAG (Detached), so that no later event refers
	// to them and the server has no reason to fetch the peer's correct copies.
	hashed := room.Craft(t, federation.Proto{Type: "m.room.message", Sender: user, Detached: true,
		Content: map[string]any{"msgtype": "m.text", "body": "original"}, Extra: p.StickyFor(time.Minute)})
	tampered, _ := sjson.SetBytes(hashed.JSON, "content.body", "changed after hashing")

	forged := room.Craft(t, federation.Proto{Type: "m.room.message", Sender: user, Detached: true,
		Content: map[string]any{"msgtype": "m.text", "body": "forged signature"}})
	var sigs map[string]map[string]string
	_ = json.Unmarshal([]byte(forged.Parsed.Get("signatures").Raw), &sigs)
	for k := range sigs[p.ServerName] {
		other := room.Craft(t, federation.Proto{Type: "m.room.message", Sender: user, Content: map[string]any{"x": 1}, Detached: true})
		sigs[p.ServerName][k] = other.Parsed.Get("signatures." + escape(p.ServerName) + "." + escape(k)).Str
	}
	forgedJSON, _ := sjson.SetBytes(forged.JSON, "signatures", sigs)

	res := p.SendRaw(t, hs1, []json.RawMessage{tampered, forgedJSON}, nil)
	t.Logf("verdicts for the broken events: %v", res)
	good := room.Craft(t, federation.Proto{Type: "m.room.message", Sender: user,
		Content: map[string]any{"msgtype": "m.text", "body": "correct"}})
	p.Send(t, hs1, good).MustAccept(t, good)
	alice.NewStream(client.Sync, client.Filter("")).MustSyncUntil(t, peerWait, client.Responds("the correct event after the broken ones", func(r client.SyncResponse) error {
		return client.HasEvent(r.Timeline(roomID), good.ID, "the timeline")
	}))

	if got := alice.GetEvent(t, roomID, hashed.ID); got.StatusCode != 200 {
		t.Logf("the hash-mismatch event is not served at all (%d): refused rather than redacted", got.StatusCode)
	} else {
		if body := got.JSON.Get("content.body"); body.Exists() {
			t.Fatalf("an event whose content hash does not match was served with its content (%q); the server must redact it: %s", body.Str, got)
		}
		if s := got.JSON.Get(escape(p.Names.EventKey)); s.Exists() {
			t.Fatalf("the redacted (hash-mismatch) event kept its sticky object: %s", got)
		}
	}
	if got := alice.GetEvent(t, roomID, forged.ID); got.StatusCode == 200 {
		t.Fatalf("an event with a broken signature was accepted and served: %s", got)
	}
	if msg, ok := res[forged.ID]; ok && msg == "" {
		t.Fatalf("the server answered /send with no error for the event with a broken signature: %v", res)
	}
}

func escape(s string) string {
	out := ""
	for _, c := range s {
		if c == '.' || c == ':' {
			out += `\`
		}
		out += string(c)
	}
	return out
}
