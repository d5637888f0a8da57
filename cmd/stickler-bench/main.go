// Command stickler-bench measures the suite's costs; it is a benchmark, not a test (nothing it
// measures passes or fails). Run it from the repository root, or through ./run.sh --bench:
//
//	go run ./cmd/stickler-bench                       server starts (20) of the image under test
//	go run ./cmd/stickler-bench -build                and image builds: warm, cold top layer
//	go run ./cmd/stickler-bench -build -build-root    and a cold root (debootstrap, minutes, root)
//	go run ./cmd/stickler-bench -suite                and a whole suite run (minutes)
//	go run ./cmd/stickler-bench -starts 0 -results reports/results.json   a saved run only
//
// It prints one table: every figure it measured, and which it did not and why. The image is
// COMPLEMENT_BASE_IMAGE, else the recipe STICKLER_SERVER names (synapse, the default,
// synapse-postgres, synapse-reference or dendrite; built if missing). Cold builds go to
// temporary tags that are removed afterwards; nothing the benchmark starts is left running.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"

	"stickler/helpers/harness/config"
	"stickler/helpers/harness/deploy"
	"stickler/helpers/results/report"
	"stickler/helpers/spec"
)

// buildScript is the build script of the recipe the benchmark measures, set from
// STICKLER_SERVER by recipeScript.
var buildScript = "servers/synapse/build.sh"

// recipeScript names the build script of the one-image recipe STICKLER_SERVER names (synapse
// when unset); a mixed deployment is several images and has no start time of its own.
func recipeScript(server string) (string, error) {
	switch server {
	case "", "synapse", "synapse-postgres", "synapse-reference", "dendrite":
		return "servers/" + envOrDefault(server, "synapse") + "/build.sh", nil
	}
	return "", fmt.Errorf("STICKLER_SERVER=%s: the benchmark measures one recipe's image: want synapse, synapse-postgres, synapse-reference or dendrite (or COMPLEMENT_BASE_IMAGE)", server)
}

func envOrDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func main() { os.Exit(run()) }

func run() int {
	starts := flag.Int("starts", 20, "fresh server starts to time (0: none)")
	restarts := flag.Int("restarts", 5, "restarts of one server with its data kept (crash, start) to time (0: none)")
	build := flag.Bool("build", false, "time image builds: warm (cached) and cold top layer (no cache, root reused)")
	buildRoot := flag.Bool("build-root", false, "with -build: also time a cold root build (debootstrap; minutes; needs root)")
	suite := flag.Bool("suite", false, "time a whole suite run (./run.sh), then read its results")
	suiteArgs := flag.String("suite-args", "", "extra go test arguments of the -suite run, e.g. \"-run TestSend\"")
	results := flag.String("results", "", "a saved results.json to read the slowest tests and group times from (default: $STICKLER_REPORT_DIR/results.json if present)")
	flag.Parse()

	cfg, err := setUp()
	if err != nil {
		return fail("%v", err)
	}
	t := &table{}
	t.add("machine", machine())

	if *build {
		if err := benchBuild(t, *buildRoot); err != nil {
			return fail("%v", err)
		}
	} else {
		t.skip("image build", "not measured (-build)")
	}
	if err := benchServer(t, &cfg, *starts, *restarts); err != nil {
		return fail("%v", err)
	}

	resultsFile := *results
	var samples []cpuSample
	if *suite {
		dir := cfg.ReportDir // kept when set, so the run can be read again (-results)
		if dir == "" {
			tmp, err := os.MkdirTemp("", "stickler-bench-suite")
			if err != nil {
				return fail("%v", err)
			}
			defer os.RemoveAll(tmp)
			dir = tmp
		} else if err := os.MkdirAll(dir, 0o755); err != nil {
			return fail("%v", err)
		} else if dir, err = filepath.Abs(dir); err != nil {
			return fail("%v", err)
		}
		if samples, err = benchSuite(t, cfg, *suiteArgs, dir); err != nil {
			return fail("%v", err)
		}
		resultsFile = filepath.Join(dir, "results.json")
	} else {
		t.skip("suite wall time", "not measured (-suite)")
	}
	if resultsFile == "" {
		resultsFile = savedResults(cfg.ReportDir)
	}
	if resultsFile != "" {
		if err := benchResults(t, resultsFile); err != nil {
			return fail("%v", err)
		}
		if err := benchWhere(t, resultsFile, samples); err != nil {
			return fail("%v", err)
		}
	} else {
		t.skip("slowest tests", "no results.json (-suite, -results FILE or STICKLER_REPORT_DIR)")
	}
	t.print(os.Stdout)
	return 0
}

