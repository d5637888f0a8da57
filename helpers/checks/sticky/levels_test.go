package sticky

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"stickler/helpers/harness/client"
	"stickler/helpers/harness/wire"
	"stickler/helpers/results/report"
	"stickler/helpers/spec"
)

// Levels must not leak (issue 16): a server that leaves out the remaining-time field (a
// SHOULD, SYNC-3) and breaks nothing else must get warnings only. The shared checks MUST
// tests use (RequireFor, RequireExpired, RequireNot, CheckRemaining) run here
// against a fake homeserver whose events never carry the field, in a child test process
// whose `go test -json` stream is judged by the report's own verdict rule: no test may end as
// a failure, and the missing field must show as a warning.
func TestNoMustFailsOnMissingRemainingField(t *testing.T) {
	if os.Getenv("STICKLER_LEVELS_CHILD") != "" {
		t.Skip("this is the parent; the child is TestLevelsChild")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("skipped: needs the go command (go tool test2json) to run the child test")
	}
	cmd := exec.Command("go", "tool", "test2json", "-t", "-p", "stickler/helpers/checks/sticky", os.Args[0], "-test.v=test2json", "-test.run=^TestLevelsChild$")
	cmd.Env = append(os.Environ(), "STICKLER_LEVELS_CHILD=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run() // the child fails (through its warning subtests); the verdicts say how
	res, err := report.Read(bytes.NewReader(out.Bytes()), nil)
	if err != nil {
		t.Fatalf("reading the child's stream: %v\n%s", err, out.String())
	}
	verdicts := res.Verdicts(report.Rules{})
	warnings, seen := 0, map[string]report.Verdict{}
	for tt, v := range verdicts {
		seen[tt.Name] = v
		switch v {
		case report.Warning:
			warnings++
		case report.Passed, report.Observed, report.Skipped:
		default:
			t.Errorf("%s: verdict %s, want pass or warning: a missing remaining-time field must never fail a MUST test", tt.Name, v)
		}
	}
	for _, name := range []string{"TestLevelsChild/sticky-for", "TestLevelsChild/check-remaining", "TestLevelsChild"} {
		if seen[name] != report.Warning {
			t.Errorf("%s: verdict %q, want warning (the missing field fails its SYNC-3 subtest, which is a warning and nothing more); verdicts: %v", name, seen[name], seen)
		}
	}
	for _, name := range []string{"TestLevelsChild/expired", "TestLevelsChild/not-sticky"} {
		if seen[name] != report.Passed {
			t.Errorf("%s: verdict %q, want pass (no field, nothing to complain about); verdicts: %v", name, seen[name], seen)
		}
	}
	if warnings == 0 || t.Failed() {
		t.Logf("child stream:\n%s", out.String())
	}
}

// TestLevelsChild is the child process of TestNoMustFailsOnMissingRemainingField: MUST-level
// checks against a fake server whose sticky events have no remaining-time field.
func TestLevelsChild(t *testing.T) {
	if os.Getenv("STICKLER_LEVELS_CHILD") == "" {
		t.Skip("run by TestNoMustFailsOnMissingRemainingField in a child process")
	}
	names, err := wire.Select("unstable")
	if err != nil {
		t.Fatal(err)
	}
	const room = "!room:fake"
	// $s is sticky (in the sticky section); $gone and $ctl have expired (in no section).
	event := func(id string) string {
		return fmt.Sprintf(`{"event_id":%q,"type":%q,"sender":"@p:fake","origin_server_ts":%d,"content":{},%q:{"duration_ms":600000},"unsigned":{}}`,
			id, controlType, time.Now().UnixMilli(), names.EventKey)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == "PUT" && strings.Contains(r.URL.Path, "/send/"):
			fmt.Fprint(w, `{"event_id":"$filler"}`)
		case strings.HasSuffix(r.URL.Path, "/sync"):
			fmt.Fprintf(w, `{"next_batch":"s1","rooms":{"join":{%q:{"timeline":{"events":[{"event_id":"$filler","type":"m.room.message","content":{}}],"limited":true},%q:{"events":[%s]}}}}}`,
				room, names.SyncSection, event("$s"))
		case strings.Contains(r.URL.Path, "/event/"):
			id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			fmt.Fprint(w, event(id))
		default:
			w.WriteHeader(404)
			fmt.Fprint(w, `{"errcode":"M_UNRECOGNIZED"}`)
		}
	}))
	t.Cleanup(srv.Close)
	alice := &client.Client{BaseURL: srv.URL, UserID: "@alice:fake", AccessToken: "x", Names: names, HTTP: srv.Client()}
	t.Run("sticky-for", func(t *testing.T) {
		spec.Covers(t, "TIME-1")
		RequireFor(t, alice, room, "$s", 10*time.Minute, time.Now(), "fake server, no remaining-time field")
	})
	t.Run("expired", func(t *testing.T) {
		spec.Covers(t, "TIME-1")
		RequireExpired(t, alice, room, []string{"TIME-1"}, "still-sticky", "ttl-when-not-sticky", "$gone", "$ctl", "fake server")
	})
	t.Run("not-sticky", func(t *testing.T) {
		spec.Covers(t, "TIME-5")
		RequireNot(t, alice, room, "$gone", "fake server")
	})
	t.Run("check-remaining", func(t *testing.T) {
		spec.Covers(t, "ENC-1")
		ev := client.Find(alice.NewStream(client.Sync).Next(t, 0).Sticky(room), "$s")
		if !ev.Exists() {
			t.Fatalf("the fake server's sticky section should hold $s")
		}
		CheckRemaining(t, "remaining-time", alice, ev, 10*time.Minute, time.Second, "fake server")
	})
}
