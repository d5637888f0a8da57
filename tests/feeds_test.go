package tests

import (
	"testing"

	"stickler/helpers/client"
	"stickler/helpers/spec"
)

// overBoth runs body twice as subtests: over /sync covering syncIDs, and over Sliding Sync
// covering slidingIDs. Where no SSS requirement states the rule, the Sliding Sync run names
// the /sync one; its test name ("/sliding") says which feed failed.
func overBoth(t *testing.T, syncIDs, slidingIDs []string, body func(t *testing.T, kind client.Feed)) {
	t.Helper()
	t.Run("sync", func(t *testing.T) {
		spec.Covers(t, syncIDs...)
		t.Parallel()
		body(t, client.Sync)
	})
	t.Run("sliding", func(t *testing.T) {
		spec.Covers(t, slidingIDs...)
		t.Parallel()
		body(t, client.Sliding)
	})
}
