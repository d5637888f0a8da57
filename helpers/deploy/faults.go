package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
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
//     bounded recovery provokes the sender itself and says so (tests/blueprint_test.go).
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