// setUp checks what every measurement needs: the recipe STICKLER_SERVER names (its build
// script becomes buildScript), the repository root, a reachable Docker engine, and the
// settings.
func setUp() (config.Settings, error) {
	cfg, err := config.Get()
	if err != nil {
		return config.Settings{}, fmt.Errorf("bad setting: %v", err)
	}
	script, err := recipeScript(cfg.Server)
	if err != nil {
		return config.Settings{}, err
	}
	buildScript = script
	if _, err := os.Stat(buildScript); err != nil {
		return config.Settings{}, fmt.Errorf("run it from the repository root (%s not found)", buildScript)
	}
	if _, err := deploy.Docker(); err != nil {
		return config.Settings{}, err
	}
	return cfg, nil
}

// benchServer times n fresh server starts and m restarts of the image under test, building
// it from the recipe first when none is set (cfg.BaseImage is then the image built); the
// image measured is a row of t.
func benchServer(t *table, cfg *config.Settings, n, m int) error {
	image := cfg.BaseImage
	if image == "" && (n > 0 || m > 0) {
		out, err := exec.Command(buildScript).Output()
		if err != nil {
			return fmt.Errorf("building the image (%s): %v", buildScript, err)
		}
		image = strings.TrimSpace(string(out))
		cfg.BaseImage = image
	}
	if image != "" {
		t.add("image", image)
	}
	if n > 0 {
		if err := benchStarts(t, *cfg, n); err != nil {
			return err
		}
	} else {
		t.skip("server start", "not measured (-starts 0)")
	}
	if m > 0 {
		if err := benchRestarts(t, *cfg, m); err != nil {
			return err
		}
	}
	return nil
}

// benchSuite times one whole suite run (./run.sh with the extra go test arguments args,
// against the image measured above) whose report goes to dir; a failing run is measured
// too, its exit code noted. It returns how busy the machine's cores were meanwhile (/proc/stat
// every 5 s).
func benchSuite(t *table, cfg config.Settings, suiteArgs, dir string) ([]cpuSample, error) {
	args, err := splitArgs(suiteArgs)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("./run.sh", args...)
	cmd.Env = append(os.Environ(), "STICKLER_REPORT_DIR="+dir)
	if cfg.BaseImage != "" { // the image measured above (built there when unset), as before
		cmd.Env = append(cmd.Env, "COMPLEMENT_BASE_IMAGE="+cfg.BaseImage)
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr // the suite's own output, beside the table
	stop := make(chan struct{})
	sampled := sampleCPU(5*time.Second, stop)
	began := time.Now()
	err = cmd.Run()
	wall := time.Since(began)
	close(stop)
	samples := <-sampled
	verdict := "every outcome as expected"
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		verdict = fmt.Sprintf("run.sh exit code %d", ee.ExitCode())
	} else if err != nil {
		return nil, fmt.Errorf("running ./run.sh: %v", err)
	}
	t.add("suite wall time", fmt.Sprintf("%s (./run.sh %s, STICKLER_PARALLEL=%s; %s)", round(wall), strings.Join(args, " "), cfg.Parallel, verdict))
	return samples, nil
}

// benchWhere adds "Where the time goes" of the run whose results are at path (its profile is
// beside it) and the timeline after the table.
func benchWhere(t *table, path string, samples []cpuSample) error {
	evs, err := readEvents(path)
	if err != nil {
		return fmt.Errorf("reading %s: %v", path, err)
	}
	var first, last time.Time
	if len(evs) > 0 {
		first, last = evs[0].Time, evs[len(evs)-1].Time
	}
	profs, err := profilesFor(path, first, last)
	if err != nil {
		return err
	}
	t.after = whereTimeGoes(t, evs, profs, samples)
	return nil
}

// splitArgs splits -suite-args into words as a shell would for plain words and single or
// double quotes ("-run 'TestA|TestB'"), without expanding anything.
func splitArgs(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, quote := false, rune(0)
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				out, in = append(out, cur.String()), false
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("-suite-args %q: unclosed quote", s)
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// savedResults is the results.json of the last run in STICKLER_REPORT_DIR (dir), or "" when
// there is none.
func savedResults(dir string) string {
	if dir == "" {
		return ""
	}
	if _, err := os.Stat(filepath.Join(dir, "results.json")); err == nil {
		return filepath.Join(dir, "results.json")
	}
	return ""
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "stickler-bench: "+format+"\n", args...)
	return 2
}

