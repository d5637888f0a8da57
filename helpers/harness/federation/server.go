package federation

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
)

// Received is one PDU that arrived in a transaction.
type Received struct {
	Origin string
	TxnID  string
	At     time.Time
	RoomID string
	Event  *Event
}

// ID returns the event ID of the PDU.
func (r *Received) ID() string { return r.Event.ID }

func (p *Peer) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_matrix/key/v2/server", p.handleKeys)
	mux.HandleFunc("GET /_matrix/key/v2/server/{keyID}", p.handleKeys)
	mux.HandleFunc("GET /_matrix/federation/v1/version", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"server": map[string]string{"name": "stickler-peer", "version": "1"}})
	})
	mux.HandleFunc("PUT /_matrix/federation/v1/send/{txnID}", p.handleSend)
	mux.HandleFunc("PUT /_matrix/federation/v2/invite/{roomID}/{eventID}", p.handleInvite)
	mux.HandleFunc("GET /_matrix/federation/v1/event/{eventID}", p.handleEvent)
	mux.HandleFunc("POST /_matrix/federation/v1/get_missing_events/{roomID}", p.handleMissing)
	mux.HandleFunc("GET /_matrix/federation/v1/backfill/{roomID}", p.handleBackfill)
	mux.HandleFunc("GET /_matrix/federation/v1/state_ids/{roomID}", p.handleState(true))
	mux.HandleFunc("GET /_matrix/federation/v1/state/{roomID}", p.handleState(false))
	mux.HandleFunc("GET /_matrix/federation/v1/event_auth/{roomID}/{eventID}", p.handleEventAuth)
	mux.HandleFunc("GET /_matrix/federation/v1/user/devices/{userID}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"user_id": r.PathValue("userID"), "stream_id": 0, "devices": []any{}})
	})
	mux.HandleFunc("POST /_matrix/federation/v1/user/keys/query", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"device_keys": map[string]any{}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 404, map[string]string{"errcode": "M_UNRECOGNIZED", "error": "the stickler peer does not serve this"})
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: 200}
		mux.ServeHTTP(rec, r)
		line := fmt.Sprintf("%s %s %s -> %d", time.Now().Format("15:04:05.000"), r.Method, r.URL.RequestURI(), rec.status)
		p.mu.Lock()
		p.requests = append(p.requests, line)
		p.mu.Unlock()
		if p.Debug {
			fmt.Fprintf(os.Stderr, "stickler peer: served %s\n", line)
		}
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func notFound(w http.ResponseWriter, what string) {
	writeJSON(w, 404, map[string]string{"errcode": "M_NOT_FOUND", "error": what})
}

