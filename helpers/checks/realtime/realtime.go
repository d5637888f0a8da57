// Package realtime runs scenarios that let real time pass (expiry) so that a slow machine
// cannot turn into a server failure. A scenario's clock starts when its setup is done; if the
// setup itself ate the time the scenario needed, the scenario is planned again with a longer
// lifetime, and if that also runs out it is reported as inconclusive (spec.Inconclusive: skipped
// with the reason), never as a failure of the server.
package realtime

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"stickler/helpers/spec"
)

// errTooSlow marks the error a scenario returns when its own setup ate its time budget.
var errTooSlow = errors.New("setup too slow")

// SetupTooSlow is what a scenario returns when the time it needed was gone before the server
// could be judged. Nothing may have been asserted about the server yet.
func SetupTooSlow(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errTooSlow, fmt.Sprintf(format, args...))
}

// IsSetupTooSlow reports whether err came from SetupTooSlow.
func IsSetupTooSlow(err error) bool { return errors.Is(err, errTooSlow) }

// Need returns a SetupTooSlow error unless at least need is left before end. what names the
// step that needs the time, for the message.
func Need(end time.Time, need time.Duration, what string) error {
	return needAt(time.Now(), end, need, what)
}

func needAt(now, end time.Time, need time.Duration, what string) error {
	left := end.Sub(now)
	if left >= need {
		return nil
	}
	return SetupTooSlow("%v left before the end of the lifetime, %s needs %v", left.Round(time.Millisecond), what, need)
}

// TB is the part of testing.TB the planner uses (a fake in unit tests).
type TB interface {
	Helper()
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
	Fatalf(format string, args ...any)
	Failed() bool
}

// Run plays scenario with each lifetime in turn until one attempt is not too slow. An attempt
// that returns another error fails the test with it; after the last lifetime the test is
// skipped as inconclusive with every attempt's reason. Each attempt must do its own setup
// (a new room), so an earlier attempt's events cannot leak into it.
func Run(t TB, lifetimes []time.Duration, scenario func(lifetime time.Duration) error) {
	t.Helper()
	if len(lifetimes) == 0 {
		panic("realtime.Run: no lifetime to plan with")
	}
	var slow []string
	for i, lifetime := range lifetimes {
		err := scenario(lifetime)
		switch {
		case err == nil:
			return
		case !IsSetupTooSlow(err):
			t.Fatalf("%v", err)
			return
		case t.Failed():
			// The attempt already failed the test; a retry cannot undo it.
			return
		}
		slow = append(slow, fmt.Sprintf("lifetime %v: %v", lifetime, err))
		if i+1 < len(lifetimes) {
			t.Logf("re-planning: %v; trying again with lifetime %v", err, lifetimes[i+1])
		}
	}
	spec.Inconclusive(t, "the machine was too slow for every plan, so the server could not be judged (%s)", strings.Join(slow, "; "))
}
