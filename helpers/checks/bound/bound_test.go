package bound

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"stickler/helpers/spec/marker"
)

// recorder is a testing.TB that keeps what a test logs and whether it skipped.
type recorder struct {
	testing.TB
	logs    []string
	skipped bool
}

func (r *recorder) Helper()                 {}
func (r *recorder) Logf(f string, a ...any) { r.logs = append(r.logs, sprintf(f, a...)) }
func (r *recorder) Cleanup(func())          {}
func (r *recorder) Skipf(f string, a ...any) {
	r.skipped = true
	r.logs = append(r.logs, sprintf(f, a...))
	panic(skip{})
}
func (r *recorder) Fatalf(f string, a ...any) {
	r.logs = append(r.logs, sprintf(f, a...))
	panic(skip{})
}

type skip struct{}

func run(r *recorder, f func()) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(skip); !ok {
				panic(p)
			}
		}
	}()
	f()
}

func (r *recorder) late() []marker.Record {
	var out []marker.Record
	for _, l := range r.logs {
		if m, ok := marker.Parse(l); ok && m.Kind == marker.Choice && strings.HasPrefix(m.Text, LatePrefix) {
			out = append(out, m)
		}
	}
	return out
}

// A wait that holds within the usual wait records nothing; one that holds later but within
// the bound passes and is recorded as late, one record per requirement holding every late
// wait; a wait that never holds returns its reason; a bound with less than minLeft left skips.
func TestAwait(t *testing.T) {
	usualWait, minLeft = 20*time.Millisecond, 50*time.Millisecond
	defer func() { usualWait, minLeft = 20*time.Second, MinLeft }()
	b := Sticky("FED-2", time.Now(), time.Second, "the test's events")

	fast := &recorder{TB: t}
	run(fast, func() {
		if err := b.Await(fast, "fast", func(time.Duration) error { return nil }); err != nil {
			t.Errorf("fast wait: expected nil, got %v", err)
		}
	})
	if got := fast.late(); len(got) != 0 {
		t.Errorf("a wait within the usual wait must record no lateness, got %+v", got)
	}

	slow := &recorder{TB: t}
	run(slow, func() {
		for _, what := range []string{"first", "second"} {
			err := b.Await(slow, what, func(time.Duration) error { time.Sleep(40 * time.Millisecond); return nil })
			if err != nil {
				t.Errorf("slow wait: expected nil, got %v", err)
			}
		}
	})
	got := slow.late()
	if len(got) != 2 || got[1].ID != "FED-2" || !strings.Contains(got[1].Text, "first came") || !strings.Contains(got[1].Text, "second came") {
		t.Errorf("expected a late record for FED-2 naming both late waits, got %+v", got)
	}

	failing := &recorder{TB: t}
	var left time.Duration
	run(failing, func() {
		err := b.Await(failing, "never", func(within time.Duration) error { left = within; return errors.New("not there") })
		if err == nil || err.Error() != "not there" {
			t.Errorf("expected the wait's error back, got %v", err)
		}
	})
	if left <= 0 || left > time.Second {
		t.Errorf("expected the wait to get the time left before the bound (0, 1s], got %v", left)
	}

	tooLate := &recorder{TB: t}
	run(tooLate, func() {
		Sticky("FED-2", time.Now().Add(-time.Second), time.Second+10*time.Millisecond, "old events").Await(tooLate, "anything", func(time.Duration) error {
			t.Error("the wait must not run when the setup ate the bound")
			return nil
		})
	})
	if r, ok := marker.Parse(tooLate.logs[0]); !tooLate.skipped || !ok || r.Kind != marker.Inconclusive {
		t.Errorf("expected an inconclusive record and skip, got %q", tooLate.logs)
	}
}

func sprintf(f string, a ...any) string { return fmt.Sprintf(f, a...) }
