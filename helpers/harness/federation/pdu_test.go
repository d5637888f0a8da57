package federation

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"strings"
	"testing"

	"github.com/matrix-org/gomatrixserverlib"
	"github.com/matrix-org/gomatrixserverlib/spec"
	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

func testSigner(t *testing.T) (Signer, ed25519.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return Signer{ServerName: "peer.test:8448", KeyID: "ed25519:t", Private: priv}, pub
}

// stickyValues are the sticky objects the conformance tests send: valid ones and every
// invalid shape. Each must survive hashing and signing unchanged.
var stickyValues = map[string]any{
	"valid":       map[string]any{"duration_ms": 5000},
	"above-cap":   map[string]any{"duration_ms": 99999999},
	"zero":        map[string]any{"duration_ms": 0},
	"negative":    map[string]any{"duration_ms": -5000},
	"fractional":  map[string]any{"duration_ms": json.RawMessage("2500.5")},
	"string":      map[string]any{"duration_ms": "5000"},
	"null":        map[string]any{"duration_ms": nil},
	"missing":     map[string]any{},
	"not-object":  "5000",
	"object-null": nil,
}

// refusedByParser are the shapes gomatrixserverlib's event parser will not read.
var refusedByParser = map[string]bool{"fractional": true, "string": true, "not-object": true}

func roomFields(v gomatrixserverlib.RoomVersion, roomID string) map[string]any {
	f := map[string]any{
		"type": "org.example.sticky", "room_id": roomID, "sender": "@p:peer.test:8448",
		"content":          map[string]any{"body": "hello", "n": 1},
		"origin_server_ts": int64(1757920344000), "depth": 7,
		"prev_events": []string{"$prev"}, "auth_events": []string{"$a", "$b"},
	}
	if v == gomatrixserverlib.RoomVersionV10 {
		f["origin"] = "peer.test:8448"
	}
	return f
}

// A crafted event passes gomatrixserverlib's own checks for every room version and sticky
// shape: the content hash matches (the event is not redacted on parse), the event ID is the
// one gomatrixserverlib derives, the signature verifies with the peer's key, and the sticky
// object arrives byte for byte.
func TestSealedEventVerifies(t *testing.T) {
	s, pub := testSigner(t)
	for _, v := range supportedVersions {
		for name, sticky := range stickyValues {
			for _, key := range []string{"msc4354_sticky", "sticky"} {
				t.Run(string(v)+"/"+name+"/"+key, func(t *testing.T) {
					f := roomFields(v, "!room:hs1")
					f[key] = sticky
					e, err := SealPDU(s, v, f)
					if err != nil {
						t.Fatalf("sealing: %v", err)
					}
					impl := gomatrixserverlib.MustGetRoomVersion(v)
					parsed, err := impl.NewEventFromUntrustedJSON(e.JSON)
					if refusedByParser[name] {
						// gomatrixserverlib's parser refuses these shapes (room versions 6+
						// forbid non-integers; its sticky field is typed), so the checks are
						// made without it. A server may still receive them: that is the test.
						if err == nil {
							t.Fatalf("gomatrixserverlib now accepts the %s sticky shape in room version %s; use its checks again", name, v)
						}
						verifyManually(t, s, pub, impl, e, key)
						return
					}
					if err != nil {
						t.Fatalf("gomatrixserverlib refused the crafted event: %v\n%s", err, e.JSON)
					}
					if parsed.Redacted() {
						t.Fatalf("gomatrixserverlib found the content hash wrong and redacted the event:\n%s", e.JSON)
					}
					if parsed.EventID() != e.ID {
						t.Fatalf("event ID: peer computed %s, gomatrixserverlib %s", e.ID, parsed.EventID())
					}
					errs := gomatrixserverlib.VerifyAllEventSignatures(context.Background(), []gomatrixserverlib.PDU{parsed}, keyOf(s, pub),
						func(roomID spec.RoomID, senderID spec.SenderID) (*spec.UserID, error) {
							return spec.NewUserID(string(senderID), true)
						})
					if errs[0] != nil {
						t.Fatalf("signature does not verify: %v", errs[0])
					}
					want, _ := json.Marshal(sticky)
					got := gjson.GetBytes(parsed.JSON(), escapeKey(key))
					if !got.Exists() && sticky != nil || (got.Exists() && got.Raw != string(want)) {
						t.Fatalf("sticky object changed: sent %s, event holds %s", want, got.Raw)
					}
					verifyManually(t, s, pub, impl, e, key)
				})
			}
		}
	}
}

