package stickymap

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/gjson"

	"stickler/helpers/harness/wire"
)

// Rule is the tie-breaking rule that picks a key's winner.
type Rule int

const (
	// RuleLatest is the latest revision's rule: highest origin_server_ts + duration_ms, then
	// the highest event ID (lexicographic, A < Z).
	RuleLatest Rule = iota
	// RuleSeed is the seed revision's rule: highest origin_server_ts, then the highest event ID.
	RuleSeed
)

func (r Rule) String() string {
	if r == RuleSeed {
		return "seed (highest origin_server_ts, then highest event ID)"
	}
	return "latest (highest origin_server_ts + duration_ms, then highest event ID)"
}

// rank is the value the rule compares before the event ID.
func (r Rule) rank(d Delivery) int64 {
	if r == RuleSeed {
		return d.OriginTS
	}
	return d.OriginTS + d.DurationMS
}

// beats says whether a ranks above b under the rule.
func (r Rule) beats(a, b Delivery) bool {
	ra, rb := r.rank(a), r.rank(b)
	if ra != rb {
		return ra > rb
	}
	return a.EventID > b.EventID
}

// rankName says in words what rank compares.
func (r Rule) rankName() string {
	if r == RuleSeed {
		return "origin_server_ts"
	}
	return "origin_server_ts+duration_ms"
}

// Config sets up a Map.
type Config struct {
	Rule  Rule             // RuleLatest unless set
	Clock func() time.Time // time.Now unless set; tests pass a fake clock
}

// Map is one client's ephemeral map, built only from what that client was delivered. It is
// safe for concurrent use.
type Map struct {
	Owner string // the client whose map this is, for messages ("alice on hs2")
	rule  Rule
	clock func() time.Time

	mu     sync.Mutex
	events map[string]*record
	byKey  map[Key][]*record
}

// record is what the map knows of one event ID after all its deliveries.
type record struct {
	d          Delivery  // the fields of the first delivery (the event is immutable)
	deliveries int       // how many times it was delivered
	live       bool      // delivered at least once with the remaining-time field
	expiry     time.Time // earliest local expiry over the live deliveries
	vias       []string  // distinct Via values, sorted
	conflict   string    // a later delivery disagreed about the immutable fields
}

// New makes an empty map for the named client.
func New(owner string, cfg Config) *Map {
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	return &Map{Owner: owner, rule: cfg.Rule, clock: clock, events: map[string]*record{}, byKey: map[Key][]*record{}}
}

// Rule returns the map's tie-breaking rule.
func (m *Map) Rule() Rule { return m.rule }

// Now reads the map's clock.
func (m *Map) Now() time.Time { return m.clock() }

// Add records one delivery. Delivering the same event again is harmless: the map keeps the
// earliest local expiry any live delivery gave, so the result does not depend on order.
func (m *Map) Add(d Delivery) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.events[d.EventID]
	if r == nil {
		r = &record{d: d}
		m.events[d.EventID] = r
		m.byKey[d.Key] = append(m.byKey[d.Key], r)
	} else if c := differs(r.d, d); c != "" && r.conflict == "" {
		r.conflict = c
	}
	r.deliveries++
	if d.Remaining.Present {
		exp := d.LocalExpiry()
		if !r.live || exp.Before(r.expiry) {
			r.expiry = exp
		}
		r.live = true
	}
	if d.Via != "" {
		i := sort.SearchStrings(r.vias, d.Via)
		if i == len(r.vias) || r.vias[i] != d.Via {
			r.vias = append(r.vias[:i], append([]string{d.Via}, r.vias[i:]...)...)
		}
	}
}

// differs names the immutable fields two deliveries of one event ID disagree on.
func differs(a, b Delivery) string {
	var out []string
	if a.Key != b.Key {
		out = append(out, fmt.Sprintf("key %v vs %v", a.Key, b.Key))
	}
	if a.OriginTS != b.OriginTS {
		out = append(out, fmt.Sprintf("origin_server_ts %d vs %d", a.OriginTS, b.OriginTS))
	}
	if a.DurationMS != b.DurationMS {
		out = append(out, fmt.Sprintf("duration_ms %d vs %d", a.DurationMS, b.DurationMS))
	}
	if a.Removal != b.Removal {
		out = append(out, "removal vs write")
	}
	return strings.Join(out, ", ")
}

