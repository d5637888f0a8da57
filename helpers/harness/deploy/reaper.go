package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"stickler/helpers/harness/config"
)

// Cleanup happens on every path:
//   - normal end, failure: t.Cleanup and Main destroy deployments;
//   - SIGINT/SIGTERM: a signal handler destroys live deployments, then exits;
//   - panic, test timeout, SIGKILL: a reaper process, started with the first deployment and
//     holding a pipe from this process, sees the pipe close and removes everything labelled
//     with this process's ID;
//   - anything still left (reaper killed too): the next run removes resources whose owning
//     process is gone (removeStale).

const reaperEnv = "STICKLER_REAPER_FOR"

// procID names this test process's resources.
var procID = newID(6)

func newID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// runID is the run's ID (STICKLER_RUN_ID; "adhoc" outside run.sh).
func runID() string {
	s, _ := config.Get() // a bad setting stops the tests in Main; the ID is read all the same
	return s.RunID
}

func init() {
	// The reaper is this same binary started again with reaperEnv set.
	if id := os.Getenv(reaperEnv); id != "" {
		reap(id)
		os.Exit(0)
	}
}

// reap waits until its parent closes standard input (the parent ended, however it ended),
// then removes what the parent left.
func reap(proc string) {
	_, _ = io.Copy(io.Discard, os.Stdin)
	c, err := Docker()
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	_, _ = removeLabelled(ctx, c, map[string]string{labelProc: proc})
}

var (
	// interrupted is set when SIGINT or SIGTERM arrived: the handler is removing the
	// deployments and will exit with 130; no new deployment starts.
	interrupted atomic.Bool
	// removedAfterSignal is closed once the handler has removed every deployment.
	removedAfterSignal = make(chan struct{})

	guardOnce sync.Once
	guardErr  error
	reaperIn  io.WriteCloser // kept open for the life of this process
)

// startGuards runs once before the first resource is created: it removes stale resources of
// dead runs, starts the reaper and installs the signal handler.
func startGuards() error {
	guardOnce.Do(func() {
		c, err := Docker()
		if err != nil {
			guardErr = err
			return
		}
		removeStale(c)
		guardErr = startReaper()
		if guardErr != nil {
			return
		}
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			s := <-sigs
			interrupted.Store(true)
			fmt.Fprintf(os.Stderr, "stickler: %v received, removing deployments\n", s)
			destroyAllLive()
			close(removedAfterSignal)
			os.Exit(130)
		}()
	})
	return guardErr
}

func startReaper() error {
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find own executable for the cleanup process: %w", err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), reaperEnv+"="+procID)
	// Its own process group, so a Ctrl-C aimed at the test run does not stop the cleanup.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("cannot start the cleanup process: %w", err)
	}
	go func() { _ = cmd.Wait() }()
	reaperIn = in
	return nil
}

// removeStale removes resources made on this host by processes that no longer exist.
func removeStale(c interface {
	ContainerList(context.Context, container.ListOptions) ([]container.Summary, error)
	NetworkList(context.Context, network.ListOptions) ([]network.Summary, error)
}) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	host, _ := os.Hostname()
	args := filters.NewArgs(filters.Arg("label", labelOwner), filters.Arg("label", labelHost+"="+host))
	dead := map[string]bool{}
	consider := func(labels map[string]string) {
		pid, err := strconv.Atoi(labels[labelPID])
		if err != nil || labels[labelProc] == "" || labels[labelProc] == procID {
			return
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			dead[labels[labelProc]] = true
		}
	}
	if cs, err := c.ContainerList(ctx, container.ListOptions{All: true, Filters: args}); err == nil {
		for _, ct := range cs {
			consider(ct.Labels)
		}
	}
	if ns, err := c.NetworkList(ctx, network.ListOptions{Filters: args}); err == nil {
		for _, nw := range ns {
			consider(nw.Labels)
		}
	}
	dc, err := Docker()
	if err != nil {
		return
	}
	for proc := range dead {
		if n, err := removeLabelled(ctx, dc, map[string]string{labelProc: proc}); n > 0 || err != nil {
			fmt.Fprintf(os.Stderr, "stickler: removed %d resource(s) left by an ended run (%s)%s\n", n, proc, errSuffix(err))
		}
	}
}

func errSuffix(err error) string {
	if err == nil {
		return ""
	}
	return "; some could not be removed: " + err.Error()
}
