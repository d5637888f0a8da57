package stickymap

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"stickler/helpers/harness/wire"
)

// scenario is a generated history: events written to a few keys, and what one client was
// delivered (some events never, some late, some twice, some only after they expired).
type scenario struct {
	seed       uint64
	deliveries []Delivery
	keys       []Key
	horizon    int64 // ms after t0 past which everything has expired
}

func generate(seed uint64) scenario {
	rng := rand.New(rand.NewPCG(seed, 0x57111c1e))
	sc := scenario{seed: seed, horizon: 16000}
	for i := 0; i < 1+rng.IntN(3); i++ {
		k := kA
		k.StickyKey = fmt.Sprintf("K%d", i)
		if rng.IntN(3) == 0 {
			k.Sender = "@bob:hs2"
		}
		sc.keys = append(sc.keys, k)
	}
	ids := map[string]bool{}
	n := 1 + rng.IntN(12)
	for i := 0; i < n; i++ {
		// Coarse times and durations, so equal ranks (and so event-ID tie-breaks) are common.
		ts := int64(rng.IntN(10)) * 500
		dur := []int64{0, 1000, 2000, 3000, 5000, 7500}[rng.IntN(6)]
		id := ""
		for id == "" || ids[id] {
			id = "$" + string(rune('A'+rng.IntN(26))) + string(rune('a'+rng.IntN(26)))
		}
		ids[id] = true
		k := sc.keys[rng.IntN(len(sc.keys))]
		if rng.IntN(10) == 0 {
			continue // never delivered to this client
		}
		for copies := 1 + rng.IntN(3); copies > 0; copies-- {
			recv := ts + int64(rng.IntN(4000))
			d := write(id, k, ts, dur, recv)
			// The server's remaining time: what is left, give or take its clock reading.
			d.Remaining.MS += int64(rng.IntN(101) - 50)
			if d.Remaining.MS <= 0 || rng.IntN(8) == 0 {
				d.Remaining = wire.Remaining{} // expired, or served as an ordinary event
			}
			if rng.IntN(5) == 0 {
				d.Removal, d.Content = true, `{"sticky_key":"`+k.StickyKey+`"}`
			}
			sc.deliveries = append(sc.deliveries, d)
		}
	}
	// Removal is a property of the event, not of a delivery: make all copies agree.
	first := map[string]Delivery{}
	for i, d := range sc.deliveries {
		if f, ok := first[d.EventID]; ok {
			sc.deliveries[i].Removal, sc.deliveries[i].Content = f.Removal, f.Content
		} else {
			first[d.EventID] = d
		}
	}
	return sc
}

func (sc scenario) build(rule Rule, order []int) *Map {
	m := New("client", Config{Rule: rule})
	for _, i := range order {
		m.Add(sc.deliveries[i])
	}
	return m
}

// seeds is how many generated histories each property runs; STICKYMAP_SEED=N replays one.
func seeds(t *testing.T) []uint64 {
	if s := os.Getenv("STICKYMAP_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("STICKYMAP_SEED=%q: %v", s, err)
		}
		return []uint64{v}
	}
	out := make([]uint64, 400)
	for i := range out {
		out[i] = uint64(i + 1)
	}
	return out
}

// Any delivery order, and delivering anything again, gives the same map at every instant,
// with the same explanation (apart from delivery counts).
func TestPropertyOrderAndDuplicatesDoNotMatter(t *testing.T) {
	for _, rule := range []Rule{RuleLatest, RuleSeed} {
		for _, seed := range seeds(t) {
			sc := generate(seed)
			rng := rand.New(rand.NewPCG(seed, 2))
			inOrder := make([]int, len(sc.deliveries))
			for i := range inOrder {
				inOrder[i] = i
			}
			shuffled := append([]int(nil), inOrder...)
			rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			doubled := append(append([]int(nil), shuffled...), inOrder...)
			rng.Shuffle(len(doubled), func(i, j int) { doubled[i], doubled[j] = doubled[j], doubled[i] })

			a, b, c := sc.build(rule, inOrder), sc.build(rule, shuffled), sc.build(rule, doubled)
			for ms := int64(0); ms <= sc.horizon; ms += 250 {
				if d := DiffAll(at(ms), a, b, c); d != "" {
					t.Fatalf("rule %v, STICKYMAP_SEED=%d, at +%dms: delivery order or duplicates changed the map:\n%s", rule, seed, ms, d)
				}
				if ms%2000 != 0 {
					continue
				}
				for _, k := range sc.keys {
					if ea, eb := a.ExplainAt(k, at(ms)), b.ExplainAt(k, at(ms)); ea != eb {
						t.Fatalf("rule %v, STICKYMAP_SEED=%d: explanation depends on order:\n%s\nvs\n%s", rule, seed, ea, eb)
					}
				}
			}
		}
	}
}

