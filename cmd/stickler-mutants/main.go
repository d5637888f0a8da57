// Command stickler-mutants judges the runs mutants.sh made against deliberately broken Synapse
// variants: was each variant caught on the requirement it breaks (and with an expected
// failure code, once the tests emit codes), and did each legal variant pass?
//
//	stickler-mutants -manifest servers/synapse/mutants/manifest.txt -dir DIR [NAME...]
//	stickler-mutants -manifest A/manifest.txt,B/manifest.txt -dir DIR [NAME...]
//
// Several manifests (comma-separated) make one table: each variant is shown with the recipe
// it runs on (the directory above the manifest's mutants/, e.g. synapse, synapse-reference),
// and a name may appear in only one of them.
// DIR/<variant>/ holds one run: exit (run.sh's exit status), summary.json and results.json
// (STICKLER_REPORT_DIR of that run). It prints a table and the score, writes DIR/mutants.json
// DIR/mutants.md and DIR/mutants.html (self-contained), and exits 0 only when every variant was caught and every legal one
// passed (1 otherwise, 2 when it cannot do its work). A "legal-should" variant breaks only
// SHOULD requirements: its run (not strict) must pass with warnings, at least one of them on
// the requirements its line names, and no MUST failure.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"stickler/helpers/results/report"
	"stickler/helpers/spec"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Variant is one manifest line.
type Variant struct {
	Name         string   `json:"name"`
	Server       string   `json:"server"`       // the recipe it runs on (synapse, synapse-reference)
	Requirements []string `json:"requirements"` // caught if any of them fails
	Tests        string   `json:"tests"`        // go test -run regexp
	Codes        []string `json:"codes"`        // expected failure codes; empty: none named yet
	Legal        bool     `json:"legal"`        // must NOT fail the run
	ShouldOnly   bool     `json:"should_only"`  // legal-should: breaks only SHOULDs; warnings on Requirements expected, run not strict
	Description  string   `json:"description"`
}

// Outcome is how one variant's run was judged.
type Outcome struct {
	Variant
	Verdict   string   `json:"verdict"` // caught, escaped, failed-elsewhere, fails-differently, legal-pass, legal-failed, legal-warned, legal-no-warning, error
	Good      bool     `json:"good"`
	ExitCode  int      `json:"exit_code"`
	CodesSeen []string `json:"codes_seen"`
	CodeNote  string   `json:"code_note,omitempty"`
	Failed    []Failed `json:"failed"` // tests that failed the run
	// Expected are failures the expectations file absorbed: a variant can hide behind one
	// (a known failure by name that now fails for another reason).
	Expected []Failed `json:"expected_failures,omitempty"`
	// Warned are the tests that ended as warnings (failed SHOULDs), for legal-should variants.
	Warned []Failed `json:"warnings,omitempty"`
}

// Failed is a test that failed the run, with the first line of its failure.
type Failed struct {
	Test    string   `json:"test"`
	Covers  []string `json:"covers"`
	Message string   `json:"message"`
	Codes   []string `json:"codes,omitempty"`
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("stickler-mutants", flag.ContinueOnError)
	fs.SetOutput(stderr)
	manifest := fs.String("manifest", "", "the variants manifest(s), comma-separated")
	dir := fs.String("dir", "", "directory holding one sub-directory per variant run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *manifest == "" || *dir == "" {
		fmt.Fprintln(stderr, "stickler-mutants: -manifest and -dir are required")
		return 2
	}
	var variants []Variant
	seen := map[string]string{}
	for _, m := range strings.Split(*manifest, ",") {
		vs, err := ParseManifest(m)
		if err != nil {
			fmt.Fprintln(stderr, "stickler-mutants:", err)
			return 2
		}
		for _, v := range vs {
			if other, dup := seen[v.Name]; dup {
				fmt.Fprintf(stderr, "stickler-mutants: variant %s is in both %s and %s\n", v.Name, other, m)
				return 2
			}
			seen[v.Name] = m
		}
		variants = append(variants, vs...)
	}
	if only := fs.Args(); len(only) > 0 {
		var keep []Variant
		for _, v := range variants {
			if slices.Contains(only, v.Name) {
				keep = append(keep, v)
			}
		}
		variants = keep
	}
	var outcomes []Outcome
	for _, v := range variants {
		outcomes = append(outcomes, Judge(v, filepath.Join(*dir, v.Name)))
	}
	table := Table(outcomes)
	fmt.Fprint(stdout, table)
	js, _ := json.MarshalIndent(map[string]any{"score": score(outcomes), "variants": outcomes}, "", "  ")
	if err := os.WriteFile(filepath.Join(*dir, "mutants.json"), append(js, '\n'), 0o644); err != nil {
		fmt.Fprintln(stderr, "stickler-mutants:", err)
		return 2
	}
	if err := os.WriteFile(filepath.Join(*dir, "mutants.md"), []byte(Markdown(outcomes)), 0o644); err != nil {
		fmt.Fprintln(stderr, "stickler-mutants:", err)
		return 2
	}
	if err := os.WriteFile(filepath.Join(*dir, "mutants.html"), []byte(HTML(outcomes)), 0o644); err != nil {
		fmt.Fprintln(stderr, "stickler-mutants:", err)
		return 2
	}
	for _, o := range outcomes {
		if !o.Good {
			return 1
		}
	}
	return 0
}

