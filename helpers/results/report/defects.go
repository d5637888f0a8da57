package report

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"

	"stickler/helpers/spec"
)

// A Finding is one defect of the server under test, as a homeserver team would file it: the
// failure code groups every test that shows the same defect (tests without a code are grouped
// by their failure message, IDs and numbers left out). Known failures and warnings are findings too, marked by Kind; skips
// and passes are not.
type Finding struct {
	Code       string        `json:"code,omitempty"` // "" when the test failed without a code
	Meaning    string        `json:"meaning,omitempty"`
	Kind       string        `json:"kind"` // FindingFails, FindingKnown, FindingWarning, FindingUnfinished
	Rules      []FindingRule `json:"rules"`
	Tests      []string      `json:"tests"`
	Messages   []string      `json:"messages"`        // what was expected and what the server did, one per test, shortened
	Known      []string      `json:"known,omitempty"` // the expectations file's reasons (known failures)
	Reproduce  string        `json:"reproduce"`       // one command against the same image(s)
	ByRule     string        `json:"by_requirement"`  // the same by requirement ID
	Logs       []string      `json:"logs,omitempty"`  // server log lines of the failing span, chosen by LogRule
	LogsCut    int           `json:"logs_cut"`        // matching lines left out (over the cap)
	LogsSource string        `json:"logs_source"`     // which test's printed logs they come from
	order      int
}

// FindingRule is a requirement a finding breaks, with the proposal's sentence behind it.
type FindingRule struct {
	ID        string `json:"id"`
	Level     string `json:"level"`
	Title     string `json:"title"`
	Section   string `json:"section"`
	Statement string `json:"statement"` // helpers/spec/statements.go: opens with its section
	Doc       string `json:"doc"`       // docs/requirements.md#id
}

// Kinds of findings, as the page marks them.
const (
	FindingFails      = "fails the run"
	FindingKnown      = "known failure"
	FindingWarning    = "warning (SHOULD)"
	FindingUnfinished = "never finished"
)

// LogRule says how a finding's server log lines are chosen; the page prints it.
const LogRule = "the lines come from the servers' logs the harness prints under the failing test " +
	"(each server's output from the test's start, its last 150 lines). A line is kept when it names a room ID " +
	"or an event ID that appears in the test's own log lines (plain or URL-encoded); when no line does, the lines " +
	"logged at WARNING, ERROR or CRITICAL level and Python tracebacks are kept instead. At most the last 15 kept " +
	"lines are shown. Every server's whole log is in the logs/ folder of the report directory."

// maxLogLines caps a finding's log lines; maxMessage shortens a failure message.
const (
	maxLogLines = 15
	maxMessage  = 400
)

// CodeMeaningsPath is the table of failure codes (relative to the repository root).
const CodeMeaningsPath = "docs/failure-codes.md"

var codeRow = regexp.MustCompile("^\\| `([a-z0-9-]+)` \\| (.*) \\|$")

// ReadCodeMeanings reads the code table of docs/failure-codes.md: code -> meaning.
func ReadCodeMeanings(r io.Reader) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if m := codeRow.FindStringSubmatch(strings.TrimSpace(sc.Text())); m != nil {
			out[m[1]] = m[2]
		}
	}
	return out
}

// LoadCodeMeanings reads path (docs/failure-codes.md); nil when it cannot be read (the
// findings then name codes without their meaning).
func LoadCodeMeanings(path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	return ReadCodeMeanings(f)
}

var idInText = regexp.MustCompile(`\b[A-Z]+-[0-9]+\b`)

