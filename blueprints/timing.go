package blueprints

import "time"

// Shared test data and time bounds, so that every test file means the same by them.

// StickyType is the event type of the sticky events the tests send.
const StickyType = "org.example.sticky"

// LongSticky is the lifetime of sticky events that must stay sticky for a whole test.
const LongSticky = 10 * time.Minute

// PushSticky is the lifetime of sticky events whose delivery to another server (a push, a
// push to a newly joined server, re-evaluation after soft failure) or to a joiner a test
// awaits where the proposal sets no deadline: such a wait lasts until they expire
// (bound.Sticky). Long enough for a slow but correct server after the scenario's setup on a
// loaded machine (the legal variant ref-slow-correct pushes to a newcomer 60 s after its
// join, holds "old" sticky PDUs until they are a minute old, re-evaluates 30 s after the
// change); short enough that a server that never delivers fails within two minutes.
const PushSticky = 2 * time.Minute

// PushLives are the lifetimes a newcomer-push scenario is planned with (realtime.Run): when
// the setup between the sends and the join left less than PushNeed of PushSticky (a loaded
// machine), the scenario is played again with the longer lifetime, and then reported as
// inconclusive; the machine's load never decides the verdict.
var PushLives = []time.Duration{PushSticky, 2 * PushSticky}

// PushNeed is how much of the events' lifetime a newcomer-push scenario leaves the servers
// after its setup: a minute for a slow but correct server (ref-slow-correct pushes 60 s after
// the join), plus margin. It is a floor the suite gives, not a deadline: the wait itself lasts
// until the events expire.
const PushNeed = 80 * time.Second

// FaultSticky is PushSticky for events that must outlive an outage (FED-4): the outage and
// the sender's retries (Synapse's catch-up runs once a minute) come on top.
const FaultSticky = 3 * time.Minute

// LoadSticky is the lifetime of the sticky events of a scenario that sends a hundred or more
// at once and awaits them all (LOAD-1, SYNC-7, SSS-3): the proposal sets no deadline for their
// delivery, so the wait lasts until they expire (bound.Sticky). Sending them takes up to a
// minute on a loaded machine; a server that loses some fails within three minutes.
const LoadSticky = 3 * time.Minute

// RemainingTolerance bounds how far the expiry a client computes from the remaining-time field
// (delivery time + remaining time) may lie from the moment the event really leaves the sticky
// section: a sync's round trip on a loaded two-core machine (up to ~500 ms), a probe interval,
// and clock reading (the tests and the servers read the same host clock).
const RemainingTolerance = 1500 * time.Millisecond

// MaxSticky is the proposal's cap on stickiness.
const MaxSticky = time.Hour

// ExpiryGrace is how long after its computed end an event may still be served as sticky: the
// server checks expiry against real time when it answers, plus a slow request on a loaded
// machine (the test process and the servers read the same host clock).
const ExpiryGrace = 1500 * time.Millisecond

const (
	// HealWait bounds delivery after a fault ends when the test provokes the sender (see
	// traffic.Provoke): the image's longest backoff is 5 s (destination_max_retry_interval), a
	// request stuck on a dead connection gives up after 10 s (client_timeout), plus margin for
	// a loaded two-core machine.
	HealWait = 40 * time.Second
	// ShortSticky is the lifetime of events meant to expire during a fault: long enough to be
	// sent and federated before the fault starts, short enough to keep the test quick.
	ShortSticky = 3 * time.Second
)

const (
	// PeerSettle is how long the federation peer keeps listening when checking that something
	// is NOT sent, after everything that must be sent has arrived (or its wait ran out).
	PeerSettle = 5 * time.Second
	// PeerShortLife is the lifetime of a sticky event a test first sees sticky and then
	// watches expire. Before it may expire the test waits for its delivery (client.Delivered),
	// sends a filler and makes an initial sync (sticky.Now); on a loaded two-core machine
	// running about six tests at once that has taken several seconds, so 15 s leaves a wide
	// margin while the wait for the expiry stays short.
	PeerShortLife = 15 * time.Second
)
