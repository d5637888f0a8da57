// Package spec holds the requirement catalogue of ../shared/REQUIREMENTS.md and lets a test
// declare which requirements it checks. The report is keyed by these IDs.
package spec

// Level is how binding a requirement is.
type Level string

const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
	May    Level = "MAY"
)

// Requirement is one entry of the catalogue.
type Requirement struct {
	ID    string
	Level Level
	Title string
}

// Group returns the area prefix of an ID ("SYNC" for "SYNC-3").
func (r Requirement) Group() string { return GroupOf(r.ID) }

// GroupOf returns the area prefix of a requirement ID.
func GroupOf(id string) string {
	for i := 0; i < len(id); i++ {
		if id[i] == '-' {
			return id[:i]
		}
	}
	return id
}

// Catalogue lists every requirement in the order of REQUIREMENTS.md.
var Catalogue = []Requirement{
	{"DISCOVER-1", Must, "/versions advertises org.matrix.msc4354"},

	{"SEND-1", Must, "sticky_duration_ms creates an event with sticky.duration_ms, visible on every endpoint and server"},
	{"SEND-2", Must, "durations 0..3600000 accepted; negative, fractional, non-numeric, empty refused with 400"},
	{"SEND-3", May, "durations above 3600000 refused or accepted and capped"},
	{"SEND-4", Must, "without the parameter the event is not sticky"},
	{"SEND-5", Must, "repeating a txnId creates no second sticky event"},
	{"SEND-6", Must, "delayed sticky events are sticky from their actual send time"},
	{"SEND-7", Must, "sticky events are authorised like any event (403 for non-members)"},
	{"SEND-8", May, "PUT /state with the parameter: ignored or sticky"},

	{"TIME-1", Must, "sticky from min(received_ts, origin_server_ts) for min(duration, 1h)"},
	{"TIME-2", Must, "never sticky for more than one hour"},
	{"TIME-3", Must, "future origin_server_ts does not extend stickiness"},
	{"TIME-4", Must, "past origin_server_ts expires early; already expired is never sticky"},
	{"TIME-5", Must, "invalid sticky objects over federation mean not sticky"},

	{"SYNC-1", Must, "unexpired sticky events delivered in the sticky section whatever the timeline limit"},
	{"SYNC-2", Must, "an event in the timeline is not repeated in the sticky section"},
	{"SYNC-3", Must, "remaining-time field present, capped, and agrees with actual expiry"},
	{"SYNC-4", Must, "remaining-time field omitted once expired, on every endpoint"},
	{"SYNC-5", Must, "each sticky event reaches a client once"},
	{"SYNC-6", Must, "state/timeline filters do not remove sticky events; timeline filter before de-duplication"},
	{"SYNC-7", Must, "a capped sticky section delivers the rest in later syncs, none lost or repeated"},
	{"SYNC-8", Must, "a joiner receives every unexpired sticky event of the room"},
	{"SYNC-9", Should, "expired sticky events are no longer sent"},
	{"SYNC-10", Must, "only joined members receive a room's sticky events"},
	{"SYNC-11", Must, "sticky events from ignored users are not delivered"},

	{"SSS-1", Must, "Sliding Sync extension returns sticky events of rooms matched by a list"},
	{"SSS-2", Must, "Sliding Sync: an event in the room timeline is not repeated in the extension"},
	{"SSS-3", Must, "Sliding Sync extension limit and pagination lose and repeat nothing"},
	{"SSS-4", Must, "Sliding Sync: after a join all unexpired sticky events are delivered"},

	{"HISVIS-1", Must, "a joiner to a 'joined' room receives earlier sticky events, not earlier ordinary ones"},
	{"HISVIS-2", Must, "history visibility does not hide sticky events on any endpoint or to later servers"},
	{"HISVIS-3", Must, "after expiry normal history visibility applies again"},

	{"FED-1", Must, "a server pushes its own sticky events to every joined server"},
	{"FED-2", Must, "a newly joined server receives every unexpired sticky event"},
	{"FED-3", Must, "a server sends only its own sticky events"},
	{"FED-4", Must, "unexpired sticky events survive partitions, pauses, crashes and backlogs"},
	{"FED-5", Should, "expired sticky events are not eagerly synchronised"},
	{"FED-6", Should, "sticky events are sent in creation order (best effort)"},
	{"FED-7", Should, "erased users' sticky events are not sent in catch-up"},
	{"FED-8", Must, "sticky events with unknown prev_events are accepted and delivered"},

	{"SOFTFAIL-1", Must, "a soft-failed sticky event is not delivered while it fails"},
	{"SOFTFAIL-2", Must, "a state change that makes it pass re-evaluates and delivers it"},
	{"SOFTFAIL-3", Should, "expired soft-failed events are not re-evaluated"},

	{"REDACT-1", Must, "a redacted sticky event loses its stickiness"},

	{"ENC-1", Must, "encrypted sticky events are sticky in every way"},

	{"MAP-1", Must, "clients on every server compute the same map"},
	{"MAP-2", Must, "the map converges after partitions, pauses and restarts"},
	{"MAP-3", Must, "the seed's hazard: an expired overwrite is not handed out late"},
	{"MAP-4", Must, "the same-duration and shorter-duration overwrite diagrams"},
	{"MAP-5", Must, "removal by a sticky_key-only content converges"},

	{"LOAD-1", Must, "hundreds of sticky events are all delivered"},
}

// Lookup returns the requirement with the given ID.
func Lookup(id string) (Requirement, bool) {
	for _, r := range Catalogue {
		if r.ID == id {
			return r, true
		}
	}
	return Requirement{}, false
}
