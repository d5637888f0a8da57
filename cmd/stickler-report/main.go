// Command stickler-report reads the `go test -json` stream of a conformance run (standard
// input or a saved results.json), judges it against an image's expectations, writes the
// report files, prints the summary, and exits 0 only when every outcome is as expected.
//
//	go test -json ./tests/... | stickler-report -expectations FILE -dir DIR -live
//	stickler-report -expectations FILE -dir DIR reports/results.json
//
// With -dir it writes DIR/results.json (the stream as read), DIR/summary.json (keyed by
// requirement ID), DIR/junit.xml, DIR/report.html (self-contained) and DIR/findings.md (one
// entry per defect: the rule, the proposal's sentence, the failure, a reproduction command and
// the server log lines of the failing span; also a section of report.html). The last line printed
// is always `stickler: N passed, N failed, N skipped, N warnings`.
//
// -complete says the stream is the whole suite (run.sh passes it when no -run was given):
// an expectations line naming a test the suite does not have then fails the run; otherwise it
// is a warning. -suite-tests FILE names the suite's tests (`go test -list` output); without it
// the top-level tests seen in the stream stand in. STICKLER_STRICT=1 makes failed SHOULD
// requirements fail the run instead of being warnings.
//
// -compare puts several runs side by side: the arguments are their summary.json files (or
// report directories); it prints a table of requirements against runs and, with -dir, writes
// DIR/compare.html. A run is named by its summary's label (STICKLER_LABEL, else
// STICKLER_SERVER, else the image, recorded when the run's report was written).
//
//	stickler-report -compare -dir DIR reports-synapse/summary.json reports-dendrite/summary.json
//
// The table's last column names the runs each requirement passed on ("seen passing"), and a
// line counts the IDs seen passing on at least one run; -compare -seen-passing prints only
// that count and the IDs never seen passing.
//
// Exit codes: 0 every outcome as expected (-compare: the comparison was made); 1 some test failed the run, the expectations file
// names a test that does not exist (complete runs), or the stream held no test; 2 the tool
// could not do its work (bad flag, unreadable file, report not written).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"stickler/helpers/harness/config"
	"stickler/helpers/results/report"
)

func main() {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, env))
}

// run is the command with its environment given as a map (the settings are read from it with
// helpers/harness/config).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, env map[string]string) int {
	opt, fs, err := parseFlags(args, stderr)
	if err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "stickler-report:", err)
		return 2
	}
	if opt.seen && !opt.compare {
		return fail(fmt.Errorf("-seen-passing goes with -compare and the runs' summary.json files"))
	}
	if opt.compare {
		return runCompare(fs.Args(), opt.dir, opt.seen, stdout, fail)
	}

	exp, err := report.LoadExpectations(opt.expFile)
	if err != nil {
		return fail(err)
	}
	settings, err := loadSettings(env)
	if err != nil {
		return fail(err)
	}
	rules, err := buildRules(exp, settings.Strict, opt.complete, opt.suiteFile)
	if err != nil {
		return fail(err)
	}
	in := stdin
	if fs.NArg() > 0 {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		in = f
	}
	// An interrupted run (Ctrl-C reaches every process of the run): the stream is read to its
	// end, but what ends after the signal is the servers being removed under the tests, not
	// their verdict: it is neither printed nor counted.
	watch := &interruptWatch{}
	finished := map[*report.Test]bool{}
	began := time.Now()
	var onEvent func(*report.Test, string)
	if opt.live {
		watch.sigs = make(chan os.Signal, 1)
		notifyInterrupt(watch.sigs)
		defer signal.Stop(watch.sigs)
		onEvent = liveLines(rules, watch, finished, stdout)
	}
	res, err := report.Read(in, onEvent)
	if err != nil {
		return fail(fmt.Errorf("reading the test stream: %w", err))
	}
	if watch.interrupted() {
		return reportInterrupted(res, rules, finished, watch.sig, watch.at.Sub(began), opt.dir, opt.interruptFile, stdout, stderr)
	}
	return finishRun(res, rules, settings, opt.expFile, opt.dir, fs.Arg(0), stdout, stderr)
}

