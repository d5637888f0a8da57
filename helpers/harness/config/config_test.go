package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// docs/settings.md holds the settings table generated from config.go, so it cannot drift.
func TestREADMETableIsFresh(t *testing.T) {
	root := filepath.Join("..", "..", "..")
	src, err := os.ReadFile(filepath.Join(root, SourcePath))
	if err != nil {
		t.Fatal(err)
	}
	table, err := Table(src)
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "docs", "settings.md"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := ReplaceTable(string(readme), table)
	if err != nil {
		t.Fatal(err)
	}
	if want != string(readme) {
		t.Errorf("docs/settings.md is stale: run go run ./cmd/stickler-docs from the repository root; expected the table\n%s", table)
	}
}

// Load reads every variable the struct names, except those only the scripts read, and no
// other; defaults apply; malformed values are errors naming the variable.
func TestLoad(t *testing.T) {
	var asked []string
	env := map[string]string{"COMPLEMENT_BASE_IMAGE_HS1": "img:1", "COMPLEMENT_BASE_IMAGE_HS2": "img:2", "COMPLEMENT_SPAWN_HS_TIMEOUT_SECS": "9",
		"COMPLEMENT_DEBUG": "1", "STICKLER_REPORT_DIR": "/r"}
	s, err := Load(func(k string) string { asked = append(asked, k); return env[k] },
		[]string{"COMPLEMENT_BASE_IMAGE_HS1=img:1", "COMPLEMENT_BASE_IMAGE_HS2=img:2", "PATH=/bin"})
	if err != nil {
		t.Fatal(err)
	}
	typ := reflect.TypeOf(Settings{})
	var named []string // each field's (first) variable
	for i := range typ.NumField() {
		f := typ.Field(i)
		env := strings.Split(f.Tag.Get("env"), ",")[0]
		named = append(named, env)
		if f.Tag.Get("by") == "" && !slices.Contains(asked, env) {
			t.Errorf("field %s: Load never reads %s", f.Name, env)
		}
	}
	for _, k := range asked {
		if !slices.Contains(named, k) && !strings.HasPrefix(k, "COMPLEMENT_BASE_IMAGE_HS") {
			t.Errorf("Load reads %s, which no field of Settings names", k)
		}
	}
	if s.BaseImage != "" || s.ImageFor("hs2") != "img:2" || s.ImageFor("hs1") != "img:1" || s.ImageFor("hs3") != DefaultImage || s.SpawnTimeout != 9*time.Second ||
		!s.Debug || s.AlwaysPrintLogs || s.Names != "unstable" || s.RunID != "adhoc" || s.ReportDir != "/r" || s.HostRunningTest != "host.docker.internal" {
		t.Errorf("expected the given values and the defaults, got %+v", s)
	}
	for k, v := range map[string]string{"COMPLEMENT_SPAWN_HS_TIMEOUT_SECS": "0", "COMPLEMENT_DEBUG": "maybe"} {
		_, err := Load(func(x string) string {
			if x == k {
				return v
			}
			return ""
		}, nil)
		if err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: expected an error naming it, got %v", k, v, err)
		}
	}
}