// benchBuild times the image recipe: warm (everything cached: what every run pays), the top
// layer cold (no cache, the root reused) and, if asked, everything cold (debootstrap root).
func benchBuild(t *table, withRoot bool) error {
	// Warm means cached: build once untimed if this recipe was never built here.
	if out, err := exec.Command(buildScript).CombinedOutput(); err != nil {
		return fmt.Errorf("building the image: %v\n%s", err, out)
	}
	began := time.Now()
	if out, err := exec.Command(buildScript).CombinedOutput(); err != nil {
		return fmt.Errorf("building the image: %v\n%s", err, out)
	}
	t.add("image build, warm", fmt.Sprintf("%s (%s, recipe unchanged: nothing built)", round(time.Since(began)), buildScript))

	name := fmt.Sprintf("stickler-bench-%d", os.Getpid())
	cold := func(flag, what string) error {
		began := time.Now()
		out, err := exec.Command(buildScript, flag, name).CombinedOutput()
		took := time.Since(began)
		removeImages(name)
		if err != nil {
			return fmt.Errorf("cold build (%s %s): %v\n%s", buildScript, flag, err, out)
		}
		t.add("image build, cold "+what, round(took))
		return nil
	}
	// Only the Synapse recipe builds its root; synapse-postgres rebuilds its own layers.
	switch buildScript {
	case "servers/synapse/build.sh":
	case "servers/synapse-postgres/build.sh":
		if err := cold("--cold-top", "PostgreSQL layer and top (Synapse image reused)"); err != nil {
			return err
		}
		t.skip("image build, cold root", "not measured for this recipe (its root is the Synapse recipe's: STICKLER_SERVER=synapse -build -build-root)")
		return nil
	default:
		t.skip("image build, cold", "not measured for this recipe (only synapse and synapse-postgres build cold into temporary tags)")
		return nil
	}
	if err := cold("--cold-top", "top layer (root reused)"); err != nil {
		return err
	}
	if !withRoot {
		t.skip("image build, cold root", "not measured (-build-root; debootstrap of Debian sid, about 2-3 min)")
		return nil
	}
	return cold("--cold", "root and top layer")
}

// removeImages removes the benchmark's temporary images (NAME:* and NAME-root:*).
func removeImages(name string) {
	for _, repo := range []string{name, name + "-root"} {
		out, _ := exec.Command("docker", "images", "-q", "--format", "{{.Repository}}:{{.Tag}}", repo).Output()
		for _, tag := range strings.Fields(string(out)) {
			_ = exec.Command("docker", "rmi", tag).Run()
		}
	}
}

// benchStarts starts n one-server deployments one after another and takes each server's
// start-to-ready time (container start until /versions answers 200), as the suite's first
// start of a server does.
func benchStarts(t *table, cfg config.Settings, n int) error {
	var took, cpu []time.Duration
	loads := []string{loadavg()}
	for i := range n {
		d, err := deploy.New(context.Background(), cfg, 1)
		if err != nil {
			return fmt.Errorf("start %d of %d: %v", i+1, n, err)
		}
		s := d.Servers[0]
		c, cerr := cpuTime(s.ContainerID)
		d.Destroy()
		if cerr != nil {
			return cerr
		}
		took, cpu = append(took, s.ReadyIn), append(cpu, c)
		fmt.Fprintf(os.Stderr, "start %d/%d: %v (CPU time %v)\n", i+1, n, round(s.ReadyIn), round(c))
	}
	loads = append(loads, loadavg())
	t.add(fmt.Sprintf("server start (%d fresh starts)", n), stats(took)+"; load average before/after: "+strings.Join(loads, " / "))
	t.add("server CPU time until ready", stats(cpu)+" (what a start costs, whatever the load)")
	return nil
}

// cpuTime is the CPU time a container has used so far (docker stats).
func cpuTime(id string) (time.Duration, error) {
	c, err := deploy.Docker()
	if err != nil {
		return 0, err
	}
	st, err := c.ContainerStatsOneShot(context.Background(), id)
	if err != nil {
		return 0, err
	}
	defer st.Body.Close()
	var v container.StatsResponse
	if err := json.NewDecoder(st.Body).Decode(&v); err != nil {
		return 0, err
	}
	return time.Duration(v.CPUStats.CPUUsage.TotalUsage), nil
}

// benchRestarts crashes and starts one server n times, as the crash tests do: a start with
// its data (database, keys, certificate) kept.
func benchRestarts(t *table, cfg config.Settings, n int) error {
	d, err := deploy.New(context.Background(), cfg, 1)
	if err != nil {
		return err
	}
	defer d.Destroy()
	s := d.Servers[0]
	var took []time.Duration
	for i := range n {
		if err := s.Crash(); err != nil {
			return err
		}
		if err := s.Start(); err != nil {
			return fmt.Errorf("restart %d of %d: %v", i+1, n, err)
		}
		took = append(took, s.ReadyIn)
	}
	t.add(fmt.Sprintf("server restart (%d crash+start, data kept)", n), stats(took))
	return nil
}

