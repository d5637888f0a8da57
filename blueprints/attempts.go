package blueprints

import (
	"testing"

	"stickler/helpers/harness/client"
)

// RoomPerAttempt returns a function that gives each attempt of a re-planned real-time scenario
// (realtime.Run) a room of its own: first the room the test made, then a new public room of
// c's for every later attempt, so an earlier attempt's events cannot leak into a later one.
func RoomPerAttempt(c *client.Client, first string) func(t testing.TB) string {
	next := first
	return func(t testing.TB) string {
		t.Helper()
		room := next
		if room == "" {
			room = c.CreateRoom(t, client.PublicRoom(""))
		}
		next = ""
		return room
	}
}