// verifyManually checks the three properties without gomatrixserverlib's parser, so the
// fractional case is covered too: the sticky key is dropped by redaction (unprotected), the
// content hash covers it, the signature is over the redacted form.
func verifyManually(t *testing.T, s Signer, pub ed25519.PublicKey, impl gomatrixserverlib.IRoomVersion, e *Event, key string) {
	t.Helper()
	redacted, err := impl.RedactEventJSON(e.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if gjson.GetBytes(redacted, escapeKey(key)).Exists() {
		t.Fatalf("the redaction algorithm of %s kept %s; the proposal says it is not protected", impl.Version(), key)
	}
	if err := gomatrixserverlib.VerifyJSON(s.ServerName, s.KeyID, pub, redacted); err != nil {
		t.Fatalf("signature over the redacted form does not verify: %v", err)
	}
	h, err := ContentHash(e.JSON)
	if err != nil {
		t.Fatal(err)
	}
	if got := gjson.GetBytes(e.JSON, "hashes.sha256").Str; got != h {
		t.Fatalf("hashes.sha256 %s, recomputed %s", got, h)
	}
	// The content hash covers the sticky object: changing it changes the hash.
	tampered, _ := sjson.SetRawBytes(e.JSON, escapeKey(key), []byte(`{"duration_ms":1}`))
	h2, _ := ContentHash(tampered)
	if h2 == h {
		t.Fatalf("changing %s left the content hash unchanged: it is not covered", key)
	}
}

// A tampered event is caught by the same checks: the negative control of the unit tests.
func TestTamperedEventFailsChecks(t *testing.T) {
	s, pub := testSigner(t)
	impl := gomatrixserverlib.MustGetRoomVersion(gomatrixserverlib.RoomVersionV11)
	f := roomFields(impl.Version(), "!room:hs1")
	f["msc4354_sticky"] = map[string]any{"duration_ms": 5000}
	e, err := SealPDU(s, impl.Version(), f)
	if err != nil {
		t.Fatal(err)
	}
	tampered, _ := sjson.SetBytes(e.JSON, "content.body", "changed after hashing")
	parsed, err := impl.NewEventFromUntrustedJSON(tampered)
	if err != nil {
		t.Fatal(err)
	}
	if !parsed.Redacted() {
		t.Fatalf("a tampered event passed the content hash check")
	}
	badSig, _ := sjson.SetBytes(e.JSON, "origin_server_ts", 1)
	redacted, _ := impl.RedactEventJSON(badSig)
	if err := gomatrixserverlib.VerifyJSON(s.ServerName, s.KeyID, pub, redacted); err == nil {
		t.Fatalf("a changed protected field still verified")
	}
}

// Room version 12: the room ID is derived from the create event, which has no room_id.
func TestRoomV12CreateDerivesRoomID(t *testing.T) {
	s, _ := testSigner(t)
	create, err := SealPDU(s, gomatrixserverlib.RoomVersionV12, map[string]any{
		"type": "m.room.create", "state_key": "", "sender": "@p:peer.test:8448",
		"content": map[string]any{"room_version": "12"}, "origin_server_ts": Now(),
		"depth": 1, "prev_events": []string{}, "auth_events": []string{},
	})
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := gomatrixserverlib.MustGetRoomVersion("12").NewEventFromUntrustedJSON(create.JSON)
	if err != nil {
		t.Fatalf("gomatrixserverlib refused the v12 create event: %v", err)
	}
	if parsed.RoomID().String() != RoomIDFromCreate(create) {
		t.Fatalf("room ID: peer %s, gomatrixserverlib %s", RoomIDFromCreate(create), parsed.RoomID().String())
	}
}

type staticKeys struct {
	server string
	keyID  gomatrixserverlib.KeyID
	pub    ed25519.PublicKey
}

func keyOf(s Signer, pub ed25519.PublicKey) gomatrixserverlib.JSONVerifier {
	return staticKeys{server: s.ServerName, keyID: s.KeyID, pub: pub}
}

func (k staticKeys) VerifyJSONs(_ context.Context, reqs []gomatrixserverlib.VerifyJSONRequest) ([]gomatrixserverlib.VerifyJSONResult, error) {
	out := make([]gomatrixserverlib.VerifyJSONResult, len(reqs))
	for i, r := range reqs {
		if string(r.ServerName) != k.server {
			out[i].Error = errUnknownServer(string(r.ServerName))
			continue
		}
		out[i].Error = gomatrixserverlib.VerifyJSON(k.server, k.keyID, k.pub, r.Message)
	}
	return out, nil
}

type errUnknownServer string

func (e errUnknownServer) Error() string { return "no key for " + string(e) }

func escapeKey(k string) string { return strings.ReplaceAll(k, ".", `\.`) }
