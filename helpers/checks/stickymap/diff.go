package stickymap

import (
	"fmt"
	"strings"
	"time"
)

// Difference is one key on which two clients' maps disagree.
type Difference struct {
	Key    Key
	AOwner string
	BOwner string
	A, B   *Entry // nil when the key reads as absent in that map
	Why    string // what each client received that explains the difference
}

func (d Difference) String() string {
	return fmt.Sprintf("key %v: %s has %s, %s has %s: %s", d.Key, d.AOwner, show(d.A), d.BOwner, show(d.B), d.Why)
}

func show(e *Entry) string {
	if e == nil {
		return "nothing"
	}
	return e.EventID
}

// view is a copy of one map's knowledge, taken under its lock, so that two maps are never
// locked at once.
type view struct {
	owner  string
	rule   Rule
	events map[string]record
	byKey  map[Key][]*record
	m      *Map
}

func (m *Map) view() view {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := view{owner: m.Owner, rule: m.rule, events: map[string]record{}, byKey: map[Key][]*record{}, m: m}
	for k, recs := range m.byKey {
		for _, r := range recs {
			c := *r
			v.events[r.d.EventID] = c
			v.byKey[k] = append(v.byKey[k], &c)
		}
	}
	return v
}

// Diff compares two clients' maps at one instant and says plainly where they differ and why:
// for each side's winner, whether the other side received it, received it only as not sticky,
// ranks another event above it, or expires it at a different time. No difference: nil.
func Diff(a, b *Map, at time.Time) []Difference {
	va, vb := a.view(), b.view()
	keys := map[Key]bool{}
	for k := range va.byKey {
		keys[k] = true
	}
	for k := range vb.byKey {
		keys[k] = true
	}
	sorted := make([]Key, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	sortKeys(sorted)

	var out []Difference
	for _, k := range sorted {
		ja, jb := va.m.judge(va.byKey[k], at), vb.m.judge(vb.byKey[k], at)
		var ea, eb *Entry
		if ja.value {
			e := entryOf(ja.winner)
			ea = &e
		}
		if jb.value {
			e := entryOf(jb.winner)
			eb = &e
		}
		if (ea == nil) == (eb == nil) && (ea == nil || ea.EventID == eb.EventID) {
			continue
		}
		var why []string
		if va.rule != vb.rule {
			why = append(why, fmt.Sprintf("the maps use different rules (%s: %s; %s: %s)", va.owner, va.rule, vb.owner, vb.rule))
		}
		why = append(why, side(va, vb, ja, jb, k)...)
		why = append(why, side(vb, va, jb, ja, k)...)
		out = append(out, Difference{Key: k, AOwner: va.owner, BOwner: vb.owner, A: ea, B: eb, Why: strings.Join(dedupe(why), "; ")})
	}
	return out
}

// side explains the first map's verdict as seen from the second: what happened to the first
// map's winner in the second map.
func side(v, other view, j, oj verdict, k Key) []string {
	if j.winner == nil {
		if len(v.byKey[k]) == 0 {
			return []string{fmt.Sprintf("%s was delivered no event for this key", v.owner)}
		}
		return []string{fmt.Sprintf("%s was delivered events for this key only without the remaining-time field (never sticky)", v.owner)}
	}
	w := j.winner
	var out []string
	if !j.value {
		out = append(out, fmt.Sprintf("for %s %s", v.owner, j.why))
	}
	id := w.d.EventID
	o, seen := other.events[id]
	switch {
	case !seen:
		out = append(out, fmt.Sprintf("%s never received %s", other.owner, id))
	case !o.live:
		out = append(out, fmt.Sprintf("%s received %s only without the remaining-time field (not sticky when delivered)", other.owner, id))
	case oj.winner != nil && oj.winner.d.EventID != id:
		out = append(out, fmt.Sprintf("%s ranks %s above %s by %s", other.owner, oj.winner.d.EventID, id, other.m.whyBeats(oj.winner.d, w.d)))
	case oj.winner != nil && !o.expiry.Equal(w.expiry):
		out = append(out, fmt.Sprintf("both picked %s but expire it at different times: %s at %s, %s at %s (%s apart; compare the remaining-time fields each was given)",
			id, v.owner, clock(w.expiry), other.owner, clock(o.expiry), absDur(w.expiry.Sub(o.expiry))))
	}
	return out
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		d = -d
	}
	return d.Round(time.Millisecond)
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// DiffAll compares every map with the first at one instant and returns a readable account of
// all differences, or "" when all maps read the same.
func DiffAll(at time.Time, maps ...*Map) string {
	var lines []string
	for _, m := range maps[min(1, len(maps)):] {
		for _, d := range Diff(maps[0], m, at) {
			lines = append(lines, d.String())
		}
	}
	return strings.Join(lines, "\n")
}