// originOf reads the origin from an X-Matrix Authorization header. Inbound signatures are
// not verified: the peer trusts the deployment it was made for.
func originOf(r *http.Request) string {
	h := r.Header.Get("Authorization")
	for _, part := range strings.Split(strings.TrimPrefix(h, "X-Matrix "), ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && k == "origin" {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

func (p *Peer) handleKeys(w http.ResponseWriter, r *http.Request) {
	keys := map[string]any{
		"server_name":     p.ServerName,
		"valid_until_ts":  time.Now().Add(24 * time.Hour).UnixMilli(),
		"verify_keys":     map[string]any{string(p.Signer.KeyID): map[string]any{"key": spec.Base64Bytes(p.Public).Encode()}},
		"old_verify_keys": map[string]any{},
	}
	raw, _ := json.Marshal(keys)
	signed, err := gomatrixserverlib.SignJSON(p.ServerName, p.Signer.KeyID, p.Signer.Private, raw)
	if err != nil {
		writeJSON(w, 500, map[string]string{"errcode": "M_UNKNOWN", "error": err.Error()})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(signed)
}

func (p *Peer) handleSend(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil || !gjson.ValidBytes(body) {
		writeJSON(w, 400, map[string]string{"errcode": "M_NOT_JSON", "error": "unreadable transaction"})
		return
	}
	tx := gjson.ParseBytes(body)
	origin, txnID, at := tx.Get("origin").Str, r.PathValue("txnID"), time.Now()
	if origin == "" {
		origin = originOf(r)
	}
	results := map[string]any{}
	p.mu.Lock()
	for _, raw := range tx.Get("pdus").Array() {
		roomID := raw.Get("room_id").Str
		version, known := p.versionOf(roomID)
		if !known {
			version = gomatrixserverlib.RoomVersionV11 // same event ID algorithm as 4..12
		}
		e, err := ParseEvent(version, []byte(raw.Raw))
		if err != nil {
			continue
		}
		p.pdus = append(p.pdus, &Received{Origin: origin, TxnID: txnID, At: at, RoomID: roomID, Event: e})
		if room := p.rooms[roomID]; room != nil {
			room.add(e)
		} else {
			p.remember(e)
		}
		results[e.ID] = map[string]any{}
	}
	p.notify()
	p.mu.Unlock()
	writeJSON(w, 200, map[string]any{"pdus": results})
}

func (p *Peer) handleInvite(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeJSON(w, 400, map[string]string{"errcode": "M_NOT_JSON", "error": "unreadable invite"})
		return
	}
	req := gjson.ParseBytes(body)
	version := gomatrixserverlib.RoomVersion(req.Get("room_version").Str)
	impl, err := gomatrixserverlib.GetRoomVersion(version)
	if err != nil {
		writeJSON(w, 400, map[string]string{"errcode": "M_INCOMPATIBLE_ROOM_VERSION", "error": err.Error()})
		return
	}
	signed, err := Sign(p.Signer, impl, []byte(req.Get("event").Raw))
	if err != nil {
		writeJSON(w, 400, map[string]string{"errcode": "M_BAD_JSON", "error": err.Error()})
		return
	}
	e, err := ParseEvent(version, signed)
	if err != nil {
		writeJSON(w, 400, map[string]string{"errcode": "M_BAD_JSON", "error": err.Error()})
		return
	}
	p.mu.Lock()
	p.remember(e)
	p.notify()
	p.mu.Unlock()
	writeJSON(w, 200, map[string]any{"event": json.RawMessage(signed)})
}

func (p *Peer) handleEvent(w http.ResponseWriter, r *http.Request) {
	e := p.Event(r.PathValue("eventID"))
	if e == nil {
		notFound(w, "the peer does not know this event")
		return
	}
	writeJSON(w, 200, map[string]any{"origin": p.ServerName, "origin_server_ts": Now(), "pdus": []json.RawMessage{e.JSON}})
}

// walkBack collects events reachable backwards from the given ones (through prev_events),
// not crossing stop, up to limit, deepest first; callers hold p.mu.
func (p *Peer) walkBack(from []string, stop map[string]bool, includeFrom bool, limit int) []*Event {
	seen := map[string]bool{}
	var out []*Event
	queue := slices.Clone(from)
	if !includeFrom {
		queue = nil
		for _, id := range from {
			seen[id] = true
			if e := p.events[id]; e != nil {
				queue = append(queue, e.PrevEvents()...)
			}
		}
	}
	for len(queue) > 0 && len(out) < limit {
		id := queue[0]
		queue = queue[1:]
		if seen[id] || stop[id] {
			continue
		}
		seen[id] = true
		e := p.events[id]
		if e == nil {
			continue
		}
		out = append(out, e)
		queue = append(queue, e.PrevEvents()...)
	}
	return out
}

func (p *Peer) handleMissing(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Earliest []string `json:"earliest_events"`
		Latest   []string `json:"latest_events"`
		Limit    int      `json:"limit"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeJSON(w, 400, map[string]string{"errcode": "M_NOT_JSON", "error": err.Error()})
		return
	}
	if req.Limit <= 0 {
		req.Limit = 10
	}
	stop := map[string]bool{}
	for _, id := range req.Earliest {
		stop[id] = true
	}
	p.mu.Lock()
	evs := p.walkBack(req.Latest, stop, false, req.Limit)
	p.mu.Unlock()
	sort.Slice(evs, func(i, j int) bool { return evs[i].Depth() < evs[j].Depth() })
	out := make([]json.RawMessage, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.JSON)
	}
	writeJSON(w, 200, map[string]any{"events": out})
}

func (p *Peer) handleBackfill(w http.ResponseWriter, r *http.Request) {
	limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
	if limit <= 0 {
		limit = 10
	}
	p.mu.Lock()
	evs := p.walkBack(r.URL.Query()["v"], nil, true, limit)
	p.mu.Unlock()
	out := make([]json.RawMessage, 0, len(evs))
	for _, e := range evs {
		out = append(out, e.JSON)
	}
	writeJSON(w, 200, map[string]any{"origin": p.ServerName, "origin_server_ts": Now(), "pdus": out})
}

// authChain returns the IDs of the auth chain of the given events; callers hold p.mu.
func (p *Peer) authChain(ids []string) []string {
	seen := map[string]bool{}
	var out []string
	queue := []string{}
	for _, id := range ids {
		if e := p.events[id]; e != nil {
			for _, a := range e.Parsed.Get("auth_events").Array() {
				queue = append(queue, a.Str)
			}
		}
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, id)
		if e := p.events[id]; e != nil {
			for _, a := range e.Parsed.Get("auth_events").Array() {
				queue = append(queue, a.Str)
			}
		}
	}
	return out
}

// handleState answers /state_ids (ids) and /state: the room state before the event.
func (p *Peer) handleState(ids bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		roomID, eventID := r.PathValue("roomID"), r.URL.Query().Get("event_id")
		p.mu.Lock()
		defer p.mu.Unlock()
		room := p.rooms[roomID]
		if room == nil {
			notFound(w, "the peer is not in this room")
			return
		}
		state, ok := room.stateBefore[eventID]
		if !ok {
			notFound(w, "the peer knows no state at this event")
			return
		}
		var stateIDs []string
		for _, id := range state {
			stateIDs = append(stateIDs, id)
		}
		sort.Strings(stateIDs)
		chain := p.authChain(stateIDs)
		if ids {
			writeJSON(w, 200, map[string]any{"pdu_ids": stateIDs, "auth_chain_ids": chain})
			return
		}
		writeJSON(w, 200, map[string]any{"pdus": p.rawEvents(stateIDs), "auth_chain": p.rawEvents(chain)})
	}
}

func (p *Peer) handleEventAuth(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.events[r.PathValue("eventID")] == nil {
		notFound(w, "the peer does not know this event")
		return
	}
	writeJSON(w, 200, map[string]any{"auth_chain": p.rawEvents(p.authChain([]string{r.PathValue("eventID")}))})
}

// rawEvents returns the JSON of the known events among ids; callers hold p.mu.
func (p *Peer) rawEvents(ids []string) []json.RawMessage {
	out := []json.RawMessage{}
	for _, id := range ids {
		if e := p.events[id]; e != nil {
			out = append(out, e.JSON)
		}
	}
	return out
}
