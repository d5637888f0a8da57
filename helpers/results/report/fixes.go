package report

// Fix is what this project writes, per failure code, into a bug report for a server: a title
// in the words of a report, and what a fix must do to satisfy the rule. The catalogue holds the
// rules (helpers/spec); this holds only what a report adds to them, keyed by failure code
// (docs/failure-codes.md). A code without an entry gets a title from its meaning and a fix
// derived from its requirements' text (FixFor).
type Fix struct {
	Title string // what the server does wrong, as a report's title (without the server's name)
	Must  string // what a fix must do
}

// Fixes are the entries for the codes the project's servers are known to fail with.
var Fixes = map[string]Fix{
	"missing-after-join": {
		Title: "a user who joins a room does not receive the room's earlier unexpired sticky events",
		Must: "The first sync response after a join (the incremental /sync that carries the room in `rooms.join`, and the Sliding Sync extension) must carry " +
			"every sticky event of the room that is still unexpired, including those sent before the client's `since` position and before the join; " +
			"a server may spread them over several responses, but none may be left out.",
	},
	"duplicate-delivery": {
		Title: "sticky events delivered in one response's timeline are delivered again in a later response's sticky section",
		Must: "A sticky event that a client has already received (in a timeline or in a sticky section or extension page) must not be sent to that " +
			"client again in a later response for the same sync position chain: de-duplication has to span responses, not only one response. " +
			"When the sticky section is capped, the remaining events follow in later responses without repeats and without losses.",
	},
	"still-sticky-after-redaction": {
		Title: "a redacted sticky event is still served as sticky",
		Must: "Redaction removes the `sticky` key (it is not protected), so a redacted event is an ordinary event: it must leave the sticky section of /sync " +
			"and the Sliding Sync extension, and must not be pushed to other servers as sticky.",
	},
	"hidden-by-history-visibility": {
		Title: "history visibility hides unexpired sticky events from joined users on /event, /context and /messages",
		Must: "While an event is sticky, a joined user must be able to see it whatever the room's history visibility says, on every endpoint that serves " +
			"events (GET /event, /context, /messages as well as /sync), and a server that joined later must be given it whole; once the event " +
			"expires, normal history visibility applies again.",
	},
	"not-pushed-to-newcomer": {
		Title: "a server that newly joins a room is not sent the existing servers' unexpired sticky events",
		Must: "When another server joins a room, each server in the room must send it its own unexpired, unredacted, not soft-failed sticky events of that room " +
			"(and only its own: forwarding other servers' events is not allowed); expired events are not sent eagerly.",
	},
	"not-reevaluated": {
		Title: "soft-failed sticky events are never re-evaluated when the room's state changes",
		Must: "When a membership change (or, as a SHOULD, any other state change) makes a soft-failed sticky event pass the auth checks against the current " +
			"state, and the event is still unexpired, the server must re-evaluate it and deliver it to clients as a sticky event; expired events are " +
			"not re-evaluated.",
	},
	"lost-after-accept": {
		Title: "sticky PDUs accepted over federation (200 from /send) are dropped afterwards",
		Must: "A sticky PDU that a federation transaction accepted (2xx, no error for that PDU) must reach the server's clients while it is unexpired: " +
			"a queue that sheds load must keep unexpired sticky events, or refuse the transaction (or the PDU) so that the sender retries.",
	},
}

// FixFor returns the report text for a code: its entry in Fixes, else a title from the code's
// meaning and a fix that states the requirements the failure breaks.
func FixFor(code, meaning string, rules []FindingRule) Fix {
	if f, ok := Fixes[code]; ok {
		return f
	}
	f := Fix{Title: meaning}
	if f.Title == "" {
		f.Title = "fails with " + code
	}
	f.Must = "The server must meet "
	for i, q := range rules {
		if i > 0 {
			f.Must += "; and "
		}
		if r, ok := lookupText(q.ID); ok {
			f.Must += q.ID + " (" + q.Level + "): " + r
		} else {
			f.Must += q.ID
		}
	}
	f.Must += "."
	return f
}
