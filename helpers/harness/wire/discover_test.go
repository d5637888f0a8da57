package wire

import (
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"stickler/helpers/spec/marker"
)

func TestSupport(t *testing.T) {
	un, _ := Select("unstable")
	st, _ := Select("stable")
	unstableOnly := `{"versions":["v1.12"],"unstable_features":{"org.matrix.msc4354":true}}`
	stableFlag := `{"versions":["v1.12"],"unstable_features":{"org.matrix.msc4354":true,"org.matrix.msc4354.stable":true}}`
	nothing := `{"versions":["v1.12"],"unstable_features":{"org.matrix.msc4140":true}}`
	off := `{"versions":["v1.12"],"unstable_features":{"org.matrix.msc4354":false}}`
	for _, c := range []struct {
		name, versions string
		n              Names
		want           string // "" or a phrase the reason must hold
		lacks          string // the feature a not-implemented record names
	}{
		{"unstable names, unstable flag", unstableOnly, un, "", ""},
		{"unstable names, nothing", nothing, un, NotAdvertised, marker.Sticky},
		{"unstable names, flag false", off, un, NotAdvertised, marker.Sticky},
		{"stable names, unstable flag only", unstableOnly, st, StableUnsupported, marker.StickyStable},
		{"stable names, stable flag", stableFlag, st, "", ""},
		{"stable names, nothing", nothing, st, NotAdvertised, marker.Sticky},
	} {
		got := Support(gjson.Parse(c.versions), c.n)
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: Support = %q, want one holding %q", c.name, got, c.want)
		}
		if lacks, why := Lacks(gjson.Parse(c.versions), c.n); lacks != c.lacks || why != got {
			t.Errorf("%s: Lacks = %q, %q; want %q and Support's reason", c.name, lacks, why, c.lacks)
		}
	}
	// A released spec version with sticky events counts as the stable names.
	old := SpecVersions
	SpecVersions = []string{"v1.99"}
	defer func() { SpecVersions = old }()
	if got := Support(gjson.Parse(`{"versions":["v1.98","v1.99"],"unstable_features":{}}`), st); got != "" {
		t.Errorf("a server listing spec version v1.99 (with sticky events) should count as stable, got %q", got)
	}
}

func TestStableRemainingField(t *testing.T) {
	st, _ := Select("stable")
	if st.RemainingField != "sticky_duration_ttl_ms" {
		t.Errorf("stable remaining-time field = %q, want sticky_duration_ttl_ms (MSC4354 § Sync API changes)", st.RemainingField)
	}
}
