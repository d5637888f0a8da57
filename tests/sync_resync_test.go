package tests

import (
	"fmt"
	"net/url"
	"testing"

	"stickler/blueprints"
	"stickler/helpers/harness/client"
	"stickler/helpers/spec"
)

// SYNC-13: sticky delivery follows positions in the stream, not users. A request repeated from
// an earlier position (the client never got the response) gets the sticky events after that
// position again, and each device of a user, syncing from its own positions, gets every one.

// alice syncs on two devices. After her first device has received two sticky events (outside a
// one-event timeline), her second device must receive both too, each once; and a request of
// the first device repeated from the position it had before them (as a client does when a
// response was lost) must hand both over again. Over Sliding Sync the repeat sends the earlier
// pos and extension since; a server that has forgotten that pos (M_UNKNOWN_POS, which MSC4186
// allows) is asked again without a pos, keeping the extension's since, as a client would.
func TestRepeatedSyncGetsStickyAgain(t *testing.T) {
	blueprints.OverBothFeeds(t, []string{"SYNC-13"}, []string{"SYNC-13"}, func(t *testing.T, kind client.Feed) {
		alice, room := blueprints.UserInRoom(t, "alice")
		phone := alice.Login(t)
		f := alice.NewStream(kind, client.TimelineLimit(1))
		r0 := f.Next(t, 0)
		g := phone.NewStream(kind, client.TimelineLimit(1)).Start(t)
		var ids []string
		for i := 0; i < 2; i++ {
			ids = append(ids, alice.SendSticky(t, room, blueprints.StickyType, map[string]any{"n": i}, blueprints.LongSticky))
		}
		alice.SendText(t, room, "after the sticky events: fills a one-event timeline")
		labels := map[string]string{ids[0]: "the first sticky event", ids[1]: "the second sticky event"}
		f.Label(labels)
		g.Label(labels)
		// Control: the first device gets them over this feed.
		if err := f.SyncUntil(t, client.DefaultWait, client.Delivered(ids...)); err != nil {
			spec.ControlFailed(t, "alice's first device did not receive her two sticky events over %s: %v", kind, err)
		}

		t.Run("second-device", func(t *testing.T) {
			spec.Covers(t, "SYNC-13")
			g.MustSyncUntil(t, client.DefaultWait, client.Delivered(ids...).As("lost-events"))
			spec.ErrorOn(t, g.OnceEach(ids...)) // lost-events or repeated-in-same-response
			spec.ShouldCheck(t, "SYNC-5", "once-across-responses", func(t *testing.T) {
				spec.ErrorOn(t, g.RepeatedAcross(ids...)) // duplicate-delivery
			})
		})

		t.Run("repeated-request", func(t *testing.T) {
			spec.Covers(t, "SYNC-13")
			r := repeatFrom(t, alice, f, r0)
			var missing []string
			for _, id := range ids {
				if !r.Mentions(id) {
					missing = append(missing, id)
				}
			}
			if len(missing) > 0 {
				spec.Fatalf(t, "lost-on-repeat", "a %s request repeated from the position before the sticky events (its first answer counted as lost) lacks %d of them (%v): %s",
					kind, len(missing), missing, client.Truncate(r.Raw, 2000))
			}
		})
	})
}

// repeatFrom makes f's request again from the position r0 left it at (since; or pos and the
// extension's since), without long-polling, and returns the answer. The stream's own tokens
// are untouched.
func repeatFrom(t *testing.T, c *client.Client, f *client.Stream, r0 client.SyncResponse) client.SyncResponse {
	t.Helper()
	q := url.Values{"timeout": {"0"}}
	if f.Feed == client.Sync {
		q.Set("since", r0.Get("next_batch").Str)
		q.Set("filter", f.Filter)
		res := c.MustDo(t, client.Request{Method: "GET", Path: client.V3("sync"), Query: q})
		return client.SyncResponse{Result: res.JSON, Feed: f.Feed}
	}
	ext := map[string]any{"enabled": true}
	if since := r0.Extension().Get("next_batch").Str; since != "" {
		ext["since"] = since
	}
	body := map[string]any{"lists": f.Lists, "extensions": map[string]any{c.Names.SlidingExtension: ext}}
	if pos := r0.Get("pos").Str; pos != "" {
		q.Set("pos", pos)
	}
	res := c.Do(t, client.Request{Method: "POST", Path: client.SlidingPath, Query: q, Body: body})
	if res.StatusCode == 400 && res.JSON.Get("errcode").Str == "M_UNKNOWN_POS" {
		t.Logf("the server has forgotten pos %s (%s); asking again without a pos, with the extension's since", q.Get("pos"), res)
		q.Del("pos")
		res = c.Do(t, client.Request{Method: "POST", Path: client.SlidingPath, Query: q, Body: body})
	}
	if res.StatusCode != 200 {
		t.Fatalf("%s", fmt.Sprintf("the repeated Sliding Sync request failed: %s", res))
	}
	return client.SyncResponse{Result: res.JSON, Feed: f.Feed}
}
