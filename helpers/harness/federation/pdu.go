package federation

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/tidwall/gjson"
)

// Event is one PDU: its ID (computed the way the room version says), the exact JSON sent over
// the wire, and that JSON parsed for reading.
type Event struct {
	ID      string
	Version gomatrixserverlib.RoomVersion
	JSON    []byte
	Parsed  gjson.Result
}

// Type, Sender, StateKey read the event's fields.
func (e *Event) Type() string   { return e.Parsed.Get("type").Str }
func (e *Event) Sender() string { return e.Parsed.Get("sender").Str }
func (e *Event) StateKey() (string, bool) {
	r := e.Parsed.Get("state_key")
	return r.Str, r.Exists()
}
func (e *Event) Depth() int64 { return e.Parsed.Get("depth").Int() }
func (e *Event) PrevEvents() []string {
	var out []string
	for _, p := range e.Parsed.Get("prev_events").Array() {
		out = append(out, p.Str)
	}
	return out
}

// Signer is the identity that hashes and signs PDUs: a server name and its ed25519 key.
type Signer struct {
	ServerName string
	KeyID      gomatrixserverlib.KeyID
	Private    ed25519.PrivateKey
}

// SealPDU turns the fields of a PDU into a finished event: it computes the content hash over
// every top-level key (so a `sticky` object is covered), signs the redacted form (which drops
// keys the room version does not protect, `sticky` among them), and derives the event ID from
// the redacted form's reference hash. fields must not hold hashes, signatures or unsigned.
// Values are marshalled with encoding/json; use json.RawMessage for exact numbers such as 1.5.
func SealPDU(s Signer, version gomatrixserverlib.RoomVersion, fields map[string]any) (*Event, error) {
	impl, err := gomatrixserverlib.GetRoomVersion(version)
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"hashes", "signatures", "unsigned", "event_id"} {
		if _, ok := fields[k]; ok {
			return nil, fmt.Errorf("SealPDU: fields must not contain %q; it is computed", k)
		}
	}
	raw, err := json.Marshal(fields)
	if err != nil {
		return nil, fmt.Errorf("SealPDU: encoding fields: %w", err)
	}
	hashed, err := WithContentHash(raw)
	if err != nil {
		return nil, err
	}
	signed, err := Sign(s, impl, hashed)
	if err != nil {
		return nil, err
	}
	return eventOf(impl, signed)
}

// ContentHash returns the unpadded base64 SHA-256 of the event's canonical JSON without
// hashes, signatures and unsigned: the hash that protects the full (unredacted) event.
func ContentHash(eventJSON []byte) (string, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(eventJSON, &m); err != nil {
		return "", fmt.Errorf("content hash: %w", err)
	}
	for _, k := range []string{"hashes", "signatures", "unsigned"} {
		delete(m, k)
	}
	sum, err := canonicalSHA256(m)
	if err != nil {
		return "", err
	}
	return base64.RawStdEncoding.EncodeToString(sum[:]), nil
}

// WithContentHash returns the event with hashes.sha256 set to its content hash.
func WithContentHash(eventJSON []byte) ([]byte, error) {
	h, err := ContentHash(eventJSON)
	if err != nil {
		return nil, err
	}
	return setKey(eventJSON, "hashes", map[string]string{"sha256": h})
}

// Sign adds the signer's signature, made over the redacted form of the event, to
// signatures.<server name>, keeping any other signatures the event has.
func Sign(s Signer, impl gomatrixserverlib.IRoomVersion, eventJSON []byte) ([]byte, error) {
	redacted, err := impl.RedactEventJSON(eventJSON)
	if err != nil {
		return nil, fmt.Errorf("redacting for signing: %w", err)
	}
	signedRedacted, err := gomatrixserverlib.SignJSON(s.ServerName, s.KeyID, s.Private, redacted)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	var sigs map[string]map[string]string
	if err := json.Unmarshal([]byte(gjson.GetBytes(signedRedacted, "signatures").Raw), &sigs); err != nil {
		return nil, fmt.Errorf("reading the new signature: %w", err)
	}
	existing := map[string]map[string]string{}
	if r := gjson.GetBytes(eventJSON, "signatures"); r.Exists() {
		if err := json.Unmarshal([]byte(r.Raw), &existing); err != nil {
			return nil, fmt.Errorf("reading existing signatures: %w", err)
		}
	}
	for server, keys := range sigs {
		if existing[server] == nil {
			existing[server] = map[string]string{}
		}
		for k, v := range keys {
			existing[server][k] = v
		}
	}
	return setKey(eventJSON, "signatures", existing)
}

// EventID computes the event ID of a room version 4+ event: '$' and the URL-safe unpadded
// base64 of the SHA-256 reference hash of the redacted event without signatures and unsigned.
func EventID(impl gomatrixserverlib.IRoomVersion, eventJSON []byte) (string, error) {
	if impl.EventFormat() != gomatrixserverlib.EventFormatV2 || impl.EventIDFormat() == gomatrixserverlib.EventIDFormatV1 {
		return "", fmt.Errorf("room version %s: only versions with hash-derived event IDs (4 and later) are supported", impl.Version())
	}
	redacted, err := impl.RedactEventJSON(eventJSON)
	if err != nil {
		return "", fmt.Errorf("redacting for the reference hash: %w", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(redacted, &m); err != nil {
		return "", err
	}
	delete(m, "signatures")
	delete(m, "unsigned")
	sum, err := canonicalSHA256(m)
	if err != nil {
		return "", err
	}
	enc := base64.RawURLEncoding
	if impl.EventIDFormat() == gomatrixserverlib.EventIDFormatV2 {
		enc = base64.RawStdEncoding
	}
	return "$" + enc.EncodeToString(sum[:]), nil
}

// RoomIDFromCreate returns the room ID that a room version 12 create event defines: its event
// ID with '!' in place of '$'.
func RoomIDFromCreate(create *Event) string { return "!" + create.ID[1:] }

func canonicalSHA256(v any) ([32]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return [32]byte{}, err
	}
	canon, err := gomatrixserverlib.CanonicalJSON(raw)
	if err != nil {
		return [32]byte{}, fmt.Errorf("canonical JSON: %w", err)
	}
	return sha256.Sum256(canon), nil
}

func setKey(eventJSON []byte, key string, value any) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(eventJSON, &m); err != nil {
		return nil, err
	}
	v, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	m[key] = v
	out, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return gomatrixserverlib.CanonicalJSON(out)
}

// ParseEvent reads a PDU received from elsewhere and computes its ID for the room version.
func ParseEvent(version gomatrixserverlib.RoomVersion, eventJSON []byte) (*Event, error) {
	impl, err := gomatrixserverlib.GetRoomVersion(version)
	if err != nil {
		return nil, err
	}
	canon, err := gomatrixserverlib.CanonicalJSON(eventJSON)
	if err != nil {
		return nil, err
	}
	return eventOf(impl, canon)
}

// eventOf is the Event for canonical PDU JSON, with its ID derived by the room version's rules.
func eventOf(impl gomatrixserverlib.IRoomVersion, canon []byte) (*Event, error) {
	id, err := EventID(impl, canon)
	if err != nil {
		return nil, err
	}
	return &Event{ID: id, Version: impl.Version(), JSON: canon, Parsed: gjson.ParseBytes(canon)}, nil
}
