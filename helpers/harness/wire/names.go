// Package wire holds the wire names of MSC4354 while the proposal is unstable. One setting,
// STICKLER_NAMES=unstable|stable, selects the set for the whole run (unstable by default).
package wire

import (
	"fmt"

	"stickler/helpers/spec/marker"
)

// Names are the keys and parameters a server speaks for sticky events.
type Names struct {
	Set              string // "unstable" or "stable"
	DurationParam    string // query parameter on PUT /send and /state
	EventKey         string // top-level PDU / client event key holding {"duration_ms": N}
	SyncSection      string // key under rooms.join.<id> in /sync
	RemainingField   string // key under unsigned with the remaining lifetime
	StickyKey        string // key in content naming the map entry
	SlidingExtension string // Sliding Sync extension name
	VersionsFlag     string // unstable_features key in /versions that announces these names
}

var unstable = Names{
	Set:              "unstable",
	DurationParam:    "org.matrix.msc4354.sticky_duration_ms",
	EventKey:         "msc4354_sticky",
	SyncSection:      "msc4354_sticky",
	RemainingField:   "msc4354_sticky_duration_ttl_ms",
	StickyKey:        "msc4354_sticky_key",
	SlidingExtension: "org.matrix.msc4354.sticky_events",
	VersionsFlag:     UnstableFlag, // "org.matrix.msc4354"
}

var stable = Names{
	Set:              "stable",
	DurationParam:    "sticky_duration_ms",
	EventKey:         "sticky",
	SyncSection:      "sticky",
	RemainingField:   "sticky_duration_ttl_ms",
	StickyKey:        "sticky_key",
	SlidingExtension: "sticky_events",
	// Before a spec version contains sticky events, a server speaking the stable names says so
	// with this flag (the usual convention for proposals); afterwards with the spec version
	// (SpecVersions).
	VersionsFlag: marker.StickyStable, // "org.matrix.msc4354.stable"
}

// Select returns the set named by value ("" means unstable).
func Select(value string) (Names, error) {
	switch value {
	case "", "unstable":
		return unstable, nil
	case "stable":
		return stable, nil
	}
	return Names{}, fmt.Errorf("STICKLER_NAMES=%q: want unstable or stable", value)
}

// Path returns a gjson path that reaches key under prefix, escaping the dots that unstable
// names contain ("org.matrix.msc4354.sticky_events" must stay one path element).
func Path(prefix string, keys ...string) string {
	p := prefix
	for _, k := range keys {
		if p != "" {
			p += "."
		}
		p += Escape(k)
	}
	return p
}

// Escape makes one gjson path element of s.
func Escape(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '.', '*', '?', '|', '#', '@', '\\', '!', '=', '<', '>', '%':
			out = append(out, '\\', c)
		default:
			out = append(out, c)
		}
	}
	return string(out)
}
