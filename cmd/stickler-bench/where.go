package main

// "Where the time goes" of one suite run: the critical path (the tests that end last and what
// the last one spent its time on), the server starts, the CPU time of the servers and of the
// test process, real-time sleeps against polling waits, and how busy the cores were (a
// timeline). It reads the run's go test -json stream (results.json), the test process's
// profile (profile-*.json beside it, written by helpers/harness/profile when the run has a
// report directory) and, for a run the benchmark started itself, the machine's CPU samples.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"stickler/helpers/harness/profile"
)

// event is one line of go test -json.
type event struct {
	Time    time.Time
	Action  string
	Package string
	Test    string
}

func readEvents(path string) ([]event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var ev event
		if json.Unmarshal(sc.Bytes(), &ev) == nil && !ev.Time.IsZero() {
			out = append(out, ev)
		}
	}
	return out, sc.Err()
}

// span is one top-level test's life in the run.
type span struct {
	Name    string
	Run     time.Time // "run": the test began (a parallel one then pauses)
	Cont    time.Time // it got a parallel slot ("cont"; Run when it never paused)
	End     time.Time // pass, fail or skip
	Outcome string
}

func (s span) waited() time.Duration { return s.Cont.Sub(s.Run) }
func (s span) ran() time.Duration    { return s.End.Sub(s.Cont) }

// spans reads the top-level tests' lives from the events, in the order they ended.
func spans(evs []event) []span {
	byName := map[string]*span{}
	var order []*span
	for _, ev := range evs {
		if ev.Test == "" || strings.Contains(ev.Test, "/") {
			continue
		}
		key := ev.Package + " " + ev.Test
		s := byName[key]
		switch ev.Action {
		case "run":
			s = &span{Name: ev.Test, Run: ev.Time, Cont: ev.Time}
			byName[key] = s
			order = append(order, s)
		case "cont":
			if s != nil && s.Cont.Equal(s.Run) {
				s.Cont = ev.Time
			}
		case "pass", "fail", "skip":
			if s != nil {
				s.End, s.Outcome = ev.Time, ev.Action
			}
		}
	}
	var out []span
	for _, s := range order {
		if !s.End.IsZero() {
			out = append(out, *s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].End.Before(out[j].End) })
	return out
}

// cpuSample is one reading of /proc/stat's cpu line and the load average.
type cpuSample struct {
	At          time.Time
	Busy, Total uint64 // jiffies since boot: busy (all but idle and iowait) and all
	Load1       float64
}

// parseProcStat reads the aggregate cpu line of /proc/stat.
func parseProcStat(text string) (busy, total uint64, err error) {
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) < 5 || f[0] != "cpu" {
			continue
		}
		for i, v := range f[1:] {
			if i >= 8 { // guest time is already in user and nice
				break
			}
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return 0, 0, fmt.Errorf("/proc/stat: %q: %v", l, err)
			}
			total += n
			if i != 3 && i != 4 { // idle, iowait
				busy += n
			}
		}
		return busy, total, nil
	}
	return 0, 0, fmt.Errorf("/proc/stat: no cpu line")
}

func readCPUSample() (cpuSample, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}, err
	}
	busy, total, err := parseProcStat(string(b))
	if err != nil {
		return cpuSample{}, err
	}
	s := cpuSample{At: time.Now(), Busy: busy, Total: total}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			s.Load1, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	return s, nil
}

// sampleCPU reads /proc/stat every interval until stop is closed, then sends what it read.
func sampleCPU(every time.Duration, stop <-chan struct{}) <-chan []cpuSample {
	out := make(chan []cpuSample, 1)
	go func() {
		var all []cpuSample
		if s, err := readCPUSample(); err == nil {
			all = append(all, s)
		}
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				if s, err := readCPUSample(); err == nil {
					all = append(all, s)
				}
				out <- all
				return
			case <-tick.C:
				if s, err := readCPUSample(); err == nil {
					all = append(all, s)
				}
			}
		}
	}()
	return out
}

// bucket is one step of the timeline.
type bucket struct {
	From       time.Duration // from the run's start
	Busy       float64       // share of all cores busy, 0..1; -1 when not sampled
	Load1      float64       // the highest 1-minute load average seen in it; -1 when not sampled
	Tests      float64       // top-level tests running (after their parallel slot), on average
	Starts     int           // server starts begun in it
	sampledCPU bool
}

