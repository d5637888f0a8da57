package tests

import (
	"testing"

	"stickler/blueprints"
	"stickler/helpers/client"
	"stickler/helpers/deploy"
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
	if !blueprints.Advertises(res.JSON, client.NamesFromEnv(t)) {
		t.Fatalf("expected unstable_features[\"org.matrix.msc4354\"] == true in /versions (with STICKLER_NAMES=stable also \"org.matrix.msc4354.stable\"), got unstable_features %s", res.JSON.Get("unstable_features").Raw)
	}
}
