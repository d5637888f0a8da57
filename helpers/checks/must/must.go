// Package must holds the assertions of the conformance tests. Each failure says what was
// expected and shows what was seen, with the JSON that was seen.
//
// must.Has(t, ...) fails without a failure code; must.As(code).Has(t, ...) is the same check
// that fails with the code, for an assertion whose failure means one specific defect (see
// docs/failure-codes.md), e.g. must.As("still-sticky-after-redaction").HasNot(t, ...).
package must

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"stickler/helpers/harness/client"
	"stickler/helpers/spec"
)

// Status fails unless the response has the given status code.
func Status(t testing.TB, res *client.Response, code int, why string) {
	t.Helper()
	none.Status(t, res, code, why)
}

// Status is must.Status failing with c's code.
func (c Coded) Status(t testing.TB, res *client.Response, code int, why string) {
	t.Helper()
	if res.StatusCode != code {
		c.fatalf(t, "%s: expected HTTP %d, got %s", why, code, res)
	}
}

// MatrixError fails unless the response is the given HTTP status with a Matrix error body
// (an errcode string). errcode "" accepts any code.
func MatrixError(t testing.TB, res *client.Response, code int, errcode, why string) {
	t.Helper()
	none.MatrixError(t, res, code, errcode, why)
}

// MatrixError is must.MatrixError failing with c's code.
func (c Coded) MatrixError(t testing.TB, res *client.Response, code int, errcode, why string) {
	t.Helper()
	got := res.JSON.Get("errcode")
	if res.StatusCode != code || got.Type != gjson.String || !strings.HasPrefix(got.Str, "M_") || (errcode != "" && got.Str != errcode) {
		want := "any M_ errcode"
		if errcode != "" {
			want = errcode
		}
		c.fatalf(t, "%s: expected HTTP %d with a Matrix error body (%s), got %s", why, code, want, res)
	}
}

// Has fails unless the event includes the event with the given ID.
func Has(t testing.TB, events []gjson.Result, eventID, where string) gjson.Result {
	t.Helper()
	return none.Has(t, events, eventID, where)
}

// Has is must.Has failing with c's code.
func (c Coded) Has(t testing.TB, events []gjson.Result, eventID, where string) gjson.Result {
	t.Helper()
	e := client.Find(events, eventID)
	if !e.Exists() {
		c.fatalf(t, "expected %s in %s; it holds %d event(s): %v", eventID, where, len(events), client.EventIDs(events))
	}
	return e
}

// HasNot fails if events includes the event with the given ID.
func HasNot(t testing.TB, events []gjson.Result, eventID, where string) {
	t.Helper()
	none.HasNot(t, events, eventID, where)
}

// HasNot is must.HasNot failing with c's code.
func (c Coded) HasNot(t testing.TB, events []gjson.Result, eventID, where string) {
	t.Helper()
	if e := client.Find(events, eventID); e.Exists() {
		c.fatalf(t, "expected %s NOT to be in %s, but it is: %s", eventID, where, e.Raw)
	}
}

// JSONEqual fails unless the value at path in r is the JSON value want (compared as JSON).
func JSONEqual(t testing.TB, r gjson.Result, path string, want any, why string) {
	t.Helper()
	none.JSONEqual(t, r, path, want, why)
}

// JSONEqual is must.JSONEqual failing with c's code.
func (c Coded) JSONEqual(t testing.TB, r gjson.Result, path string, want any, why string) {
	t.Helper()
	got := r.Get(path)
	wantRaw := fmt.Sprint(want)
	if s, ok := want.(string); ok {
		if got.Type != gjson.String || got.Str != s {
			c.fatalf(t, "%s: expected %s to be the string %q, got %s in %s", why, path, s, rawOrMissing(got), client.Truncate(r.Raw, 1500))
		}
		return
	}
	if !got.Exists() || got.Raw != wantRaw {
		c.fatalf(t, "%s: expected %s to be %s, got %s in %s", why, path, wantRaw, rawOrMissing(got), client.Truncate(r.Raw, 1500))
	}
}

// Missing fails if path exists in r.
func Missing(t testing.TB, r gjson.Result, path, why string) {
	t.Helper()
	none.Missing(t, r, path, why)
}

// Missing is must.Missing failing with c's code.
func (c Coded) Missing(t testing.TB, r gjson.Result, path, why string) {
	t.Helper()
	if got := r.Get(path); got.Exists() {
		c.fatalf(t, "%s: expected no %s, got %s in %s", why, path, got.Raw, client.Truncate(r.Raw, 1500))
	}
}

func rawOrMissing(r gjson.Result) string {
	if !r.Exists() {
		return "nothing (missing)"
	}
	return r.Raw
}

// OldestFirst fails unless each page holds the oldest events not yet delivered: every
// event of a page was sent before every event of a later page (MSC4480's pagination; the order
// inside one page is free).
func OldestFirst(t testing.TB, sent []string, pages [][]string) {
	t.Helper()
	none.OldestFirst(t, sent, pages)
}

// OldestFirst is must.OldestFirst failing with c's code.
func (c Coded) OldestFirst(t testing.TB, sent []string, pages [][]string) {
	t.Helper()
	pos := map[string]int{}
	for i, id := range sent {
		pos[id] = i
	}
	newestSoFar, page := -1, 0
	for k, p := range pages {
		oldest, newest := len(sent), -1
		for _, id := range p {
			if i, ok := pos[id]; ok {
				oldest, newest = min(oldest, i), max(newest, i)
			}
		}
		if newest < 0 {
			continue
		}
		if oldest < newestSoFar {
			c.errorf(t, "pagination is not oldest-first: page %d holds event #%d of the send order, older than #%d delivered in page %d", k, oldest, newestSoFar, page)
			return
		}
		newestSoFar, page = newest, k
	}
}

// NoneWith fails if any of the events has a value at path (e.g. a marker in its content).
func NoneWith(t testing.TB, events []gjson.Result, path, why string) {
	t.Helper()
	none.NoneWith(t, events, path, why)
}

// NoneWith is must.NoneWith failing with c's code.
func (c Coded) NoneWith(t testing.TB, events []gjson.Result, path, why string) {
	t.Helper()
	for _, e := range events {
		if e.Get(path).Exists() {
			c.fatalf(t, "%s: expected no event with %s, got %s", why, path, e.Raw)
		}
	}
}

// Coded holds a failure code for the checks called on it; the zero value has none.
type Coded struct{ code string }

var none Coded

// As returns the checks of this package failing with the failure code (see spec.Errorf).
func As(code string) Coded { return Coded{code} }

// fatalf is errorf that stops the test (testing's Fatalf is Errorf's log followed by FailNow).
func (c Coded) fatalf(t testing.TB, format string, args ...any) {
	t.Helper()
	c.errorf(t, format, args...)
	t.FailNow()
}

func (c Coded) errorf(t testing.TB, format string, args ...any) {
	t.Helper()
	if c.code == "" {
		t.Errorf(format, args...)
		return
	}
	spec.Errorf(t, c.code, format, args...)
}
