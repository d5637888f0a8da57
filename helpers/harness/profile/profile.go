// Package profile records where a test process's time goes, for the benchmark
// (cmd/stickler-bench, "Where the time goes"): every server start (how long it queued for a
// start slot, how long until ready), the CPU time each server container used, the test
// process's own CPU time, and, by sampling every goroutine's stack four times a second, what
// each top-level test was doing: starting servers, polling for a condition, sleeping so that
// real time passes, tearing down, waiting for a request, or running. It records only when the run
// has a report directory (STICKLER_REPORT_DIR) and writes DIR/profile-PROC.json at the end of
// the test process; nothing it does changes what a test does or decides.
package profile

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"syscall"
	"time"
)

// File is what one test process writes.
type File struct {
	Started    time.Time     `json:"started"`
	Ended      time.Time     `json:"ended"`
	ProcessCPU time.Duration `json:"process_cpu_ns"` // user + system CPU time of the test process
	// SampleEvery is the stack sampling interval; Samples how many were taken, SamplerCost
	// the wall time they took (the stacks are read with the world stopped).
	SampleEvery time.Duration `json:"sample_every_ns"`
	Samples     int           `json:"samples"`
	SamplerCost time.Duration `json:"sampler_cost_ns"`
	Starts      []Start       `json:"starts"`
	ServerCPU   []ServerCPU   `json:"server_cpu"`
	// Tests maps a top-level test to the time its goroutines spent in each state (sampled).
	Tests map[string]States `json:"tests"`
}

// Start is one server start: a fresh container or a restart of a crashed one with its data.
type Start struct {
	At     time.Time     `json:"at"`
	Test   string        `json:"test,omitempty"` // the top-level test that asked, "" when unknown
	Server string        `json:"server"`
	Fresh  bool          `json:"fresh"`
	Queued time.Duration `json:"queued_ns"` // waiting for a start slot (starts are bounded per core)
	Ready  time.Duration `json:"ready_ns"`  // container start until /versions answered 200
	Failed bool          `json:"failed,omitempty"`
}

// ServerCPU is the CPU time a server container used up to the moment it was stopped (a crash
// or the deployment's removal; a restarted container counts again from zero).
type ServerCPU struct {
	Container string        `json:"container"`
	Server    string        `json:"server"`
	CPU       time.Duration `json:"cpu_ns"`
}

// States is a test's wall time by what its goroutines were doing.
type States map[State]time.Duration

// State is what a test was doing at a sample. When a test's goroutines do several things at
// once the sample counts once, for the first of Order.
type State string

const (
	ServerStart State = "server start"    // deploying: queued for a start slot or starting
	Teardown    State = "teardown"        // removing its deployment
	Polling     State = "polling"         // client.Poll / Wait / SyncUntil / bound.Await
	Sleep       State = "real-time sleep" // time.Sleep called by a test or blueprint
	Request     State = "request"         // waiting for an HTTP answer (a long-polling /sync too)
	Blocked     State = "other wait"      // blocked in the suite's own code: a channel, a lock, a peer's request
	Running     State = "running"         // on or ready for a CPU in the suite's own code
	Queued      State = "parallel wait"   // a subtest paused in t.Parallel
)

// Order ranks the states (see State).
var Order = []State{ServerStart, Teardown, Polling, Sleep, Request, Blocked, Running, Queued}

var (
	mu      sync.Mutex
	enabled bool
	file    = File{Tests: map[string]States{}}
	stop    chan struct{}
	done    chan struct{}
	owner   = map[int64]string{} // goroutine ID -> top-level test it was last seen running
)

// Enabled says whether this process records (Begin was called).
func Enabled() bool {
	mu.Lock()
	defer mu.Unlock()
	return enabled
}

// Begin starts recording, sampling stacks every interval.
func Begin(every time.Duration) {
	mu.Lock()
	defer mu.Unlock()
	if enabled {
		return
	}
	enabled = true
	file = File{Started: time.Now(), SampleEvery: every, Tests: map[string]States{}}
	owner = map[int64]string{}
	stop, done = make(chan struct{}), make(chan struct{})
	go sampler(every, stop, done)
}

// RecordStart notes a server start (no-op unless recording).
func RecordStart(s Start) {
	mu.Lock()
	defer mu.Unlock()
	if enabled {
		file.Starts = append(file.Starts, s)
	}
}

// RecordServerCPU notes a container's CPU time at its stop (no-op unless recording).
func RecordServerCPU(c ServerCPU) {
	mu.Lock()
	defer mu.Unlock()
	if enabled {
		file.ServerCPU = append(file.ServerCPU, c)
	}
}

// End stops the sampler and writes DIR/profile-PROC.json; it returns the file's path ("" when
// no test ran, nothing written).
func End(dir, proc string) (string, error) {
	mu.Lock()
	if !enabled {
		mu.Unlock()
		return "", nil
	}
	s, d := stop, done
	mu.Unlock()
	close(s)
	<-d
	mu.Lock()
	defer mu.Unlock()
	enabled = false
	file.Ended = time.Now()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		file.ProcessCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if len(file.Starts) == 0 && len(file.Tests) == 0 {
		return "", nil // no test ran (go test -list, as run.sh does first)
	}
	b, err := json.MarshalIndent(file, "", " ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("profile-%s.json", proc))
	return path, os.WriteFile(path, b, 0o644)
}

// Read reads every profile-*.json of a directory (one per test process).
func Read(dir string) ([]File, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "profile-*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var out []File
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var f File
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("%s: %v", p, err)
		}
		out = append(out, f)
	}
	return out, nil
}

func sampler(every time.Duration, stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	tick := time.NewTicker(every)
	defer tick.Stop()
	buf := make([]byte, 1<<20)
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		began := time.Now()
		n := runtime.Stack(buf, true)
		for n == len(buf) && len(buf) < 64<<20 {
			buf = make([]byte, 2*len(buf))
			n = runtime.Stack(buf, true)
		}
		mu.Lock()
		states := classify(parseStacks(buf[:n]), owner)
		for test, st := range states {
			if file.Tests[test] == nil {
				file.Tests[test] = States{}
			}
			file.Tests[test][st] += every
		}
		file.Samples++
		file.SamplerCost += time.Since(began)
		mu.Unlock()
	}
}
