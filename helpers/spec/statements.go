package spec

// Statements records, for each requirement ID, the proposal's statement it comes from, in this
// project's words, so that the next reading of the proposal against the catalogue is a diff.
// Keyed by ID; every ID of the Catalogue has one (see the catalogue's unit tests). A statement
// opens with the section it is read from; where an ID is not a sentence of the proposal it
// says "Derived:" and why the ID is there. Read against MSC4354 (PR head of 2026-05-20),
// MSC4480 and MSC4140.
var Statements = map[string]string{
	"DISCOVER-1": "MSC4354 § Unstable Prefix: while unstable, `/versions` includes `unstable_features` with `org.matrix.msc4354` set to true.",

	"SEND-1": "MSC4354 § Proposal: clients set the top-level `sticky` object through a new query parameter `sticky_duration_ms` on `PUT /rooms/{roomId}/send/{eventType}/{txnId}`; " +
		"the object (with `duration_ms`) is added to the client event format and to the PDU of every room version, so every endpoint and every server shows it.",
	"SEND-2": "MSC4354 § Proposal: \"Valid values are the integer range 0-3600000 (1 hour).\" The proposal names no status code for a value that is not an integer at all; " +
		"the 400 is the client-server API's convention for a query parameter it cannot read (derived). Nothing says a refused transaction ID may be used again (derived: not tested).",
	"SEND-3": "MSC4354 § Proposal: \"Valid values are the integer range 0-3600000\", \"The presence of sticky.duration_ms with a valid value makes the event sticky\", and the end time is `start_time + min(sticky_duration_ms, 3600000)`. " +
		"No status is named for a value outside the range, below or above: one rule for both, refuse or accept; an accepted one is not sticky (negative, or above treated as invalid) or, above the hour, capped.",
	"SEND-4": "MSC4354 § Proposal: the presence of `sticky.duration_ms` with a valid value makes an event sticky; an event sent without the parameter has no `sticky` object and is an ordinary event.",
	"SEND-5": "Derived: MSC4354 § Proposal adds a query parameter to the existing send endpoint, whose transaction-ID semantics (a repeated txnId returns the same event) are unchanged; " +
		"the ID is there because a retried sticky send that made a second event would break the map's one-event-per-write assumption.",
	"SEND-6": "MSC4354 § Proposal: sticky events may be combined with MSC4140 delayed events for heartbeats; \"the purpose of delayed events is to affect the send time (and thus start time for stickiness) of an event\". " +
		"MSC4140 § Scheduling a delayed event: `PUT /rooms/{roomId}/delayed_event/{eventType}/{txnId}` with the same path parameters as /send; the server MUST NOT send before the scheduled time and MAY add up to 30 seconds to it. " +
		"Neither says how the sticky duration rides on that endpoint: read as the same `sticky_duration_ms` query parameter (derived).",
	"SEND-7": "MSC4354 § Proposal: sticky events are like normal message events and are authorised using normal PDU checks (§ Spam: the sender must be authorised to send events into the room).",
	"SEND-8": "MSC4354 § Proposal: the `sticky_duration_ms` query parameter is added to `PUT /rooms/{roomId}/state/{eventType}/{stateKey}` as well as to `/send`, in every revision. " +
		"The proposal does not say where such a state event is shown in /sync (sticky section, state, timeline): that part is a MAY, reported.",

	"TIME-1": "MSC4354 § Proposal: to decide if an event is still sticky, start = min(received_ts, origin_server_ts); end = start + min(sticky_duration_ms, 3600000); the event is sticky while the end is in the future.",
	"TIME-2": "MSC4354 § Proposal: the end is `start + min(duration, 3600000)`; § Potential issues: Spam: all sticky events expire, with a hard limit of one hour, so servers cannot set years-long expiry times.",
	"TIME-3": "MSC4354 § Proposal: the start is the earlier of receipt and origin_server_ts, so malicious origin timestamps cannot put the start in the future; " +
		"§ Potential issues: Time: a timestamp too far in the future has no effect, as it is bounded by the current time.",
	"TIME-4": "MSC4354 § Potential issues: Time: an origin_server_ts too far in the past makes sticky events expire quicker than they should, or always be treated as expired (follows from the start rule of § Proposal).",
	"TIME-5": "MSC4354 § Proposal: the `sticky` object MUST have a `duration_ms`; the presence of `sticky.duration_ms` with a valid value makes the event sticky, and the presence of the object alone is insufficient (footnote). " +
		"An invalid object therefore makes the event an ordinary one.",

	"SYNC-1": "MSC4354 § Proposal: servers MUST ensure sticky events are delivered to clients via /sync in a new section of the response, regardless of whether the event falls within the timeline limit of the request.",
	"SYNC-2": "MSC4354 § Sync API changes: if a sticky event appears in the timeline section of the /sync response, it MUST NOT be included in the sticky events section.",
	"SYNC-3": "MSC4354 § Sync API changes: when sending sticky events down /sync, the `unsigned` section SHOULD have a `sticky_duration_ttl_ms` saying how many milliseconds until the event expires; " +
		"clients SHOULD use it to decide when it expires. MSC4480 says nothing of the field for Sliding Sync.",
	"SYNC-4": "Derived from MSC4354 § Sync API changes (the remaining-time field, a SHOULD): the field says how long an event stays sticky, so a field on an event that is no longer (or never was) sticky tells clients to keep it; " +
		"hence SHOULD, like the field itself.",
	"SYNC-5": "MSC4354 § Sync API changes: \"Sticky events follow the same 'stream-like' behaviour as the timeline. This means clients will receive a sticky event S once, and subsequent requests with an advanced since token will not return the same sticky event S.\" " +
		"No RFC 2119 keyword: read as SHOULD. The keyworded rule against repeats is within one response (SYNC-2).",
	"SYNC-6": "MSC4354 § Sync API changes, Interaction with RoomFilter: the RoomFilter does not apply to the sticky section, but the timeline filter MUST be applied before de-duplication: " +
		"a sticky event the timeline filter removes MUST appear in the sticky section.",
	"SYNC-7":  "MSC4354 § Proposal: if there are too many sticky events to deliver at once, they will be delivered in subsequent /sync responses instead (no number is given).",
	"SYNC-8":  "MSC4354 § Sync API changes: when the user joins a room, the server MUST include all unexpired sticky events for that room in their subsequent sync response.",
	"SYNC-9":  "MSC4354 § Proposal: when an event loses its stickiness, its properties disappear with it; servers SHOULD NOT send such events down /sync any more. Read: a warning only for expired events the user may see anyway; an expired pre-join event hidden by history visibility is HISVIS-3's (a MUST).",
	"SYNC-10": "MSC4354 (introduction and § Proposal): access control is tied to the joined members of the room; any joined user is authorised to see sticky events while they remain sticky.",
	"SYNC-11": "MSC4480 § Proposal: as with normal events, sticky events sent by ignored users MUST NOT be delivered to clients. Stated for Sliding Sync; the same rule is read for /sync (\"as with normal events\").",

	"SSS-1": "MSC4480 § Proposal: the server MUST include sticky events of every room matched by at least one subscription list, even if the room is outside the list's top-N window; rooms no list matches are not included.",
	"SSS-2": "MSC4480 § Proposal: as with /sync, a sticky event in the response's timeline events MUST NOT be included in the sticky events extension.",
	"SSS-3": "MSC4480 § Proposal and § Pagination: `limit` is optional (default 100, minimum 1, the server may lower it); with too many events the server returns a limited number of the oldest not yet delivered, " +
		"and a `next_batch` the client sends back as `since`: together the pages lose nothing (\"reliably delivered ... without any gaps\"). Repeats across pages carry no keyword: SYNC-5, a SHOULD.",
	"SSS-4": "MSC4480 § Proposal: when a user joins a room, the server MUST include all unexpired sticky events of that room in the subsequent sync responses; it MAY spread them or ignore `limit` for this.",

	"HISVIS-1": "MSC4354 § Proposal: history visibility checks MUST NOT be applied to sticky events; any joined user is authorised to see sticky events while they remain sticky.",
	"HISVIS-2": "MSC4354 § Proposal and its footnote: the exemption lets newly joined servers see sticky events sent before they joined regardless of history visibility, like state events. " +
		"Read for every endpoint that serves the event (the text names no endpoint: derived for /event, /context, /messages).",
	"HISVIS-3": "MSC4354 § Proposal: \"Any joined user is authorised to see sticky events for the duration they remain sticky\"; \"When an event loses its stickiness, these properties disappear with the stickiness\" (the history visibility exemption among them). " +
		"Read: an expired pre-join event the user may not see is not shown anywhere, the sticky section included; keeping it there breaks this MUST, not only SYNC-9.",

	"FED-1": "MSC4354 § Proposal: servers MUST attempt to push their own sticky events to all joined servers, whilst respecting per-server backoff times.",
	"FED-2": "MSC4354 § Proposal: when a new server joins the room, existing servers MUST attempt to push all of their own sticky events (§ Federation behaviour: including \"old\" ones outside the recent window).",
	"FED-3": "MSC4354 § Federation behaviour: servers are only responsible for sending sticky events originating from their own server, and cannot reliably deliver other servers' (footnote: only local ones are pushed to a new joiner). " +
		"Not worded as a prohibition, hence SHOULD.",
	"FED-4": "MSC4354 § Proposal: large volumes of events to send MUST NOT cause a sticky event to be dropped from the send queue; the introduction promises eventual delivery (with timeouts).",
	"FED-5": "MSC4354 § Proposal: servers SHOULD NOT eagerly synchronise events that have lost their stickiness.",
	"FED-6": "MSC4354 § Federation behaviour: servers SHOULD (best effort) send sticky events to other servers in the order they were created; this need not be guaranteed while catching up.",
	"FED-7": "Derived: no revision of MSC4354 mentions erased users. Kept as a MAY that reports what happens, because erasure meets eager delivery in catch-up.",
	"FED-8": "MSC4354 § Federation behaviour: \"old\" sticky events appear to the receiver with unknown prev_events that connect to no known part of the DAG; the proposal sends them anyway, so the receiver accepts and delivers them.",

	"SOFTFAIL-1": "MSC4354 § Proposal: only state-event level checks apply to sticky events; soft-failure still applies (footnote: servers may disagree on soft-failure, hence re-evaluation).",
	"SOFTFAIL-2": "MSC4354 § Proposal: soft-failure checks MUST be re-evaluated when the membership state changes for a user with unexpired sticky events; " +
		"its footnote: a state-resolution rollback (concurrent kicks) can restore the sender's membership and must be handled too. Re-evaluation from pass to fail is not addressed.",
	"SOFTFAIL-3": "MSC4354 § Proposal: servers SHOULD NOT re-evaluate the soft-failure status of events that have lost their stickiness.",
	"SOFTFAIL-4": "MSC4354 § Proposal footnote on soft-failure: the rule is re-evaluated when the current room state changes (the normative MUST names membership only), hence SHOULD for other state changes.",

	"REDACT-1": "MSC4354 § Proposal: the `sticky` key is not protected from redaction; a redacted sticky event is the same as a normal event.",

	"ENC-1": "MSC4354 § Proposal footnote and § Potential issues: Encryption: `sticky` is top-level so that encrypted events can be sticky; the server needs nothing from the (encrypted) content.",

	"MAP-1": "MSC4354 § Addendum: Implementing an ephemeral map: clients key events by (room_id, sender, type, content.sticky_key) and MUST pick the highest origin_server_ts + duration_ms, then the highest event ID; " +
		"the server ignores sticky_key. The server's part (derived): deliver what lets every client build the same map.",
	"MAP-2": "Derived from MSC4354 § Addendum (convergence of the map) and the eventual delivery of § Proposal: the maps agree after faults heal while the entries are unexpired.",
	"MAP-3": "MSC4354 § Addendum: the diagram of a server offline while another retries an overwrite S' that expires meanwhile; clients SHOULD expire entries when their stickiness ends. " +
		"The server's part (derived): never hand the expired S' out as sticky (TIME-4) and end S when its remaining time said.",
	"MAP-4": "MSC4354 § Addendum: clients SHOULD reuse the previous sticky duration for a key; the two lifetime diagrams (equal duration: {_, S'} at B; shorter: {_, S} at B).",
	"MAP-5": "MSC4354 § Addendum: to remove a map entry, clients SHOULD send a sticky event with only content.sticky_key set.",

	"LOAD-1": "MSC4354 § Proposal: if there are too many sticky events to deliver at once, they are delivered in subsequent /sync responses; the proposal's protections (§ Potential issues: Spam) " +
		"let servers slow senders down, never lose events. Derived as a load test of the client API (rate limits over federation are § Rate limits).",

	"COMPAT-1": "Derived: MSC4354 § Proposal adds `sticky` to the PDU of every room version without a new room version, so servers that do not implement it keep handling such events as ordinary events.",
	"COMPAT-2": "Derived: the same (no new room version): an implementing server keeps its sticky behaviour in a room that also holds non-implementing servers.",
	"COMPAT-3": "Derived: the `sticky` key is covered by hashes and signatures like any top-level key, so an event relayed through a non-implementing server keeps it and stays sticky.",

	// Added with the new tests of the same reading (issue 16 items 3, 4, 5, 10).
	"SEND-9": "MSC4354 § Proposal: policy servers and a homeserver's own anti-spam measures (spam checker modules, for instance) still apply to sticky events, " +
		"and when they act the event does not become sticky (stated as a fact of the design, read as a MUST).",
	"SYNC-12": "MSC4354 § Addendum: Implementing an ephemeral map: the server ignores `content.sticky_key`, which only informs clients; " +
		"nothing prevents several events with the same key (no RFC keyword: a statement of the design, read as a MUST).",
	// Added with issue 24 (repeated syncs).
	"SYNC-13": "Derived from MSC4354 § Sync API changes: sticky events follow the timeline's stream-like behaviour of `since` tokens (SYNC-5), and MSC4480 § Pagination: the extension's position is the `since` the client persists and sends back; " +
		"so what is delivered is decided by the position a request names, and a repeated request or another device (its own positions) loses nothing.",
	"SSS-5": "MSC4480 § Proposal, request shape of the extension: `limit` is optional, defaults to 100, is at least 1, and the server may lower it.",
	"SSS-6": "MSC4480 § Proposal and § Pagination: the response's `next_batch` is REQUIRED when there are changes; the server returns it at every response and the client MUST persist it and send it back as `since` to advance; " +
		"it may be left out only when nothing changed.",
	"SSS-7": "MSC4480 § Proposal: the server MUST include sticky events of all rooms matched by at least one list, i.e. all rooms the client is interested in; " +
		"the text names lists only, so rooms followed through room subscriptions are a reading of \"interested in\" (SHOULD).",
	"LOAD-2": "MSC4354 § Rate limits, option A: to rate-limit, a server MUST answer `/send` with a non-2xx status so the sender retries; it MUST NOT silently drop sticky events and answer 200, " +
		"since that breaks eventual delivery.",
	"LOAD-3": "MSC4354 § Rate limits, option B: a server that stores the sticky events and delays their delivery SHOULD deliver each to clients before it expires (which may not be possible when little time is left).",
	"LOAD-4": "MSC4354 § Rate limits: servers SHOULD rate-limit sticky events over federation, choosing option A (do not persist, the sender retries) or option B (persist, deliver later).",
}
