package client

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// SharedSecret is the registration secret of the image contract.
const SharedSecret = "complement"

// Password is the password of a user the harness registered. Long enough for every server's
// minimum (Dendrite refuses fewer than 8 characters), whatever the localpart.
func Password(localpart string) string { return "stickler-pw-" + localpart }

// Register creates a user through the shared-secret admin API and returns a client logged in
// as that user; debug (the deployment's COMPLEMENT_DEBUG) logs every request and answer.
func Register(t testing.TB, baseURL, localpart string, debug bool) *Client {
	t.Helper()
	anon := &Client{BaseURL: baseURL, Names: NamesFromEnv(t), HTTP: newHTTPClient(), Debug: debug}
	path := []string{"_synapse", "admin", "v1", "register"}
	nonce := anon.MustDo(t, Request{Method: "GET", Path: path}).JSON.Get("nonce").Str
	if nonce == "" {
		t.Fatalf("register %s: the server gave no nonce for shared-secret registration", localpart)
	}
	password := Password(localpart)
	mac := hmac.New(sha1.New, []byte(SharedSecret))
	mac.Write([]byte(nonce + "\x00" + localpart + "\x00" + password + "\x00notadmin"))
	res := anon.MustDo(t, Request{Method: "POST", Path: path, Body: map[string]any{
		"nonce": nonce, "username": localpart, "password": password, "admin": false,
		"mac": hex.EncodeToString(mac.Sum(nil)),
	}})
	c := *anon
	c.UserID = res.JSON.Get("user_id").Str
	c.AccessToken = res.JSON.Get("access_token").Str
	c.DeviceID = res.JSON.Get("device_id").Str
	if c.UserID == "" || c.AccessToken == "" {
		t.Fatalf("register %s: answer lacks user_id or access_token: %s", localpart, res)
	}
	return &c
}

// Login makes another device for the same user.
func (c *Client) Login(t testing.TB) *Client {
	t.Helper()
	res := c.MustDo(t, Request{Method: "POST", Path: V3("login"), Body: c.PasswordAuth()})
	d := *c
	d.AccessToken = res.JSON.Get("access_token").Str
	d.DeviceID = res.JSON.Get("device_id").Str
	return &d
}

// PasswordAuth is the password login (or user-interactive auth stage) of the client's user,
// whose password Register chose.
func (c *Client) PasswordAuth() map[string]any {
	return map[string]any{
		"type":       "m.login.password",
		"identifier": map[string]any{"type": "m.id.user", "user": c.UserID},
		"password":   Password(Localpart(c.UserID)),
	}
}

// Localpart returns the part of a user ID between '@' and the first ':'.
func Localpart(userID string) string {
	local, _, _ := strings.Cut(strings.TrimPrefix(userID, "@"), ":")
	return local
}

// ServerName returns the domain of the client's user ID.
func (c *Client) ServerName() string {
	for i := 0; i < len(c.UserID); i++ {
		if c.UserID[i] == ':' {
			return c.UserID[i+1:]
		}
	}
	return ""
}

// CreateRoom creates a room with the given request body and returns its ID.
func (c *Client) CreateRoom(t testing.TB, body map[string]any) string {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	res := c.MustDo(t, Request{Method: "POST", Path: V3("createRoom"), Body: body})
	id := res.JSON.Get("room_id").Str
	if id == "" {
		t.Fatalf("createRoom: no room_id in %s", res)
	}
	return id
}

// PublicRoom is a createRoom body for a public room that anyone may join, with the given
// history visibility ("" keeps the server's default).
func PublicRoom(historyVisibility string) map[string]any {
	body := map[string]any{"preset": "public_chat"}
	if historyVisibility != "" {
		body["initial_state"] = []any{map[string]any{
			"type": "m.room.history_visibility", "state_key": "",
			"content": map[string]any{"history_visibility": historyVisibility},
		}}
	}
	return body
}

// JoinRoom joins a room, through the given servers when it is remote.
func (c *Client) JoinRoom(t testing.TB, roomID string, via ...string) {
	t.Helper()
	q := url.Values{}
	for _, s := range via {
		q.Add("server_name", s)
	}
	c.MustDo(t, Request{Method: "POST", Path: V3("join", roomID), Query: q, Body: map[string]any{}})
}

// LeaveRoom leaves a room.
func (c *Client) LeaveRoom(t testing.TB, roomID string) {
	t.Helper()
	c.MustDo(t, Request{Method: "POST", Path: V3("rooms", roomID, "leave"), Body: map[string]any{}})
}

// Kick kicks a user.
func (c *Client) Kick(t testing.TB, roomID, userID string) {
	t.Helper()
	c.membership(t, roomID, "kick", userID)
}

// Ban bans a user.
func (c *Client) Ban(t testing.TB, roomID, userID string) {
	t.Helper()
	c.membership(t, roomID, "ban", userID)
}

// membership makes one of the membership calls that name another user.
func (c *Client) membership(t testing.TB, roomID, action, userID string) {
	t.Helper()
	c.MustDo(t, Request{Method: "POST", Path: V3("rooms", roomID, action), Body: map[string]any{"user_id": userID}})
}

// SendRequest is the request that PUT /send makes with an optional sticky duration. The
// duration is a string so tests can send malformed values; "" leaves the parameter out.
func (c *Client) SendRequest(roomID, eventType, txnID string, content any, duration string) Request {
	q := url.Values{}
	if duration != "" {
		q.Set(c.Names.DurationParam, duration)
	}
	return Request{Method: "PUT", Path: V3("rooms", roomID, "send", eventType, txnID), Query: q, Body: content}
}

