package blueprints

import (
	"testing"

	"stickler/helpers/harness/client"
	"stickler/helpers/spec"
)

// OverBothFeeds runs body twice as parallel subtests: over /sync covering syncIDs, and over
// Sliding Sync covering slidingIDs. Where no SSS requirement states the rule, the Sliding Sync
// run names the /sync one; its test name ("/sliding") says which feed failed. The test itself
// runs in parallel with the others (it calls t.Parallel): a top-level test that does not is run
// alone, before every parallel one, and the suite's 19 such tests took its first six minutes.
func OverBothFeeds(t *testing.T, syncIDs, slidingIDs []string, body func(t *testing.T, feed client.Feed)) {
	t.Helper()
	t.Parallel()
	for _, run := range []struct {
		feed client.Feed
		ids  []string
	}{{client.Sync, syncIDs}, {client.Sliding, slidingIDs}} {
		t.Run(string(run.feed), func(t *testing.T) {
			spec.Covers(t, run.ids...)
			t.Parallel()
			body(t, run.feed)
		})
	}
}
