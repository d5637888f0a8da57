package federation

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
)

type stateKey struct{ Type, StateKey string }

// Room is the peer's view of a room it joined: the events it knows, the state after each of
// them (applied in the order the peer learnt them, no state resolution: the tests control the
// DAG), and the forward extremities new events build on by default.
type Room struct {
	ID      string
	Version gomatrixserverlib.RoomVersion
	peer    *Peer

	// guarded by peer.mu
	state       map[stateKey]string
	latest      []string
	stateBefore map[string]map[stateKey]string
	stateAfter  map[string]map[stateKey]string
	maxDepth    int64
}

func newRoom(p *Peer, id string, v gomatrixserverlib.RoomVersion) *Room {
	return &Room{ID: id, Version: v, peer: p, state: map[stateKey]string{},
		stateBefore: map[string]map[stateKey]string{}, stateAfter: map[string]map[stateKey]string{}}
}

// add puts an event into the peer's DAG of the room; callers hold peer.mu.
func (r *Room) add(e *Event) {
	r.peer.remember(e)
	if _, known := r.stateAfter[e.ID]; known {
		return
	}
	before := r.state
	if prev := e.PrevEvents(); len(prev) == 1 {
		if s, ok := r.stateAfter[prev[0]]; ok {
			before = s
		}
	}
	r.stateBefore[e.ID] = maps.Clone(before)
	after := maps.Clone(before)
	if sk, ok := e.StateKey(); ok {
		after[stateKey{e.Type(), sk}] = e.ID
		r.state[stateKey{e.Type(), sk}] = e.ID
	}
	r.stateAfter[e.ID] = after
	prevs := e.PrevEvents()
	r.latest = slices.DeleteFunc(r.latest, func(id string) bool { return slices.Contains(prevs, id) })
	r.latest = append(r.latest, e.ID)
	if d := e.Depth(); d > r.maxDepth {
		r.maxDepth = d
	}
}

// Latest returns the room's forward extremities as the peer sees them.
func (r *Room) Latest() []string {
	r.peer.mu.Lock()
	defer r.peer.mu.Unlock()
	return slices.Clone(r.latest)
}

// Proto describes an event for the peer to craft. Zero values mean "as a well-behaved server
// would": now for the timestamp, the room's forward extremities for prev_events, auth events
// chosen from the state after the (single) prev event or else the current state, depth one
// more than the deepest prev event.
type Proto struct {
	Type           string
	StateKey       *string
	Sender         string
	Content        any
	OriginServerTS int64
	PrevEvents     []string
	AuthEvents     []string
	Depth          int64
	// Extra holds additional top-level keys, e.g. the sticky object under the wire name in
	// use: Extra: map[string]any{names.EventKey: map[string]any{"duration_ms": 5000}}.
	Extra map[string]any
	// Detached events are known to the peer (it serves them) but do not move the room's
	// forward extremities or current state: for events that the test keeps aside.
	Detached bool
}

// Now is the current time as a Matrix timestamp.
func Now() int64 { return time.Now().UnixMilli() }

// Craft builds, hashes and signs an event in the room and adds it to the peer's DAG (so the
// peer serves it when asked), without sending it anywhere.
func (r *Room) Craft(t testing.TB, p Proto) *Event {
	t.Helper()
	e, err := r.craft(p)
	if err != nil {
		t.Fatalf("federation peer: crafting %s in %s: %v", p.Type, r.ID, err)
	}
	return e
}

func (r *Room) craft(p Proto) (*Event, error) {
	pe := r.peer
	pe.mu.Lock()
	defer pe.mu.Unlock()
	prev := p.PrevEvents
	if prev == nil {
		prev = slices.Clone(r.latest)
	}
	depth := p.Depth
	if depth == 0 {
		for _, id := range prev {
			if ev := pe.events[id]; ev != nil && ev.Depth() > depth {
				depth = ev.Depth()
			}
		}
		if depth == 0 {
			depth = r.maxDepth
		}
		depth++
	}
	auth := p.AuthEvents
	if auth == nil {
		state := r.state
		if len(prev) == 1 {
			if s, ok := r.stateAfter[prev[0]]; ok {
				state = s
			}
		}
		auth = r.authEvents(state, p)
	}
	ts := p.OriginServerTS
	if ts == 0 {
		ts = Now()
	}
	content := p.Content
	if content == nil {
		content = map[string]any{}
	}
	fields := map[string]any{
		"type":             p.Type,
		"room_id":          r.ID,
		"sender":           p.Sender,
		"content":          content,
		"origin_server_ts": ts,
		"prev_events":      prev,
		"auth_events":      auth,
		"depth":            depth,
	}
	if r.Version == gomatrixserverlib.RoomVersionV10 {
		fields["origin"] = pe.ServerName
	}
	if p.StateKey != nil {
		fields["state_key"] = *p.StateKey
	}
	for k, v := range p.Extra {
		fields[k] = v
	}
	e, err := SealPDU(pe.Signer, r.Version, fields)
	if err != nil {
		return nil, err
	}
	if p.Detached {
		pe.remember(e)
	} else {
		r.add(e)
	}
	return e, nil
}

// authEvents picks the auth events the auth rules ask for; callers hold peer.mu.
func (r *Room) authEvents(state map[stateKey]string, p Proto) []string {
	var out []string
	add := func(typ, key string) {
		if id := state[stateKey{typ, key}]; id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	impl := gomatrixserverlib.MustGetRoomVersion(r.Version)
	if !impl.DomainlessRoomIDs() { // from v12 the create event is implied by the room ID
		add("m.room.create", "")
	}
	add("m.room.power_levels", "")
	add("m.room.member", p.Sender)
	if p.Type == "m.room.member" && p.StateKey != nil {
		add("m.room.member", *p.StateKey)
		if m, ok := p.Content.(map[string]any); ok && (m["membership"] == "join" || m["membership"] == "invite") {
			add("m.room.join_rules", "")
		}
	}
	return out
}

// Message is a Proto for an ordinary event with the given type and content.
func Message(sender, typ string, content any) Proto {
	return Proto{Type: typ, Sender: sender, Content: content}
}

// StickyValue returns the Extra map that puts value under the sticky key of the wire names
// in use (value may be anything: an object, a string, null).
func (pe *Peer) StickyValue(value any) map[string]any {
	return map[string]any{pe.Names.EventKey: value}
}

// StickyFor returns the Extra map of a valid sticky object with the given duration.
func (pe *Peer) StickyFor(d time.Duration) map[string]any {
	return pe.StickyValue(map[string]any{"duration_ms": d.Milliseconds()})
}

// Str returns a pointer to s, for Proto.StateKey.
func Str(s string) *string { return &s }
