// Package federation is a homeserver run inside the test process: a federation peer the
// tests control. It serves its signing keys, joins rooms on the servers under test, records
// every transaction they send it, serves its own events when they ask, and sends PDUs it
// crafts (any sticky object, any origin_server_ts, any prev_events), correctly hashed and
// signed. It keeps no database: everything lives in memory for one test.
package federation

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/matrix-org/gomatrixserverlib"

	"stickler/helpers/harness/deploy"
	"stickler/helpers/harness/wire"
)

// Peer is one in-process homeserver named "<host>:<port>", where host is how the containers
// reach the test process (COMPLEMENT_HOSTNAME_RUNNING_COMPLEMENT, host.docker.internal).
type Peer struct {
	ServerName string
	Signer     Signer
	Public     ed25519.PublicKey
	Names      wire.Names
	Debug      bool

	dep      *deploy.Deployment
	listener net.Listener
	srv      *http.Server
	clients  map[string]*http.Client // per destination server name

	mu       sync.Mutex
	rooms    map[string]*Room
	events   map[string]*Event // every event the peer knows, by ID
	pdus     []*Received
	requests []string // every request line the peer answered, for failure messages
	changed  chan struct{}
	txnSeq   int
}

// New starts a peer for the deployment. It listens on all interfaces on a random port (the
// containers reach it through the host gateway) with a certificate from the deployment's CA,
// and is stopped when the test ends.
func New(t testing.TB, d *deploy.Deployment) *Peer {
	t.Helper()
	names, err := wire.Select(d.Config.Names)
	if err != nil {
		t.Fatalf("federation peer: bad setting: %v", err)
	}
	host := d.Config.HostRunningTest
	cert, err := d.CA.Issue(host)
	if err != nil {
		t.Fatalf("federation peer: certificate for %s: %v", host, err)
	}
	l, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatalf("federation peer: listening: %v", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("federation peer: key: %v", err)
	}
	p := &Peer{
		ServerName: fmt.Sprintf("%s:%d", host, l.Addr().(*net.TCPAddr).Port),
		Public:     pub,
		Names:      names,
		Debug:      deployDebug(d),
		dep:        d,
		listener:   l,
		clients:    map[string]*http.Client{},
		rooms:      map[string]*Room{},
		events:     map[string]*Event{},
		changed:    make(chan struct{}),
	}
	// A key ID of its own: the server name is host:port, and a port the OS hands out again
	// names a new peer with a new key; a server that cached the earlier peer's key under the
	// same ID would refuse this one's signatures (seen: 401 "Signature was forged or corrupt"
	// on make_join, the peer asked for nothing). A new ID makes it fetch the key.
	p.Signer = Signer{ServerName: p.ServerName, KeyID: gomatrixserverlib.KeyID("ed25519:stickler" + hex.EncodeToString(pub[:4])), Private: priv}
	p.srv = &http.Server{
		Handler:           p.routes(),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}},
		ReadHeaderTimeout: 10 * time.Second,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := p.srv.ServeTLS(l, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Logf("federation peer %s stopped serving: %v", p.ServerName, err)
		}
	}()
	t.Cleanup(func() {
		_ = p.srv.Close()
		<-done
		if t.Failed() {
			t.Logf("federation peer %s answered %d request(s):\n  %s", p.ServerName, len(p.requests), strings.Join(p.Requests(), "\n  "))
		}
	})
	return p
}

func deployDebug(d *deploy.Deployment) bool { return d.Config.Debug }

// UserID returns the ID of a user on the peer.
func (p *Peer) UserID(localpart string) string { return "@" + localpart + ":" + p.ServerName }

// Requests returns the request lines the peer has answered so far, oldest first.
func (p *Peer) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.requests...)
}

// notify wakes every waiter; callers hold p.mu.
func (p *Peer) notify() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// remember stores an event the peer knows; callers hold p.mu.
func (p *Peer) remember(e *Event) { p.events[e.ID] = e }

// Event returns an event the peer knows by ID.
func (p *Peer) Event(id string) *Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.events[id]
}

// versionOf returns the room version of a room the peer knows; callers hold p.mu.
func (p *Peer) versionOf(roomID string) (gomatrixserverlib.RoomVersion, bool) {
	if r := p.rooms[roomID]; r != nil {
		return r.Version, true
	}
	return "", false
}
