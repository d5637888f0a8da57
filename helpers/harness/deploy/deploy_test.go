package deploy_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"

	"stickler/blueprints"
	"stickler/helpers/harness/client"
	"stickler/helpers/harness/deploy"
)

func TestMain(m *testing.M) { deploy.Main(m) }

// Two servers really federate: a room made on hs1 is joined from hs2 and messages flow both ways.
func TestTwoServersFederate(t *testing.T) {
	deploy.RequireDocker(t)
	start := time.Now()
	d := deploy.Deploy(t, 2)
	t.Logf("two servers ready in %v", time.Since(start).Round(time.Millisecond))
	alice := blueprints.NewUser(t, d.Server("hs1"), "alice")
	bob := blueprints.NewUser(t, d.Server("hs2"), "bob")
	room := alice.CreateRoom(t, client.PublicRoom(""))
	bob.JoinRoom(t, room, "hs1")
	ev := bob.SendText(t, room, "hello from hs2")
	alice.NewStream(client.Sync, client.Filter("")).MustSyncUntil(t, client.DefaultWait, client.Responds("bob's message on hs1", func(r client.SyncResponse) error {
		return client.HasEvent(r.Timeline(room), ev, "the timeline")
	}))
}

// resourcesOf counts containers and networks labelled with a process ID.
func resourcesOf(t *testing.T, proc string) int {
	t.Helper()
	c, err := deploy.Docker()
	if err != nil {
		t.Fatal(err)
	}
	args := filters.NewArgs(filters.Arg("label", "stickler.proc="+proc))
	cs, err := c.ContainerList(context.Background(), container.ListOptions{All: true, Filters: args})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := c.NetworkList(context.Background(), network.ListOptions{Filters: args})
	if err != nil {
		t.Fatal(err)
	}
	return len(cs) + len(ns)
}

// The child half of the cleanup tests: deploy, say so, then end the way the parent asked.
func TestCleanupChild(t *testing.T) {
	how := os.Getenv("STICKLER_CLEANUP_CHILD")
	if how == "" {
		t.Skip("skipped: helper for TestCleanupOn*, runs only as their child process")
	}
	d := deploy.Deploy(t, 1)
	fmt.Printf("DEPLOYED %s %s\n", deploy.ProcID(), d.ID)
	switch how {
	case "panic":
		panic("deliberate panic to test cleanup")
	case "fail":
		t.Fatal("deliberate failure to test cleanup")
	case "wait":
		time.Sleep(2 * time.Minute) // the parent interrupts us long before this
	}
}

func runChild(t *testing.T, how string, interrupt bool) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCleanupChild$", "-test.v")
	cmd.Env = append(os.Environ(), "STICKLER_CLEANUP_CHILD="+how)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	proc := ""
	sc := bufio.NewScanner(out)
	var seen []string
	for sc.Scan() {
		line := sc.Text()
		seen = append(seen, line)
		if f := strings.Fields(line); len(f) == 3 && f[0] == "DEPLOYED" {
			proc = f[1]
			if interrupt {
				_ = cmd.Process.Signal(syscall.SIGINT)
			}
		}
	}
	_ = cmd.Wait()
	if proc == "" {
		t.Fatalf("child never reported its deployment; its output:\n%s", strings.Join(seen, "\n"))
	}
	return proc
}

// waitGone polls until nothing labelled with proc is left.
func waitGone(t *testing.T, proc, path string) {
	t.Helper()
	what := fmt.Sprintf("the resources of process %s to be gone after a %s", proc, path)
	client.Wait(t, 60*time.Second, what, 200*time.Millisecond, func(time.Duration) error {
		if n := resourcesOf(t, proc); n > 0 {
			return fmt.Errorf("%d labelled container(s)/network(s) are still present", n)
		}
		return nil
	})
}

func TestCleanupOnFailure(t *testing.T) {
	deploy.RequireDocker(t)
	waitGone(t, runChild(t, "fail", false), "failing test")
}

func TestCleanupOnPanic(t *testing.T) {
	deploy.RequireDocker(t)
	waitGone(t, runChild(t, "panic", false), "panic")
}

func TestCleanupOnInterrupt(t *testing.T) {
	deploy.RequireDocker(t)
	waitGone(t, runChild(t, "wait", true), "SIGINT")
}
