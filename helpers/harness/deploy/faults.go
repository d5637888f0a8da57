package deploy

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"stickler/helpers/harness/profile"
	"stickler/helpers/harness/timeline"
)

// Faults. Federation between two servers runs over a network only they share, where each has
// its alias; their clients use published ports on another network. So cutting a server off
// from a peer is leaving the network it shares with that peer: the peer's name no longer
// resolves and open connections lose their interface, while clients carry on.
//
// How Synapse (1.160, our image) behaves under these controls, as observed in faults_test.go
// and the server logs; none of it needed a change here:
//   - Open connections: a peer's pooled keep-alive connection to a partitioned server is not
//     reset, its next request hangs until the peer's client_timeout (10 s in the image) and
//     is then retried on a new connection. That is what a real partition does, so it is kept.
//   - DNS: names are not cached across a cut. While partitioned, a lookup of the other
//     server's alias fails at once ("DNS lookup failed: no results for hostname lookup");
//     after Heal/HealFrom the alias resolves again on the next attempt, even when Docker
//     hands the reconnected container a different address.
//   - Backoff: after its retries fail (about 25 s after the first attempt, including the
//     hung connection above) the sender backs off (at most 5 s in the image) and waits for
//     its catch-up: a new event for that peer, an inbound request from it ("Marking origin as
//     up"), or its once-a-minute catch-up loop. Heal does not poke anyone; a test that wants a
//     bounded recovery provokes the sender itself and says so (traffic.Provoke).
//   - Pause: the kernel still accepts connections to a frozen container, requests just wait;
//     after Unpause they are served. Crash/Start keeps the container, its data, its network
//     attachments and aliases, and the published ports.

// Partition cuts s off from every other server of the deployment.
func (s *Server) Partition() error { return s.cut(nil) }

// PartitionFrom cuts federation between s and the other server only.
func (s *Server) PartitionFrom(other *Server) error { return s.cut(map[int]bool{other.Index: true}) }

// Heal reconnects s with every other server.
func (s *Server) Heal() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.connectPeers(ctx, nil)
}

// HealFrom reconnects s with the other server only.
func (s *Server) HealFrom(other *Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.connectPeers(ctx, map[int]bool{other.Index: true})
}

func (s *Server) cut(only map[int]bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for pair, id := range s.dep.pairNet {
		if pair[0] != s.Index && pair[1] != s.Index {
			continue
		}
		if other := pair[0] + pair[1] - s.Index; only != nil && !only[other] {
			continue
		}
		if err := s.dep.docker.NetworkDisconnect(ctx, id, s.ContainerID, true); err != nil {
			return fmt.Errorf("partitioning %s: %w", s.Name, err)
		}
	}
	return nil
}

// Pause freezes the server: its processes stop, requests to it hang.
func (s *Server) Pause() error {
	if err := s.dep.docker.ContainerPause(context.Background(), s.ContainerID); err != nil {
		return fmt.Errorf("pausing %s: %w", s.Name, err)
	}
	return nil
}

// Unpause lets a paused server run again.
func (s *Server) Unpause() error {
	if err := s.dep.docker.ContainerUnpause(context.Background(), s.ContainerID); err != nil {
		return fmt.Errorf("unpausing %s: %w", s.Name, err)
	}
	return nil
}

// Crash kills the server at once (SIGKILL, no clean shutdown); its data stays.
func (s *Server) Crash() error {
	if profile.Enabled() { // the container's CPU time counts from zero again after a restart
		s.recordCPU(context.Background())
	}
	if err := s.dep.docker.ContainerKill(context.Background(), s.ContainerID, "KILL"); err != nil {
		return fmt.Errorf("killing %s: %w", s.Name, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	waitC, errC := s.dep.docker.ContainerWait(ctx, s.ContainerID, container.WaitConditionNotRunning)
	select {
	case <-waitC:
		return nil
	case err := <-errC:
		return fmt.Errorf("waiting for %s to stop: %w", s.Name, err)
	}
}

// Start starts a crashed server again, with the same name, address and data, and waits until
// it is ready.
func (s *Server) Start() error {
	return s.startAndWait(context.Background())
}

// Fault is a kind of outage a test inflicts on one server with Begin and lifts with End.
type Fault = timeline.FaultKind

// The fault kinds: the server leaves the networks it shares with its peers (its clients still
// reach it), is frozen (every request hangs), or is killed (then started again with its data).
const (
	Partition = timeline.Partition
	Pause     = timeline.Pause
	Crash     = timeline.Crash
)

// Faults lists every kind, for tests that play them all.
var Faults = []Fault{Partition, Pause, Crash}

// Begin inflicts the fault on s and logs when. End lifts it and records the span for the
// report; a fault still on when the test ends is lifted (and recorded) then.
func (s *Server) Begin(t testing.TB, kind Fault) {
	t.Helper()
	var err error
	switch kind {
	case Partition:
		err = s.Partition()
	case Pause:
		err = s.Pause()
	case Crash:
		err = s.Crash()
	default:
		t.Fatalf("deploy: unknown fault kind %q (want one of %v)", kind, Faults)
	}
	if err != nil {
		t.Fatalf("starting a %s of %s: %v", kind, s.Name, err)
	}
	d := s.dep
	d.faultMu.Lock()
	if d.faults == nil {
		d.faults = map[openFault]func(){}
	}
	d.faults[openFault{s.Index, kind}] = timeline.Begin(t, s.Name, kind)
	d.faultMu.Unlock()
	t.Logf("%s: %s begins at %s", s.Name, kind, time.Now().Format("15:04:05.000"))
	t.Cleanup(func() {
		if record := s.endFault(kind); record != nil {
			_ = s.lift(kind) // the test ended with the fault on: lift it before the teardown
			record()
		}
	})
}

// End lifts a fault that Begin inflicted (a crashed server is started and awaited).
func (s *Server) End(t testing.TB, kind Fault) {
	t.Helper()
	record := s.endFault(kind)
	if record == nil {
		t.Fatalf("deploy: End(%s) of %s without a Begin", kind, s.Name)
	}
	if err := s.lift(kind); err != nil {
		t.Fatalf("ending the %s of %s: %v", kind, s.Name, err)
	}
	record()
	t.Logf("%s: %s ends at %s", s.Name, kind, time.Now().Format("15:04:05.000"))
}

// endFault forgets an open fault and returns its span recorder (nil when none is open).
func (s *Server) endFault(kind Fault) func() {
	d := s.dep
	d.faultMu.Lock()
	defer d.faultMu.Unlock()
	record := d.faults[openFault{s.Index, kind}]
	delete(d.faults, openFault{s.Index, kind})
	return record
}

func (s *Server) lift(kind Fault) error {
	switch kind {
	case Partition:
		return s.Heal()
	case Pause:
		return s.Unpause()
	default:
		return s.Start()
	}
}
