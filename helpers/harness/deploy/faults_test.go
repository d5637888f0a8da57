package deploy_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"stickler/blueprints"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
	"stickler/helpers/harness/traffic"
)

// Harness tests of the fault controls. Each proves both halves against real servers: while the
// fault lasts an event from one server does not reach the other (watched over cutWindow), and
// once it is lifted it does (within blueprints.HealWait).

const (
	// cutWindow is how long we watch for an event that must not arrive during a fault. An
	// event between two healthy servers of ours arrives in well under a second, so 5 s of
	// silence is far beyond normal delivery, yet short enough to keep the tests quick.
	cutWindow = 5 * time.Second
	// frozenProbe is how long a request to a paused server is given before we call it frozen:
	// a healthy server answers /versions in milliseconds.
	frozenProbe = 2 * time.Second
)

// fedRoom is the federation blueprint's room with a /sync stream per user.
type fedRoom struct {
	*blueprints.Federation
	ID      string
	Streams []*client.Stream
}

// newFedRoom starts n servers of the test's own (a parallel test that needs Docker) and makes
// the room.
func newFedRoom(t *testing.T, n int) *fedRoom {
	t.Helper()
	deploy.RequireDocker(t)
	t.Parallel()
	b := blueprints.JoinedRoom(t, deploy.Deploy(t, n), nil)
	r := &fedRoom{Federation: b, ID: b.Room}
	for _, u := range r.Users {
		s := u.NewStream(client.Sync).Start(t)
		r.Streams = append(r.Streams, s)
	}
	return r
}

func (r *fedRoom) mustArrive(t *testing.T, i int, eventID string, within time.Duration, what string) {
	t.Helper()
	start := time.Now()
	r.Streams[i].Labels[eventID] = what
	r.Streams[i].MustSyncUntil(t, within, client.Delivered(eventID))
	t.Logf("%s reached %s after %v", what, r.Users[i].UserID, time.Since(start).Round(time.Millisecond))
}

func (r *fedRoom) mustNotArrive(t *testing.T, i int, eventID string, what string) {
	t.Helper()
	if r.Streams[i].SyncUntil(t, cutWindow, client.Delivered(eventID)) == nil {
		t.Fatalf("expected %s (%s) NOT to reach %s during the fault, but it arrived: %s", what, eventID, r.Users[i].UserID, r.Streams[i].Describe(eventID))
	}
}

// sendAcross has users a and b each send a message during a cut between their servers and
// checks that neither reaches the other side.
func (r *fedRoom) sendAcross(t *testing.T, a, b int, cut string) (fromA, fromB string) {
	t.Helper()
	fromA = r.Users[a].SendText(t, r.ID, fmt.Sprintf("from user %d during %s", a, cut))
	fromB = r.Users[b].SendText(t, r.ID, fmt.Sprintf("from user %d during %s", b, cut))
	r.mustNotArrive(t, b, fromA, fmt.Sprintf("user %d's message sent during %s", a, cut))
	r.mustNotArrive(t, a, fromB, fmt.Sprintf("user %d's message sent during %s", b, cut))
	return fromA, fromB
}

// arriveAcross checks that the messages sendAcross sent reach the other side once the cut is
// lifted.
func (r *fedRoom) arriveAcross(t *testing.T, a, b int, fromA, fromB, cut string) {
	t.Helper()
	r.mustArrive(t, b, fromA, blueprints.HealWait, fmt.Sprintf("user %d's message sent during %s, after it ended", a, cut))
	r.mustArrive(t, a, fromB, blueprints.HealWait, fmt.Sprintf("user %d's message sent during %s, after it ended", b, cut))
}

// lift ends a fault and makes the given users send into the room every second until the test
// ends (see traffic.Nudge): how these tests bound the time to recovery; the conformance
// tests also wait without it (see tests/fed_faults_test.go).
func (r *fedRoom) lift(t *testing.T, end func() error, nudgers ...int) {
	t.Helper()
	noErr(t, end())
	var us []*client.Client
	for _, i := range nudgers {
		us = append(us, r.Users[i])
	}
	t.Cleanup(traffic.Nudge(r.ID, us...))
}

// noErr fails the test on a fault control's error.
func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// answers says whether the server answers /versions within frozenProbe.
func answers(s *deploy.Server) bool {
	hc := &http.Client{Timeout: frozenProbe}
	res, err := hc.Get(s.ClientURL + "/_matrix/client/versions")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == 200
}

