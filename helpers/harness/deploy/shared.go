package deploy

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"stickler/helpers/harness/config"
	"stickler/helpers/harness/profile"
)

// Tests that need no isolation share one deployment per size (fresh users and rooms per
// test), which keeps the suite fast: a server start costs seconds, a room milliseconds.
var (
	sharedMu   sync.Mutex
	shared     = map[int]*Deployment{}
	sharedErrs = map[int]error{}
)

// Shared returns the process-wide deployment of n servers, starting it at first use. Main
// destroys it when the tests end. A test that fails gets the servers' logs of its own span.
func Shared(t testing.TB, n int) *Deployment {
	t.Helper()
	sharedMu.Lock()
	d, err := shared[n], sharedErrs[n]
	if d == nil && err == nil {
		var cfg config.Settings
		if cfg, err = config.Get(); err == nil {
			d, err = newDeployment(context.Background(), cfg, n, nil, rootTest(t))
		}
		shared[n], sharedErrs[n] = d, err
	}
	sharedMu.Unlock()
	if err != nil {
		t.Fatalf("deploy: shared deployment of %d server(s): %v", n, err)
	}
	start := time.Now()
	t.Cleanup(func() {
		if t.Failed() || d.Config.AlwaysPrintLogs {
			d.PrintLogs(t, start.Add(-time.Second))
		}
	})
	return d
}

// Main runs the tests of a package that uses deployments and removes them all afterwards.
// Use it as the package's TestMain: func TestMain(m *testing.M) { deploy.Main(m) }.
func Main(m *testing.M) {
	// A bad setting is one clear line, not the same failure in every test.
	if _, err := config.Get(); err != nil {
		fmt.Fprintf(os.Stderr, "stickler: bad setting: %v\n", err)
		os.Exit(2)
	}
	cfg, _ := config.Get()
	if cfg.ReportDir != "" { // the run's profile, read by the benchmark (cmd/stickler-bench)
		profile.Begin(250 * time.Millisecond)
	}
	code := m.Run()
	if interrupted.Load() {
		// The tests ended because their servers were being removed: the signal handler
		// finishes the removal and exits with 130, the status of an interrupted run. Wait for
		// it, bounded in case a removal hangs.
		select {
		case <-removedAfterSignal:
		case <-time.After(3 * time.Minute):
		}
		os.Exit(130)
	}
	destroyAllLive()
	if cfg.ReportDir != "" {
		if _, err := profile.End(cfg.ReportDir, procID); err != nil {
			fmt.Fprintf(os.Stderr, "stickler: writing the run's profile: %v\n", err)
		}
	}
	os.Exit(code)
}

// ProcID is the label value that marks everything this process created.
func ProcID() string { return procID }
