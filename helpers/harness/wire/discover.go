package wire

import (
	"fmt"
	"slices"

	"github.com/tidwall/gjson"

	"stickler/helpers/spec/marker"
)

// UnstableFlag is the unstable_features key of /versions that announces sticky events under
// the unstable names (MSC4354 § Unstable Prefix); a not-implemented record names it as the
// feature a server lacks (marker.Sticky).
const UnstableFlag = marker.Sticky

// SpecVersions are the released Matrix spec versions that contain sticky events. None does
// yet; when one does, add it here ("v1.NN"), and a server listing it in /versions counts as
// implementing the stable names.
var SpecVersions = []string{}

// The words of the reasons a server's sticky tests are skipped (for people: the report reads
// the kind and the feature of the skip's not-implemented record, never these words).
const (
	NotAdvertised     = "server does not advertise " + UnstableFlag
	StableUnsupported = "stable names not supported"
)

// Support reads a /versions answer and says whether the server implements sticky events under
// the names n: "" when it does, else the reason its sticky tests are skipped (Lacks).
func Support(versions gjson.Result, n Names) string {
	_, why := Lacks(versions, n)
	return why
}

// Lacks reads a /versions answer and says what the server lacks of sticky events under the
// names n: the feature a not-implemented record names and the reason its sticky tests are
// skipped, both "" when it lacks nothing. With unstable names the unstable flag is enough. With
// stable names the server must advertise a spec version of SpecVersions or the stable flag; a
// server with only the unstable flag lacks the stable names (marker.StickyStable, "stable names
// not supported"), one with neither lacks the feature itself (UnstableFlag).
func Lacks(versions gjson.Result, n Names) (feature, why string) {
	unstableOn := versions.Get("unstable_features."+Escape(UnstableFlag)).Type == gjson.True
	if n.Set != "stable" {
		if unstableOn {
			return "", ""
		}
		return UnstableFlag, NotAdvertised + " in /versions: sticky events not implemented or not enabled"
	}
	if versions.Get("unstable_features."+Escape(n.VersionsFlag)).Type == gjson.True {
		return "", ""
	}
	for _, v := range versions.Get("versions").Array() {
		if slices.Contains(SpecVersions, v.Str) {
			return "", ""
		}
	}
	if unstableOn {
		return marker.StickyStable, fmt.Sprintf("%s: the server advertises only %s (unstable names), neither %s nor a spec version with sticky events; run with STICKLER_NAMES=unstable", StableUnsupported, UnstableFlag, n.VersionsFlag)
	}
	return UnstableFlag, fmt.Sprintf("%s in /versions, nor %s or a spec version with sticky events: sticky events not implemented or not enabled", NotAdvertised, n.VersionsFlag)
}