// timeline folds CPU samples, test spans and server starts into steps of width from start to
// end.
func timeline(start, end time.Time, width time.Duration, samples []cpuSample, ss []span, starts []profile.Start) []bucket {
	if !end.After(start) {
		return nil
	}
	n := int((end.Sub(start) + width - 1) / width)
	bs := make([]bucket, n)
	busy, total := make([]uint64, n), make([]uint64, n)
	for i := range bs {
		bs[i] = bucket{From: time.Duration(i) * width, Busy: -1, Load1: -1}
	}
	index := func(at time.Time) int { return min(max(int(at.Sub(start)/width), 0), n-1) }
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		if b.At.Before(start) || a.At.After(end) {
			continue
		}
		k := index(a.At.Add(b.At.Sub(a.At) / 2))
		busy[k] += b.Busy - a.Busy
		total[k] += b.Total - a.Total
		bs[k].Load1 = max(bs[k].Load1, b.Load1)
	}
	for k := range bs {
		if total[k] > 0 {
			bs[k].Busy = float64(busy[k]) / float64(total[k])
		}
	}
	for _, s := range ss {
		for k := range bs {
			from := start.Add(bs[k].From)
			to := from.Add(width)
			overlap := earlier(to, s.End).Sub(later(from, s.Cont))
			if overlap > 0 {
				bs[k].Tests += overlap.Seconds() / width.Seconds()
			}
		}
	}
	for _, st := range starts {
		if !st.At.Before(start) && st.At.Before(end) {
			bs[index(st.At)].Starts++
		}
	}
	return bs
}

// chart draws the timeline as text, one line per step.
func chart(bs []bucket, width time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "timeline, one line per %v: cores busy (%% of all; bar: 20 cells = 100%%), highest 1-min load average, tests running (average), server starts begun\n", width)
	for _, x := range bs {
		at := fmt.Sprintf("%2d:%02d", int(x.From.Minutes()), int(x.From.Seconds())%60)
		bar, pct, load := strings.Repeat(" ", 20), "   -", "   -"
		if x.Busy >= 0 {
			cells := int(x.Busy*20 + 0.5)
			bar = strings.Repeat("#", cells) + strings.Repeat(".", 20-cells)
			pct = fmt.Sprintf("%3.0f%%", x.Busy*100)
		}
		if x.Load1 >= 0 {
			load = fmt.Sprintf("%4.1f", x.Load1)
		}
		fmt.Fprintf(&b, "%s |%s| %s  load %s  tests %4.1f  starts %d\n", at, bar, pct, load, x.Tests, x.Starts)
	}
	return b.String()
}

// profilesFor reads the profiles beside a results file that belong to its run (a reused
// report directory keeps older ones).
func profilesFor(resultsPath string, first, last time.Time) ([]profile.File, error) {
	all, err := profile.Read(filepath.Dir(resultsPath))
	if err != nil {
		return nil, err
	}
	var out []profile.File
	for _, f := range all {
		// The test process begins recording just before its first test.
		if !f.Started.Before(first.Add(-time.Minute)) && !f.Started.After(first.Add(time.Minute)) {
			out = append(out, f)
		}
	}
	return out, nil
}

