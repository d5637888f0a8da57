package tests

import (
	"testing"

	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
	"stickler/helpers/harness/wire"
	"stickler/helpers/spec"
)

// A server with sticky events on says so in /versions; the suite relies on it to tell "not
// implemented" apart from "implemented wrongly".
func TestDiscover(t *testing.T) {
	spec.Covers(t, "DISCOVER-1")
	t.Parallel()
	s := deploy.Shared(t, 1).Server("hs1")
	anon := &client.Client{BaseURL: s.ClientURL}
	res := anon.MustDo(t, client.Request{Method: "GET", Path: []string{"_matrix", "client", "versions"}})
	// DISCOVER-1 is the unstable flag; whether the stable names are offered is reported by
	// the skips of the other tests ("stable names not supported").
	if why := wire.Support(res.JSON, wire.Names{Set: "unstable"}); why != "" {
		spec.Fatalf(t, spec.NotAdvertised, "expected unstable_features[%q] == true in /versions; %s (unstable_features: %s)", wire.UnstableFlag, why, res.JSON.Get("unstable_features").Raw)
	}
	if why := wire.Support(res.JSON, client.NamesFromEnv(t)); why != "" {
		t.Logf("with STICKLER_NAMES=%s: %s", client.NamesFromEnv(t).Set, why)
	}
}
