package federation

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"testing"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/tidwall/gjson"

	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
)

// supportedVersions are the room versions the peer can join (hash-derived event IDs).
var supportedVersions = []gomatrixserverlib.RoomVersion{
	gomatrixserverlib.RoomVersionV10, gomatrixserverlib.RoomVersionV11, gomatrixserverlib.RoomVersionV12,
}

// Join joins the user (on the peer) to a room through the server, with make_join and
// send_join, and returns the peer's view of the room: the state and auth chain the server
// returned plus the join event. The peer can then craft events in the room.
func (p *Peer) Join(t testing.TB, s *deploy.Server, roomID, userID string) *Room {
	t.Helper()
	q := url.Values{}
	for _, v := range supportedVersions {
		q.Add("ver", string(v))
	}
	mj := p.MustDo(t, s, "GET", "/_matrix/federation/v1/make_join"+escapePath(roomID, userID), q, nil)
	version := gomatrixserverlib.RoomVersion(mj.JSON.Get("room_version").Str)
	if version == "" {
		version = gomatrixserverlib.RoomVersionV1
	}
	impl, err := gomatrixserverlib.GetRoomVersion(version)
	if err != nil || impl.EventIDFormat() == gomatrixserverlib.EventIDFormatV1 {
		t.Fatalf("federation peer: make_join offered room version %q, which the peer cannot join: %s", version, mj)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(mj.JSON.Get("event").Raw), &fields); err != nil {
		t.Fatalf("federation peer: make_join gave no event template: %s", mj)
	}
	fields["origin_server_ts"] = Now()
	if version == gomatrixserverlib.RoomVersionV10 {
		fields["origin"] = p.ServerName
	}
	for _, k := range []string{"hashes", "signatures", "unsigned", "event_id"} {
		delete(fields, k)
	}
	// Numbers decoded as float64 are written back as integers by encoding/json when whole.
	join, err := SealPDU(p.Signer, version, fields)
	if err != nil {
		t.Fatalf("federation peer: sealing the join event: %v", err)
	}
	sj := p.MustDo(t, s, "PUT", "/_matrix/federation/v2/send_join"+escapePath(roomID, join.ID), nil, json.RawMessage(join.JSON))

	room := newRoom(p, roomID, version)
	p.mu.Lock()
	defer p.mu.Unlock()
	var parseErr error
	load := func(list gjson.Result, asState bool) {
		for _, raw := range list.Array() {
			e, err := ParseEvent(version, []byte(raw.Raw))
			if err != nil {
				parseErr = fmt.Errorf("reading %s: %w", client.Truncate(raw.Raw, 300), err)
				return
			}
			p.remember(e)
			if asState {
				if sk, ok := e.StateKey(); ok {
					room.state[stateKey{e.Type(), sk}] = e.ID
				}
				if d := e.Depth(); d > room.maxDepth {
					room.maxDepth = d
				}
			}
		}
	}
	load(sj.JSON.Get("auth_chain"), false)
	load(sj.JSON.Get("state"), true)
	if parseErr != nil {
		t.Fatalf("federation peer: send_join answer: %v", parseErr)
	}
	// The join builds on the template's prev_events, which the peer may not know: they are the
	// room's extremities as the server saw them, so they stand for the state in the answer.
	for _, prev := range join.PrevEvents() {
		room.stateAfter[prev] = maps.Clone(room.state)
		room.latest = append(room.latest, prev)
	}
	room.add(join)
	p.rooms[roomID] = room
	p.notify()
	return room
}
