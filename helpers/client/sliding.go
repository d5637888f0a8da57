package client

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/wire"
)

// SlidingPath is the Simplified Sliding Sync (MSC4186) endpoint.
var SlidingPath = []string{"_matrix", "client", "unstable", "org.matrix.simplified_msc3575", "sync"}

// SlidingSyncer follows Simplified Sliding Sync with the sticky events extension (MSC4480)
// enabled, keeping every response. It carries both the connection position and the
// extension's own since token, as the extension's pagination requires.
type SlidingSyncer struct {
	c         *Client
	Lists     map[string]any // list name -> list request; default: one list of every room
	ExtLimit  int            // extension limit; 0 leaves it out (server default)
	Pos       string
	ExtSince  string
	Responses []gjson.Result
}

// NewSlidingSyncer follows every room the user is in (one list covering rooms 0..99) with the
// given timeline limit.
func (c *Client) NewSlidingSyncer(timelineLimit int) *SlidingSyncer {
	return &SlidingSyncer{c: c, Lists: map[string]any{
		"all": map[string]any{"ranges": [][]int{{0, 99}}, "timeline_limit": timelineLimit, "required_state": [][]string{}},
	}}
}

// Once performs one request, long-polling up to timeout, and advances both tokens.
func (s *SlidingSyncer) Once(t testing.TB, timeout time.Duration) gjson.Result {
	t.Helper()
	ext := map[string]any{"enabled": true}
	if s.ExtLimit > 0 {
		ext["limit"] = s.ExtLimit
	}
	if s.ExtSince != "" {
		ext["since"] = s.ExtSince
	}
	q := url.Values{"timeout": {strconv.FormatInt(timeout.Milliseconds(), 10)}}
	if s.Pos != "" {
		q.Set("pos", s.Pos)
	}
	res := s.c.MustDo(t, Request{Method: "POST", Path: SlidingPath, Query: q, Body: map[string]any{
		"lists":      s.Lists,
		"extensions": map[string]any{s.c.Names.SlidingExtension: ext},
	}})
	if pos := res.JSON.Get("pos").Str; pos != "" {
		s.Pos = pos
	}
	if nb := res.JSON.Get(wire.Path("extensions", s.c.Names.SlidingExtension, "next_batch")).Str; nb != "" {
		s.ExtSince = nb
	}
	s.Responses = append(s.Responses, res.JSON)
	return res.JSON
}

// Until repeats Once until check accepts a response, or fails after wait saying what was
// awaited.
func (s *SlidingSyncer) Until(t testing.TB, wait time.Duration, what string, check func(gjson.Result) bool) gjson.Result {
	t.Helper()
	return PollUntil(t, wait, what+" via Sliding Sync as "+s.c.UserID, func(poll time.Duration) gjson.Result { return s.Once(t, poll) }, check)
}

// Sticky returns the extension's sticky events for a room in one response.
func (s *SlidingSyncer) Sticky(resp gjson.Result, roomID string) []gjson.Result {
	return resp.Get(wire.Path("extensions", s.c.Names.SlidingExtension, "rooms", roomID, "events")).Array()
}

// Timeline returns a room's timeline events in one Sliding Sync response.
func (s *SlidingSyncer) Timeline(resp gjson.Result, roomID string) []gjson.Result {
	return resp.Get(wire.Path("rooms", roomID, "timeline")).Array()
}
