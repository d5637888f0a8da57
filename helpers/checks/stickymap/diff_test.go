package stickymap

import (
	"strings"
	"testing"
)

func TestDiffSaysWhere(t *testing.T) {
	kB := kA
	kB.StickyKey = "PHONE"
	alice, _ := newMap("alice@hs1", RuleLatest)
	bob, _ := newMap("bob@hs2", RuleLatest)

	// Both saw S; only alice saw the overwrite S'.
	for _, m := range []*Map{alice, bob} {
		m.Add(write("$S", kA, 0, 10000, 10))
	}
	alice.Add(write("$S2", kA, 1000, 10000, 1010))
	// PHONE: bob got P only as an ordinary event after the fact.
	alice.Add(write("$P", kB, 0, 10000, 10))
	late := write("$P", kB, 0, 10000, 20)
	late.Remaining.Present = false
	bob.Add(late)

	diffs := Diff(alice, bob, at(2000))
	if len(diffs) != 2 {
		t.Fatalf("want 2 differences, got %d: %v", len(diffs), diffs)
	}
	for i, want := range []string{
		`key (!r:hs1, @alice:hs1, m.rtc.member, "LAPTOP"): alice@hs1 has $S2, bob@hs2 has $S: bob@hs2 never received $S2`,
		`key (!r:hs1, @alice:hs1, m.rtc.member, "PHONE"): alice@hs1 has $P, bob@hs2 has nothing: bob@hs2 received $P only without the remaining-time field`,
	} {
		if !strings.HasPrefix(diffs[i].String(), want) {
			t.Errorf("difference %d:\n got %s\nwant %s...", i, diffs[i], want)
		}
	}
	// The explanation says the same from bob's side.
	if !strings.Contains(diffs[0].Why, "alice@hs1 ranks $S2 above $S") {
		t.Errorf("difference 0 does not explain alice's ranking: %s", diffs[0].Why)
	}
	if d := DiffAll(at(2000), alice, alice); d != "" {
		t.Errorf("a map differs from itself: %s", d)
	}
}

func TestDiffExpiryDisagreement(t *testing.T) {
	alice, _ := newMap("alice", RuleLatest)
	bob, _ := newMap("bob", RuleLatest)
	alice.Add(write("$S", kA, 0, 5000, 0))
	d := write("$S", kA, 0, 5000, 0)
	d.Remaining.MS = 3000 // bob's server said less time was left
	bob.Add(d)
	if d := Diff(alice, bob, at(2999)); d != nil {
		t.Fatalf("maps agree until bob's expiry, got %v", d)
	}
	diffs := Diff(alice, bob, at(3000))
	if len(diffs) != 1 || !strings.Contains(diffs[0].Why, "both picked $S but expire it at different times: alice at 12:00:05.000, bob at 12:00:03.000 (2s apart") {
		t.Fatalf("expiry disagreement not explained: %v", diffs)
	}
	if !strings.Contains(diffs[0].Why, "for bob the winner $S expired at 12:00:03.000") {
		t.Fatalf("bob's absence not explained: %v", diffs)
	}
}

func TestDiffRules(t *testing.T) {
	latest, _ := newMap("latest", RuleLatest)
	seed, _ := newMap("seed", RuleSeed)
	for _, m := range []*Map{latest, seed} {
		m.Add(write("$S", kA, 0, 10000, 0))
		m.Add(write("$S2", kA, 3000, 3000, 3000))
	}
	diffs := Diff(latest, seed, at(4000))
	if len(diffs) != 1 || !strings.Contains(diffs[0].Why, "the maps use different rules") || !strings.Contains(diffs[0].Why, "seed ranks $S2 above $S by $S2 (origin_server_ts 1767355203000 > 1767355200000)") {
		t.Fatalf("rule difference not explained: %v", diffs)
	}
}
