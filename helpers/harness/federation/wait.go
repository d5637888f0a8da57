package federation

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// PDUs returns every PDU received so far, in arrival order.
func (p *Peer) PDUs() []*Received {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Received(nil), p.pdus...)
}

// TryWaitPDUs waits until check accepts the received PDUs, or until wait has passed, and
// says whether check accepted. It wakes at each arrival, not on a timer.
func (p *Peer) TryWaitPDUs(wait time.Duration, check func([]*Received) bool) ([]*Received, bool) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		all := append([]*Received(nil), p.pdus...)
		changed := p.changed
		p.mu.Unlock()
		if check(all) {
			return all, true
		}
		select {
		case <-changed:
		case <-deadline.C:
			p.mu.Lock()
			all = append([]*Received(nil), p.pdus...)
			p.mu.Unlock()
			return all, check(all)
		}
	}
}

// WaitPDUs is TryWaitPDUs that fails the test after wait, saying what was awaited and listing
// what did arrive.
func (p *Peer) WaitPDUs(t testing.TB, wait time.Duration, what string, check func([]*Received) bool) []*Received {
	t.Helper()
	all, ok := p.TryWaitPDUs(wait, check)
	if !ok {
		t.Fatalf("federation peer %s waited %v for %s; not seen. It received %d PDU(s):\n%s", p.ServerName, wait, what, len(all), Describe(all))
	}
	return all
}

// WaitEvent waits for the PDU with the given ID and returns it.
func (p *Peer) WaitEvent(t testing.TB, wait time.Duration, eventID, what string) *Received {
	t.Helper()
	all := p.WaitPDUs(t, wait, what+" ("+eventID+")", func(rs []*Received) bool { return FindPDU(rs, eventID) != nil })
	return FindPDU(all, eventID)
}

// FindPDU returns the first arrival of the event with the given ID, or nil.
func FindPDU(rs []*Received, eventID string) *Received {
	for _, r := range rs {
		if r.Event.ID == eventID {
			return r
		}
	}
	return nil
}

// Describe lists received PDUs one a line, for failure messages.
func Describe(rs []*Received) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %s from %s: %s %s by %s in %s\n", r.At.Format("15:04:05.000"), r.Origin, r.Event.ID, r.Event.Type(), r.Event.Sender(), r.RoomID)
	}
	if b.Len() == 0 {
		return "  (none)\n"
	}
	return b.String()
}