// AddDelivered adds one delivery of a client event as a client's feed logged it: the event,
// the room it came in, when it came, where (via: "sync sticky section", ...) and the wire
// names. It is the one way a client's map is fed (mapclient feeds it the stream's delivery
// log, over /sync and Sliding Sync alike), with ByAlgorithm for a delivery without the
// remaining-time field. An event that is not a map write is passed over (false, nil); a map
// write that cannot be read is an error and changes nothing.
func (m *Map) AddDelivered(ev gjson.Result, room string, received time.Time, via string, n wire.Names) (bool, error) {
	d, err := FromClientEvent(ev, room, received, n)
	if err != nil {
		if isNotMap(err) {
			return false, nil
		}
		return false, err
	}
	d.Via = via
	m.Add(ByAlgorithm(d))
	return true, nil
}

func isNotMap(err error) bool { return errors.Is(err, ErrNotMapEvent) }

// maxStickyMS is the proposal's one-hour cap on stickiness.
const maxStickyMS = 3600000

// ByAlgorithm is what a client does with a delivery that carries no remaining-time field (the
// field is a SHOULD: a server may leave it out): it decides stickiness by the proposal's own
// algorithm, from origin_server_ts + min(duration_ms, one hour), on its clock (a client does
// not know when its server received the event, so origin_server_ts is the start). An event
// unexpired by that rule is given the remaining time the rule says; an expired one stays not
// live. A delivery with the field is returned unchanged, so against a server that sends the
// field the map is built from it alone.
func ByAlgorithm(d Delivery) Delivery {
	if d.Remaining.Present {
		return d
	}
	if rem := d.OriginTS + min(d.DurationMS, maxStickyMS) - d.Received.UnixMilli(); rem > 0 && d.DurationMS >= 0 {
		d.Remaining = wire.Remaining{MS: rem, Present: true}
	}
	return d
}

// Entry is the value a key holds.
type Entry struct {
	Key        Key
	EventID    string
	OriginTS   int64
	DurationMS int64
	Expires    time.Time // the client's local expiry
	Content    string
}

// State is a whole map at one instant: only keys that hold a value.
type State map[Key]Entry

// verdict is the outcome for one key at one instant.
type verdict struct {
	winner *record // nil when no live event exists
	value  bool    // the key holds the winner's value
	why    string  // when it holds nothing: why
}

// judge decides one key at time at. Callers hold m.mu.
func (m *Map) judge(recs []*record, at time.Time) verdict {
	var w *record
	for _, r := range recs {
		if r.live && (w == nil || m.rule.beats(r.d, w.d)) {
			w = r
		}
	}
	switch {
	case w == nil:
		if len(recs) == 0 {
			return verdict{why: "no event for this key was delivered"}
		}
		return verdict{why: "no event for this key was delivered as sticky (none carried the remaining-time field)"}
	case w.d.Removal:
		return verdict{winner: w, why: fmt.Sprintf("the winner %s is a removal (content holds only the sticky key)", w.d.EventID)}
	case !at.Before(w.expiry):
		return verdict{winner: w, why: fmt.Sprintf("the winner %s expired at %s", w.d.EventID, clock(w.expiry))}
	}
	return verdict{winner: w, value: true}
}

// StateAt returns the map as it reads at the given instant.
func (m *Map) StateAt(at time.Time) State {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := State{}
	for k, recs := range m.byKey {
		if v := m.judge(recs, at); v.value {
			out[k] = entryOf(v.winner)
		}
	}
	return out
}

// State returns the map as it reads now (by the map's clock).
func (m *Map) State() State { return m.StateAt(m.clock()) }

// Get returns a key's value now, if it holds one.
func (m *Map) Get(k Key) (Entry, bool) {
	e, ok := m.StateAt(m.clock())[k]
	return e, ok
}

func entryOf(r *record) Entry {
	return Entry{Key: r.d.Key, EventID: r.d.EventID, OriginTS: r.d.OriginTS, DurationMS: r.d.DurationMS, Expires: r.expiry, Content: r.d.Content}
}

// sortedKeys lists every key the map has heard of, sorted; the caller holds mu.
func (m *Map) sortedKeys() []Key {
	out := make([]Key, 0, len(m.byKey))
	for k := range m.byKey {
		out = append(out, k)
	}
	sortKeys(out)
	return out
}

