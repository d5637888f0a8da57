// Package blueprints holds the named starting points of the tests: one server with users, N
// federating servers with one user each in one room, a room that the in-process federation
// peer has joined. Each returns ready state (every join seen everywhere), so a test starts
// from its scenario, not from setup. The image recipes the servers run live in images/.
package blueprints

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tidwall/gjson"

	"stickler/helpers/client"
	"stickler/helpers/deploy"
	"stickler/helpers/wire"
)

var userSeq atomic.Int64

// NewUser registers a fresh user on the server, so tests sharing a deployment never see each
// other's rooms.
func NewUser(t testing.TB, s *deploy.Server, role string) *client.Client {
	t.Helper()
	name := strings.ToLower(fmt.Sprintf("%s-%s-%d", role, deploy.ProcID()[:4], userSeq.Add(1)))
	return client.Register(t, s.ClientURL, name, s.Debug())
}

// OneServer returns the shared single-server deployment's server, after checking that it
// advertises sticky events (a server that does not gets a skip saying so, not a crash).
func OneServer(t testing.TB) *deploy.Server {
	t.Helper()
	s := deploy.Shared(t, 1).Server("hs1")
	RequireSticky(t, s)
	return s
}

// Shared returns the shared n-server deployment after checking that every server advertises
// sticky events.
func Shared(t testing.TB, n int) *deploy.Deployment {
	t.Helper()
	d := deploy.Shared(t, n)
	for _, s := range d.Servers {
		RequireSticky(t, s)
	}
	return d
}

var (
	advertisedMu sync.Mutex
	advertised   = map[string]bool{}
)

// RequireSticky skips the test, saying why, when the server does not advertise MSC4354:
// "not implemented" is reported as such, not as a pile of failures.
func RequireSticky(t testing.TB, s *deploy.Server) {
	t.Helper()
	advertisedMu.Lock()
	ok, known := advertised[s.ClientURL]
	advertisedMu.Unlock()
	if !known {
		anon := &client.Client{BaseURL: s.ClientURL, Names: client.NamesFromEnv(t)}
		res := anon.MustDo(t, client.Request{Method: "GET", Path: []string{"_matrix", "client", "versions"}})
		ok = Advertises(res.JSON, anon.Names)
		advertisedMu.Lock()
		advertised[s.ClientURL] = ok
		advertisedMu.Unlock()
	}
	if !ok {
		t.Skipf("skipped: %s (%s) does not advertise org.matrix.msc4354 in /versions: sticky events not implemented or not enabled (see TestDiscover)", s.Name, s.Image)
	}
}

// Advertises says whether a /versions answer announces sticky events under the selected names:
// the unstable flag; with stable names also the ".stable" flag servers use before the feature
// is in a released spec version.
func Advertises(versions gjson.Result, n wire.Names) bool {
	if versions.Get(`unstable_features.org\.matrix\.msc4354`).Type == gjson.True {
		return true
	}
	return n.Set == "stable" && versions.Get(`unstable_features.org\.matrix\.msc4354\.stable`).Type == gjson.True
}

// UserInRoom is one server with a fresh user (named after its role) in a public room of its
// own: the starting point of the single-server tests.
func UserInRoom(t testing.TB, role string) (*client.Client, string) {
	t.Helper()
	u := NewUser(t, OneServer(t), role)
	return u, u.CreateRoom(t, client.PublicRoom(""))
}