// RulesOf chooses the requirements a defect breaks: those its tests cover that the code's
// meaning also names (docs/failure-codes.md says "(SYNC-7, SSS-3)"), else every one they cover.
func RulesOf(covers []string, meaning string) []FindingRule {
	named := idInText.FindAllString(meaning, -1)
	var ids []string
	for _, id := range covers {
		if slices.Contains(named, id) && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		for _, id := range covers {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	sortIDs(ids)
	var out []FindingRule
	for _, id := range ids {
		q, ok := spec.Lookup(id)
		if !ok {
			out = append(out, FindingRule{ID: id, Level: "?", Title: "not in the catalogue"})
			continue
		}
		out = append(out, FindingRule{ID: id, Level: string(q.Level), Title: q.Title, Section: q.Section,
			Statement: spec.Statements[id], Doc: spec.DocPath + "#" + q.Anchor()})
	}
	return out
}

// sortIDs puts requirement IDs in catalogue order.
func sortIDs(ids []string) {
	pos := map[string]int{}
	for i, q := range spec.Catalogue {
		pos[q.ID] = i + 1
	}
	sort.SliceStable(ids, func(i, j int) bool {
		a, b := pos[ids[i]], pos[ids[j]]
		if a == 0 || b == 0 {
			return a > b || (a == b && ids[i] < ids[j])
		}
		return a < b
	})
}

// Repro is what a reproduction command needs of the run: the images and settings it ran with.
type Repro struct {
	Server       string            // STICKLER_SERVER, when the run used a recipe
	Image        string            // COMPLEMENT_BASE_IMAGE as the tests saw it
	Servers      map[string]string // COMPLEMENT_BASE_IMAGE_HSn
	Names        string            // STICKLER_NAMES
	Expectations string
}

// envPrefix is the settings that point a run at the same image(s), without the expectations
// file, so that a known failure prints in full.
func (rp Repro) envPrefix() string {
	var parts []string
	if rp.Image != "" {
		parts = append(parts, "COMPLEMENT_BASE_IMAGE="+rp.Image)
		hs := make([]string, 0, len(rp.Servers))
		for k := range rp.Servers {
			hs = append(hs, k)
		}
		sort.Strings(hs)
		for _, k := range hs {
			parts = append(parts, "COMPLEMENT_BASE_IMAGE_"+strings.ToUpper(k)+"="+rp.Servers[k])
		}
	} else if rp.Server != "" {
		parts = append(parts, "STICKLER_SERVER="+rp.Server)
	}
	if rp.Names == "stable" {
		parts = append(parts, "STICKLER_NAMES=stable")
	}
	parts = append(parts, "STICKLER_EXPECTATIONS=")
	return strings.Join(parts, " ")
}

// RunPatternFor is the -run pattern that runs one test (a subtest: its parent with only it).
func RunPatternFor(name string) string {
	var levels []string
	for _, l := range strings.Split(name, "/") {
		levels = append(levels, "^"+regexp.QuoteMeta(l)+"$")
	}
	return strings.Join(levels, "/")
}

// Command is the reproduction command for one test.
func (rp Repro) Command(test string) string {
	return rp.envPrefix() + " ./run.sh -run '" + RunPatternFor(test) + "'"
}

// CommandByRule is the same by requirement IDs.
func (rp Repro) CommandByRule(ids []string) string {
	return rp.envPrefix() + " ./run.sh --req " + strings.Join(ids, ",")
}

// Findings gathers the run's defects: every counted test whose verdict is a failure (of the
// run, known, a warning, or unfinished), grouped by failure code; meanings is the code table
// (nil: none).
func (r *Results) Findings(ru Rules, meanings map[string]string, rp Repro) []Finding {
	v := r.Verdicts(ru)
	byKey := map[string]*Finding{}
	var keys []string
	tests := r.Leaves(v)
	// A parent that failed with codes of its own shows its defect even when a subtest failed
	// too (it is then not a leaf of the counts).
	for _, t := range r.Tests {
		if len(t.Codes) > 0 && r.hasChildren(t) && !slices.Contains(tests, t) {
			tests = append(tests, t)
		}
	}
	for _, t := range tests {
		kind := ""
		switch v[t] {
		case Failed, FailsDifferently:
			kind = FindingFails
		case ExpectedFail:
			kind = FindingKnown
		case Warning:
			kind = FindingWarning
		case Unfinished:
			kind = FindingUnfinished
		default:
			continue
		}
		codes := t.Codes
		if r.hasChildren(t) && !r.anyChildFailed(t) {
			codes = r.Codes(t)
		}
		keysOf := []string{}
		for _, c := range codes {
			keysOf = append(keysOf, "code:"+c)
		}
		if len(keysOf) == 0 {
			// Without a code, failures that say the same thing (a deployment that did not
			// start, the same control failing) are one finding; others stand alone.
			if m := shapeOf(r.message(t)); m != "" {
				keysOf = append(keysOf, "message:"+m)
			} else {
				keysOf = append(keysOf, "test:"+t.Name)
			}
		}
		for _, k := range keysOf {
			f := byKey[k]
			if f == nil {
				f = &Finding{Kind: kind, order: len(keys)}
				if c, ok := strings.CutPrefix(k, "code:"); ok {
					f.Code = c
					f.Meaning = meanings[c]
				}
				byKey[k] = f
				keys = append(keys, k)
			}
			f.Kind = worseKind(f.Kind, kind)
			f.Tests = append(f.Tests, t.Name)
			if m := shortenMessage(r.message(t), maxMessage); m != "" && !slices.Contains(f.Messages, m) {
				f.Messages = append(f.Messages, m)
			}
			if x, ok := ru.Expectations[t.Name]; ok && x.Outcome == "fail" && !slices.Contains(f.Known, x.Reason) {
				f.Known = append(f.Known, x.Reason)
			}
		}
	}
	out := make([]Finding, 0, len(keys))
	for _, k := range keys {
		f := byKey[k]
		var covers []string
		for _, name := range f.Tests {
			covers = append(covers, r.coversOf(name)...)
		}
		f.Rules = RulesOf(covers, f.Meaning)
		f.Reproduce = rp.Command(f.Tests[0])
		var ids []string
		for _, q := range f.Rules {
			ids = append(ids, q.ID)
		}
		if len(ids) > 0 {
			f.ByRule = rp.CommandByRule(ids)
		}
		for _, name := range f.Tests {
			if logs, cut, ok := r.spanLogs(name); ok {
				f.Logs, f.LogsCut, f.LogsSource = logs, cut, name
				if len(logs) > 0 {
					break
				}
			}
		}
		out = append(out, *f)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if a, b := kindRank(out[i].Kind), kindRank(out[j].Kind); a != b {
			return a < b
		}
		return out[i].order < out[j].order
	})
	return out
}

var (
	shapeIDs    = regexp.MustCompile(`[$!@][A-Za-z0-9_+/=.-]+(:[A-Za-z0-9.-]+(:[0-9]+)?)?`)
	shapeNumber = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)
)

