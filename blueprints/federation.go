package blueprints

import (
	"testing"
	"time"

	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
)

// Federation blueprints: n federating servers, one user on each and a room created on hs1
// that every user has joined (and every server has seen every join).
//
// Two kinds, and the choice matters:
//   - SharedFederation uses the process-wide deployment of n servers (deploy.Shared), with
//     fresh users and a fresh room, so it costs well under a second. Tests that need
//     federation working use it. Nothing may cut these servers off.
//   - IsolatedFederation starts a deployment of its own (deploy.Deploy) that the test may
//     partition, pause or crash at will; it costs a server start (about 9 s for two servers on
//     an idle two-core machine). Every test that injects a fault uses it, so a fault never
//     touches a server that another test relies on.

// Federation is a ready federated room.
type Federation struct {
	D     *deploy.Deployment
	Room  string
	Users []*client.Client // Users[i] is on D.Servers[i]
}

// S returns server i (0-based, matching Users).
func (b *Federation) S(i int) *deploy.Server { return b.D.Servers[i] }

// SharedFederation is a fresh room on the shared n-server deployment (createBody nil for a
// public room).
func SharedFederation(t testing.TB, n int, createBody map[string]any) *Federation {
	t.Helper()
	return timedFederation(t, "shared", n, deploy.Shared, createBody)
}

// IsolatedFederation is a room on n servers of the test's own, which it may cut off at will.
func IsolatedFederation(t testing.TB, n int, createBody map[string]any) *Federation {
	t.Helper()
	return timedFederation(t, "isolated", n, deploy.Deploy, createBody)
}

// IsolatedPair is IsolatedFederation of two servers, with hs1's user and hs2's user.
func IsolatedPair(t testing.TB, createBody map[string]any) (b *Federation, onHS1, onHS2 *client.Client) {
	t.Helper()
	b = IsolatedFederation(t, 2, createBody)
	return b, b.Users[0], b.Users[1]
}

// timedFederation makes the room on the deployment deployed gives and logs how long both took.
func timedFederation(t testing.TB, kind string, n int, deployed func(testing.TB, int) *deploy.Deployment, createBody map[string]any) *Federation {
	t.Helper()
	start := time.Now()
	b := Federate(t, deployed(t, n), createBody)
	t.Logf("blueprint: %s %d-server federation ready in %v", kind, n, time.Since(start).Round(time.Millisecond))
	return b
}

// Federate checks that every server of d advertises sticky events and makes the room.
func Federate(t testing.TB, d *deploy.Deployment, createBody map[string]any) *Federation {
	t.Helper()
	for _, s := range d.Servers {
		RequireSticky(t, s)
	}
	return JoinedRoom(t, d, createBody)
}

// JoinedRoom makes the federation blueprint's room on any servers, sticky events or not (the
// deployer's own tests use it).
func JoinedRoom(t testing.TB, d *deploy.Deployment, createBody map[string]any) *Federation {
	t.Helper()
	if createBody == nil {
		createBody = client.PublicRoom("")
	}
	b := &Federation{D: d}
	for i, s := range d.Servers {
		u := NewUser(t, s, "user"+s.Name)
		b.Users = append(b.Users, u)
		if i == 0 {
			b.Room = u.CreateRoom(t, createBody)
		} else {
			u.JoinRoom(t, b.Room, d.Servers[0].Name)
		}
	}
	for i := range b.Users {
		for _, u := range b.Users {
			b.Users[i].WaitMembership(t, b.Room, u.UserID, "join", client.DefaultWait)
		}
	}
	return b
}
