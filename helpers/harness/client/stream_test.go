package client

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"

	"github.com/tidwall/gjson"
)

// fakeSync answers /sync and Sliding Sync with the given bodies in turn (the last one
// repeats), and records the query strings it was asked.
type fakeSync struct {
	mu      sync.Mutex
	bodies  []string
	queries []string
}

func (f *fakeSync) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, r.URL.RawQuery)
	body := f.bodies[0]
	if len(f.bodies) > 1 {
		f.bodies = f.bodies[1:]
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprint(w, body)
}

func fakeClient(t *testing.T, bodies ...string) (*Client, *fakeSync) {
	f := &fakeSync{bodies: bodies}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &Client{BaseURL: srv.URL, UserID: "@u:hs1", Names: unstable(t)}, f
}

func unstable(t *testing.T) wire.Names {
	n, err := wire.Select("unstable")
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestStreamLogsSyncDeliveries(t *testing.T) {
	n := unstable(t)
	first := `{"next_batch":"s1","rooms":{"join":{"!r":{"timeline":{"events":[{"event_id":"$a","type":"t"}]},"` +
		n.SyncSection + `":{"events":[{"event_id":"$b","type":"t","unsigned":{"` + n.RemainingField + `":5000}}]}}}}}`
	second := `{"next_batch":"s2","rooms":{"join":{"!r":{"timeline":{"events":[{"event_id":"$b","type":"t"}]}}}}}`
	c, f := fakeClient(t, first, second)
	s := c.NewStream(Sync, Offline()).Start(t)
	s.Next(t, 0)
	if len(s.Log) != 3 {
		t.Fatalf("expected 3 deliveries logged, got %d: %+v", len(s.Log), s.Log)
	}
	if tl, st := s.Count("$b"); tl != 1 || st != 1 {
		t.Fatalf("expected $b once in the timeline and once in the sticky section, got %d and %d", tl, st)
	}
	if got := s.StickyOf("$b"); len(got) != 1 || got[0].Remaining != (wire.Remaining{MS: 5000, Present: true}) || got[0].Room != "!r" {
		t.Fatalf("expected one sticky delivery of $b with 5000 ms left in !r, got %+v", got)
	}
	if !strings.Contains(f.queries[1], "since=s1") || !strings.Contains(f.queries[0], "set_presence=offline") {
		t.Fatalf("expected the second request to continue from s1 and both to set presence offline, got %q", f.queries)
	}
	if err := s.undelivered("$a", "$b"); err != nil {
		t.Fatalf("expected $a and $b delivered, got %v", err)
	}
	// $b came once in each of two responses: no MUST repeat (OnceEach), a repeat across
	// responses (RepeatedAcross, SYNC-5's SHOULD).
	if err := s.OnceEach("$a", "$b"); err != nil {
		t.Fatalf("expected OnceEach to pass $b, once in each of two responses, got %v", err)
	}
	err := s.RepeatedAcross("$a", "$b")
	if err == nil || !strings.Contains(err.Error(), "$b in 2 responses (timeline 1, sticky 1)") {
		t.Fatalf("expected RepeatedAcross to name $b's two responses, got %v", err)
	}
	if got := spec.CodesOf(err); !slices.Equal(got, []string{"duplicate-delivery"}) {
		t.Fatalf("expected RepeatedAcross's codes [duplicate-delivery], got %v", got)
	}
	// How it failed is in the codes: twice in one response and never are different defects.
	s.Log = append(s.Log, Delivery{Room: "!r", EventID: "$a", Section: InSticky, At: s.Of("$a")[0].At})
	err = s.OnceEach("$a", "$b", "$never")
	if got := spec.CodesOf(err); !slices.Equal(got, []string{"repeated-in-same-response", "lost-events"}) {
		t.Fatalf("expected OnceEach's codes [repeated-in-same-response lost-events] with $a twice in one response and $never missing, got %v (%v)", got, err)
	}
	if got := spec.CodesOf(spec.WithCode("missing-after-join", s.undelivered("$never"))); !slices.Equal(got, []string{"missing-after-join"}) {
		t.Fatalf("expected an outer code to replace Delivered's not-delivered, got %v", got)
	}
}

func TestStreamLogsSlidingExtension(t *testing.T) {
	n := unstable(t)
	body := `{"pos":"p1","rooms":{"!r":{"timeline":[{"event_id":"$a","type":"t"}]}},"extensions":{"` +
		n.SlidingExtension + `":{"next_batch":"x1","rooms":{"!q":{"events":[{"event_id":"$b","type":"t"}]}}}}}`
	c, _ := fakeClient(t, body)
	s := c.NewStream(Sliding, ExtLimit(1)).Start(t)
	if d := s.Of("$b"); len(d) != 1 || d[0].Section != InExtension || d[0].Room != "!q" || !d[0].AsSticky() {
		t.Fatalf("expected $b once from the extension in !q, got %+v", d)
	}
	if d := s.Of("$a"); len(d) != 1 || d[0].Section != InTimeline || d[0].AsSticky() {
		t.Fatalf("expected $a once in !r's timeline, not as sticky, got %+v", d)
	}
	if s.pos != "p1" || s.extSince != "x1" {
		t.Fatalf("expected pos p1 and extension since x1, got %q and %q", s.pos, s.extSince)
	}
}

func TestDeliveredSaysWhatIsMissing(t *testing.T) {
	c, _ := fakeClient(t, `{"next_batch":"s1","rooms":{"join":{"!r":{"timeline":{"events":[{"event_id":"$a","type":"m.text"}]}}}}}`)
	s := c.NewStream(Sync)
	s.Labels["$z"] = "the awaited event"
	err := s.SyncUntil(t, 300*time.Millisecond, Delivered("$a", "$z"))
	if err == nil {
		t.Fatal("expected $z to be reported missing")
	}
	for _, want := range []string{"1 of 2", "the awaited event ($z)", "$a (m.text, timeline"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("expected the reason to contain %q, got %v", want, err)
		}
	}
}

