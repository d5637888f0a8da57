// Package tests holds the conformance tests for MSC4354 sticky events: scenarios only, one
// file per requirement group (README's Layout names them); the starting points they build on
// are in stickler/blueprints. Each test names the requirement IDs it checks with spec.Covers
// and lives in the file of the first one.
package tests

import (
	"testing"

	"stickler/helpers/harness/deploy"
)

func TestMain(m *testing.M) { deploy.Main(m) }
