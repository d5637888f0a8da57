package must

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"stickler/helpers/spec/marker"
)

// recorder is a testing.TB that keeps what a check logged and how it failed, without stopping.
type recorder struct {
	testing.TB
	logs, fatals []string
}

func (r *recorder) Helper()                   {}
func (r *recorder) Logf(f string, a ...any)   { r.logs = append(r.logs, fmt.Sprintf(f, a...)) }
func (r *recorder) Fatalf(f string, a ...any) { r.fatals = append(r.fatals, fmt.Sprintf(f, a...)) }
func (r *recorder) Errorf(f string, a ...any) { r.fatals = append(r.fatals, fmt.Sprintf(f, a...)) }
func (r *recorder) FailNow()                  {}
func (r *recorder) marked() string            { return strings.Join(r.logs, "\n") }
func events(raw string) []gjson.Result        { return gjson.Parse(raw).Array() }
func (r *recorder) failedWith(prefix string) bool {
	return len(r.fatals) == 1 && strings.HasPrefix(r.fatals[0], prefix)
}

func TestAsStatesTheCode(t *testing.T) {
	evs := events(`[{"event_id":"$a"}]`)

	r := &recorder{TB: t}
	As("still-sticky-after-redaction").HasNot(r, evs, "$a", "the sticky section")
	if !r.failedWith("[still-sticky-after-redaction] expected $a NOT to be in") || !strings.Contains(r.marked(), marker.Line(marker.Record{Kind: marker.FailCode, Code: "still-sticky-after-redaction"})) {
		t.Errorf("must.As(code).HasNot: want a failure with the code and its marker line, got fatals %q logs %q", r.fatals, r.logs)
	}

	r = &recorder{TB: t}
	HasNot(r, evs, "$a", "the sticky section")
	if !r.failedWith("expected $a NOT to be in") || strings.Contains(r.marked(), `"failcode"`) {
		t.Errorf("must.HasNot: want a failure without a code, got fatals %q logs %q", r.fatals, r.logs)
	}

	r = &recorder{TB: t}
	As("lost-events").Has(r, evs, "$a", "the timeline")
	if len(r.fatals) != 0 || len(r.logs) != 0 {
		t.Errorf("a passing check must neither fail nor mark a code, got fatals %q logs %q", r.fatals, r.logs)
	}
}