// benchResults reads a run's results: the five slowest tests and the time spent per
// requirement group.
func benchResults(t *table, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	r, err := report.Read(f, nil)
	if err != nil {
		return fmt.Errorf("reading %s: %v", path, err)
	}
	var top []*report.Test
	groups := map[*report.Test]map[string]bool{}
	for _, x := range r.Tests {
		if strings.HasPrefix(x.Name, "(") {
			continue // package output, build errors
		}
		root, _, _ := strings.Cut(x.Name, "/")
		var parent *report.Test
		for _, y := range top {
			if y.Package == x.Package && y.Name == root {
				parent = y
			}
		}
		if parent == nil {
			if x.Name != root {
				continue
			}
			parent = x
			top = append(top, x)
			groups[x] = map[string]bool{}
		}
		for _, id := range x.Covers {
			groups[parent][spec.GroupOf(id)] = true
		}
	}
	if len(top) == 0 {
		return fmt.Errorf("%s holds no test", path)
	}
	// go test's own Elapsed of a test leaves out its parallel subtests (they run after its
	// function returns): a test's time is from its parallel slot to its end, from the events.
	elapsed := map[*report.Test]time.Duration{}
	evs, err := readEvents(path)
	if err != nil {
		return fmt.Errorf("reading %s: %v", path, err)
	}
	ran := map[string]time.Duration{}
	for _, s := range spans(evs) {
		ran[s.Name] = s.ran()
	}
	for _, x := range top {
		elapsed[x] = max(x.Elapsed, ran[x.Name])
	}
	var first, last time.Time
	for _, x := range top {
		if first.IsZero() || !x.Started.IsZero() && x.Started.Before(first) {
			first = x.Started
		}
		if x.Finished.After(last) {
			last = x.Finished
		}
	}
	t.add("results read", fmt.Sprintf("%s: %d tests, first start to last end %s", path, len(top), round(last.Sub(first))))
	slow := append([]*report.Test(nil), top...)
	sort.SliceStable(slow, func(i, j int) bool { return elapsed[slow[i]] > elapsed[slow[j]] })
	for i, x := range slow[:min(5, len(slow))] {
		t.add(fmt.Sprintf("slowest test %d", i+1), fmt.Sprintf("%s %s (%s)", x.Name, round(elapsed[x]), x.Outcome))
	}
	perGroup := map[string]time.Duration{}
	count := map[string]int{}
	for _, x := range top {
		for g := range groups[x] {
			perGroup[g] += elapsed[x]
			count[g]++
		}
	}
	var names []string
	for g := range perGroup {
		names = append(names, g)
	}
	sort.Slice(names, func(i, j int) bool { return perGroup[names[i]] > perGroup[names[j]] })
	var parts []string
	for _, g := range names {
		parts = append(parts, fmt.Sprintf("%s %s (%d)", g, round(perGroup[g]), count[g]))
	}
	t.add("test time per requirement group", strings.Join(parts, ", ")+
		" (sum of its tests' times, number of tests; tests run in parallel and a test covering two groups counts in both)")
	return nil
}

// stats says p50, p95, min and max of durations.
func stats(ds []time.Duration) string {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	pct := func(p float64) time.Duration {
		// Nearest rank: the smallest value with at least p of the samples at or below it.
		i := int(float64(len(s))*p+0.999999) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return fmt.Sprintf("p50 %s, p95 %s (min %s, max %s)", round(pct(0.5)), round(pct(0.95)), round(s[0]), round(s[len(s)-1]))
}

func round(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return d.Round(100 * time.Millisecond).String()
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func machine() string {
	cpu := "?"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		fmt.Sscanf(strings.TrimPrefix(strings.SplitN(string(b), "\n", 2)[0], "MemTotal:"), "%d", &kb)
		mem = fmt.Sprintf(", %d GiB", (kb+512*1024)/(1024*1024))
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s/%s, load average %s", runtime.NumCPU(), cpu, mem, runtime.GOOS, runtime.GOARCH, loadavg())
}

// table is the benchmark's output: one line per figure.
type table struct {
	rows  [][2]string
	after string // printed after the table (the timeline)
}

func (t *table) add(what, value string) { t.rows = append(t.rows, [2]string{what, value}) }
func (t *table) skip(what, why string)  { t.add(what, why) }

func (t *table) print(w io.Writer) {
	fmt.Fprintln(w, "| measure | value |")
	fmt.Fprintln(w, "|---|---|")
	for _, r := range t.rows {
		fmt.Fprintf(w, "| %s | %s |\n", r[0], strings.ReplaceAll(r[1], "|", "/"))
	}
	if t.after != "" {
		fmt.Fprintf(w, "\n```\n%s```\n", t.after)
	}
}
