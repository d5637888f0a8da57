// Package spec holds the project's requirement catalogue for MSC4354 "Sticky Events" (with
// MSC4480 for Sliding Sync) and lets a test declare which requirements it checks. The report
// is keyed by these IDs; docs/requirements.md is generated from this file
// (`go run ./cmd/stickler-docs`), so the catalogue here is the only copy.
package spec

// Level is how binding a requirement is.
type Level string

const (
	Must   Level = "MUST"   // a failure fails the run
	Should Level = "SHOULD" // a failure is a warning (fails the run only with STICKLER_STRICT=1)
	May    Level = "MAY"    // the test accepts every allowed behaviour and reports the one it saw
)

// Proposals the catalogue is read from.
const (
	MSC4354 = "https://github.com/matrix-org/matrix-spec-proposals/pull/4354"
	MSC4480 = "https://github.com/matrix-org/matrix-spec-proposals/pull/4480"
	MSC4140 = "https://github.com/matrix-org/matrix-spec-proposals/pull/4140"
)

// Requirement is one entry of the catalogue.
type Requirement struct {
	ID      string
	Level   Level
	Title   string // one line, for tables
	Text    string // the whole requirement, as this project reads it
	Section string // where in the proposals it comes from ("MSC4354 § Proposal"), or why it is derived
}

// Group returns the area prefix of an ID ("SYNC" for "SYNC-3").
func (r Requirement) Group() string { return GroupOf(r.ID) }

// Anchor is the requirement's heading anchor in docs/requirements.md.
func (r Requirement) Anchor() string { return AnchorOf(r.ID) }

