package spec

import (
	"fmt"

	"stickler/helpers/spec/marker"
)

// How a test ends when it cannot judge the server. Each function logs an ending record (the
// report reads its kind, never the words) and skips the test with the record's reason. A test
// that can judge passes or fails (Fatalf, Errorf); one that cannot uses exactly one of these:
//
//   - Inconclusive: the server could not be judged this time, by chance or load (the machine
//     was too slow, the hazard under test was not exercised). Never a failure: the report
//     lists each one alone.
//   - ControlFailed: a control of the verdict failed: something the test checks so that its
//     verdict means anything (an event that must be there for an absence or a refusal to show
//     something, a fault that must hold) is not so. The verdict would prove nothing; the
//     control's own requirement, if the server broke one, is judged by the test the text
//     names. Inconclusive too, listed alone. A step the server must pass for the test to run
//     at all, which no other test judges, is not a control: it fails (spec.Fatalf).
//   - NotImplemented: the server does not advertise a feature the test needs (marker.Sticky:
//     sticky events, which the run's headline says; or another proposal's flag).
//   - NotApplicable: the deployment or image lacks what the test needs (a server of another
//     kind, an image label); another deployment runs it.

// SkipTB is the part of testing.TB an ending uses (a fake in unit tests).
type SkipTB interface {
	Helper()
	Logf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Inconclusive ends t as inconclusive: why the server could not be judged.
func Inconclusive(t SkipTB, format string, args ...any) {
	t.Helper()
	end(t, marker.Record{Kind: marker.Inconclusive, Text: fmt.Sprintf(format, args...)})
}

// ControlFailed ends t as inconclusive because a control of its verdict failed: which one, and
// why the verdict would then prove nothing.
func ControlFailed(t SkipTB, format string, args ...any) {
	t.Helper()
	end(t, marker.Record{Kind: marker.ControlFailed, Text: fmt.Sprintf(format, args...)})
}

// NotImplemented ends t because server ("hs2 (image)") does not advertise feature (a /versions
// flag: marker.Sticky, marker.StickyStable, or another proposal's).
func NotImplemented(t SkipTB, server, feature, format string, args ...any) {
	t.Helper()
	end(t, marker.Record{Kind: marker.NotImplemented, Server: server, Feature: feature, Text: fmt.Sprintf(format, args...)})
}

// NotApplicable ends t because the deployment or image lacks what it needs.
func NotApplicable(t SkipTB, format string, args ...any) {
	t.Helper()
	end(t, marker.Record{Kind: marker.NotApplicable, Text: fmt.Sprintf(format, args...)})
}

func end(t SkipTB, r marker.Record) {
	t.Helper()
	marker.Log(t, r)
	t.Skipf("%s", r.Reason())
}
