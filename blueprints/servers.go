// Package blueprints holds the named starting points of the tests, and nothing else: one
// server with users, N federating servers with one user each in one room, a room that the
// in-process federation peer has joined, a mixed room. Each returns ready state (every join
// seen everywhere), so a test starts from its scenario, not from setup. What tests check is in
// helpers/checks; the recipes of the servers they run (images, expectations) are in the
// top-level servers/ folder.
package blueprints

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
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
	advertised   = map[string]lack{} // client URL -> what it lacks of sticky events (zero: nothing)
)

// lack is what a server lacks of sticky events (wire.Lacks): the feature and why.
type lack struct{ feature, why string }

// RequireSticky ends the test as not implemented (spec.NotImplemented), saying why, when the
// server does not implement sticky events under the selected names (wire.Lacks): "not
// implemented" and "stable names not supported" are reported as such, not as a pile of
// failures.
func RequireSticky(t testing.TB, s *deploy.Server) {
	t.Helper()
	advertisedMu.Lock()
	l, known := advertised[s.ClientURL]
	advertisedMu.Unlock()
	if !known {
		anon := &client.Client{BaseURL: s.ClientURL, Names: client.NamesFromEnv(t)}
		res := anon.MustDo(t, client.Request{Method: "GET", Path: []string{"_matrix", "client", "versions"}})
		l.feature, l.why = wire.Lacks(res.JSON, anon.Names)
		advertisedMu.Lock()
		advertised[s.ClientURL] = l
		advertisedMu.Unlock()
	}
	if l.why != "" {
		server := fmt.Sprintf("%s (%s)", s.Name, s.Image)
		spec.NotImplemented(t, server, l.feature, "%s: %s (see TestDiscover)", server, l.why)
	}
}

// UserInRoom is one server with a fresh user (named after its role) in a public room of its
// own: the starting point of the single-server tests.
func UserInRoom(t testing.TB, role string) (*client.Client, string) {
	t.Helper()
	u := NewUser(t, OneServer(t), role)
	return u, u.CreateRoom(t, client.PublicRoom(""))
}
