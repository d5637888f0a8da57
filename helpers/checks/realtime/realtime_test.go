package realtime

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"stickler/helpers/spec/marker"
)

type fakeT struct {
	logs    []string
	skipped string
	fatal   string
	failed  bool
}

func (f *fakeT) Helper()                        {}
func (f *fakeT) Logf(format string, a ...any)   { f.logs = append(f.logs, fmt.Sprintf(format, a...)) }
func (f *fakeT) Skipf(format string, a ...any)  { f.skipped = fmt.Sprintf(format, a...) }
func (f *fakeT) Fatalf(format string, a ...any) { f.fatal = fmt.Sprintf(format, a...); f.failed = true }
func (f *fakeT) Failed() bool                   { return f.failed }

func TestRunRetriesWithLongerLifetimeThenPasses(t *testing.T) {
	ft := &fakeT{}
	var tried []time.Duration
	Run(ft, []time.Duration{time.Second, 3 * time.Second}, func(l time.Duration) error {
		tried = append(tried, l)
		if l == time.Second {
			return SetupTooSlow("join took 2s")
		}
		return nil
	})
	if len(tried) != 2 || ft.skipped != "" || ft.fatal != "" {
		t.Fatalf("want two attempts and no skip or failure; tried %v, skipped %q, fatal %q", tried, ft.skipped, ft.fatal)
	}
	if len(ft.logs) != 1 || !strings.Contains(ft.logs[0], "re-planning") {
		t.Fatalf("want one re-planning log line, got %q", ft.logs)
	}
}

func TestRunSkipsAsInconclusiveWhenEveryPlanIsTooSlow(t *testing.T) {
	ft := &fakeT{}
	Run(ft, []time.Duration{time.Second, 2 * time.Second}, func(l time.Duration) error {
		return SetupTooSlow("setup took %v", 2*l)
	})
	if !strings.HasPrefix(ft.skipped, "inconclusive:") || !strings.Contains(ft.skipped, "lifetime 2s") || ft.fatal != "" {
		t.Fatalf("want an inconclusive skip naming both plans and no failure; skipped %q, fatal %q", ft.skipped, ft.fatal)
	}
	// The report reads the ending from its record, not from the words.
	if r, ok := marker.Parse(ft.logs[len(ft.logs)-1]); !ok || r.Kind != marker.Inconclusive || r.Reason() != ft.skipped {
		t.Fatalf("want an inconclusive record with the skip's reason last in the log, got %q", ft.logs)
	}
}

func TestRunFailsOnAServerError(t *testing.T) {
	ft := &fakeT{}
	calls := 0
	Run(ft, []time.Duration{time.Second, 2 * time.Second}, func(time.Duration) error {
		calls++
		return errors.New("event still sticky after expiry")
	})
	if calls != 1 || ft.fatal != "event still sticky after expiry" || ft.skipped != "" {
		t.Fatalf("want one attempt failing the test; calls %d, fatal %q, skipped %q", calls, ft.fatal, ft.skipped)
	}
}

func TestRunDoesNotRetryAfterAFailure(t *testing.T) {
	ft := &fakeT{}
	calls := 0
	Run(ft, []time.Duration{time.Second, 2 * time.Second}, func(time.Duration) error {
		calls++
		ft.failed = true // an assertion inside the attempt already failed the test
		return SetupTooSlow("late")
	})
	if calls != 1 || ft.skipped != "" {
		t.Fatalf("a failed attempt must not be retried or skipped; calls %d, skipped %q", calls, ft.skipped)
	}
}

func TestNeed(t *testing.T) {
	now := time.Unix(1000, 0)
	if err := needAt(now, now.Add(5*time.Second), 4*time.Second, "reading"); err != nil {
		t.Fatalf("5s left, 4s needed: want no error, got %v", err)
	}
	err := needAt(now, now.Add(3*time.Second), 4*time.Second, "reading four endpoints")
	if !IsSetupTooSlow(err) || !strings.Contains(err.Error(), "reading four endpoints needs 4s") {
		t.Fatalf("3s left, 4s needed: want a setup-too-slow error naming the step, got %v", err)
	}
}
