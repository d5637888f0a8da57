package deploy

import (
	"os"
	"strings"
)

// sharedEnv returns the variables passed into every container: those starting with the share
// prefix (config.Settings.ShareEnvPrefix), with the prefix removed (Complement's rule).
func sharedEnv(prefix string) []string {
	if prefix == "" {
		return nil
	}
	var out []string
	for _, kv := range os.Environ() {
		if rest, ok := strings.CutPrefix(kv, prefix); ok && rest != "" && !strings.HasPrefix(rest, "=") {
			out = append(out, rest)
		}
	}
	return out
}
