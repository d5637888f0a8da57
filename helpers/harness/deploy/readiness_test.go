package deploy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"

	"stickler/helpers/harness/config"
)

// scripted is a fake server start: at each sample it has used cpu more CPU time and written
// log bytes (per sample), or the sample fails.
type scripted struct {
	cpu     time.Duration
	logs    int64
	fail    bool
	elapsed time.Duration // when this behaviour begins, from the start
	perCPU  float64       // the machine's load average per CPU meanwhile (0: unknown)
}

// play feeds a start watch samples every sampleEvery, following script, and returns the
// verdicts that are not keepWaiting with the time (from the start) each was given, up to the
// first failure or until the end.
func play(timeout, until time.Duration, script []scripted) []string {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w := newStartWatch(timeout, t0)
	var total time.Duration
	var out []string
	for at := time.Duration(0); at <= until; at += sampleEvery {
		var now scripted
		for _, s := range script {
			if at >= s.elapsed {
				now = s
			}
		}
		var err error
		if now.fail {
			err = fmt.Errorf("docker stats: no answer")
		}
		total += now.cpu
		w.perCPU = now.perCPU
		w.observe(t0.Add(at), progressSample{cpu: total, logBytes: now.logs}, err)
		switch w.judge(t0.Add(at)) {
		case slowButWorking:
			out = append(out, fmt.Sprintf("slow@%v", at))
		case stalled:
			return append(out, fmt.Sprintf("stalled@%v", at))
		case overHardLimit:
			return append(out, fmt.Sprintf("hard@%v", at))
		}
	}
	return append(out, "waiting")
}

func TestStartWatchDecisions(t *testing.T) {
	const timeout = 60 * time.Second
	busy := scripted{cpu: 800 * time.Millisecond, logs: 0}
	idle := scripted{cpu: 10 * time.Millisecond} // a server that is up but never answers
	cases := []struct {
		name   string
		script []scripted
		until  time.Duration
		want   string
	}{
		{"hung from the start fails at the spawn timeout", []scripted{idle}, 5 * time.Minute, "stalled@1m0s"},
		{"nothing at all (no CPU, no log) fails at the spawn timeout", []scripted{{}}, 5 * time.Minute, "stalled@1m0s"},
		{"unreadable progress counts as none", []scripted{{fail: true}}, 5 * time.Minute, "stalled@1m0s"},
		{"working within the timeout is just waiting", []scripted{busy}, 58 * time.Second, "waiting"},
		{"working on a busy machine is slow, then bounded by the hard limit", []scripted{busy}, 5 * time.Minute, "slow@1m0s hard@4m0s"},
		{"a log that keeps growing counts as working", []scripted{{logs: 120}}, 5 * time.Minute, "slow@1m0s hard@4m0s"},
		{"CPU below the idle bound with no log is not working", []scripted{{cpu: minCPU - time.Millisecond}}, 5 * time.Minute, "stalled@1m0s"},
		{"working, then stopping past the timeout fails once stalled", []scripted{busy, {elapsed: 90 * time.Second, cpu: 5 * time.Millisecond}}, 5 * time.Minute, "slow@1m0s stalled@1m38s"},
		{"stopped working well before the timeout fails at the timeout", []scripted{busy, {elapsed: 20 * time.Second}}, 5 * time.Minute, "stalled@1m0s"},
		{"stopped working just before the timeout: slow, then stalled", []scripted{busy, {elapsed: 56 * time.Second}}, 5 * time.Minute, "slow@1m0s stalled@1m4s"},
		{"on a machine 13 times over its CPUs, a starved start's little CPU time is work", []scripted{{cpu: 40 * time.Millisecond, perCPU: 13}}, 5 * time.Minute, "slow@1m0s hard@4m0s"},
		{"on a busy machine an idle server is still not working", []scripted{{cpu: 10 * time.Millisecond, perCPU: 13}}, 5 * time.Minute, "stalled@1m0s"},
		{"on a busy machine a start waiting 30 s on the disk is not stalled", []scripted{busy, {elapsed: 50 * time.Second, perCPU: 13}, {elapsed: 80 * time.Second, cpu: 800 * time.Millisecond, perCPU: 13}}, 5 * time.Minute, "slow@1m0s hard@4m0s"},
		{"on a busy machine a server that stopped fails after the longer window", []scripted{busy, {elapsed: 50 * time.Second, perCPU: 13}}, 5 * time.Minute, "slow@1m0s stalled@1m28s"},
		{"progress unreadable for a while past the timeout", []scripted{busy, {elapsed: 70 * time.Second, fail: true}}, 5 * time.Minute, "slow@1m0s stalled@1m18s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := strings.Join(play(timeout, c.until, c.script), " ")
			if got != c.want {
				t.Errorf("verdicts: got %q, want %q", got, c.want)
			}
		})
	}
}