func sortKeys(ks []Key) {
	sort.Slice(ks, func(i, j int) bool {
		a, b := ks[i], ks[j]
		if a.RoomID != b.RoomID {
			return a.RoomID < b.RoomID
		}
		if a.Sender != b.Sender {
			return a.Sender < b.Sender
		}
		if a.Type != b.Type {
			return a.Type < b.Type
		}
		return a.StickyKey < b.StickyKey
	})
}

// Received says whether the map was delivered the event at all, and whether as sticky.
func (m *Map) Received(eventID string) (delivered, asSticky bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.events[eventID]
	return r != nil, r != nil && r.live
}

// Summary is a short one-line account of the map now, for timeline.MapState and logs:
// "sender/type/key=$event" per key, "-" for a key that reads as absent, with the reason.
func (m *Map) Summary() string {
	at := m.clock()
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := m.sortedKeys()
	if len(keys) == 0 {
		return "(empty: no map event delivered)"
	}
	var parts []string
	for _, k := range keys {
		v := m.judge(m.byKey[k], at)
		name := fmt.Sprintf("%s/%s/%s", k.Sender, k.Type, k.StickyKey)
		switch {
		case v.value:
			parts = append(parts, fmt.Sprintf("%s=%s", name, v.winner.d.EventID))
		case v.winner != nil && v.winner.d.Removal:
			parts = append(parts, fmt.Sprintf("%s=- (removed by %s)", name, v.winner.d.EventID))
		case v.winner != nil:
			parts = append(parts, fmt.Sprintf("%s=- (%s expired)", name, v.winner.d.EventID))
		default:
			parts = append(parts, fmt.Sprintf("%s=- (never sticky)", name))
		}
	}
	return strings.Join(parts, "; ")
}

// Explain says why a key reads as it does now: its value or absence, then every event that
// competed for it in the rule's order, with when each was received and when it expires.
func (m *Map) Explain(k Key) string { return m.ExplainAt(k, m.clock()) }

// ExplainAt is Explain at a given instant.
func (m *Map) ExplainAt(k Key, at time.Time) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "key %v in %s's map at %s, rule %s:\n", k, m.Owner, clock(at), m.rule)
	recs := append([]*record(nil), m.byKey[k]...)
	v := m.judge(recs, at)
	if v.value {
		fmt.Fprintf(&b, "  value: %s (expires %s, in %s)\n", v.winner.d.EventID, clock(v.winner.expiry), v.winner.expiry.Sub(at).Round(time.Millisecond))
	} else {
		fmt.Fprintf(&b, "  absent: %s\n", v.why)
	}
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].live != recs[j].live {
			return recs[i].live
		}
		return m.rule.beats(recs[i].d, recs[j].d)
	})
	for i, r := range recs {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, m.describe(r, v.winner, at))
	}
	return b.String()
}

// describe is one line of an explanation: the event, its rank, its deliveries, and its place.
func (m *Map) describe(r, winner *record, at time.Time) string {
	d := r.d
	kind := "write"
	if d.Removal {
		kind = "removal"
	}
	s := fmt.Sprintf("%s %s: origin_server_ts=%d duration_ms=%d (%s=%d); delivered %d time(s)",
		d.EventID, kind, d.OriginTS, d.DurationMS, m.rule.rankName(), m.rule.rank(d), r.deliveries)
	if len(r.vias) > 0 {
		s += " via " + strings.Join(r.vias, ", ")
	}
	switch {
	case !r.live:
		s += "; never with the remaining-time field (not sticky when delivered): takes no part"
	default:
		state := "expires"
		if !at.Before(r.expiry) {
			state = "expired"
		}
		s += fmt.Sprintf("; local expiry %s (%s)", clock(r.expiry), state)
		if r == winner {
			s += "; WINNER"
		} else if winner != nil {
			s += "; loses to " + m.whyBeats(winner.d, d)
		}
	}
	if r.conflict != "" {
		s += "; WARNING: deliveries of this event ID disagree: " + r.conflict
	}
	return s
}

// whyBeats says in words why a ranks above b.
func (m *Map) whyBeats(a, b Delivery) string {
	ra, rb := m.rule.rank(a), m.rule.rank(b)
	if ra != rb {
		return fmt.Sprintf("%s (%s %d > %d)", a.EventID, m.rule.rankName(), ra, rb)
	}
	return fmt.Sprintf("%s (same %s %d, higher event ID)", a.EventID, m.rule.rankName(), ra)
}

// clock formats an instant for explanations (UTC, milliseconds).
func clock(t time.Time) string { return t.UTC().Format("15:04:05.000") }