// AnchorOf returns the anchor of a requirement ID in docs/requirements.md ("sync-3").
func AnchorOf(id string) string {
	b := []byte(id)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// DocPath is where the generated catalogue lives in the repository.
const DocPath = "docs/requirements.md"

// GroupOf returns the area prefix of a requirement ID.
func GroupOf(id string) string {
	for i := 0; i < len(id); i++ {
		if id[i] == '-' {
			return id[:i]
		}
	}
	return id
}

// Groups describes each requirement area, in catalogue order.
var Groups = []struct{ Name, Title string }{
	{"DISCOVER", "Advertising support"},
	{"SEND", "Creating sticky events through the client-server API"},
	{"TIME", "When an event is sticky"},
	{"SYNC", "Delivery through /sync"},
	{"SSS", "Simplified Sliding Sync extension (MSC4480)"},
	{"HISVIS", "History visibility does not hide sticky events"},
	{"FED", "Federation"},
	{"SOFTFAIL", "Re-evaluating soft-failed sticky events"},
	{"REDACT", "Redaction"},
	{"ENC", "Encrypted sticky events"},
	{"MAP", "The ephemeral map built by clients"},
	{"LOAD", "Volume and rate limits"},
	{"COMPAT", "Rooms shared with servers that do not implement the proposal"},
}

const (
	secProposal  = "MSC4354 § Proposal"
	secSync      = "MSC4354 § Sync API changes"
	secFed       = "MSC4354 § Federation behaviour"
	secRate      = "MSC4354 § Rate limits"
	secTime      = "MSC4354 § Potential issues: Time"
	secEnc       = "MSC4354 § Potential issues: Encryption"
	secPrefix    = "MSC4354 § Unstable Prefix"
	secMap       = "MSC4354 § Addendum: Implementing an ephemeral map"
	secSSS       = "MSC4480 § Proposal"
	secSSSPaging = "MSC4480 § Pagination"
	secDerived   = "derived from the MSC4354 design (not a section of the proposal)"
	secDelayed   = "MSC4140 § Scheduling a delayed event"
)

// Catalogue lists every requirement, grouped by area. Texts are this project's reading of the
// proposals; where they and the proposal disagree, the proposal decides.
var Catalogue = []Requirement{
	{"DISCOVER-1", Must, "/versions advertises org.matrix.msc4354",
		"A server with sticky events switched on says so in `GET /_matrix/client/versions`: `unstable_features` holds `org.matrix.msc4354` set to true. " +
			"The suite reads this flag to tell a server that lacks the feature (every sticky test is skipped and the run says \"not implemented\") from one that has it and gets it wrong.",
		secPrefix},

	{"SEND-1", Must, "sticky_duration_ms creates an event with sticky.duration_ms, visible on every endpoint and server",
		"Sending with `PUT /rooms/{roomId}/send/{type}/{txnId}?sticky_duration_ms=N` produces an event whose top-level `sticky` object has `duration_ms` equal to N. " +
			"The object looks the same wherever the event is read: `GET /event/{id}`, the /sync timeline, `/messages`, `/context`, and on the other servers of the room.",
		secProposal},
	{"SEND-2", Must, "durations 0..3600000 accepted; fractional, non-numeric, empty refused with 400",
		"Any whole number from 0 to 3600000 (one hour) is a valid duration, 0 included: that range is the proposal's (\"Valid values are the integer range 0-3600000\"). " +
			"A value that is not a whole number at all (with a fractional part, not a number, or empty) is answered with HTTP 400 and a Matrix error body, and no event results. " +
			"The proposal names no status code: the 400 is the client-server API's convention for a query parameter it cannot read. Whole numbers outside the range are SEND-3's. " +
			"Each request uses a fresh transaction ID: nothing promises that a refused transaction ID can be used again, so \"no event results\" is read from the room's history.",
		secProposal},
	{"SEND-3", May, "durations outside 0..3600000 (negative, above one hour): refused, or accepted and not sticky beyond the range",
		"One rule for every whole number outside the valid range, below 0 and above 3600000: the proposal gives the range (\"Valid values are the integer range 0-3600000\") and names no status for a value outside it, " +
			"so the server may refuse the request with 400 or accept it. An accepted value never makes the event sticky beyond the range " +
			"(\"The presence of sticky.duration_ms with a valid value makes the event sticky\"): a negative one not at all (failure `out-of-range-sticky`), " +
			"one above the hour either not at all (the value treated as invalid) or for at most one hour (capped by the end-time rule, \"start_time + min(sticky_duration_ms, 3600000)\", TIME-2). " +
			"The test reports which one the server chose; it does not wait out the hour (TIME-2 is judged over federation).",
		secProposal},
	{"SEND-4", Must, "without the parameter the event is not sticky",
		"An event sent without the duration parameter is an ordinary event: it has no `sticky` key and never shows up in a sticky section.",
		secProposal},
	{"SEND-5", Must, "repeating a txnId creates no second sticky event",
		"Sending again with a transaction ID already used returns the first event's ID; no second sticky event comes into being.",
		secProposal},
	{"SEND-6", Must, "delayed sticky events are sticky from their actual send time",
		"Combined with MSC4140 delayed events, the event goes out when the delay is over, and its stickiness is counted from that moment, not from when it was scheduled " +
			"(\"the purpose of delayed events is to affect the send time (and thus start time for stickiness) of an event\"). MSC4140 lets the server add up to 30 seconds to the scheduled send time, so the test waits that much longer for the send and measures from the send it sees. " +
			"How it schedules: MSC4140's dedicated endpoint `PUT /rooms/{roomId}/delayed_event/{eventType}/{txnId}` (unstable prefix `org.matrix.msc4140`, else v3; body `delay_ms` and `content`) when the server has it, " +
			"detected by trying it first (a server without it answers 404 or 405); otherwise the `org.matrix.msc4140.delay` query parameter on /send, which MSC4140 lists among its alternatives. " +
			"Reading (neither proposal says how the sticky duration rides on the dedicated endpoint): the same query parameter as on /send, `sticky_duration_ms` (unstable `org.matrix.msc4354.sticky_duration_ms`), " +
			"because MSC4140 gives the endpoint \"the same path parameters\" as /send and MSC4354 adds its parameter to the endpoints that create events. A server that schedules through neither is skipped.",
		secProposal + "; " + secDelayed},
	{"SEND-7", Must, "sticky events are authorised like any event (403 for non-members)",
		"Sticky events pass the same authorisation as other events: a user who is not in the room (never joined, left, kicked or banned) is refused with 403 and nothing is created.",
		secProposal},
	{"SEND-8", Must, "PUT /state with the parameter makes a sticky state event, validated like SEND-2",
		"`PUT /rooms/{roomId}/state/{eventType}/{stateKey}?sticky_duration_ms=N` makes a state event whose `sticky` object has `duration_ms` equal to N, with the same validation as SEND-2 " +
			"(0..3600000 accepted; negative, fractional, non-numeric and empty refused with 400, the state left unchanged). " +
			"Where the server then shows such an event in /sync (sticky section, state, timeline) the proposal does not say: that part is a MAY, reported, for events created through the client API and for ones received over federation.",
		secProposal},
	{"SEND-9", Must, "an event a spam checker flags is never sticky",
		"Policy servers and the server's own anti-spam checks (spam checker modules) still apply to sticky events, and where they flag an event its stickiness is prevented: " +
			"the server refuses it, or accepts it without making it sticky (it never reaches a client in the sticky section or with a remaining time). " +
			"The suite tests this where the image declares a spam checker it can trigger (the image label `org.stickler.spam-checker`); other images skip it.",
		secProposal},

	{"TIME-1", Must, "sticky from min(received_ts, origin_server_ts) for min(duration, 1h)",
		"Stickiness starts at the earlier of the time the server received the event and its `origin_server_ts`, and ends `min(duration_ms, 3600000)` milliseconds later. " +
			"The event is sticky for as long as that end lies in the future (then it is in the sticky section, SYNC-1). " +
			"Level: kept MUST, though the end of stickiness shows only through a SHOULD (expired events are no longer sent down /sync, SYNC-9): the tests judge an event's absence after its end beside a control, an event of the server's own user whose stickiness ended earlier. " +
			"When the control is still in the sticky section too, the server keeps expired events (SYNC-9's warning) and the check is skipped as inconclusive, never failed; the remaining-time field is checked only in subtests naming SYNC-3 or SYNC-4.",
		secProposal},
	{"TIME-2", Must, "never sticky for more than one hour",
		"Whatever `duration_ms` says, through the client API or over federation, no event stays sticky longer than 3600000 ms. " +
			"A value above 3600000 is outside the valid range and also capped by the end-time rule, so a server may treat it as capped (sticky for at most one hour) or as invalid (not sticky): " +
			"a MAY, reported; the two events of one test with the same over-long duration must then be treated alike. Judged over federation (an event dated an hour back); the client-side test of over-long values (SEND-3) does not wait out the hour and does not claim TIME-2. " +
			"Level: as TIME-1 (the end shows only through SYNC-9, judged beside a control).",
		secProposal},
	{"TIME-3", Must, "future origin_server_ts does not extend stickiness",
		"An event from another server whose `origin_server_ts` lies ahead of the receiving server's clock ends its stickiness at receipt time plus duration: " +
			"a sender cannot stretch the lifetime by dating an event in the future. Level: as TIME-1 (judged beside a control).",
		secProposal + "; " + secTime},
	{"TIME-4", Must, "past origin_server_ts expires early; already expired is never sticky",
		"An event from another server dated in the past is measured from its `origin_server_ts`, so it expires early; if its end has already passed when it arrives, it is never sticky. " +
			"Level: as TIME-1 (judged beside a control).",
		secProposal + "; " + secTime},
	{"TIME-5", Must, "invalid sticky objects over federation mean not sticky",
		"Over federation, a `sticky` object whose `duration_ms` is missing, negative, fractional, a string or null does not make the event sticky; the event is otherwise handled like any other.",
		secProposal},

	{"SYNC-1", Must, "unexpired sticky events delivered in the sticky section whatever the timeline limit",
		"Every unexpired sticky event of a joined room that is not in a response's timeline reaches the client in the room's sticky section, " +
			"however small the timeline limit: in initial syncs, limited timelines and gappy incremental syncs alike.",
		secSync},
	{"SYNC-2", Must, "an event in the timeline is not repeated in the sticky section",
		"When a sticky event is in a response's `timeline.events`, the same response does not also carry it in the sticky section.",
		secSync},
	{"SYNC-3", Should, "remaining-time field present, capped, and agrees with actual expiry",
		"A sticky event handed to a client carries `unsigned.sticky_duration_ttl_ms` (unstable: `msc4354_sticky_duration_ttl_ms`): how many milliseconds remain until the server considers it expired, " +
			"never more than one hour. When present, the value agrees, within a stated tolerance, with the moment the event really leaves the sticky section. " +
			"The proposal makes the field a SHOULD, so a missing or wrong value is a warning: MUST tests check it only in subtests that name SYNC-3 alone. " +
			"Checked over /sync only: MSC4480 says nothing of the field for Sliding Sync.",
		secSync},
	{"SYNC-4", Should, "remaining-time field omitted once expired, on every endpoint",
		"After expiry the remaining-time field is gone wherever the event is served (sync timeline, `/event`, `/messages`, `/context`): a remaining time on an event that is no longer sticky " +
			"tells clients to keep it. Derived from SYNC-3, hence SHOULD.",
		secSync + " (derived)"},
	{"SYNC-5", Should, "each sticky event reaches a client once, also across responses",
		"Sticky delivery behaves like a stream: a client gets each sticky event once, and a later response (an incremental sync from the advanced `since` token, a later Sliding Sync page) does not hand it over again, " +
			"whether the first delivery was in the sticky section, the extension or the timeline. " +
			"Level: SHOULD. The proposal's only MUST against repeats is within one response (\"If a sticky event appears in the timeline section of the /sync response (timeline.events), it MUST NOT be included in the sticky.events section\", SYNC-2; MSC4480 likewise, SSS-2); " +
			"the sentence this rests on, \"Sticky events follow the same 'stream-like' behaviour as the timeline. This means clients will receive a sticky event S once, and subsequent requests with an advanced since token will not return the same sticky event S\", " +
			"describes stream behaviour with no RFC 2119 keyword, and a repeat loses nothing (clients de-duplicate by event ID). " +
			"A repeat across responses fails `duplicate-delivery` (a warning, judged in subtests naming SYNC-5 alone); a repeat within one response fails `repeated-in-same-response` (SYNC-2, SSS-2, MUST).",
		secSync},
	{"SYNC-6", Must, "state/timeline filters do not remove sticky events; timeline filter before de-duplication",
		"The `state` and `timeline` parts of a RoomFilter do not thin out the sticky section. The timeline filter runs before the de-duplication of SYNC-2, " +
			"so a sticky event the filter keeps out of the timeline appears in the sticky section.",
		secSync},
	{"SYNC-7", Must, "a capped sticky section delivers the rest in later syncs, none lost",
		"A server may limit how many sticky events one response carries (the proposal sets no number). It then hands over the remainder in the syncs that follow, " +
			"so that over the sequence every sticky event arrives (the MUST part: \"Ensure sticky events are delivered to clients via /sync\"; \"they will be delivered in subsequent /sync responses instead\") and none arrives twice within one response (SYNC-2). " +
			"An event handed over again in a later response (the newest ones first in a timeline, then again in a later sticky section) is SYNC-5's, a SHOULD, judged in its own subtest." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secSync},
	{"SYNC-8", Must, "a joiner receives every unexpired sticky event of the room",
		"After a user joins a room, the sync response that carries the join (the room's first entry under `rooms.join`) contains every sticky event of the room that has not expired, " +
			"in its sticky section or its timeline, including ones sent long before the join and far outside any timeline window. (Over Sliding Sync MSC4480 lets the server spread them: SSS-4.)",
		secSync},
	{"SYNC-9", Should, "expired sticky events are no longer sent",
		"Once a sticky event has expired, the sticky section stops carrying it. This SHOULD is also how the end of stickiness shows at all (TIME-1..4, ENC-1, MAP-3): " +
			"those MUST tests judge expiry beside a control and skip, not fail, when the server breaks this SHOULD. " +
			"Reading (\"When an event loses its stickiness, these properties disappear with the stickiness. Servers SHOULD NOT ... send [such events] down /sync\", MSC4354 § Proposal): " +
			"an expired event lingering in the sticky section is a warning here only while it is one the user may see anyway. " +
			"An expired pre-join event of a `joined` room is hidden by history visibility again once its stickiness ends, so showing it, in the sticky section or elsewhere, fails HISVIS-3 (a MUST), not only this SHOULD " +
			"(TestHistoryVisibilityAfterExpiry judges it without a control, since no control can stand in for the visibility rule).",
		secProposal},
	{"SYNC-10", Must, "only joined members receive a room's sticky events",
		"A user gets a room's sticky events only while joined: none for rooms they never joined, left, were kicked or were banned from (once the leave has reached them), over /sync and Sliding Sync alike " +
			"(Sliding Sync lists keep matching a room the user was kicked or banned from: its sticky events extension still hands out none sent after the membership ended).",
		secSync},
	{"SYNC-11", Must, "sticky events from ignored users are not delivered",
		"Sticky events sent by a user the client ignores are withheld. MSC4480 says so for Sliding Sync; the same ignore rule applies to /sync.",
		secSSS},
	{"SYNC-12", Must, "the server ignores content.sticky_key: events sharing a key are all delivered",
		"`content.sticky_key` (unstable: `msc4354_sticky_key`) is for clients only: the server neither collapses nor replaces sticky events that share a key. " +
			"Every unexpired sticky event with the same key, sender and type is delivered, each with its own content.",
		secMap},
	{"SYNC-13", Must, "delivery follows stream positions: a repeated request and every device get the sticky events",
		"What a response hands out depends on the position the request names (`since`; Sliding Sync's `pos` and the extension's `since`), not on what the user was handed before: " +
			"a request repeated from an earlier position (the client never got the answer) gets every unexpired sticky event after that position again, " +
			"and each device of a user, syncing from its own positions, gets every sticky event, once. Over /sync and Sliding Sync alike.",
		secSync + " (derived)"},

	{"SSS-1", Must, "Sliding Sync extension returns sticky events of rooms matched by a list",
		"With the `sticky_events` extension enabled (unstable: `org.matrix.msc4354.sticky_events`), sticky events of every room some list matches come back under " +
			"`extensions.sticky_events.rooms.<id>.events`, even for rooms beyond a list's visible range; rooms no list matches get none.",
		secSSS},
	{"SSS-2", Must, "Sliding Sync: an event in the room timeline is not repeated in the extension",
		"A sticky event in a room's `timeline` in a Sliding Sync response is not carried again by the extension in that response.",
		secSSS},
	{"SSS-3", Must, "Sliding Sync extension limit and pagination lose nothing",
		"The extension honours `limit` (default 100, at least 1) and pages from the oldest event on with `next_batch` and `since`; taken together the pages lose no event (MSC4480: sticky events \"should be *reliably* delivered to clients, without any gaps in the pagination\"). " +
			"An event that comes again in a later page, or in the extension after the room timeline delivered it, is SYNC-5's, a SHOULD: MSC4480's MUST NOT against repeats is within one response (SSS-2), and its pages of \"the oldest sticky events that have not yet been delivered\" carry no keyword." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secSSSPaging},
	{"SSS-4", Must, "Sliding Sync: after a join all unexpired sticky events are delivered",
		"After a user joins a room, the extension delivers every sticky event of that room that has not expired." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secSSS},
	{"SSS-5", Must, "Sliding Sync extension: without limit a response carries at most 100 events",
		"The extension's `limit` defaults to 100 (a server may lower it): a request that gives no limit gets at most 100 sticky events per response, and the rest in the responses that follow.",
		secSSS},
	{"SSS-6", Must, "Sliding Sync extension: next_batch is present whenever events are returned",
		"A response whose extension carries sticky events has a `next_batch` token, which the client sends back as `since` to advance; only a response without changes may leave it out.",
		secSSSPaging},
	{"SSS-7", Should, "Sliding Sync extension covers rooms followed through room subscriptions",
		"The extension returns sticky events of the rooms the client is interested in; a room the client follows through a room subscription (`room_subscriptions`) and no list matches is such a room. " +
			"MSC4480 speaks only of lists (\"all rooms that the client is interested in\"), hence SHOULD.",
		secSSS},

	{"HISVIS-1", Must, "a joiner to a 'joined' room receives earlier sticky events, not earlier ordinary ones",
		"A user who joins a room whose `history_visibility` is `joined` gets the unexpired sticky events sent before the join, while ordinary events from before the join stay hidden from them.",
		secProposal},
	{"HISVIS-2", Must, "history visibility does not hide sticky events on any endpoint or to later servers",
		"The exemption holds on every endpoint that can return the event while it is sticky (sync, `/event/{id}`, `/context`, `/messages`) and for a server that joined the room later and fetches the event over federation. " +
			"For the later server, the suite decides that it holds the event only from what the specification promises: some endpoint serves the event to its user. A refusal is no sign either way " +
			"(the client-server API answers 404 for an event the server lacks and for one the user may not see; which status a server uses is its habit): " +
			"when no endpoint shows the event, the later-server checks are skipped as inconclusive and the missing push is FED-2's failure; when one does, every endpoint that withholds it fails here." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secProposal},
	{"HISVIS-3", Must, "after expiry normal history visibility applies again",
		"Once the event has expired, the room's history visibility governs it again like any other event. " +
			"So a user who joins a `joined` room after a sticky event of its past expired never gets that event (not in a join's sync or any later one, over /sync or Sliding Sync, nor from `/event` or `/messages`), while the room's unexpired ones reach them (SYNC-8). " +
			"Reading: this holds in the sticky section too. A pre-join event of a `joined` room that the user may not see by history visibility must not be shown to them after its end anywhere, " +
			"the sticky section included: keeping it there (a SYNC-9 breach, a SHOULD) also breaks this MUST (failure `visible-after-expiry`), because it shows history the user is no longer authorised to see. " +
			"It rests on \"Any joined user is authorised to see sticky events for the duration they remain sticky\" and \"When an event loses its stickiness, these properties disappear with the stickiness\" (MSC4354 § Proposal). " +
			"An expired event the user may see anyway (sent after they joined, or in a room whose history they may read) lingering a while is SYNC-9's warning alone.",
		secProposal},

	{"FED-1", Must, "a server pushes its own sticky events to every joined server",
		"A server attempts to push its own sticky events to every server in the room, respecting each server's backoff, so remote clients get them even when nothing else happens in the room." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secProposal + "; " + secFed},
	{"FED-2", Must, "a newly joined server receives every unexpired sticky event",
		"When a server joins a room, each server already in it pushes all of its own unexpired sticky events to the newcomer, including those far outside the recent-events window; " +
			"the newcomer's users then receive them (SYNC-8)." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secProposal + "; " + secFed},
	{"FED-3", Should, "a server sends only its own sticky events",
		"A server only pushes sticky events whose sender belongs to it; it does not relay other servers' sticky events to a newcomer. " +
			"SHOULD: the proposal says servers are only responsible for their own events and explains why relaying others' cannot be reliable, but does not forbid it.",
		secFed},
	{"FED-4", Must, "unexpired sticky events survive partitions, pauses, crashes and backlogs",
		"Outages lose nothing that is still sticky: after a partition heals, a crashed or paused server comes back, or a long backlog drains, every unexpired sticky event reaches the other server and its clients. " +
			"A long send queue never drops a sticky event." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secProposal},
	{"FED-5", Should, "expired sticky events are not eagerly synchronised",
		"A sticky event that expired during an outage is not pushed as sticky afterwards and never appears in a sticky section.",
		secProposal},
	{"FED-6", Should, "sticky events are sent in creation order (best effort)",
		"Servers try to send their sticky events in the order they created them (best effort; not guaranteed while catching up). " +
			"Sticky events created back to back with nothing to catch up must reach the federation peer in creation order; another order is a warning.",
		secFed},
	{"FED-7", May, "erased users' sticky events in catch-up: reported",
		"Whether sticky events of a user deactivated with erasure are sent when a server catches another one up after an outage. No revision of the proposal says anything about it; " +
			"it is kept as a MAY that reports what the server did, because erasure meets eager delivery here (a catch-up can hand an erased user's content to a server that never had it).",
		secDerived},
	{"FED-8", Must, "sticky events with unknown prev_events are accepted and delivered",
		"A received sticky event whose `prev_events` the server does not know (an \"old\" event) is still accepted and handed to clients while it is unexpired." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secFed},

	{"SOFTFAIL-1", Must, "a soft-failed sticky event is not delivered while it fails",
		"A sticky event that soft-fails on arrival (say its sender was being kicked or lost power at the same time) is kept from clients for as long as it fails against the current state. " +
			"A state change that still refuses the sender (they are invited, not joined; someone else's membership changes; their power is raised, but still below the level the event's type needs) leaves it withheld: re-evaluation checks it against the current state, not against its own auth events.",
		secProposal},
	{"SOFTFAIL-2", Must, "a membership change that makes it pass re-evaluates and delivers it",
		"When the sender of an unexpired soft-failed sticky event changes membership so that the event would now pass, the server checks the event again and delivers it in the sticky section: " +
			"they join again, or state resolution rolls back the change that removed them (the proposal's footnote: \"Bob kicks Charlie, but concurrently Alice kicks Bob\"; state resolution v2 orders the two kicks by their senders' power, applies Alice's first and then drops Bob's, whose sender has left by then, so Charlie is a member again with no new event of his own: the server must notice that change of the current state, not only new membership events). " +
			"The proposal's MUST names membership changes only; other state changes are SOFTFAIL-4. Re-evaluation the other way (an event that passed and now fails) the proposal does not address: a MAY, which no test judges." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secProposal},
	{"SOFTFAIL-3", Should, "expired soft-failed events are not re-evaluated",
		"A soft-failed sticky event that has expired is neither checked again nor delivered.",
		secProposal},
	{"SOFTFAIL-4", Should, "other state changes that make it pass re-evaluate it too",
		"Changes to the authorising state other than membership that would now let the event pass (the sender's power raised to the level the event's type needs, or the level lowered; a state-resolution rollback that restores such power levels) also make the server check it again. " +
			"This goes beyond the proposal's MUST (its footnote asks for re-evaluation when the current state changes, its normative text for membership changes). " +
			"Join rules are not among these changes: sticky events are message events (\"Message events can be annotated with a new top-level `sticky` object\", \"authorised using normal PDU checks\", MSC4354 § Proposal), and the auth rules of every room version check such an event against the create event, the power levels and the sender's membership only, never the join rules. " +
			"A join-rules change can let a soft-failed sticky event pass only through a join it allows, which is a membership change of the sender (SOFTFAIL-2), so the suite builds no separate join-rules case: one would test membership under another name. " +
			"(The proposal also lists the state endpoint for `sticky_duration_ms`; a sticky `m.room.member` event whose join the join rules decide would be the one case where they matter, but a soft-failed state event never entered the current state and un-soft-failing it would not put it there, a conflict with state resolution the proposal does not address, so no test asks for it.)" +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secProposal + " (beyond its MUST)"},

	{"REDACT-1", Must, "a redacted sticky event loses its stickiness",
		"Redaction does not protect `sticky`: a redacted sticky event loses the key and with it its stickiness. It leaves the sticky section and is not pushed to newcomers as sticky " +
			"(a remaining-time field left on it is SYNC-4's, a SHOULD, checked in its own subtest).",
		secProposal},

	{"ENC-1", Must, "encrypted sticky events are sticky in every way",
		"An `m.room.encrypted` event sent with a duration behaves as a sticky event in every respect above; the server needs nothing from its content (the `sticky_key` sits inside the ciphertext).",
		secEnc},

	{"MAP-1", Must, "clients on every server compute the same map",
		"The server does not build the map; it delivers what lets every client build the same one. Clients on each server of the room, fed only by their own server, " +
			"arrive at the same map after writes from several users and devices on several servers. The suite's reference map keys entries by (room, sender, type, `content.sticky_key`), " +
			"picks the winner by the highest `origin_server_ts + duration_ms` and then the highest event ID, expires entries by the remaining-time field " +
			"(where a server leaves that SHOULD field out, by the proposal's algorithm from `origin_server_ts`, as a client would: the field's absence is SYNC-3's warning, not a map failure), " +
			"and treats a content holding only the sticky key as a removal." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secMap},
	{"MAP-2", Must, "the map converges after partitions, pauses and restarts",
		"The maps still agree after partitions, a paused server and a restarted server, once those heal while the entries are unexpired." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secMap},
	{"MAP-3", Must, "the seed's hazard: an expired overwrite is not handed out late",
		"Server B is offline while server A keeps retrying an overwrite S' that expires meanwhile. When B returns, none of B's clients is given S' as sticky, " +
			"and the earlier S expires for B's clients when its remaining-time field said, so no client is left believing S is still valid. " +
			"Level: the first half is MUST (S' expired before it arrived, so it is never sticky, TIME-4), judged with S as the control: a server that also keeps S after its end breaks SYNC-9 and the check is skipped as inconclusive. " +
			"The second half shows only through SHOULDs (the remaining-time field, SYNC-3; expired events no longer sent, SYNC-9) and is judged in subtests naming those alone.",
		secMap},
	{"MAP-4", Must, "the same-duration and shorter-duration overwrite diagrams",
		"With an overwrite of equal duration, every client is at instant B in the state {_, S'}. With a shorter overwrite the suite shows and reports the {_, S} divergence the proposal warns about; " +
			"that part documents a hazard of the design and is observed, not judged.",
		secMap},
	{"MAP-5", Must, "removal by a sticky_key-only content converges",
		"A write whose content is only the sticky key removes the entry, and the maps converge on it like on any other write." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secMap},

	{"LOAD-1", Must, "hundreds of sticky events are all delivered",
		"Hundreds of sticky events sent through the client API by several senders at once all reach a syncing client, over /sync and Sliding Sync alike. A server may slow senders down (429 or later delivery) but loses none. " +
			"The client-side counterpart of SYNC-7 (too many to deliver at once: delivered in subsequent responses); rate limits over federation are another requirement." +
			" Deadline: the proposal sets none for this delivery, so the suite waits while the awaited events are sticky (\"When an event loses its stickiness, these properties disappear with the stickiness\", MSC4354 § Proposal; helpers/checks/bound); a delivery later than its usual 20 s wait but inside that bound passes and is reported as a late delivery, never failed.",
		secSync},
	{"LOAD-2", Must, "a federation transaction answered 2xx never loses a sticky PDU",
		"A server that rate-limits sticky events over federation must not answer `/send` with 200 and drop them: every valid sticky PDU of a transaction answered 2xx that was unexpired when accepted " +
			"reaches the room's clients, even when its stickiness ends while it waits (the text guarantees \"that the sticky event is eventually delivered\", with no end; delivery before expiry is LOAD-3's SHOULD). Option A refuses the transaction (non-2xx) so the sender retries; option B keeps the event and delivers it later. " +
			"A per-PDU error inside a 2xx answer is neither: the sender does not retry a transaction answered 2xx, and option A is worded as the status code (\"servers MUST return a non-2xx status code from /send such that the sending server retries the request\"; " +
			"\"Servers MUST NOT silently drop sticky events and return 200 OK from /send\"), so a valid sticky PDU answered with a per-PDU error that never reaches the clients fails (`dropped-with-pdu-error`), as one accepted without an error does (`lost-after-accept`).",
		secRate},
	{"LOAD-3", Should, "rate-limited sticky PDUs are delivered before they expire",
		"A server that keeps rate-limited sticky events and delivers them later (option B) delivers each to clients before it expires.",
		secRate},
	{"LOAD-4", Should, "servers rate-limit sticky events over federation (option A or B): observed",
		"Servers should rate-limit sticky events over federation, by refusing transactions so the sender retries (option A) or by delivering accepted events later (option B). " +
			"Level: SHOULD, as the proposal words it (\"Servers SHOULD rate limit sticky events over federation\"). The text names no threshold, so a burst that meets no limit proves no breach " +
			"(a limit above what the burst reached is still a rate limit): the suite observes what it saw under a burst (refused transactions or PDUs, delayed delivery, or none) and never warns on it.",
		secRate},

	{"COMPAT-1", Must, "a non-implementing server accepts sticky events as ordinary events",
		"A server without MSC4354 accepts sticky events an implementing server sends it over federation: hashes and signatures check out, the extra key neither rejects nor soft-fails the event, " +
			"and its clients see it as an ordinary timeline event.",
		secDerived},
	{"COMPAT-2", Must, "an implementing server keeps sticky behaviour in a mixed room",
		"In a room that also holds a non-implementing server, an implementing server still delivers its own sticky events as sticky to its clients and to other implementing servers, " +
			"and handles the non-implementing server's ordinary events as usual.",
		secDerived},
	{"COMPAT-3", Must, "sticky events pass through a non-implementing server intact",
		"When an implementing server learns of another server's sticky event only through a non-implementing one (backfill, missing events, joining through it), the `sticky` key, " +
			"covered by hashes and signatures, has been kept: the event verifies and is treated as sticky while unexpired.",
		secDerived},
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
