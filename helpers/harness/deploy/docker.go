package deploy

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
)

// Labels carried by everything the harness creates. `stickler` marks ownership; run, proc and
// pid say which process made it, so leftovers of a killed run can be found and removed.
const (
	labelOwner      = "stickler"
	labelRun        = "stickler.run"
	labelProc       = "stickler.proc"
	labelPID        = "stickler.pid"
	labelHost       = "stickler.host"
	labelDeployment = "stickler.deployment"
	labelServer     = "stickler.server"
)

var (
	dockerOnce   sync.Once
	dockerClient *client.Client
	dockerErr    error
)

// Docker returns the process's Docker client, checking once that the engine answers.
func Docker() (*client.Client, error) {
	dockerOnce.Do(func() {
		c, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
		if err != nil {
			dockerErr = fmt.Errorf("cannot set up a Docker client: %w (is DOCKER_HOST right?)", err)
			return
		}
		if _, err := c.Ping(context.Background()); err != nil {
			dockerErr = fmt.Errorf("cannot reach the Docker engine: %w (start Docker, or set DOCKER_HOST)", err)
			return
		}
		dockerClient = c
	})
	return dockerClient, dockerErr
}

// procLabels are the labels of every resource this process creates.
func procLabels() map[string]string {
	host, _ := os.Hostname()
	return map[string]string{
		labelOwner: "1",
		labelRun:   runID(),
		labelProc:  procID,
		labelPID:   strconv.Itoa(os.Getpid()),
		labelHost:  host,
	}
}

// removeLabelled force-removes every container and network carrying all the given labels and
// returns how many it removed. Errors on single resources are collected, not fatal.
func removeLabelled(ctx context.Context, c *client.Client, match map[string]string) (int, error) {
	args := filters.NewArgs()
	for k, v := range match {
		args.Add("label", k+"="+v)
	}
	n := 0
	var firstErr error
	containers, err := c.ContainerList(ctx, container.ListOptions{All: true, Filters: args})
	if err != nil {
		return 0, err
	}
	for _, ct := range containers {
		if ct.State == "paused" {
			_ = c.ContainerUnpause(ctx, ct.ID)
		}
		if err := c.ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !alreadyGone(err) && firstErr == nil {
			firstErr = err
		} else if err == nil {
			n++
		}
	}
	nets, err := c.NetworkList(ctx, network.ListOptions{Filters: args})
	if err != nil {
		return n, err
	}
	for _, nw := range nets {
		if err := c.NetworkRemove(ctx, nw.ID); err != nil && !alreadyGone(err) && firstErr == nil {
			firstErr = err
		} else if err == nil {
			n++
		}
	}
	return n, firstErr
}

// alreadyGone says whether a removal failed only because another cleaner got there first:
// the resource is gone, or its removal is already under way (the signal handler, the test's
// own cleanup and the cleanup process may meet on the same container). That is done, not an
// error.
func alreadyGone(err error) bool {
	if cerrdefs.IsNotFound(err) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "already in progress") || strings.Contains(msg, "is marked for removal") ||
		strings.Contains(msg, "No such container") || strings.Contains(msg, "not found")
}

// RequireDocker skips the test, saying why, when no Docker engine answers (for the deployer's
// and the peer's own tests, which start containers).
func RequireDocker(t testing.TB) {
	t.Helper()
	if _, err := Docker(); err != nil {
		t.Skipf("skipped: these tests start containers and %v", err)
	}
}