// whereTimeGoes adds the rows of "Where the time goes" for one run and returns the timeline
// chart, printed after the table.
func whereTimeGoes(t *table, evs []event, profs []profile.File, samples []cpuSample) string {
	ss := spans(evs)
	if len(ss) == 0 {
		t.skip("critical path", "no top-level test ended in the results")
		return ""
	}
	start, end := ss[0].Run, ss[len(ss)-1].End
	for _, s := range ss {
		if s.Run.Before(start) {
			start = s.Run
		}
	}
	if len(samples) > 0 && samples[0].At.Before(start) {
		start = samples[0].At // the bench's clock: from ./run.sh's start (build, go test compile)
	}
	rel := func(at time.Time) string { return fmt.Sprintf("%.0fs", at.Sub(start).Seconds()) }

	// Critical path: the last tests to end, and those still running near the end.
	var last []string
	for i := len(ss) - 1; i >= max(0, len(ss)-5); i-- {
		s := ss[i]
		last = append(last, fmt.Sprintf("%s %s-%s (waited %s for a slot, ran %s, %s)", s.Name, rel(s.Cont), rel(s.End), round(s.waited()), round(s.ran()), s.Outcome))
	}
	t.add("critical path: last tests to end", strings.Join(last, "; ")+" (seconds from the start of the run)")
	tail := end.Add(-60 * time.Second)
	var atEnd []string
	for _, s := range ss {
		if s.End.After(tail) && s.Cont.Before(end) {
			atEnd = append(atEnd, fmt.Sprintf("%s (%s)", s.Name, round(s.End.Sub(later(s.Cont, tail)))))
		}
	}
	t.add("tests running in the last 60 s", fmt.Sprintf("%d: %s (time of each within those 60 s)", len(atEnd), strings.Join(atEnd, ", ")))

	states := map[string]profile.States{}
	var starts []profile.Start
	var serverCPU, processCPU, samplerCost time.Duration
	containers := map[string]bool{}
	for _, f := range profs {
		for test, st := range f.Tests {
			if states[test] == nil {
				states[test] = profile.States{}
			}
			for k, v := range st {
				states[test][k] += v
			}
		}
		starts = append(starts, f.Starts...)
		for _, c := range f.ServerCPU {
			serverCPU += c.CPU
			containers[c.Container] = true
		}
		processCPU += f.ProcessCPU
		samplerCost += f.SamplerCost
	}
	lastTest := ss[len(ss)-1]
	parts := []string{fmt.Sprintf("%s: %s in all: parallel wait %s", lastTest.Name, round(lastTest.End.Sub(lastTest.Run)), round(lastTest.waited()))}
	if len(profs) > 0 {
		n, sum := 0, time.Duration(0)
		for _, st := range starts {
			if st.Test == lastTest.Name {
				n++
				sum += st.Queued + st.Ready
			}
		}
		parts = append(parts, fmt.Sprintf("started %d server(s) itself, %s queued and starting", n, round(sum)))
		parts = append(parts, describeStates(states[lastTest.Name]))
	} else {
		parts = append(parts, "no profile (profile-*.json beside the results: a run with STICKLER_REPORT_DIR)")
	}
	t.add("critical path: the last test's time", strings.Join(parts, "; "))

	if len(profs) == 0 {
		t.skip("server starts", "no profile of the run")
	} else {
		t.add("server starts", describeStarts(starts))
		perContainer := ""
		if len(containers) > 0 {
			perContainer = fmt.Sprintf(", %s per container on average", round(serverCPU/time.Duration(len(containers))))
		}
		wall := end.Sub(start)
		t.add("CPU time", fmt.Sprintf("servers %s (%d containers%s, read at each crash and removal), test process %s (of which stack sampling about %s wall); together %.0f%% of %d cores over the %s from the start to the last test's end",
			round(serverCPU), len(containers), perContainer, round(processCPU), round(samplerCost),
			100*(serverCPU+processCPU).Seconds()/(wall.Seconds()*float64(runtime.NumCPU())), runtime.NumCPU(), round(wall)))
		all := profile.States{}
		for _, st := range states {
			for k, v := range st {
				all[k] += v
			}
		}
		t.add("test time by what the tests did (all tests)", describeStates(all)+
			" (sampled every 250 ms; a test doing several things at once counts once, in this order; parallel wait: paused in t.Parallel, the test or its subtests)")
		for _, k := range []profile.State{profile.Sleep, profile.Polling, profile.ServerStart} {
			t.add("most "+string(k), topTests(states, k, 5))
		}
	}
	if len(samples) > 1 {
		a, b := samples[0], samples[len(samples)-1]
		var peak float64
		for _, s := range samples {
			peak = max(peak, s.Load1)
		}
		t.add("cores busy over the run", fmt.Sprintf("%.0f%% of all cores from ./run.sh's start to its end; 1-min load average %.2f at the start, %.2f at the end, %.2f at the highest (the machine may be shared: the load counts every process)",
			100*float64(b.Busy-a.Busy)/float64(max(b.Total-a.Total, 1)), a.Load1, b.Load1, peak))
	} else {
		t.skip("cores busy over the run", "not sampled (only a run the benchmark starts, -suite)")
	}
	chartEnd := end
	if len(samples) > 0 && samples[len(samples)-1].At.After(chartEnd) {
		chartEnd = samples[len(samples)-1].At
	}
	return chart(timeline(start, chartEnd, 30*time.Second, samples, ss, starts), 30*time.Second)
}

// describeStates says a test's sampled time by state, in profile.Order.
func describeStates(st profile.States) string {
	var parts []string
	for _, k := range profile.Order {
		if v := st[k]; v > 0 {
			parts = append(parts, fmt.Sprintf("%s %s", k, round(v)))
		}
	}
	if len(parts) == 0 {
		return "no samples"
	}
	return strings.Join(parts, ", ")
}

// describeStarts sums the server starts: fresh and restarts, their time, and the tests that
// start the most.
func describeStarts(starts []profile.Start) string {
	var fresh, restarts int
	var ready, queued []time.Duration
	var readySum, queuedSum time.Duration
	perTest := map[string]int{}
	for _, s := range starts {
		if s.Fresh {
			fresh++
		} else {
			restarts++
		}
		ready, queued = append(ready, s.Ready), append(queued, s.Queued)
		readySum += s.Ready
		queuedSum += s.Queued
		name := s.Test
		if name == "" {
			name = "(unknown)"
		}
		perTest[name]++
	}
	if len(starts) == 0 {
		return "none"
	}
	names := make([]string, 0, len(perTest))
	for n := range perTest {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if perTest[names[i]] != perTest[names[j]] {
			return perTest[names[i]] > perTest[names[j]]
		}
		return names[i] < names[j]
	})
	var top []string
	for _, n := range names[:min(5, len(names))] {
		top = append(top, fmt.Sprintf("%s %d", n, perTest[n]))
	}
	return fmt.Sprintf("%d (%d fresh, %d restarts) in %d tests; until ready %s in sum, %s; queued for a start slot %s in sum; most: %s",
		len(starts), fresh, restarts, len(perTest), round(readySum), stats(ready), round(queuedSum), strings.Join(top, ", "))
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// topTests names the n tests with the most time in one state.
func topTests(states map[string]profile.States, k profile.State, n int) string {
	var names []string
	for name, st := range states {
		if st[k] > 0 {
			names = append(names, name)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if states[names[i]][k] != states[names[j]][k] {
			return states[names[i]][k] > states[names[j]][k]
		}
		return names[i] < names[j]
	})
	var parts []string
	for _, name := range names[:min(n, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %s", name, round(states[name][k])))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
