package wire

import (
	"fmt"
	"slices"

	"github.com/tidwall/gjson"
)

// UnstableFlag is the unstable_features key of /versions that announces sticky events under
// the unstable names (MSC4354 § Unstable Prefix).
const UnstableFlag = "org.matrix.msc4354"

// SpecVersions are the released Matrix spec versions that contain sticky events. None does
// yet; when one does, add it here ("v1.NN"), and a server listing it in /versions counts as
// implementing the stable names.
var SpecVersions = []string{}

// Reasons a server's sticky tests are skipped. The report recognises them in skip messages,
// so they are the exact words of the skip.
const (
	NotAdvertised     = "server does not advertise " + UnstableFlag
	StableUnsupported = "stable names not supported"
)

// Support reads a /versions answer and says whether the server implements sticky events under
// the names n: "" when it does, else the reason its sticky tests are skipped. With unstable
// names the unstable flag is enough. With stable names the server must advertise a spec version
// of SpecVersions or the stable flag; a server with only the unstable flag is reported as
// "stable names not supported", one with neither as not advertising the feature at all.
func Support(versions gjson.Result, n Names) string {
	unstableOn := versions.Get("unstable_features."+Escape(UnstableFlag)).Type == gjson.True
	if n.Set != "stable" {
		if unstableOn {
			return ""
		}
		return NotAdvertised + " in /versions: sticky events not implemented or not enabled"
	}
	if versions.Get("unstable_features."+Escape(n.VersionsFlag)).Type == gjson.True {
		return ""
	}
	for _, v := range versions.Get("versions").Array() {
		if slices.Contains(SpecVersions, v.Str) {
			return ""
		}
	}
	if unstableOn {
		return fmt.Sprintf("%s: the server advertises only %s (unstable names), neither %s nor a spec version with sticky events; run with STICKLER_NAMES=unstable", StableUnsupported, UnstableFlag, n.VersionsFlag)
	}
	return fmt.Sprintf("%s in /versions, nor %s or a spec version with sticky events: sticky events not implemented or not enabled", NotAdvertised, n.VersionsFlag)
}
