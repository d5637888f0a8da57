// Package config holds every setting of Stickler in one struct, Settings, read once from the
// environment (Get). The README's settings table is generated from this file (go run
// ./cmd/stickler-docs; a unit test fails while the table is stale): each field's `env` tag
// names its variable(s), its comment says what it means, and the comment's last line
// "Default: ..." gives the default. A field tagged `by` names who reads it where that is not
// the tests: the scripts (run.sh, the image recipes' build.sh), which read the variable
// themselves and are listed here so that the table has one source, or a command
// (stickler-report, through this package).
//
// The names are Complement's where the meaning is the same, so a homeserver's Complement
// setup works unchanged.
package config

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultImage is the image built by servers/synapse/build.sh, used when
// COMPLEMENT_BASE_IMAGE is not set (run.sh always sets it).
const DefaultImage = "stickler-synapse:latest"

// Settings are what the environment says.
type Settings struct {
	// the project's recipe to build (if missing) and run, with its expectations: `synapse`,
	// `synapse-postgres` (Synapse on PostgreSQL), `synapse-reference` (Synapse with the
	// project's patches), `dendrite`, `mixed` (hs2 Dendrite, every other server Synapse) or
	// `mixed-engines` (hs1 Synapse on PostgreSQL, every other server Synapse on SQLite); not
	// together with `COMPLEMENT_BASE_IMAGE`
	// Default: `synapse`
	Server string `env:"STICKLER_SERVER" by:"run.sh, stickler-bench"`

	// image of every server under test (any image)
	// Default: `stickler-synapse:<recipe hash>` (built by `run.sh`)
	BaseImage string `env:"COMPLEMENT_BASE_IMAGE"` // as given: "" when unset (ImageFor gives DefaultImage then)

	// image of one server (mixed deployments), by server name ("hs1")
	// Default: the base image
	ServerImages map[string]string `env:"COMPLEMENT_BASE_IMAGE_HS1, _HS2, ..."`

	// how long a server may take to answer `/versions` with 200, counted from its
	// container's start (not from the wait for a start slot). A server that has not answered
	// by then but is still working (its log grows or its CPU time moves) is slow because the
	// machine is busy, not broken: the test log says so and the wait goes on while it keeps
	// working, up to 4 times this value; one that has stopped working fails at this value
	// Default: 60
	SpawnTimeout time.Duration `env:"COMPLEMENT_SPAWN_HS_TIMEOUT_SECS"`

	// `1`: print every client request and response
	// Default: off
	Debug bool `env:"COMPLEMENT_DEBUG"`

	// `1`: print server logs for passing tests too
	// Default: off (logs are printed for failing tests)
	AlwaysPrintLogs bool `env:"COMPLEMENT_ALWAYS_PRINT_SERVER_LOGS"`

	// variables with this prefix are passed into the containers, prefix removed
	// Default: none
	ShareEnvPrefix string `env:"COMPLEMENT_SHARE_ENV_PREFIX"`

	// the name containers use to reach the test process (federation peer)
	// Default: `host.docker.internal`
	HostRunningTest string `env:"COMPLEMENT_HOSTNAME_RUNNING_COMPLEMENT"`

	// `unstable` or `stable` wire names (table below)
	// Default: `unstable`
	Names string `env:"STICKLER_NAMES"`

	// expectations file for the image under test; empty for none
	// Default: the recipe's file with `STICKLER_SERVER`, none with `COMPLEMENT_BASE_IMAGE`
	Expectations string `env:"STICKLER_EXPECTATIONS" by:"run.sh"`

	// directory for `results.json` (the raw `go test -json` stream) and the report files;
	// the tests write each server's whole log to its `logs/` and where their time went to
	// `profile-*.json` (read by `./run.sh --bench`)
	// Default: none
	ReportDir string `env:"STICKLER_REPORT_DIR"`

	// `1`: a failed SHOULD requirement fails the run instead of being a warning
	// Default: off
	Strict string `env:"STICKLER_STRICT" by:"run.sh, stickler-report"`

	// how many tests run at once (`go test -parallel`); most of a test's time is waiting
	// Default: `6`
	Parallel string `env:"STICKLER_PARALLEL" by:"run.sh"`

	// run MAP-2 with this one schedule seed instead of CI's fixed seeds
	// Default: `1`, `2`
	MapSeed string `env:"STICKLER_MAP_SEED"`

	// `go test -timeout` of the suite
	// Default: `45m`
	Timeout string `env:"STICKLER_TIMEOUT" by:"run.sh"`

	// `1`: run the suite beside one CPU hog per core (`stress-ng --cpu N`, started and
	// stopped by `run.sh`), as CI does once per run to prove the verdict does not depend on
	// load; a number: that many hogs
	// Default: off
	LoadRehearsal string `env:"STICKLER_LOAD_REHEARSAL" by:"run.sh"`

	// Debian mirror for building the Debian root of the image recipes
	// Default: `http://deb.debian.org/debian`
	DebianMirror string `env:"STICKLER_DEBIAN_MIRROR" by:"build.sh"`

	// the run's name in side-by-side comparisons (`stickler-report -compare`), recorded in
	// its `summary.json`
	// Default: `STICKLER_SERVER`, else the image
	Label string `env:"STICKLER_LABEL" by:"stickler-report"`

	// the run's ID, set by `run.sh` for each run: every container and network the run makes
	// carries it (label `stickler.run`), so what a run left behind can be found and removed
	// Default: `adhoc` (outside `run.sh`)
	RunID string `env:"STICKLER_RUN_ID"`
}