// ParseManifest reads "name | requirements | tests | codes-or-legal | description" lines.
func ParseManifest(path string) ([]Variant, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var vs []Variant
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.Split(line, " | ")
		if len(parts) != 5 {
			return nil, fmt.Errorf("%s:%d: want 5 fields separated by \" | \", got %d: %s", path, n, len(parts), line)
		}
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		v := Variant{Name: parts[0], Server: RecipeOf(path), Tests: parts[2], Description: parts[4]}
		if parts[1] != "-" {
			v.Requirements = strings.Split(parts[1], ",")
		}
		switch parts[3] {
		case "legal":
			v.Legal = true
		case "legal-should":
			v.Legal, v.ShouldOnly = true, true
		case "-":
		default:
			v.Codes = strings.Split(parts[3], ",")
			for _, c := range v.Codes {
				if !spec.ValidCode(c) {
					return nil, fmt.Errorf("%s:%d: %q is not a failure code (lower-case words joined by '-')", path, n, c)
				}
			}
		}
		if !v.Legal && len(v.Requirements) == 0 {
			return nil, fmt.Errorf("%s:%d: variant %s names no requirement it breaks", path, n, v.Name)
		}
		if v.ShouldOnly {
			if len(v.Requirements) == 0 {
				return nil, fmt.Errorf("%s:%d: legal-should variant %s names no SHOULD requirement it breaks", path, n, v.Name)
			}
			for _, id := range v.Requirements {
				if r, ok := spec.Lookup(id); !ok || r.Level != spec.Should {
					return nil, fmt.Errorf("%s:%d: legal-should variant %s names %s, which is not a SHOULD requirement", path, n, v.Name, id)
				}
			}
		}
		vs = append(vs, v)
	}
	return vs, sc.Err()
}

// RecipeOf names the image recipe a manifest belongs to: the directory holding its mutants/
// (servers/synapse-reference/mutants/manifest.txt: synapse-reference).
func RecipeOf(manifest string) string {
	abs, err := filepath.Abs(manifest)
	if err != nil {
		abs = manifest
	}
	return filepath.Base(filepath.Dir(filepath.Dir(abs)))
}

