package tests

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"stickler/blueprints"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/federation"
	"stickler/helpers/spec"
)

// LOAD-2..4: rate limits over federation (MSC4354 § Rate limits). A server may refuse a
// transaction so the sender retries (option A) or keep the events and deliver them later
// (option B); it must never answer 2xx and drop a sticky PDU.

// burstPDU is one sticky PDU of a burst and what became of it.
type burstPDU struct {
	ev       *federation.Event
	lifetime time.Duration
	expiry   time.Time // origin_server_ts + lifetime
	txn      int       // the transaction it was first sent in
	accepted time.Time // when a 2xx answer without an error for it came; zero if never
	errors   []string  // per-PDU errors before that
}

// The federation peer sends 300 sticky PDUs in a burst of back-to-back transactions of 50,
// retrying like a sender: a refused transaction (non-2xx) under the same ID after the
// server's retry_after_ms or a second, a PDU that got an error in a later transaction. Every
// PDU the server accepted (2xx, no error for it) reaches the room's client (LOAD-2). Half of
// them live 90 s: those must reach the client before they expire (LOAD-3), judged for the
// ones accepted with at least 30 s left. What the server did under the burst is reported
// (LOAD-4).
func TestPeerStickyBurstNotLost(t *testing.T) {
	spec.Covers(t, "LOAD-2")
	t.Parallel()
	pr := blueprints.NewPeerRoom(t, 1, nil)
	f := pr.Alice.NewStream(client.Sync, client.TimelineLimit(5)).Start(t)
	const txns, perTxn = 6, 50 // 50: the most PDUs a transaction may carry
	const short, judged = 90 * time.Second, 30 * time.Second
	var pdus []*burstPDU
	var refusals []string
	pduErrors := 0
	// A server that refuses (option A) must let the sender through eventually: it fails only
	// after refusing for refuseFor since it last accepted a transaction (or since the burst
	// began), so a server that drains its backlog slowly on a busy machine, accepting now and
	// then, is never cut off.
	const refuseFor = 2 * time.Minute
	retryUntil := time.Now().Add(refuseFor)

	// send delivers one transaction, retrying a refused one under the same ID, and records the
	// verdict of each PDU.
	send := func(batch []*burstPDU, what string) {
		events := make([]*federation.Event, len(batch))
		for i, p := range batch {
			events[i] = p.ev
		}
		txnID := pr.Peer.NewTxnID()
		for {
			res, verdicts, err := pr.Peer.SendTxn(pr.HS, txnID, events)
			switch {
			case err != nil:
				refusals = append(refusals, fmt.Sprintf("%s: no answer (%v)", what, err))
			case verdicts == nil:
				refusals = append(refusals, fmt.Sprintf("%s: %d %s", what, res.StatusCode, client.Truncate(string(res.Body), 200)))
			default:
				now := time.Now()
				for _, p := range batch {
					if msg := verdicts[p.ev.ID]; msg != "" {
						p.errors = append(p.errors, msg)
						pduErrors++
					} else {
						p.accepted = now
					}
				}
				retryUntil = now.Add(refuseFor)
				return
			}
			if time.Now().After(retryUntil) {
				spec.Fatalf(t, "never-accepted", "the server kept refusing the transactions of a burst of valid sticky PDUs for %v since it last accepted one (or since the burst began), so the sender cannot deliver them; refusals: %s",
					refuseFor, strings.Join(refusals, "; "))
			}
			wait := time.Second
			if res != nil {
				if ms := res.JSON.Get("retry_after_ms").Int(); ms > 0 {
					wait = time.Duration(ms) * time.Millisecond
				}
			}
			time.Sleep(min(wait, time.Until(retryUntil))) // a sender's backoff: real time must pass
		}
	}

	start := time.Now()
	for i := 0; i < txns; i++ {
		batch := make([]*burstPDU, perTxn)
		for j := range batch {
			lifetime := blueprints.LongSticky
			if j%2 == 1 {
				lifetime = short
			}
			ts := federation.Now()
			ev := pr.Room.Craft(t, federation.Proto{Type: blueprints.StickyType, Sender: pr.User,
				Content: map[string]any{"txn": i, "n": j}, Extra: pr.Peer.StickyFor(lifetime), OriginServerTS: ts})
			batch[j] = &burstPDU{ev: ev, lifetime: lifetime, expiry: time.UnixMilli(ts).Add(lifetime), txn: i}
			f.Labels[ev.ID] = fmt.Sprintf("PDU %d of transaction %d (lifetime %v)", j, i, lifetime)
		}
		pdus = append(pdus, batch...)
		send(batch, fmt.Sprintf("transaction %d", i))
		f.Next(t, 0) // the client follows during the burst, so deliveries are timed
	}
	// PDUs the server answered with an error are sent again, as a sender would.
	for round := 1; round <= 3; round++ {
		var again []*burstPDU
		for _, p := range pdus {
			if p.accepted.IsZero() {
				again = append(again, p)
			}
		}
		for len(again) > 0 {
			n := min(len(again), perTxn)
			send(again[:n], fmt.Sprintf("resend round %d", round))
			again = again[n:]
		}
	}
	burst := time.Since(start)

	var accepted []string
	var lastAccepted time.Time
	for _, p := range pdus {
		if !p.accepted.IsZero() {
			accepted = append(accepted, p.ev.ID)
			if p.accepted.After(lastAccepted) {
				lastAccepted = p.accepted
			}
		}
	}
	if len(accepted) == 0 {
		t.Fatalf("control: the server accepted none of %d valid sticky PDUs (refusals: %v; first PDU errors: %v)", len(pdus), refusals, pdus[0].errors)
	}
	t.Logf("burst of %d transactions took %v: %d of %d PDUs accepted, %d transaction refusal(s), %d per-PDU error(s)",
		txns, burst.Round(time.Millisecond), len(accepted), len(pdus), len(refusals), pduErrors)
	// Wait while deliveries keep coming: a server working through a backlog on a loaded machine
	// is slow, not lossy. Every deadline is counted from what the server does, not from the
	// test's clock: the wait ends when every accepted PDU has come; or when none has come for
	// quiet AND over quietResponses sync responses in a row (so a server too busy to answer
	// syncs promptly gets proportionally longer); or, while deliveries keep coming, most after
	// the last acceptance (the longest lifetime in the burst: past it, every missing PDU has
	// outlived its stickiness undelivered).
	const quiet, quietResponses, most = 30 * time.Second, 30, blueprints.LongSticky
	lastProgress, emptyResponses, got := time.Now(), 0, 0
	var missing []string
	var ended string // why the wait ended without every PDU, for the failure message
	for {
		missing = missing[:0]
		for _, id := range accepted {
			if len(f.Of(id)) == 0 {
				missing = append(missing, id)
			}
		}
		if n := len(accepted) - len(missing); n > got {
			got, lastProgress, emptyResponses = n, time.Now(), 0
		}
		if len(missing) == 0 {
			break
		}
		if time.Since(lastProgress) > quiet && emptyResponses >= quietResponses {
			ended = fmt.Sprintf("no new delivery for %v over %d sync responses", time.Since(lastProgress).Round(time.Second), emptyResponses)
			break
		}
		if time.Since(lastAccepted) > most {
			ended = fmt.Sprintf("still missing %v after the last acceptance, the longest sticky lifetime in the burst; the last new delivery came %v ago",
				most, time.Since(lastProgress).Round(time.Second))
			break
		}
		f.Next(t, time.Second)
		emptyResponses++
	}
	settled := time.Since(lastAccepted)
	if len(missing) == 0 {
		t.Logf("all %d accepted PDUs reached the client, the last %v after the last acceptance", len(accepted), settled.Round(time.Millisecond))
	}
	t.Run("before-expiry", func(t *testing.T) {
		spec.Covers(t, "LOAD-3")
		var late []string
		judgedN := 0
		for _, p := range pdus {
			if p.lifetime != short || p.accepted.IsZero() || p.expiry.Sub(p.accepted) < judged {
				continue
			}
			first := f.Of(p.ev.ID)
			if len(first) == 0 {
				continue // lost: LOAD-2's failure, not a late delivery
			}
			judgedN++
			if first[0].Asked.After(p.expiry) {
				late = append(late, fmt.Sprintf("%s: accepted %s, expired %s, delivered %s", f.Labels[p.ev.ID],
					p.accepted.Format("15:04:05.000"), p.expiry.Format("15:04:05.000"), f.Describe(p.ev.ID)))
			}
		}
		if judgedN == 0 {
			t.Skipf("inconclusive: no delivered %v PDU was accepted with %v of its lifetime left (the machine was too slow, or they were lost: see LOAD-2)", short, judged)
		}
		if len(late) > 0 {
			spec.Fatalf(t, "delivered-after-expiry", "%d of %d accepted sticky PDUs with a %v lifetime reached the client only after they expired: %s",
				len(late), judgedN, short, strings.Join(late, "; "))
		}
		t.Logf("all %d accepted %v PDUs accepted with at least %v left reached the client before expiry", judgedN, short, judged)
	})
	t.Run("option", func(t *testing.T) {
		spec.Covers(t, "LOAD-4")
		var lags []time.Duration
		for _, p := range pdus {
			if ds := f.Of(p.ev.ID); len(ds) > 0 && !p.accepted.IsZero() {
				lags = append(lags, max(ds[0].At.Sub(p.accepted), 0))
			}
		}
		slices.Sort(lags)
		maxLag := lags[len(lags)-1].Round(time.Millisecond)
		what := fmt.Sprintf("%d sticky PDUs in %d back-to-back transactions: ", len(pdus), txns)
		switch {
		case len(refusals) > 0:
			what += fmt.Sprintf("option A, %d transaction refusal(s) (first: %s), accepted on retry", len(refusals), refusals[0])
		case pduErrors > 0:
			what += fmt.Sprintf("%d per-PDU error(s) in 2xx answers, accepted when sent again", pduErrors)
		default:
			what += "every transaction answered 2xx, every PDU accepted at once"
		}
		what += fmt.Sprintf("; the delivered ones reached the client at most %v after acceptance (median %v; the client synced after each transaction)",
			maxLag, lags[len(lags)/2].Round(time.Millisecond))
		switch {
		case len(missing) > 0:
			what += fmt.Sprintf("; %d accepted PDU(s) never delivered (%s; %v after the last acceptance): dropped after a 2xx answer", len(missing), ended, settled.Round(time.Millisecond))
		case len(refusals) == 0 && pduErrors == 0:
			what += fmt.Sprintf("; all delivered within %v of the last acceptance: no rate limit seen", settled.Round(time.Millisecond))
		default:
			what += fmt.Sprintf("; all delivered within %v of the last acceptance", settled.Round(time.Millisecond))
		}
		spec.Choice(t, "LOAD-4", what)
	})
	if len(missing) > 0 {
		lostPerTxn := map[int]int{}
		for _, p := range pdus {
			if !p.accepted.IsZero() && len(f.Of(p.ev.ID)) == 0 {
				lostPerTxn[p.txn]++
			}
		}
		var labels []string
		for _, id := range missing[:min(len(missing), 5)] {
			labels = append(labels, f.Labels[id]+" "+id)
		}
		spec.Fatalf(t, "lost-after-accept", "%d of %d sticky PDUs the server accepted (/send answered 2xx, no error for them) never reached the client (%s; %v after the last acceptance); "+
			"missing per transaction: %v; first missing: %s; the client got %s",
			len(missing), len(accepted), ended, settled.Round(time.Millisecond), lostPerTxn, strings.Join(labels, ", "), f.Arrived(pr.Room.ID))
	}
}
