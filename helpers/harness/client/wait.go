package client

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"stickler/helpers/spec"
)

// Waiting has one vocabulary. Poll retries a try function until it returns nil or time runs
// out and returns the last reason; Wait does the same and fails the test with that reason.
// Over a sync stream the try is "one more response, then every Check": SyncUntil returns the
// reason, MustSyncUntil fails the test (like Complement's MustSyncUntil). A check's error says
// what is missing and shows what came; its failure code is an option of the check (As).

// Wait calls try until it returns nil, at least every interval, and fails the test after
// within saying what it waited for and try's last reason (with the failure codes that reason
// carries, spec.WithCode). try gets the time left; a try that long-polls passes interval 0.
func Wait(t testing.TB, within time.Duration, what string, interval time.Duration, try func(left time.Duration) error) {
	t.Helper()
	if err := Poll(within, interval, try); err != nil {
		spec.MarkCodes(t, err)
		t.Fatalf("waited %v for %s: %v", within, what, err)
	}
}

// Poll is Wait without a test: it returns nil, or try's last reason once within has passed.
func Poll(within, interval time.Duration, try func(left time.Duration) error) error {
	deadline := time.Now().Add(within)
	for {
		start := time.Now()
		err := try(max(time.Until(deadline), 0))
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(min(interval-time.Since(start), time.Until(deadline))) // poll interval
	}
}

// Check is one condition a stream is synced until.
type Check struct {
	What string // what is awaited, for the failure message
	Code string // failure code when the wait ends without it; "" keeps the codes the error carries
	// Test returns nil when the condition holds, else what is missing. It sees the whole stream
	// (every delivery so far) and its newest response.
	Test func(s *Stream, last SyncResponse) error
	// logOnly says Test reads only the stream's log (what came so far), so a stream that
	// already satisfies it needs no further response.
	logOnly bool
}

// As returns the check failing with the given failure code: what its absence means for the
// test (e.g. missing-after-join).
func (c Check) As(code string) Check { c.Code = code; return c }

// Named returns the check with what it awaits said in the test's words, for the failure
// message (e.g. "the peer's sticky event at alice").
func (c Check) Named(what string) Check { c.What = what; return c }

// Delivered holds once every event has come in some response of the stream, in a timeline or
// as sticky. Failure code not-delivered unless As says otherwise.
func Delivered(ids ...string) Check {
	return Check{What: fmt.Sprintf("%d event(s) delivered", len(ids)), logOnly: true, Test: func(s *Stream, _ SyncResponse) error {
		return s.undelivered(ids...)
	}}
}

// ShowsInTimeline holds once the newest response's timeline of the room holds the event.
func ShowsInTimeline(room, eventID string) Check {
	return Check{What: fmt.Sprintf("a timeline of %s holding %s", room, eventID), Test: func(_ *Stream, r SyncResponse) error {
		return HasEvent(r.Timeline(room), eventID, "the timeline")
	}}
}

// Responds holds once test accepts the newest response; what names the condition.
func Responds(what string, test func(r SyncResponse) error) Check {
	return Check{What: what, Test: func(_ *Stream, r SyncResponse) error { return test(r) }}
}

// SyncUntil syncs (long-polling a second at a time) until every check holds, and returns nil,
// or the checks' reasons once within has passed.
func (s *Stream) SyncUntil(t testing.TB, within time.Duration, checks ...Check) error {
	t.Helper()
	return Poll(within, 0, s.try(t, checks))
}

// MustSyncUntil is SyncUntil failing the test with what was awaited and what is still missing,
// and returns the newest response. It logs how long the wait took.
func (s *Stream) MustSyncUntil(t testing.TB, within time.Duration, checks ...Check) SyncResponse {
	t.Helper()
	start := time.Now()
	Wait(t, within, s.describe(checks), 0, s.try(t, checks))
	t.Logf("%s: held after %v", s.describe(checks), time.Since(start).Round(time.Millisecond))
	return s.last()
}

// MustSyncUntil follows c's /sync from an initial sync until every check holds, failing the
// test after DefaultWait: the usual wait for delivery.
func (c *Client) MustSyncUntil(t testing.TB, checks ...Check) SyncResponse {
	t.Helper()
	return c.NewStream(Sync).MustSyncUntil(t, DefaultWait, checks...)
}

// try is one round of a wait: one more response, then the checks. Checks that read only the
// log are judged first, so a stream that already holds what they await takes no response.
func (s *Stream) try(t testing.TB, checks []Check) func(time.Duration) error {
	logOnly := true
	for _, c := range checks {
		logOnly = logOnly && c.logOnly
	}
	return func(left time.Duration) error {
		if logOnly {
			if err := s.judge(s.last(), checks); err == nil || left <= 0 {
				return err
			}
		}
		return s.judge(s.Next(t, min(left, time.Second)), checks)
	}
}

// judge runs every check on the stream and response; the error joins what each still misses,
// with its code.
func (s *Stream) judge(r SyncResponse, checks []Check) error {
	var coded joined
	showLast := false
	for _, c := range checks {
		err := c.Test(s, r)
		if err == nil {
			continue
		}
		if c.Code != "" {
			err = spec.WithCode(c.Code, err)
		}
		coded = append(coded, err)
		showLast = showLast || !c.logOnly // a log check's error already shows what came
	}
	var err error = coded
	switch {
	case len(coded) == 0:
		return nil
	case len(coded) == 1:
		err = coded[0]
	}
	if showLast {
		return fmt.Errorf("%w (last response: %s)", err, Truncate(r.Raw, 1500))
	}
	return err
}

// joined is errors.Join on one line: the failure codes of each error stay reachable.
type joined []error

func (j joined) Error() string {
	var parts []string
	for _, e := range j {
		parts = append(parts, e.Error())
	}
	return strings.Join(parts, "; ")
}

func (j joined) Unwrap() []error { return j }

// describe names what a wait over the stream awaits.
func (s *Stream) describe(checks []Check) string {
	var whats []string
	for _, c := range checks {
		whats = append(whats, c.What)
	}
	return fmt.Sprintf("%s over %s as %s", strings.Join(whats, " and "), s.Feed, s.c.UserID)
}

// last is the stream's newest response.
func (s *Stream) last() SyncResponse {
	if len(s.Responses) == 0 {
		return SyncResponse{Feed: s.Feed, names: s.c.Names}
	}
	return s.Responses[len(s.Responses)-1]
}
