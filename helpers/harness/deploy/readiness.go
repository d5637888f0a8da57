package deploy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"stickler/helpers/harness/profile"
)

// A spawn timeout must mean "this server is broken", not "the machine was busy". So a start is
// judged by whether the server is still working, not by the clock alone:
//   - the clock starts when the container starts (the wait for a start slot is not counted);
//   - a server that does not answer /versions within COMPLEMENT_SPAWN_HS_TIMEOUT_SECS and whose
//     log and CPU time have stopped moving is broken: it fails then;
//   - a server that has not answered by then but is still working (its log grows, or its CPU
//     time moves) is slow because the machine is busy: that is said in the test log, and the
//     wait goes on while it keeps working, up to hardLimitFactor times the timeout.

const (
	// hardLimitFactor times the spawn timeout bounds even a start that keeps working.
	hardLimitFactor = 4
	// sampleEvery is how often a start's progress (log size, CPU time) is read.
	sampleEvery = 2 * time.Second
	// stallAfter without progress, past the spawn timeout, means the server has stopped working.
	stallAfter = 10 * time.Second
	// minCPU of CPU time per sample counts as working; an idle server that is up but does not
	// answer (wrong port, hung listener) uses far less, a starting one far more even on a busy
	// machine.
	minCPU = 100 * time.Millisecond
)

// progressSample is what a server has done so far: CPU time used and log bytes written since
// the previous sample.
type progressSample struct {
	cpu      time.Duration // cumulative CPU time of the container
	logBytes int64         // log bytes written since the previous sample
}

// progressSource reads a server's progress; the real one asks Docker, unit tests fake it.
type progressSource interface {
	sample(ctx context.Context) (progressSample, error)
}

// verdict is what a start watch says about a start that has not answered yet.
type verdict int

const (
	keepWaiting    verdict = iota // within the spawn timeout, or past it and still working
	slowButWorking                // past the spawn timeout for the first time, still working: say so
	stalled                       // past the spawn timeout and not working: broken
	overHardLimit                 // past the hard limit although working
)

// startWatch judges one start from progress samples. It has no clock of its own: the caller
// passes the time, so the decision logic is tested without waiting.
type startWatch struct {
	timeout      time.Duration // COMPLEMENT_SPAWN_HS_TIMEOUT_SECS
	started      time.Time
	lastProgress time.Time     // when a sample last showed work
	worked       bool          // some sample showed work
	prevCPU      time.Duration // CPU time of the previous good sample
	havePrev     bool
	warned       bool
	cpuMoved     time.Duration // what the last sample that showed work saw
	logMoved     int64
	// perCPU is the machine's load average per CPU at the last sample (0: unknown). On a
	// machine busier than one runnable task per CPU a starting server gets only its share of
	// CPU time and may wait on the disk for seconds (seen at load 26 on 2 CPUs: a Synapse start
	// used under 100 ms per 2 s sample for 17 s, then answered): so the work threshold shrinks
	// with the share and the stall window grows with the load, up to maxStallScale.
	perCPU float64
}

// maxStallScale bounds how much a busy machine stretches the stall window (stallAfter).
const maxStallScale = 4

// idleCPU is the CPU time per sample that counts as work however busy the machine is: above
// what an idle server that is up uses (a hung listener, a wrong port).
const idleCPU = 20 * time.Millisecond

// busyScale is how many times more than one runnable task per CPU the machine has (at least 1).
func (w *startWatch) busyScale() float64 { return max(1, w.perCPU) }

// workThreshold is the CPU time per sample that counts as working on a machine this busy.
func (w *startWatch) workThreshold() time.Duration {
	return max(idleCPU, time.Duration(float64(minCPU)/w.busyScale()))
}

// stallWindow is how long without work, past the spawn timeout, means the server stopped.
func (w *startWatch) stallWindow() time.Duration {
	return min(time.Duration(float64(stallAfter)*min(w.busyScale(), maxStallScale)), w.timeout)
}

func newStartWatch(timeout time.Duration, started time.Time) *startWatch {
	return &startWatch{timeout: timeout, started: started, lastProgress: started}
}

func (w *startWatch) hardLimit() time.Duration { return hardLimitFactor * w.timeout }

// observe records a sample taken at now. A failed sample (err != nil) shows no work.
func (w *startWatch) observe(now time.Time, s progressSample, err error) {
	if err != nil {
		return
	}
	cpu := time.Duration(0)
	if w.havePrev && s.cpu > w.prevCPU {
		cpu = s.cpu - w.prevCPU
	}
	w.prevCPU, w.havePrev = s.cpu, true
	if cpu >= w.workThreshold() || s.logBytes > 0 {
		w.lastProgress, w.worked = now, true
		w.cpuMoved, w.logMoved = cpu, s.logBytes
	}
}

// judge says what to do at now about a start that has not answered yet.
func (w *startWatch) judge(now time.Time) verdict {
	elapsed := now.Sub(w.started)
	switch {
	case elapsed < w.timeout:
		return keepWaiting
	case !w.worked || now.Sub(w.lastProgress) >= w.stallWindow():
		return stalled
	case elapsed >= w.hardLimit():
		return overHardLimit
	case !w.warned:
		w.warned = true
		return slowButWorking
	}
	return keepWaiting
}

// dockerProgress reads a container's CPU time (docker stats) and how much it logged since the
// previous read.
type dockerProgress struct {
	s    *Server
	last time.Time
}