// Partition cuts a server off from federation while its clients keep working; Heal restores it.
func TestFaultPartitionHeal(t *testing.T) {
	r := newFedRoom(t, 2)
	d := r.D
	hs2 := d.Server("hs2")
	r.mustArrive(t, 1, r.Users[0].SendText(t, r.ID, "before"), client.DefaultWait, "control: a message sent before the partition")

	noErr(t, hs2.Partition())
	during, back := r.sendAcross(t, 0, 1, "the partition")
	// Clients of the cut-off server keep working: create a room, send, sync (done above).
	local := r.Users[1].CreateRoom(t, client.PublicRoom(""))
	r.Users[1].SendText(t, local, "hs2's clients work while it is partitioned")

	r.lift(t, hs2.Heal, 0, 1)
	r.arriveAcross(t, 0, 1, during, back, "the partition")
}

// PartitionFrom cuts one pair of servers while both still federate with a third.
func TestFaultPairwisePartition(t *testing.T) {
	r := newFedRoom(t, 3)
	d := r.D
	hs1, hs2 := d.Server("hs1"), d.Server("hs2")

	noErr(t, hs1.PartitionFrom(hs2))
	from1, from2 := r.sendAcross(t, 0, 1, "the hs1-hs2 cut")
	// ... while both still reach hs3.
	r.mustArrive(t, 2, from1, client.DefaultWait, "hs1's message at hs3 during the hs1-hs2 cut")
	r.mustArrive(t, 2, from2, client.DefaultWait, "hs2's message at hs3 during the hs1-hs2 cut")

	r.lift(t, func() error { return hs1.HealFrom(hs2) }, 0, 1)
	r.arriveAcross(t, 0, 1, from1, from2, "the hs1-hs2 cut")
}

// Pause freezes a server (it answers nothing, so nothing reaches it); Unpause lets it catch up.
func TestFaultPauseUnpause(t *testing.T) {
	r := newFedRoom(t, 2)
	d := r.D
	hs1, hs2 := d.Server("hs1"), d.Server("hs2")

	noErr(t, hs2.Pause())
	paused := true
	defer func() {
		if paused {
			_ = hs2.Unpause()
		}
	}()
	during := r.Users[0].SendText(t, r.ID, "during the pause")
	// A frozen process handles no request at all, federation included: over the whole window
	// hs2 answers neither its client port nor its federation port.
	fc := d.FederationClient()
	fc.Timeout = frozenProbe
	for end := time.Now().Add(cutWindow); time.Now().Before(end); {
		if answers(hs2) {
			t.Fatalf("expected paused hs2 to answer nothing, but it answered /versions")
		}
		if res, err := fc.Get(hs2.FederationURL + "/_matrix/federation/v1/version"); err == nil {
			res.Body.Close()
			t.Fatalf("expected paused hs2 to answer nothing, but its federation port answered %s", res.Status)
		}
	}
	if !answers(hs1) {
		t.Fatalf("hs1 stopped answering while only hs2 was paused")
	}

	r.lift(t, hs2.Unpause, 0)
	paused = false
	r.mustArrive(t, 1, during, blueprints.HealWait, "the message sent during the pause, after unpausing")
}

// Crash kills a server; Start brings it back with the same name, address and data.
func TestFaultCrashStart(t *testing.T) {
	r := newFedRoom(t, 2)
	d := r.D
	hs2 := d.Server("hs2")
	before := r.Users[1].SendText(t, r.ID, "stored on hs2 before the crash")
	r.mustArrive(t, 0, before, client.DefaultWait, "control: hs2's message before the crash")
	clientURL, fedURL := hs2.ClientURL, hs2.FederationURL

	noErr(t, hs2.Crash())
	during := r.Users[0].SendText(t, r.ID, "sent while hs2 is down")
	if answers(hs2) {
		t.Fatalf("expected crashed hs2 not to answer, but it answered /versions")
	}
	// Give hs1 the same window as the other faults to try (and fail) to deliver.
	time.Sleep(cutWindow) // lets time pass: hs1 attempts delivery to a dead server

	r.lift(t, hs2.Start, 0)
	if hs2.ClientURL != clientURL || hs2.FederationURL != fedURL || hs2.Name != "hs2" {
		t.Fatalf("expected hs2 back at %s / %s, got %s at %s / %s", clientURL, fedURL, hs2.Name, hs2.ClientURL, hs2.FederationURL)
	}
	// Data kept: the old access token, room and event are still there.
	res := r.Users[1].GetEvent(t, r.ID, before)
	if res.StatusCode != 200 || res.JSON.Get("content.body").Str != "stored on hs2 before the crash" {
		t.Fatalf("expected hs2 to keep its data across the crash (GET /event of %s as %s), got %s", before, r.Users[1].UserID, res)
	}
	r.mustArrive(t, 1, during, blueprints.HealWait, "the message sent while hs2 was down, after restart")
	// And the restarted hs2 reaches hs1 under its old name.
	r.mustArrive(t, 0, r.Users[1].SendText(t, r.ID, "after the restart"), blueprints.HealWait, "hs2's message after the restart")
}