func TestPollReturnsLastReason(t *testing.T) {
	calls := 0
	err := Poll(100*time.Millisecond, 20*time.Millisecond, func(time.Duration) error {
		calls++
		return fmt.Errorf("attempt %d", calls)
	})
	if err == nil || err.Error() != fmt.Sprintf("attempt %d", calls) || calls < 2 || calls > 7 {
		t.Fatalf("expected the last of a few attempts 20 ms apart, got %v after %d calls", err, calls)
	}
	ok := errors.New("not yet")
	calls = 0
	err = Poll(time.Second, 0, func(time.Duration) error {
		if calls++; calls < 3 {
			return ok
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("expected success at the third call, got %v after %d", err, calls)
	}
}

// A Sliding Sync response whose extension carries events without next_batch is recorded
// (SSS-6) and the old token is sent again; one without events and without next_batch is not.
func TestStreamRecordsMissingNextBatch(t *testing.T) {
	n := unstable(t)
	ext := func(body string) string {
		return `{"pos":"p","extensions":{"` + n.SlidingExtension + `":` + body + `}}`
	}
	first := ext(`{"next_batch":"e1","rooms":{"!r":{"events":[{"event_id":"$a","type":"t"}]}}}`)
	second := ext(`{"rooms":{"!r":{"events":[{"event_id":"$b","type":"t"}]}}}`)
	third := ext(`{}`)
	c, _ := fakeClient(t, first, second, third)
	s := c.NewStream(Sliding)
	for i := 0; i < 4; i++ {
		s.Next(t, 0)
	}
	if !slices.Equal(s.NoNextBatch, []int{1}) {
		t.Errorf("expected only response 1 recorded as missing next_batch, got %v", s.NoNextBatch)
	}
	if got := s.extSince; got != "e1" {
		t.Errorf("expected the stream to keep the last token it got (e1), it has %q", got)
	}
}

// Checks compose: every one is judged on every response, the wait ends when all hold, and a
// wait that ends without them carries each one's failure code and says what it awaited.
func TestChecksCompose(t *testing.T) {
	c, _ := fakeClient(t,
		`{"next_batch":"s1","rooms":{"join":{"!r":{"timeline":{"events":[{"event_id":"$a","type":"t"}]}}}}}`,
		`{"next_batch":"s2","rooms":{"join":{"!r":{"timeline":{"events":[{"event_id":"$b","type":"t"}]}}}}}`)
	s := c.NewStream(Sync)
	seen := 0
	counting := Responds("every response counted", func(r SyncResponse) error {
		seen++
		if r.Feed != Sync || len(r.Timeline("!r")) != 1 {
			t.Errorf("expected a /sync response with one timeline event in !r, got %s", r.Raw)
		}
		return nil
	})
	s.MustSyncUntil(t, time.Second, counting, Delivered("$a", "$b"))
	if seen != 2 {
		t.Fatalf("expected the wait to end on the second response, after both were judged; judged %d", seen)
	}
	// Already delivered: a wait on the log alone takes no response.
	if err := s.SyncUntil(t, time.Second, Delivered("$a")); err != nil || len(s.Responses) != 2 {
		t.Fatalf("expected $a already there without a new request, got %v after %d responses", err, len(s.Responses))
	}
	never := Responds("a response without !r", func(r SyncResponse) error {
		if len(r.Timeline("!r")) > 0 {
			return errors.New("!r is still there")
		}
		return nil
	})
	err := s.SyncUntil(t, 200*time.Millisecond, Delivered("$z").As("missing-after-join"), never.As("room-still-there"))
	if got := spec.CodesOf(err); !slices.Equal(got, []string{"missing-after-join", "room-still-there"}) {
		t.Fatalf("expected both checks' codes, got %v (%v)", got, err)
	}
	if !strings.Contains(err.Error(), "!r is still there") || !strings.Contains(err.Error(), "last response") {
		t.Fatalf("expected the reason to say what is missing and show the last response, got %v", err)
	}
}

// A response answers for its feed: /sync's sticky section and timeline, Sliding Sync's
// extension and room timeline.
func TestSyncResponseKnowsItsFeed(t *testing.T) {
	n := unstable(t)
	sync := SyncResponse{Feed: Sync, names: n, Result: gjson.Parse(`{"rooms":{"join":{"!r":{"timeline":{"events":[{"event_id":"$t"}]},"` +
		n.SyncSection + `":{"events":[{"event_id":"$s"}]}}}}}`)}
	sliding := SyncResponse{Feed: Sliding, names: n, Result: gjson.Parse(`{"rooms":{"!r":{"timeline":[{"event_id":"$t"}]}},"extensions":{"` +
		n.SlidingExtension + `":{"rooms":{"!r":{"events":[{"event_id":"$s"}]}}}}}`)}
	for _, r := range []SyncResponse{sync, sliding} {
		if got := EventIDs(r.Sticky("!r")); !slices.Equal(got, []string{"$s"}) {
			t.Errorf("%s: expected sticky [$s], got %v", r.Feed, got)
		}
		if got := EventIDs(r.Timeline("!r")); !slices.Equal(got, []string{"$t"}) {
			t.Errorf("%s: expected timeline [$t], got %v", r.Feed, got)
		}
	}
}