func (p *dockerProgress) sample(ctx context.Context) (progressSample, error) {
	var out progressSample
	st, err := p.s.dep.docker.ContainerStatsOneShot(ctx, p.s.ContainerID)
	if err != nil {
		return out, err
	}
	var stats container.StatsResponse
	err = json.NewDecoder(st.Body).Decode(&stats)
	st.Body.Close()
	if err != nil {
		return out, err
	}
	out.cpu = time.Duration(stats.CPUStats.CPUUsage.TotalUsage)
	now := time.Now()
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true}
	if !p.last.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", p.last.Unix(), p.last.Nanosecond())
	}
	rc, err := p.s.dep.docker.ContainerLogs(ctx, p.s.ContainerID, opts)
	if err != nil {
		return out, err
	}
	defer rc.Close()
	n, err := stdcopy.StdCopy(io.Discard, io.Discard, rc)
	if err != nil {
		return out, err
	}
	p.last = now
	out.logBytes = n
	return out, nil
}

// startAndWait starts the container and waits until it answers /versions with 200. The spawn
// timeout counts from the container's start, not from the wait for a start slot.
func (s *Server) startAndWait(ctx context.Context) error {
	asked := time.Now()
	select {
	case startSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-startSlots }()
	started := time.Now()
	if err := s.dep.docker.ContainerStart(ctx, s.ContainerID, container.StartOptions{}); err != nil {
		return fmt.Errorf("starting %s: %w", s.Name, err)
	}
	err := s.waitReady(ctx, started, &dockerProgress{s: s})
	if err == nil {
		s.ReadyIn = time.Since(started)
	}
	profile.RecordStart(profile.Start{At: asked, Test: s.dep.test, Server: s.Name, Fresh: !s.started,
		Queued: started.Sub(asked), Ready: time.Since(started), Failed: err != nil})
	s.started = true
	return err
}

// recordCPU notes the CPU time the container used since its start, for the run's profile.
func (s *Server) recordCPU(ctx context.Context) {
	st, err := s.dep.docker.ContainerStatsOneShot(ctx, s.ContainerID)
	if err != nil {
		return
	}
	defer st.Body.Close()
	var stats container.StatsResponse
	if json.NewDecoder(st.Body).Decode(&stats) == nil {
		profile.RecordServerCPU(profile.ServerCPU{Container: s.ContainerID, Server: s.Name, CPU: time.Duration(stats.CPUStats.CPUUsage.TotalUsage)})
	}
}

// waitReady polls /_matrix/client/versions until 200, the container exits, or the start
// watch gives up on it (see the top of this file).
func (s *Server) waitReady(ctx context.Context, started time.Time, progress progressSource) error {
	timeout := s.dep.Config.SpawnTimeout
	w := newStartWatch(timeout, started)
	hc := &http.Client{Timeout: 2 * time.Second}
	url := s.ClientURL + "/_matrix/client/versions"
	var last string
	var lastSample time.Time
	for {
		resp, err := hc.Get(url)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		info, err := s.dep.docker.ContainerInspect(ctx, s.ContainerID)
		if err == nil && info.State != nil && !info.State.Running && !info.State.Paused {
			return fmt.Errorf("%s (%s) exited with code %d before it was ready", s.Name, s.Image, info.State.ExitCode)
		}
		if now := time.Now(); now.Sub(lastSample) >= sampleEvery {
			sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			smp, err := progress.sample(sctx)
			cancel()
			w.perCPU = loadPerCPU()
			w.observe(time.Now(), smp, err)
			lastSample = now
		}
		now := time.Now()
		switch w.judge(now) {
		case stalled:
			idle := "it never showed any work (no log output, CPU time not moving)"
			if w.worked {
				idle = fmt.Sprintf("it stopped working (no log output, CPU time not moving for %v, %s) %v after its start", w.stallWindow(), machineLoad(), w.lastProgress.Sub(started).Round(time.Second))
			}
			return fmt.Errorf("%s (%s) did not answer GET /_matrix/client/versions with 200 within %v (COMPLEMENT_SPAWN_HS_TIMEOUT_SECS), and %s; last answer: %s",
				s.Name, s.Image, now.Sub(started).Round(time.Second), idle, last)
		case overHardLimit:
			return fmt.Errorf("%s (%s) did not answer GET /_matrix/client/versions with 200 within %v (%d x COMPLEMENT_SPAWN_HS_TIMEOUT_SECS) although it kept working (%s); last answer: %s",
				s.Name, s.Image, w.hardLimit(), hardLimitFactor, machineLoad(), last)
		case slowButWorking:
			s.dep.logf("deploy: %s (%s) is slow to start: no 200 from /versions after %v (COMPLEMENT_SPAWN_HS_TIMEOUT_SECS), but it is still working (CPU time +%v and %d log bytes within %v); the machine is busy (%s), so waiting while it works, up to %v",
				s.Name, s.Image, now.Sub(started).Round(time.Second), w.cpuMoved.Round(time.Millisecond), w.logMoved, sampleEvery, machineLoad(), w.hardLimit())
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// logf says something about the deployment where it is seen: in the test log of the test that
// made it (Deploy), else on standard error.
func (d *Deployment) logf(format string, args ...any) {
	d.mu.Lock()
	f := d.log
	d.mu.Unlock()
	if f != nil {
		f(format, args...)
		return
	}
	fmt.Fprintf(os.Stderr, "stickler: "+format+"\n", args...)
}

// loadPerCPU is the one-minute load average per CPU, 0 when unknown.
func loadPerCPU() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	var l float64
	if _, err := fmt.Sscan(string(b), &l); err != nil {
		return 0
	}
	return l / float64(runtime.NumCPU())
}

// machineLoad describes how busy the machine is, for messages about slow starts.
func machineLoad() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return fmt.Sprintf("%d CPUs", runtime.NumCPU())
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return fmt.Sprintf("%d CPUs", runtime.NumCPU())
	}
	return fmt.Sprintf("load average %s %s %s on %d CPUs", f[0], f[1], f[2], runtime.NumCPU())
}