// SendMessage sends an ordinary (non-sticky) event and returns its ID.
func (c *Client) SendMessage(t testing.TB, roomID, eventType string, content any) string {
	t.Helper()
	return c.eventID(t, c.MustDo(t, c.SendRequest(roomID, eventType, TxnID(), content, "")))
}

// SendText sends an m.room.message with the given body.
func (c *Client) SendText(t testing.TB, roomID, body string) string {
	t.Helper()
	return c.SendMessage(t, roomID, "m.room.message", map[string]any{"msgtype": "m.text", "body": body})
}

// SendTexts sends n ordinary messages ("filler 0", "filler 1", ...) and returns their IDs.
func (c *Client) SendTexts(t testing.TB, roomID string, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = c.SendText(t, roomID, fmt.Sprintf("filler %d", i))
	}
	return ids
}

// SendSticky sends a sticky event with the given duration (sent in whole milliseconds) and
// returns its ID.
func (c *Client) SendSticky(t testing.TB, roomID, eventType string, content any, duration time.Duration) string {
	t.Helper()
	return c.eventID(t, c.MustDo(t, c.SendRequest(roomID, eventType, TxnID(), content, strconv.FormatInt(duration.Milliseconds(), 10))))
}

// SendState sends a state event and returns its ID.
func (c *Client) SendState(t testing.TB, roomID, eventType, stateKey string, content any) string {
	t.Helper()
	res := c.MustDo(t, Request{Method: "PUT", Path: V3("rooms", roomID, "state", eventType, stateKey), Body: content})
	return c.eventID(t, res)
}

// Redact redacts an event and returns the redaction's ID.
func (c *Client) Redact(t testing.TB, roomID, eventID string) string {
	t.Helper()
	res := c.MustDo(t, Request{Method: "PUT", Path: V3("rooms", roomID, "redact", eventID, TxnID()), Body: map[string]any{"reason": "stickler"}})
	return c.eventID(t, res)
}

func (c *Client) eventID(t testing.TB, res *Response) string {
	t.Helper()
	id := res.JSON.Get("event_id").Str
	if id == "" {
		t.Fatalf("no event_id in %s", res)
	}
	return id
}

// SetAccountData sets global account data.
func (c *Client) SetAccountData(t testing.TB, dataType string, content any) {
	t.Helper()
	c.MustDo(t, Request{Method: "PUT", Path: V3("user", c.UserID, "account_data", dataType), Body: content})
}

// GetEvent fetches one event.
func (c *Client) GetEvent(t testing.TB, roomID, eventID string) *Response {
	t.Helper()
	return c.Do(t, Request{Method: "GET", Path: V3("rooms", roomID, "event", eventID)})
}

// Messages pages backwards from the end of the room (dir=b) with the given limit.
func (c *Client) Messages(t testing.TB, roomID string, limit int) *Response {
	t.Helper()
	return c.Do(t, Request{Method: "GET", Path: V3("rooms", roomID, "messages"),
		Query: url.Values{"dir": {"b"}, "limit": {strconv.Itoa(limit)}}})
}

// MessagesShowing pages backwards like Messages until the answer lists eventID, for up to
// DefaultWait, and returns that answer; the error carries the last one. A server may answer
// /messages from a position that trails a send it has already acknowledged (Synapse on
// PostgreSQL does while another room's events are still being written), so a test that reads
// history right after sending waits for its own newest event first.
func (c *Client) MessagesShowing(t testing.TB, roomID string, limit int, eventID string) (*Response, error) {
	t.Helper()
	var res *Response
	err := Poll(DefaultWait, 250*time.Millisecond, func(time.Duration) error {
		res = c.Messages(t, roomID, limit)
		if res.StatusCode == 200 && Contains(res.JSON.Get("chunk").Array(), eventID) {
			return nil
		}
		return fmt.Errorf("/messages (dir=b, limit %d) does not list %s: %s", limit, eventID, Truncate(res.String(), 1500))
	})
	return res, err
}

// MustMessagesShowing is MessagesShowing that fails the test when the event never shows.
func (c *Client) MustMessagesShowing(t testing.TB, roomID string, limit int, eventID string) *Response {
	t.Helper()
	res, err := c.MessagesShowing(t, roomID, limit, eventID)
	if err != nil {
		t.Fatalf("waited %v for %s's own event to show in the room's history: %v", DefaultWait, c.UserID, err)
	}
	return res
}

// Context fetches an event with the given number of events around it.
func (c *Client) Context(t testing.TB, roomID, eventID string, limit int) *Response {
	t.Helper()
	return c.Do(t, Request{Method: "GET", Path: V3("rooms", roomID, "context", eventID),
		Query: url.Values{"limit": {strconv.Itoa(limit)}}})
}

// MembershipIs checks that c's server holds the given membership for userID in the room; the
// error carries the server's answer.
func (c *Client) MembershipIs(t testing.TB, room, userID, membership string) error {
	t.Helper()
	res := c.Do(t, Request{Method: "GET", Path: V3("rooms", room, "state", "m.room.member", userID)})
	if res.StatusCode == 200 && res.JSON.Get("membership").Str == membership {
		return nil
	}
	return fmt.Errorf("membership of %s is not %q; the server answers %s", userID, membership, res)
}

// WaitMembership polls c's server until it holds the given membership for userID in the room.
func (c *Client) WaitMembership(t testing.TB, room, userID, membership string, within time.Duration) {
	t.Helper()
	what := fmt.Sprintf("%s's server to see %s with membership %q in %s", c.UserID, userID, membership, room)
	Wait(t, within, what, 200*time.Millisecond, func(time.Duration) error {
		return c.MembershipIs(t, room, userID, membership)
	})
}