// A spawn timeout shorter than the stall window still fails a server doing nothing at the
// timeout, not later.
func TestStartWatchShortTimeout(t *testing.T) {
	if got := strings.Join(play(4*time.Second, time.Minute, []scripted{{}}), " "); got != "stalled@4s" {
		t.Errorf("idle server, 4 s timeout: got %q, want %q", got, "stalled@4s")
	}
	if got := strings.Join(play(4*time.Second, time.Minute, []scripted{{cpu: time.Second}}), " "); got != "slow@4s hard@16s" {
		t.Errorf("busy server, 4 s timeout: got %q, want %q", got, "slow@4s hard@16s")
	}
}

// The same decisions against real containers and Docker's own progress figures: a container
// that burns CPU or keeps logging is waited for up to the hard limit (and said to be slow), an
// idle one fails at the spawn timeout. None of them ever answers /versions.
func TestStartWatchDocker(t *testing.T) {
	c, err := Docker()
	if err != nil {
		t.Skipf("skipped: this test starts containers and %v", err)
	}
	cfg, err := config.Get()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImageInspect(context.Background(), cfg.ImageFor("hs1")); err != nil {
		t.Skipf("skipped: image %s (COMPLEMENT_BASE_IMAGE) is not available: %v", cfg.ImageFor("hs1"), err)
	}
	if err := startGuards(); err != nil {
		t.Fatal(err)
	}
	// Long enough for two progress samples even when docker stats takes a second or two on a
	// busy machine (3 s was not, at load 9 on 2 CPUs).
	const timeout = 5 * time.Second
	cfg.SpawnTimeout = timeout
	cases := []struct {
		name, script, want, wantLog string
		at                          time.Duration // when it must fail, from the start
	}{
		// "never showed any work", or "stopped working" when a busy machine let the container's
		// own start count as work: both say it is idle.
		{"idle", "exec sleep 600", "CPU time not moving", "", timeout},
		{"burning-cpu", "while :; do :; done", "although it kept working", "is slow to start", hardLimitFactor * timeout},
		{"logging", "while :; do echo still starting; sleep 0.5; done", "although it kept working", "is slow to start", hardLimitFactor * timeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var said []string
			d := &Deployment{ID: newID(3), Config: cfg, docker: c, pairNet: map[[2]int]string{}, log: func(f string, a ...any) {
				mu.Lock()
				said = append(said, fmt.Sprintf(f, a...))
				mu.Unlock()
			}}
			liveMu.Lock()
			live[d] = true
			liveMu.Unlock()
			t.Cleanup(d.Destroy)
			port, err := freePort()
			if err != nil {
				t.Fatal(err)
			}
			s := &Server{Name: "hs1", Index: 1, Image: cfg.ImageFor("hs1"), dep: d, ClientURL: fmt.Sprintf("http://127.0.0.1:%d", port)}
			resp, err := c.ContainerCreate(context.Background(), &container.Config{
				Image: cfg.ImageFor("hs1"), Entrypoint: []string{"sh", "-c", tc.script}, Labels: d.labels(labelServer, s.Name),
			}, &container.HostConfig{}, nil, nil, fmt.Sprintf("stickler-%s-%s", d.ID, tc.name))
			if err != nil {
				t.Fatal(err)
			}
			s.ContainerID = resp.ID
			d.Servers = []*Server{s}
			began := time.Now()
			err = s.startAndWait(context.Background())
			took := time.Since(began)
			t.Logf("%s: failed after %v: %v", tc.name, took.Round(time.Millisecond), err)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("%s: want an error containing %q, got %v", tc.name, tc.want, err)
			}
			// The wait is judged every sampleEvery; Docker calls on a busy machine add a little.
			if took < tc.at || took > tc.at+2*sampleEvery+5*time.Second {
				t.Errorf("%s: failed after %v, want about %v (the decision is taken every %v)", tc.name, took.Round(time.Millisecond), tc.at, sampleEvery)
			}
			mu.Lock()
			log := strings.Join(said, "\n")
			mu.Unlock()
			if tc.wantLog == "" && log != "" {
				t.Errorf("%s: nothing should be said about a slow start of an idle server, got %q", tc.name, log)
			}
			if tc.wantLog != "" && !strings.Contains(log, tc.wantLog) {
				t.Errorf("%s: want the test log to say %q, it said %q", tc.name, tc.wantLog, log)
			}
		})
	}
}
