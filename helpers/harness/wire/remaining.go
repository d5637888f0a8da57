package wire

import (
	"strconv"

	"github.com/tidwall/gjson"
)

// Remaining is a delivered event's remaining-time field (unsigned.<RemainingField>): MS when
// Present. It is the one encoding of "no remaining time" (Present false: the server left the
// field out, so the event was not handed over as sticky, or the server does not send the
// field) for the stream's delivery log, the ephemeral-map model and the timeline.
type Remaining struct {
	MS      int64
	Present bool
}

// RemainingOf reads ev's remaining-time field under the names n.
func RemainingOf(ev gjson.Result, n Names) Remaining {
	r := ev.Get(Path("unsigned", n.RemainingField))
	return Remaining{MS: r.Int(), Present: r.Exists()}
}

// Positive says whether the field is there with time left.
func (r Remaining) Positive() bool { return r.Present && r.MS > 0 }

// String is the value in ms, or "none" when the field was absent.
func (r Remaining) String() string {
	if !r.Present {
		return "none"
	}
	return strconv.FormatInt(r.MS, 10)
}