// shapeOf is a failure message with its IDs, ports, counts and times taken out, so that the
// same failure of several tests compares equal ("" for no message).
func shapeOf(msg string) string {
	msg = shapeIDs.ReplaceAllString(msg, "ID")
	return shapeNumber.ReplaceAllString(msg, "N")
}

func kindRank(k string) int {
	switch k {
	case FindingFails:
		return 0
	case FindingUnfinished:
		return 1
	case FindingWarning:
		return 2
	}
	return 3
}

// worseKind: a defect that fails the run anywhere fails the run.
func worseKind(a, b string) string {
	if kindRank(b) < kindRank(a) {
		return b
	}
	return a
}

// byName finds a test of the run by name.
func (r *Results) byName(name string) *Test {
	for _, t := range r.Tests {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// coversOf is what a test covers: its own declarations, else its nearest ancestor's.
func (r *Results) coversOf(name string) []string {
	for n := name; n != ""; {
		if t := r.byName(n); t != nil && len(t.Covers) > 0 {
			return t.Covers
		}
		i := strings.LastIndexByte(n, '/')
		if i < 0 {
			break
		}
		n = n[:i]
	}
	return nil
}

// message is the failure of t in one line: its failure line, else a subtest's, else "never
// finished".
func (r *Results) message(t *Test) string {
	if m := t.FailureLine(); m != "" {
		return m
	}
	for _, c := range r.Tests {
		if c.Package == t.Package && strings.HasPrefix(c.Name, t.Name+"/") && c.Outcome == "fail" {
			if m := c.FailureLine(); m != "" {
				return c.Name + ": " + m
			}
		}
	}
	if t.Outcome == "" {
		return "the test never finished (the run timed out or the test binary crashed)"
	}
	return ""
}

func shortenMessage(s string, n int) string {
	return shorten(strings.Join(strings.Fields(s), " "), n)
}

var (
	roomID   = regexp.MustCompile(`![A-Za-z0-9_-]+:[A-Za-z0-9.-]+(?::[0-9]+)?`)
	eventID  = regexp.MustCompile(`\$[A-Za-z0-9_+/-]{16,}`)
	logBegin = regexp.MustCompile(`=== logs of (\S+) \(([^)]*)\) since (\S+) ===`)
	logEnd   = regexp.MustCompile(`=== end of logs of \S+ ===`)
	severe   = regexp.MustCompile(` - (WARNING|ERROR|CRITICAL) - |^Traceback |^\s+File "|^[A-Za-z.]*(Error|Exception): `)
)

// spanLogs picks the log lines of a failing test's span (LogRule): from the server logs
// printed under the test or the nearest ancestor that printed them. ok is false when neither
// printed any.
func (r *Results) spanLogs(name string) (lines []string, cut int, ok bool) {
	t := r.byName(name)
	if t == nil {
		return nil, 0, false
	}
	ids := r.idsOf(t)
	for n := name; n != ""; {
		if a := r.byName(n); a != nil {
			if blocks := serverLogs(a.Output); len(blocks) > 0 {
				kept := pick(blocks, func(l string) bool { return mentions(l, ids) })
				if len(kept) == 0 {
					kept = pick(blocks, severe.MatchString)
				}
				if len(kept) > maxLogLines {
					return kept[len(kept)-maxLogLines:], len(kept) - maxLogLines, true
				}
				return kept, 0, true
			}
		}
		i := strings.LastIndexByte(n, '/')
		if i < 0 {
			break
		}
		n = n[:i]
	}
	return nil, 0, false
}

// pick keeps the lines of the blocks that keep accepts, each prefixed with its server.
// A line printed twice (the logs of a span printed by two cleanups) is kept once.
func pick(blocks []logBlock, keep func(string) bool) []string {
	var out []string
	seen := map[string]bool{}
	for _, b := range blocks {
		for _, l := range b.lines {
			if line := b.server + ": " + l; keep(l) && !seen[line] {
				seen[line] = true
				out = append(out, line)
			}
		}
	}
	return out
}

// idsOf are the room and event IDs in the test's own log lines (and its subtests'), before the
// servers' logs printed under it.
func (r *Results) idsOf(t *Test) []string {
	seen := map[string]bool{}
	var out []string
	add := func(output []string) {
		for _, l := range strings.Split(strings.Join(output, ""), "\n") {
			if strings.Contains(l, "=== logs of ") {
				break
			}
			for _, id := range append(roomID.FindAllString(l, -1), eventID.FindAllString(l, -1)...) {
				if !seen[id] {
					seen[id] = true
					out = append(out, id)
				}
			}
		}
	}
	add(t.Output)
	for _, c := range r.Tests {
		if c.Package == t.Package && strings.HasPrefix(c.Name, t.Name+"/") {
			add(c.Output)
		}
	}
	return out
}

var (
	sigils      = strings.NewReplacer("!", "%21", "$", "%24")
	allReserved = strings.NewReplacer("!", "%21", "$", "%24", ":", "%3a", "+", "%2b", "/", "%2f")
)

// mentions says whether a log line names one of the IDs, plain or URL-encoded.
func mentions(line string, ids []string) bool {
	low := strings.ToLower(line)
	for _, id := range ids {
		if strings.Contains(line, id) {
			return true
		}
		// Clients encode the sigil and sometimes the colon (Go's url.PathEscape keeps it).
		for _, enc := range []*strings.Replacer{sigils, allReserved} {
			if strings.Contains(low, strings.ToLower(enc.Replace(id))) {
				return true
			}
		}
	}
	return false
}

type logBlock struct {
	server string
	lines  []string
}

// serverLogs reads the "=== logs of hsN (image) since T ===" blocks of a test's output.
func serverLogs(output []string) []logBlock {
	var out []logBlock
	var cur *logBlock
	for _, l := range strings.Split(strings.Join(output, ""), "\n") {
		if m := logBegin.FindStringSubmatch(l); m != nil {
			out = append(out, logBlock{server: m[1]})
			cur = &out[len(out)-1]
			continue
		}
		if cur == nil {
			continue
		}
		if logEnd.MatchString(l) {
			cur = nil
			continue
		}
		if s := strings.TrimSpace(l); s != "" && !strings.HasPrefix(s, "... ") {
			cur.lines = append(cur.lines, s)
		}
	}
	return out
}

// WriteFindingsMarkdown writes the findings page of a run (findings.md).
func WriteFindingsMarkdown(w io.Writer, s *Summary) error {
	b := &strings.Builder{}
	fmt.Fprintf(b, "# Findings\n\n")
	var where []string
	if s.Meta.Label != "" {
		where = append(where, "run **"+s.Meta.Label+"**")
	}
	if s.Meta.Image != "" {
		where = append(where, "image `"+s.Meta.Image+"`")
	}
	hs := make([]string, 0, len(s.Meta.Servers))
	for k := range s.Meta.Servers {
		hs = append(hs, k)
	}
	sort.Strings(hs)
	for _, k := range hs {
		where = append(where, k+" `"+s.Meta.Servers[k]+"`")
	}
	exp := "none"
	if s.Meta.Expectations != "" {
		exp = "`" + s.Meta.Expectations + "`"
	}
	where = append(where, "expectations "+exp, "generated "+s.Meta.Generated.UTC().Format("2006-01-02 15:04:05 UTC"))
	fmt.Fprintf(b, "%s.\n\n", strings.Join(where, ", "))
	if s.Headline != "" {
		fmt.Fprintf(b, "**%s**\n\n", s.Headline)
	}
	if len(s.Findings) == 0 {
		fmt.Fprintf(b, "No findings: no test failed, failed as known, or warned. (%s)\n", s.CountLine)
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(b, "One entry per defect: the failure code groups the tests that show it (tests that failed without a code are grouped by their failure message, IDs and numbers left out). "+
		"Marked **fails the run**, **known failure** (listed in the expectations file: it does not fail the run), **warning (SHOULD)** "+
		"or **never finished**; skipped tests are not findings. %s\n\n", s.CountLine)
	fmt.Fprintf(b, "The reproduction commands run from the repository root against the same image(s), without the expectations file, so that the failure and the servers' logs of its span are printed in full.\n\n")
	fmt.Fprintf(b, "How the server log lines are chosen: %s\n\n", LogRule)
	for i, f := range s.Findings {
		writeFindingMarkdown(b, i+1, f)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// FindingTitle is a finding's heading: its code, or the test that failed without one (the
// number of tests when several failed alike).
func FindingTitle(f Finding) string {
	switch {
	case f.Code != "":
		return "`" + f.Code + "`"
	case len(f.Tests) > 1:
		return fmt.Sprintf("no failure code: %s and %d more failing alike", f.Tests[0], len(f.Tests)-1)
	}
	return "no failure code: " + f.Tests[0]
}

func writeFindingMarkdown(b *strings.Builder, n int, f Finding) {
	var ids []string
	for _, q := range f.Rules {
		ids = append(ids, q.ID+" ("+q.Level+")")
	}
	fmt.Fprintf(b, "## %d. %s: %s [%s]\n\n", n, FindingTitle(f), strings.Join(ids, ", "), f.Kind)
	if f.Meaning != "" {
		fmt.Fprintf(b, "%s.\n\n", strings.TrimSuffix(f.Meaning, "."))
	}
	for _, q := range f.Rules {
		fmt.Fprintf(b, "- **%s %s**: %s. The proposal: %s (%s; catalogue: `%s`)\n", q.ID, q.Level, q.Title, q.Statement, q.Section, q.Doc)
	}
	fmt.Fprintf(b, "\n**Expected, and what the server did** (the failure messages):\n\n")
	for _, m := range f.Messages {
		fmt.Fprintf(b, "- %s\n", strings.ReplaceAll(m, "\n", " "))
	}
	for _, k := range f.Known {
		fmt.Fprintf(b, "- known (expectations file): %s\n", k)
	}
	fmt.Fprintf(b, "\n**Tests** (%d): %s\n\n", len(f.Tests), "`"+strings.Join(f.Tests, "`, `")+"`")
	fmt.Fprintf(b, "**Reproduce**:\n\n```sh\n%s\n", f.Reproduce)
	if f.ByRule != "" {
		fmt.Fprintf(b, "%s   # every test of the rule\n", f.ByRule)
	}
	fmt.Fprintf(b, "```\n\n")
	switch {
	case f.LogsSource == "":
		fmt.Fprintf(b, "**Server log**: none was printed under the failing test.\n\n")
	case len(f.Logs) == 0:
		fmt.Fprintf(b, "**Server log** (printed under %s): no line names the test's rooms or events or is a warning or error.\n\n", f.LogsSource)
	default:
		more := ""
		if f.LogsCut > 0 {
			more = fmt.Sprintf(", %d earlier matching line(s) left out", f.LogsCut)
		}
		fmt.Fprintf(b, "**Server log** (printed under %s%s):\n\n```\n%s\n```\n\n", f.LogsSource, more, strings.Join(f.Logs, "\n"))
	}
}