// Judge reads one variant's run.
func Judge(v Variant, dir string) Outcome {
	o := Outcome{Variant: v, ExitCode: -1, CodesSeen: []string{}, Failed: []Failed{}}
	if b, err := os.ReadFile(filepath.Join(dir, "exit")); err == nil {
		o.ExitCode, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	var s report.Summary
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err == nil {
		err = json.Unmarshal(b, &s)
	}
	if o.ExitCode == 2 || o.ExitCode < 0 || err != nil {
		o.Verdict = "error"
		o.CodeNote = fmt.Sprintf("the run did not complete (exit %d; see %s/run.log)", o.ExitCode, dir)
		return o
	}
	codes, lines := readResults(filepath.Join(dir, "results.json"))
	collectFailures(&o, s.Tests, codes, lines)
	switch {
	case v.ShouldOnly:
		judgeShouldOnly(&o)
	case v.Legal:
		o.Good = o.ExitCode == 0
		o.Verdict = map[bool]string{true: "legal-pass", false: "legal-failed"}[o.Good]
	case o.ExitCode == 0:
		o.Verdict = "escaped"
	default:
		judgeCaught(&o)
	}
	return o
}

// collectFailures files the run's counted tests into o: expected failures, warnings, and
// the tests that failed the run, each with its first failure line (the stream's, when it has
// one for the test) and its failure codes.
func collectFailures(o *Outcome, tests []report.TestSummary, codes map[string][]string, lines map[string]string) {
	for _, t := range tests {
		if t.Counted && t.Verdict == report.ExpectedFail {
			msg := t.Message
			if l, ok := lines[t.Name]; ok {
				msg = l
			}
			o.Expected = append(o.Expected, Failed{Test: t.Name, Covers: t.Covers, Message: firstLine(msg), Codes: codes[t.Name]})
		}
		if t.Counted && t.Verdict == report.Warning {
			o.Warned = append(o.Warned, Failed{Test: t.Name, Covers: t.Covers, Message: firstLine(t.Message), Codes: codes[t.Name]})
		}
		if t.Counted && (t.Verdict == report.Failed || t.Verdict == report.FailsDifferently || t.Verdict == report.Unfinished || t.Verdict == report.UnexpectedPass) {
			msg := t.Message
			if l, ok := lines[t.Name]; ok {
				msg = l
			}
			if t.Verdict == report.UnexpectedPass {
				msg = "passed, but the expectations file lists it as failing"
			}
			o.Failed = append(o.Failed, Failed{Test: t.Name, Covers: t.Covers, Message: firstLine(msg), Codes: codes[t.Name]})
		}
	}
}

// judgeShouldOnly judges a legal-should variant: its run must pass with a warning on one of
// the requirements its line names.
func judgeShouldOnly(o *Outcome) {
	warnedOn := false
	for _, w := range o.Warned {
		for _, id := range o.Requirements {
			warnedOn = warnedOn || slices.Contains(w.Covers, id)
		}
	}
	switch {
	case o.ExitCode != 0:
		o.Verdict = "legal-failed"
	case !warnedOn:
		o.Verdict = "legal-no-warning"
		o.CodeNote = "no warning on " + strings.Join(o.Requirements, ",") + ": the variant's SHOULD breach went unseen"
	default:
		o.Verdict, o.Good = "legal-warned", true
	}
}

// judgeCaught judges a breaking variant whose run failed: caught when a test of one of its
// requirements failed, with one of its expected codes when it names codes and the failing
// tests emit any (the codes seen on target are recorded, sorted).
func judgeCaught(o *Outcome) {
	var onTarget []Failed
	for _, f := range o.Failed {
		for _, id := range o.Requirements {
			if slices.Contains(f.Covers, id) {
				onTarget = append(onTarget, f)
				break
			}
		}
	}
	if len(onTarget) == 0 {
		o.Verdict = "failed-elsewhere"
		return
	}
	seen := map[string]bool{}
	for _, f := range onTarget {
		for _, c := range f.Codes {
			seen[c] = true
		}
	}
	for c := range seen {
		o.CodesSeen = append(o.CodesSeen, c)
	}
	sort.Strings(o.CodesSeen)
	switch {
	case len(o.Codes) == 0:
		o.Verdict, o.Good = "caught", true
		o.CodeNote = "no code expected yet"
	case len(o.CodesSeen) == 0:
		o.Verdict, o.Good = "caught", true
		o.CodeNote = "code not checked (test emits none)"
	default:
		for _, c := range o.Codes {
			if seen[c] {
				o.Verdict, o.Good = "caught", true
				return
			}
		}
		o.Verdict = "fails-differently"
		o.CodeNote = "expected " + strings.Join(o.Codes, ",")
	}
}

// readResults reads a variant's `go test -json` stream with the report's reader (the one
// parser of the stream): for each test, by name, the failure codes it logged and the line
// that says why it failed (report.Test.FailureLine). A missing or unreadable stream gives
// nothing: the summary alone is judged.
func readResults(path string) (codes map[string][]string, lines map[string]string) {
	codes, lines = map[string][]string{}, map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return codes, lines
	}
	defer f.Close()
	res, _ := report.Read(f, nil)
	for _, t := range res.Tests {
		if len(t.Codes) > 0 {
			codes[t.Name] = t.Codes
		}
		if l := t.FailureLine(); l != "" {
			lines[t.Name] = l
		}
	}
	return codes, lines
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

func score(outs []Outcome) string {
	caught, mutants, legalOK, legal := 0, 0, 0, 0
	for _, o := range outs {
		if o.Legal {
			legal++
			if o.Good {
				legalOK++
			}
			continue
		}
		mutants++
		if o.Good {
			caught++
		}
	}
	return fmt.Sprintf("caught %d/%d variants; legal variants passing %d/%d", caught, mutants, legalOK, legal)
}

func codesCell(o Outcome) string {
	c := strings.Join(o.CodesSeen, ",")
	if c == "" {
		c = "-"
	}
	if o.CodeNote != "" {
		c += " (" + o.CodeNote + ")"
	}
	return c
}

func reqCell(o Outcome) string {
	if o.ShouldOnly {
		return "legal (SHOULD " + strings.Join(o.Requirements, ",") + ")"
	}
	if o.Legal {
		return "legal"
	}
	return strings.Join(o.Requirements, ",")
}

// Table is the terminal table: one row per variant, then what failed, then the score.
func Table(outs []Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-29s %-17s %-14s %-18s %s\n", "variant", "server", "requirement", "verdict", "codes seen")
	for _, o := range outs {
		fmt.Fprintf(&b, "%-29s %-17s %-14s %-18s %s\n", o.Name, o.Server, reqCell(o), o.Verdict, codesCell(o))
		fmt.Fprintf(&b, "    tests: %s\n", o.Tests)
		for _, f := range o.Failed {
			fmt.Fprintf(&b, "    failed %s [%s]: %s\n", f.Test, strings.Join(f.Covers, ","), f.Message)
		}
		for _, f := range o.Expected {
			fmt.Fprintf(&b, "    failed as expected (absorbed by the expectations file) %s [%s]: %s\n", f.Test, strings.Join(f.Covers, ","), f.Message)
		}
		for _, f := range o.Warned {
			fmt.Fprintf(&b, "    warning %s [%s]: %s\n", f.Test, strings.Join(f.Covers, ","), f.Message)
		}
	}
	fmt.Fprintf(&b, "stickler-mutants: %s\n", score(outs))
	return b.String()
}

// Markdown is the same as a markdown table.
func Markdown(outs []Outcome) string {
	var b strings.Builder
	b.WriteString("# Suite power: deliberately broken Synapse variants\n\n")
	b.WriteString("| variant | server | requirement | tests | verdict | codes seen | what failed (first line) |\n|---|---|---|---|---|---|---|\n")
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	for _, o := range outs {
		var failed []string
		for _, f := range o.Failed {
			failed = append(failed, esc(f.Test+": "+f.Message))
		}
		for _, f := range o.Expected {
			failed = append(failed, esc("(absorbed as expected) "+f.Test+": "+f.Message))
		}
		for _, f := range o.Warned {
			failed = append(failed, esc("(warning) "+f.Test+": "+f.Message))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | `%s` | %s | %s | %s |\n", o.Name, o.Server, reqCell(o), esc(o.Tests), o.Verdict, esc(codesCell(o)), strings.Join(failed, "<br>"))
	}
	fmt.Fprintf(&b, "\n**Score:** %s\n", score(outs))
	return b.String()
}

// HTML is the same as one self-contained page.
func HTML(outs []Outcome) string {
	var b strings.Builder
	e := html.EscapeString
	b.WriteString(`<!doctype html><meta charset="utf-8"><title>Stickler: suite power</title>
<style>body{font:14px sans-serif;margin:2em}td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
table{border-collapse:collapse}.good{background:#e6f4ea}.bad{background:#fce8e6}code{font-size:12px}</style>
<h1>Suite power: deliberately broken Synapse variants</h1>
`)
	fmt.Fprintf(&b, "<p><b>%s</b></p>\n<table><tr><th>variant</th><th>server</th><th>requirement</th><th>tests</th><th>verdict</th><th>codes seen</th><th>what failed (first line)</th></tr>\n", e(score(outs)))
	for _, o := range outs {
		class := map[bool]string{true: "good", false: "bad"}[o.Good]
		var failed []string
		for _, f := range o.Failed {
			failed = append(failed, "<code>"+e(f.Test)+"</code>: "+e(f.Message))
		}
		for _, f := range o.Expected {
			failed = append(failed, "<i>absorbed as expected</i> <code>"+e(f.Test)+"</code>: "+e(f.Message))
		}
		for _, f := range o.Warned {
			failed = append(failed, "<i>warning</i> <code>"+e(f.Test)+"</code>: "+e(f.Message))
		}
		fmt.Fprintf(&b, "<tr class=%q><td>%s<br><small>%s</small></td><td>%s</td><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			class, e(o.Name), e(o.Description), e(o.Server), e(reqCell(o)), e(o.Tests), e(o.Verdict), e(codesCell(o)), strings.Join(failed, "<br>"))
	}
	b.WriteString("</table>\n")
	return b.String()
}
