// Package tests holds the conformance tests for MSC4354 sticky events, one file per
// requirement area. Each test names the requirement IDs it checks with spec.Covers.
package tests

import (
	"testing"

	"stickler/helpers/deploy"
)

func TestMain(m *testing.M) { deploy.Main(m) }
