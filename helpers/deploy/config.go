package deploy

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// DefaultImage is the image built by blueprints/images/synapse/build.sh.
const DefaultImage = "stickler-synapse:latest"

// Config is what the environment says about deployments. The names are Complement's where the
// meaning is the same, so a homeserver's Complement setup works unchanged.
type Config struct {
	BaseImage       string            // COMPLEMENT_BASE_IMAGE
	ServerImages    map[string]string // COMPLEMENT_BASE_IMAGE_HS1 ... (key "hs1")
	SpawnTimeout    time.Duration     // COMPLEMENT_SPAWN_HS_TIMEOUT_SECS
	Debug           bool              // COMPLEMENT_DEBUG
	AlwaysPrintLogs bool              // COMPLEMENT_ALWAYS_PRINT_SERVER_LOGS
	ShareEnvPrefix  string            // COMPLEMENT_SHARE_ENV_PREFIX
	HostRunningTest string            // COMPLEMENT_HOSTNAME_RUNNING_COMPLEMENT
	RunID           string            // STICKLER_RUN_ID (set by run.sh), labels everything
}

// ConfigFromEnv reads the settings; a malformed value is an error that names the variable.
func ConfigFromEnv() (Config, error) {
	c := Config{
		BaseImage:       os.Getenv("COMPLEMENT_BASE_IMAGE"),
		ServerImages:    map[string]string{},
		SpawnTimeout:    60 * time.Second,
		ShareEnvPrefix:  os.Getenv("COMPLEMENT_SHARE_ENV_PREFIX"),
		HostRunningTest: os.Getenv("COMPLEMENT_HOSTNAME_RUNNING_COMPLEMENT"),
		RunID:           os.Getenv("STICKLER_RUN_ID"),
	}
	if c.BaseImage == "" {
		c.BaseImage = DefaultImage
	}
	if c.HostRunningTest == "" {
		c.HostRunningTest = "host.docker.internal"
	}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if hs, ok := strings.CutPrefix(k, "COMPLEMENT_BASE_IMAGE_"); ok && v != "" {
			c.ServerImages[strings.ToLower(hs)] = v
		}
	}
	if s := os.Getenv("COMPLEMENT_SPAWN_HS_TIMEOUT_SECS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return c, fmt.Errorf("COMPLEMENT_SPAWN_HS_TIMEOUT_SECS=%q: want a positive whole number of seconds", s)
		}
		c.SpawnTimeout = time.Duration(n) * time.Second
	}
	var err error
	if c.Debug, err = boolEnv("COMPLEMENT_DEBUG"); err != nil {
		return c, err
	}
	if c.AlwaysPrintLogs, err = boolEnv("COMPLEMENT_ALWAYS_PRINT_SERVER_LOGS"); err != nil {
		return c, err
	}
	return c, nil
}

// ImageFor returns the image for server name ("hs1").
func (c Config) ImageFor(name string) string {
	if img := c.ServerImages[name]; img != "" {
		return img
	}
	return c.BaseImage
}

// sharedEnv returns the variables passed into every container: those starting with the share
// prefix, with the prefix removed (Complement's rule).
func (c Config) sharedEnv() []string {
	if c.ShareEnvPrefix == "" {
		return nil
	}
	var out []string
	for _, kv := range os.Environ() {
		if rest, ok := strings.CutPrefix(kv, c.ShareEnvPrefix); ok && rest != "" && !strings.HasPrefix(rest, "=") {
			out = append(out, rest)
		}
	}
	return out
}

func boolEnv(name string) (bool, error) {
	switch strings.ToLower(os.Getenv(name)) {
	case "", "0", "false", "no":
		return false, nil
	case "1", "true", "yes":
		return true, nil
	}
	return false, fmt.Errorf("%s=%q: want 1 or 0", name, os.Getenv(name))
}