// Load reads the settings from getenv, and the per-server images from environ (KEY=value
// lines, as os.Environ gives them). A malformed value is an error that names the variable.
func Load(getenv func(string) string, environ []string) (Settings, error) {
	s := Settings{
		Server:          getenv("STICKLER_SERVER"),
		BaseImage:       getenv("COMPLEMENT_BASE_IMAGE"),
		ServerImages:    map[string]string{},
		SpawnTimeout:    60 * time.Second,
		ShareEnvPrefix:  getenv("COMPLEMENT_SHARE_ENV_PREFIX"),
		HostRunningTest: getenv("COMPLEMENT_HOSTNAME_RUNNING_COMPLEMENT"),
		Names:           getenv("STICKLER_NAMES"),
		Expectations:    getenv("STICKLER_EXPECTATIONS"),
		ReportDir:       getenv("STICKLER_REPORT_DIR"),
		Strict:          getenv("STICKLER_STRICT"),
		Parallel:        getenv("STICKLER_PARALLEL"),
		MapSeed:         getenv("STICKLER_MAP_SEED"),
		Timeout:         getenv("STICKLER_TIMEOUT"),
		LoadRehearsal:   getenv("STICKLER_LOAD_REHEARSAL"),
		DebianMirror:    getenv("STICKLER_DEBIAN_MIRROR"),
		Label:           getenv("STICKLER_LABEL"),
		RunID:           getenv("STICKLER_RUN_ID"),
	}
	if s.HostRunningTest == "" {
		s.HostRunningTest = "host.docker.internal"
	}
	if s.Names == "" {
		s.Names = "unstable"
	}
	if s.Parallel == "" {
		s.Parallel = "6"
	}
	if s.Timeout == "" {
		s.Timeout = "45m"
	}
	if s.RunID == "" {
		s.RunID = "adhoc"
	}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if hs, ok := strings.CutPrefix(k, "COMPLEMENT_BASE_IMAGE_"); ok {
			if v := getenv(k); v != "" {
				s.ServerImages[strings.ToLower(hs)] = v
			}
		}
	}
	if v := getenv("COMPLEMENT_SPAWN_HS_TIMEOUT_SECS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return s, fmt.Errorf("COMPLEMENT_SPAWN_HS_TIMEOUT_SECS=%q: want a positive whole number of seconds", v)
		}
		s.SpawnTimeout = time.Duration(n) * time.Second
	}
	var err error
	if s.Debug, err = boolSetting(getenv, "COMPLEMENT_DEBUG"); err != nil {
		return s, err
	}
	if s.AlwaysPrintLogs, err = boolSetting(getenv, "COMPLEMENT_ALWAYS_PRINT_SERVER_LOGS"); err != nil {
		return s, err
	}
	return s, nil
}

func boolSetting(getenv func(string) string, name string) (bool, error) {
	switch strings.ToLower(getenv(name)) {
	case "", "0", "false", "no":
		return false, nil
	case "1", "true", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%s=%q: want 1 or 0", name, getenv(name))
}

var (
	once    sync.Once
	current Settings
	loadErr error
)

// Get returns the settings of this process, read from its environment at the first call.
func Get() (Settings, error) {
	once.Do(func() { current, loadErr = Load(os.Getenv, os.Environ()) })
	return current, loadErr
}

// Must returns the settings of this process, failing t on a malformed value.
func Must(t testing.TB) Settings {
	t.Helper()
	s, err := Get()
	if err != nil {
		t.Fatalf("bad setting: %v", err)
	}
	return s
}

// ImageFor returns the image for server name ("hs1"): its own, else the base image, else
// DefaultImage.
func (s Settings) ImageFor(name string) string {
	if img := s.ServerImages[name]; img != "" {
		return img
	}
	if s.BaseImage != "" {
		return s.BaseImage
	}
	return DefaultImage
}