// options are the command's flags.
type options struct {
	expFile, dir, suiteFile, interruptFile string
	live, complete, compare, seen          bool
}

// parseFlags reads the command line into options; the flag set keeps the arguments after the
// flags. A bad flag is reported on stderr and returned as the error.
func parseFlags(args []string, stderr io.Writer) (*options, *flag.FlagSet, error) {
	fs := flag.NewFlagSet("stickler-report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.StringVar(&o.expFile, "expectations", "", "expectations file of the image under test (TestName fail|skip reason)")
	fs.StringVar(&o.dir, "dir", "", "directory for results.json and the report files (none when empty)")
	fs.BoolVar(&o.live, "live", false, "print each test's outcome as it finishes")
	fs.BoolVar(&o.complete, "complete", false, "the stream is the whole suite (no -run): unknown tests in the expectations file fail the run")
	fs.StringVar(&o.suiteFile, "suite-tests", "", "file listing the suite's top-level tests (`go test -list .` output)")
	fs.StringVar(&o.interruptFile, "interrupted", "", "with -live: when SIGINT or SIGTERM arrives, write the one-line account of the interrupted run to this file instead of printing it (run.sh adds that the servers were removed)")
	fs.BoolVar(&o.compare, "compare", false, "put runs side by side: arguments are their summary.json files; with -dir, writes DIR/compare.html")
	fs.BoolVar(&o.seen, "seen-passing", false, "with -compare: print only how many requirement IDs passed on at least one of the runs, and those that never did (the README's figure)")
	return o, fs, fs.Parse(args)
}

// buildRules gathers what the run is judged by: the expectations, STICKLER_STRICT (strict:
// "1", "0" or unset), and with -complete / -suite-tests what the suite's tests are.
func buildRules(exp report.Expectations, strict string, complete bool, suiteFile string) (report.Rules, error) {
	rules := report.Rules{Expectations: exp, Suite: report.Suite{Complete: complete}}
	switch strict {
	case "", "0":
	case "1":
		rules.Strict = true
	default:
		return rules, fmt.Errorf("STICKLER_STRICT=%q: want 1 (failed SHOULDs fail the run) or 0", strict)
	}
	if suiteFile != "" {
		b, err := os.ReadFile(suiteFile)
		if err != nil {
			return rules, fmt.Errorf("suite test list: %w", err)
		}
		for _, l := range strings.Fields(string(b)) {
			if strings.HasPrefix(l, "Test") {
				rules.Suite.Tests = append(rules.Suite.Tests, l)
			}
		}
	}
	return rules, nil
}

// interruptWatch notices the first SIGINT or SIGTERM of a -live run (sigs is nil otherwise)
// and when it came.
type interruptWatch struct {
	sigs chan os.Signal
	sig  os.Signal
	at   time.Time
}

// interrupted says whether a signal has arrived; called by the reading goroutine only.
func (iw *interruptWatch) interrupted() bool {
	if iw.sig == nil && iw.sigs != nil {
		select {
		case iw.sig = <-iw.sigs:
			iw.at = time.Now()
		default:
		}
	}
	return iw.sig != nil
}

// liveLines is the -live callback: it prints each test's verdict as it ends (nothing once
// the run is interrupted) and records which tests finished. Subtests end before their
// parent, so a parent's line says what the final summary will, by the same rule
// (report.Rules.Verdict) applied to the subtests seen so far.
func liveLines(rules report.Rules, watch *interruptWatch, finished map[*report.Test]bool, stdout io.Writer) func(*report.Test, string) {
	children := map[string]map[*report.Test]report.Verdict{} // parent key -> direct subtests
	codes := map[string][]string{}                           // test key -> its and its subtests' codes
	return func(t *report.Test, action string) {
		if watch.interrupted() {
			return
		}
		finished[t] = true
		key := t.Package + "\x00" + t.Name
		all := append(codes[key], t.Codes...)
		v := rules.Verdict(t, all, children[key])
		if i := strings.LastIndexByte(t.Name, '/'); i > 0 {
			pk := t.Package + "\x00" + t.Name[:i]
			if children[pk] == nil {
				children[pk] = map[*report.Test]report.Verdict{}
			}
			children[pk][t] = v
			codes[pk] = append(codes[pk], all...)
		}
		line := fmt.Sprintf("%-17s %s (%.1fs)", v, t.Name, t.Elapsed.Seconds())
		if v == report.FailsDifferently {
			line += ": " + rules.Difference(t, all)
		}
		fmt.Fprintln(stdout, line)
	}
}

// finishRun ends a run that was read to its end: with dir it writes the report files (input
// is the stream's file, "" for stdin), then prints the summary and returns the exit status
// (2 when the report could not be written, 1 when the run fails, else 0).
func finishRun(res *report.Results, rules report.Rules, settings config.Settings, expFile, dir, input string, stdout, stderr io.Writer) int {
	status := 0
	if dir != "" {
		var servers map[string]string // nil when none: summary.json leaves it out
		if len(settings.ServerImages) > 0 {
			servers = settings.ServerImages
		}
		meta := report.Meta{Label: runLabel(settings), Image: settings.BaseImage, Servers: servers,
			Names: settings.Names, Expectations: expFile, Generated: time.Now(), Server: settings.Server,
			CodeMeanings: report.LoadCodeMeanings(report.CodeMeaningsPath)}
		sum := report.Summarize(res, rules, meta)
		if err := writeFiles(dir, input, res, sum); err != nil {
			fmt.Fprintln(stderr, "stickler-report: writing the report:", err)
			status = 2
		} else {
			fmt.Fprintf(stdout, "\nreport: %s (also findings.md, junit.xml, summary.json, results.json there)\n", filepath.Join(dir, "report.html"))
			fmt.Fprintf(stdout, "findings: %s (%s)\n", filepath.Join(dir, "findings.md"), findingsCount(sum.Findings))
		}
	}
	if len(res.Tests) == 0 {
		fmt.Fprintln(stdout, "stickler-report: the stream held no test at all")
	}
	if dir == "" && len(report.Summarize(res, rules, report.Meta{}).Findings) > 0 {
		fmt.Fprintln(stdout, "\nno report files written: STICKLER_REPORT_DIR=reports ./run.sh ... writes reports/findings.md (one entry per defect, with a command to reproduce it) and reports/report.html")
	}
	c := report.WriteTerminal(stdout, res, rules)
	switch {
	case status != 0:
		return status
	case c.RunFails(len(res.Tests)):
		return 1
	}
	return 0
}

// findingsCount says how many defects the findings page lists, by kind.
func findingsCount(fs []report.Finding) string {
	if len(fs) == 0 {
		return "no defect"
	}
	n := map[string]int{}
	var kinds []string
	for _, f := range fs {
		if n[f.Kind] == 0 {
			kinds = append(kinds, f.Kind)
		}
		n[f.Kind]++
	}
	parts := make([]string, 0, len(kinds))
	for _, k := range kinds {
		parts = append(parts, fmt.Sprintf("%d %s", n[k], k))
	}
	return fmt.Sprintf("%d defect(s): %s", len(fs), strings.Join(parts, ", "))
}

// notifyInterrupt delivers SIGINT and SIGTERM to c (a test stands in for the signals).
var notifyInterrupt = func(c chan<- os.Signal) { signal.Notify(c, os.Interrupt, syscall.SIGTERM) }

// reportInterrupted gives an interrupted run's account in one line: the signal, when, the
// counts of the tests that finished before it and how many were cut short. The stream goes to
// DIR/results.json; no report is judged from half a run. Exit status 130, as for any
// interrupted command.
func reportInterrupted(res *report.Results, rules report.Rules, finished map[*report.Test]bool, sig os.Signal, after time.Duration,
	dir, file string, stdout, stderr io.Writer) int {
	done := res.Only(func(t *report.Test) bool { return finished[t] })
	c := done.Count(done.Verdicts(rules))
	cut := 0
	for _, t := range res.Tests {
		if !finished[t] && !strings.Contains(t.Name, "/") && !strings.HasPrefix(t.Name, "(") {
			cut++
		}
	}
	name := "SIGINT"
	if sig == syscall.SIGTERM {
		name = "SIGTERM"
	}
	line := fmt.Sprintf("run interrupted (%s) after %s: of the tests that finished, %d passed, %d failed, %d skipped, %d warnings; %d test(s) cut short",
		name, after.Round(time.Second), c.Passed, c.FailingRun(), c.Skipped, c.Warnings, cut)
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err == nil {
			_ = os.WriteFile(filepath.Join(dir, "results.json"), res.Raw, 0o644)
		}
	}
	if file != "" {
		if err := os.WriteFile(file, []byte(line+"\n"), 0o644); err == nil {
			return 130
		}
	}
	fmt.Fprintln(stdout, "stickler: "+line)
	return 130
}

