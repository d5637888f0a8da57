package tests

import (
	"fmt"
	"stickler/helpers/wire"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"stickler/helpers/client"
	"stickler/helpers/deploy"
)

var userSeq atomic.Int64

// newUser registers a fresh user on the server, so tests sharing a deployment never see each
// other's rooms.
func newUser(t *testing.T, s *deploy.Server, role string) *client.Client {
	t.Helper()
	name := strings.ToLower(fmt.Sprintf("%s-%s-%d", role, deploy.ProcID()[:4], userSeq.Add(1)))
	return client.Register(t, s.ClientURL, name)
}

// oneServer returns the shared single-server deployment's server, after checking that it
// advertises sticky events (a server that does not gets a skip saying so, not a crash).
func oneServer(t *testing.T) *deploy.Server {
	t.Helper()
	s := deploy.Shared(t, 1).Server("hs1")
	requireSticky(t, s)
	return s
}

// twoServers returns the shared two-server deployment.
func twoServers(t *testing.T) (*deploy.Server, *deploy.Server) {
	t.Helper()
	d := deploy.Shared(t, 2)
	requireSticky(t, d.Server("hs1"))
	requireSticky(t, d.Server("hs2"))
	return d.Server("hs1"), d.Server("hs2")
}

var (
	advertisedMu sync.Mutex
	advertised   = map[string]string{} // client URL -> why its sticky tests are skipped ("" = none)
)

// requireSticky skips the test, saying why, when the server does not implement sticky events
// under the selected names (wire.Support): "not implemented" and "stable names not supported"
// are reported as such, not as a pile of failures.
func requireSticky(t *testing.T, s *deploy.Server) {
	t.Helper()
	advertisedMu.Lock()
	why, known := advertised[s.ClientURL]
	advertisedMu.Unlock()
	if !known {
		anon := &client.Client{BaseURL: s.ClientURL, Names: wireNames(t)}
		res := anon.MustDo(t, client.Request{Method: "GET", Path: []string{"_matrix", "client", "versions"}})
		why = wire.Support(res.JSON, anon.Names)
		advertisedMu.Lock()
		advertised[s.ClientURL] = why
		advertisedMu.Unlock()
	}
	if why != "" {
		t.Skipf("skipped: %s (%s): %s (see TestDiscover)", s.Name, s.Image, why)
	}
}

func wireNames(t *testing.T) wire.Names {
	t.Helper()
	n, err := wire.FromEnv()
	if err != nil {
		t.Fatalf("bad setting: %v", err)
	}
	return n
}
