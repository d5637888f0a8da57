package spec

// Statements records, for each requirement ID, the proposal's statement it comes from, in this
// project's words, so that the next reading of the proposal against the catalogue is a diff.
// Keyed by ID; every ID of the Catalogue has one (see the catalogue's unit tests).
var Statements = map[string]string{
	"SEND-9": "MSC4354 § Proposal: policy servers and a homeserver's own anti-spam measures (spam checker modules, for instance) still apply to sticky events, " +
		"and when they act the event does not become sticky (stated as a fact of the design, read as a MUST).",
	"SYNC-12": "MSC4354 § Addendum: Implementing an ephemeral map: the server ignores `content.sticky_key`, which only informs clients; " +
		"nothing prevents several events with the same key (no RFC keyword: a statement of the design, read as a MUST).",
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