// loadSettings reads the settings from env (variable -> value).
func loadSettings(env map[string]string) (config.Settings, error) {
	environ := make([]string, 0, len(env))
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	return config.Load(func(k string) string { return env[k] }, environ)
}

// runLabel names the run for side-by-side comparisons: STICKLER_LABEL, else STICKLER_SERVER,
// else the image.
func runLabel(s config.Settings) string {
	for _, v := range []string{s.Label, s.Server, s.BaseImage} {
		if v != "" {
			return v
		}
	}
	return ""
}

// runCompare reads summaries, prints the side-by-side table and writes DIR/compare.html.
func runCompare(files []string, dir string, seenOnly bool, stdout io.Writer, fail func(error) int) int {
	if len(files) == 0 {
		return fail(fmt.Errorf("-compare needs the summary.json files (or report directories) of the runs to compare"))
	}
	var sums []*report.Summary
	for _, f := range files {
		s, err := report.ReadSummary(f)
		if err != nil {
			return fail(err)
		}
		sums = append(sums, s)
	}
	c := report.Compare(sums, files)
	if seenOnly {
		fmt.Fprintln(stdout, c.Seen.Line(len(c.Runs)))
		if len(c.Seen.Never) > 0 {
			fmt.Fprintf(stdout, "never seen passing: %s\n", strings.Join(c.Seen.Never, " "))
		}
		return 0
	}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fail(err)
		}
		var b bytes.Buffer
		if err := report.WriteCompareHTML(&b, c, time.Now()); err != nil {
			return fail(fmt.Errorf("compare.html: %w", err))
		}
		if err := os.WriteFile(filepath.Join(dir, "compare.html"), b.Bytes(), 0o644); err != nil {
			return fail(err)
		}
	}
	report.WriteCompareTerminal(stdout, c)
	if dir != "" {
		fmt.Fprintf(stdout, "\ncomparison: %s\n", filepath.Join(dir, "compare.html"))
	}
	return 0
}

// writeFiles writes the report files into dir; the stream is copied to results.json unless
// it was read from there.
func writeFiles(dir, input string, res *report.Results, s *report.Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if input == "" || !sameFile(input, filepath.Join(dir, "results.json")) {
		if err := os.WriteFile(filepath.Join(dir, "results.json"), res.Raw, 0o644); err != nil {
			return err
		}
	}
	for name, write := range map[string]func(io.Writer, *report.Summary) error{
		"summary.json": report.WriteJSON,
		"junit.xml":    report.WriteJUnit,
		"report.html":  report.WriteHTML,
		"findings.md":  report.WriteFindingsMarkdown,
	} {
		var b bytes.Buffer
		if err := write(&b, s); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func sameFile(a, b string) bool {
	fa, err1 := os.Stat(a)
	fb, err2 := os.Stat(b)
	if err1 != nil || err2 != nil {
		return filepath.Clean(a) == filepath.Clean(b)
	}
	return os.SameFile(fa, fb)
}