// The value a key holds always satisfies the proposal's rule: it was delivered as sticky, is
// not a removal, has not expired for this client, and no event delivered as sticky for the
// key outranks it. A key reads as absent only when the top-ranked such event is a removal or
// has expired, or there is none.
func TestPropertyValueObeysTheRule(t *testing.T) {
	for _, rule := range []Rule{RuleLatest, RuleSeed} {
		for _, seed := range seeds(t) {
			sc := generate(seed)
			m := sc.build(rule, seqOf(len(sc.deliveries)))
			// Independent bookkeeping: per event, delivered as sticky, and its earliest expiry.
			live := map[string]Delivery{}
			for _, d := range sc.deliveries {
				if !d.Remaining.Present {
					continue
				}
				if p, ok := live[d.EventID]; !ok || d.LocalExpiry().Before(p.LocalExpiry()) {
					live[d.EventID] = d
				}
			}
			for ms := int64(0); ms <= sc.horizon; ms += 250 {
				now := at(ms)
				state := m.StateAt(now)
				for _, k := range sc.keys {
					var top *Delivery
					for _, d := range live {
						if d.Key == k && (top == nil || rank(rule, d) > rank(rule, *top) ||
							(rank(rule, d) == rank(rule, *top) && d.EventID > top.EventID)) {
							top = &d
						}
					}
					e, has := state[k]
					fail := func(msg string) {
						t.Fatalf("rule %v, STICKYMAP_SEED=%d, at +%dms, key %v: %s\n%s", rule, seed, ms, k, msg, m.ExplainAt(k, now))
					}
					switch {
					case top == nil && has:
						fail("holds a value though no event was delivered as sticky")
					case top == nil:
					case top.Removal || !now.Before(top.LocalExpiry()):
						if has {
							fail("holds " + e.EventID + " though the top event is a removal or expired")
						}
					case !has:
						fail("absent though " + top.EventID + " is live and ranks first")
					case e.EventID != top.EventID:
						fail("holds " + e.EventID + ", but " + top.EventID + " ranks first")
					case !e.Expires.Equal(top.LocalExpiry()):
						fail(fmt.Sprintf("expiry %v, want the earliest delivered %v", e.Expires, top.LocalExpiry()))
					}
				}
			}
		}
	}
}

// rank restates the rules, plainly: what the proposal says is compared before the event ID.
func rank(r Rule, d Delivery) int64 {
	if r == RuleSeed {
		return d.OriginTS
	}
	return d.OriginTS + d.DurationMS
}

func seqOf(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// The generator must produce the cases the properties are about, or they prove little.
func TestGeneratorCoversTheInterestingCases(t *testing.T) {
	var ties, removals, notSticky, dups, winnerExpiredLoserLive int
	for seed := uint64(1); seed <= 400; seed++ {
		sc := generate(seed)
		seen := map[string]int{}
		for i, d := range sc.deliveries {
			seen[d.EventID]++
			if d.Removal {
				removals++
			}
			if !d.Remaining.Present {
				notSticky++
			}
			for _, e := range sc.deliveries[:i] {
				if e.Key == d.Key && e.EventID != d.EventID && rank(RuleLatest, e) == rank(RuleLatest, d) {
					ties++
				}
			}
		}
		for _, c := range seen {
			if c > 1 {
				dups++
			}
		}
		m := sc.build(RuleSeed, seqOf(len(sc.deliveries)))
		for ms := int64(0); ms < sc.horizon; ms += 500 {
			for _, k := range sc.keys {
				if _, ok := m.StateAt(at(ms))[k]; !ok && len(sc.deliveries) > 1 {
					// an absent key while some event of it is still live: the seed hazard
					for _, d := range sc.deliveries {
						if d.Key == k && d.Remaining.Present && at(ms).Before(d.LocalExpiry()) && !d.Removal {
							winnerExpiredLoserLive++
							break
						}
					}
				}
			}
		}
	}
	t.Logf("ties %d, removals %d, non-sticky deliveries %d, duplicated events %d, absent-while-a-loser-lives %d",
		ties, removals, notSticky, dups, winnerExpiredLoserLive)
	for name, n := range map[string]int{"rank ties": ties, "removals": removals, "non-sticky deliveries": notSticky,
		"duplicates": dups, "expired winner over a live loser": winnerExpiredLoserLive} {
		if n < 20 {
			t.Errorf("the generator made only %d case(s) of %s in 400 seeds", n, name)
		}
	}
}
