package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"stickler/helpers/harness/timeline"
	"stickler/helpers/spec/marker"
)

// WriteHTML writes the report as one self-contained HTML file: inline CSS and SVG, no
// script, no font or image from anywhere, so it opens offline and from a CI artifact.
func WriteHTML(w io.Writer, s *Summary) error {
	return page.Execute(w, buildPage(s))
}

type htmlPage struct {
	*Summary
	Groups     []htmlGroup
	Failing    []htmlTest
	Warnings   []htmlTest
	Timelines  []htmlTest
	AllTests   []htmlTest
	Skips      []htmlTest
	SkipGroups []htmlSkipGroup // Skips by identical reason (inconclusive ones alone)
	Known      []htmlTest      // known failures (the expectations file), with their reasons
	skipGroup  map[string]int  // test name -> index of its skip group
	MaxMS      int64
	Untested   int
}

type htmlGroup struct {
	Name         string
	Pass, Total  int
	Requirements []htmlRequirement
}

type htmlRequirement struct {
	RequirementSummary
	Tests []htmlTest
	Skips []htmlSkipNote // its tests' skip reasons, each once
}

// htmlSkipNote is a skip reason in a row of the requirements table: said once for the tests
// of the row it applies to, and linked to its group in the Skipped section.
type htmlSkipNote struct {
	Reason string
	Group  int      // index in SkipGroups (its anchor: skip-N)
	Tests  []string // the row's tests skipped for it
	Others int      // tests of other rows skipped for it too
}

type htmlTest struct {
	TestSummary
	Anchor    string
	Picture   timelinePicture
	HasPic    bool
	Summaries []mapLine
}

type htmlSkipGroup struct {
	Index  int
	Reason string
	Tests  []htmlTest
}

type mapLine struct{ Client, At, Text string }

// buildPage gathers what the page template shows: the tests in each of its sections, the
// skip groups and the requirements table by group.
func buildPage(s *Summary) htmlPage {
	p := htmlPage{Summary: s}
	byName := map[string]htmlTest{}
	for _, t := range s.Tests {
		ht := newHTMLTest(t)
		if t.ElapsedMS > p.MaxMS {
			p.MaxMS = t.ElapsedMS
		}
		byName[t.Name] = ht
		p.AllTests = append(p.AllTests, ht)
		if t.Verdict.FailsRun() && (t.Counted || len(t.Diverged) > 0) {
			p.Failing = append(p.Failing, ht)
		}
		if t.Verdict == Warning && t.Counted {
			p.Warnings = append(p.Warnings, ht)
		}
		if ht.HasPic {
			p.Timelines = append(p.Timelines, ht)
		}
		if t.Outcome == "skip" && t.Counted {
			p.Skips = append(p.Skips, ht)
		}
	}
	p.groupSkips(byName)
	for _, t := range p.AllTests {
		if t.Verdict == ExpectedFail && t.Counted {
			p.Known = append(p.Known, t)
		}
	}
	for _, g := range groups() {
		hg := htmlGroup{Name: g}
		for _, id := range s.Order {
			q := s.Requirements[id]
			if q.Group != g {
				continue
			}
			hg.Total++
			if q.Outcome == "pass" {
				hg.Pass++
			}
			if q.Outcome == "untested" {
				p.Untested++
			}
			hg.Requirements = append(hg.Requirements, p.requirementRow(q, byName))
		}
		p.Groups = append(p.Groups, hg)
	}
	return p
}

// newHTMLTest wraps a test's summary for the page: its timeline drawn (when it has one) and
// its map-state records listed with their times relative to the timeline's first record.
func newHTMLTest(t TestSummary) htmlTest {
	ht := htmlTest{TestSummary: t, Anchor: t.anchor}
	if pic, ok := drawTimeline(t.Timeline); ok {
		ht.Picture, ht.HasPic = pic, true
		var zero int64
		for _, r := range t.Timeline {
			if zero == 0 || r.At < zero {
				zero = r.At
			}
		}
		for _, r := range t.Timeline {
			if r.Kind == timeline.KindMap {
				ht.Summaries = append(ht.Summaries, mapLine{Client: r.Client, At: rel(r.At, zero), Text: r.Text})
			}
		}
	}
	return ht
}

// groupSkips fills the Skipped section's groups from p.Skips (tests skipped for the same
// reason together) and remembers each skipped test's group for the requirements table.
func (p *htmlPage) groupSkips(byName map[string]htmlTest) {
	var skips []Skip
	for _, t := range p.Skips {
		skips = append(skips, Skip{Name: t.Name, Reason: t.SkipReason, Kind: marker.Kind(t.SkipKind)})
	}
	p.skipGroup = map[string]int{}
	for i, g := range GroupSkips(skips) {
		hg := htmlSkipGroup{Index: i, Reason: g.Reason}
		for _, n := range g.Tests {
			hg.Tests = append(hg.Tests, byName[n])
			p.skipGroup[n] = i
		}
		p.SkipGroups = append(p.SkipGroups, hg)
	}
}

// requirementRow is one row of the requirements table: the requirement, its tests, and the
// skip reasons of its tests, each said once with the tests it applies to and how many tests
// of other rows share it (needs p.groupSkips done first).
func (p *htmlPage) requirementRow(q RequirementSummary, byName map[string]htmlTest) htmlRequirement {
	hq := htmlRequirement{RequirementSummary: q}
	at := map[int]int{} // skip group -> index in hq.Skips
	for _, ref := range q.Tests {
		ht := byName[ref.Name]
		hq.Tests = append(hq.Tests, ht)
		gi, ok := p.skipGroup[ref.Name]
		if !ok || ht.SkipReason == "" {
			continue
		}
		j, seen := at[gi]
		if !seen {
			j = len(hq.Skips)
			at[gi] = j
			hq.Skips = append(hq.Skips, htmlSkipNote{Reason: ht.SkipReason, Group: gi})
		}
		hq.Skips[j].Tests = append(hq.Skips[j].Tests, ref.Name)
	}
	for j := range hq.Skips {
		hq.Skips[j].Others = len(p.SkipGroups[hq.Skips[j].Group].Tests) - len(hq.Skips[j].Tests)
	}
	return hq
}

var funcs = template.FuncMap{
	// badge is the CSS class and the word shown for a verdict or requirement outcome; a
	// failed SHOULD is a warning.
	"badge": func(outcome, level string) template.HTML {
		class, word := outcome, outcome
		switch outcome {
		case "fail":
			if level == "SHOULD" {
				class, word = "warn", "fail (SHOULD)"
			}
		case "warning":
			class, word = "warn", "warning (SHOULD)"
		case "observed":
			class, word = "observed", "observed"
		case "fails-differently":
			class, word = "fail", "fails differently"
		case "expected-fail":
			word = "known failure"
		case "expected-skip":
			class, word = "skip", "skip (expected)"
		case "unexpected-pass":
			word = "unexpected pass"
		case "":
			class, word = "unfinished", "unfinished"
		}
		return template.HTML(fmt.Sprintf(`<span class="badge %s">%s</span>`, template.HTMLEscapeString(class), template.HTMLEscapeString(word)))
	},
	"verdict": func(v Verdict) string { return string(v) },
	"secs": func(ms int64) string {
		if ms < 1000 {
			return fmt.Sprintf("%d ms", ms)
		}
		return fmt.Sprintf("%.1f s", float64(ms)/1000)
	},
	"pct": func(ms, maxMS int64) string {
		if maxMS <= 0 {
			return "0"
		}
		return fmt.Sprintf("%.1f", float64(ms)*100/float64(maxMS))
	},
	"join":         strings.Join,
	"logRule":      func() string { return LogRule },
	"findingTitle": FindingTitle,
	"sub":          func(a, b int) int { return a - b },
	"short":        func(s string) string { return clip(s, 110) },
}

var page = template.Must(template.New("report").Funcs(funcs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stickler report: {{.Result}} — {{.CountLine}}</title>
<style>
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --soft:#f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 18px 28px 10px; border-bottom: 1px solid var(--line); background: var(--soft); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .meta { color: var(--muted); font-size: 13px; }
header .meta code { font-size: 12px; }
.result { display: inline-block; font-weight: 700; font-size: 15px; padding: 3px 12px; border-radius: 4px; color: #fff; margin-right: 10px; vertical-align: 2px; }
.result.pass { background: #1a7f37; } .result.fail { background: #cf222e; }
.banner { font-size: 16px; font-weight: 700; color: #953800; background: #fff1e5; border: 1px solid #ffd8b5; border-radius: 4px; padding: 6px 12px; margin: 8px 0 4px; }
.warning { border: 1px solid #ffd8b5; border-left: 4px solid #bc4c00; border-radius: 4px; padding: 8px 12px; margin: 10px 0 16px; }
.warning h3 { margin: 0 0 4px; }
.problem { color: #a40e26; }
.reqtext { font-size: 12.5px; color: var(--muted); }
.counts span { margin-right: 14px; }
nav { padding: 8px 28px; border-bottom: 1px solid var(--line); font-size: 13px; position: sticky; top: 0; background: #fff; z-index: 2; }
nav a { margin-right: 16px; }
main { padding: 8px 28px 40px; max-width: 1400px; }
h2 { font-size: 18px; margin: 26px 0 8px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
a { color: #0969da; text-decoration: none; } a:hover { text-decoration: underline; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--soft); font-weight: 600; font-size: 13px; }
tr.group th { background: #eaeef2; font-size: 14px; }
tr.group th .gcount { font-weight: 400; color: var(--muted); margin-left: 8px; }
td.id { white-space: nowrap; font-weight: 600; }
td.level { white-space: nowrap; font-size: 12px; color: var(--muted); }
td.tests div { overflow-wrap: anywhere; }
table.matrix { table-layout: fixed; }
.badge { display: inline-block; font-size: 11.5px; font-weight: 600; padding: 1px 7px; border-radius: 10px; white-space: nowrap; border: 1px solid transparent; }
.badge.pass { background: #dafbe1; color: #116329; border-color: #aceebb; }
.badge.fail, .badge.unfinished { background: #ffebe9; color: #a40e26; border-color: #ffcecb; }
.badge.warn { background: #fff1e5; color: #953800; border-color: #ffd8b5; }
.badge.expected-fail { background: #fff8c5; color: #7d4e00; border-color: #f5e08f; }
.badge.unexpected-pass { background: #fbefff; color: #6e40c9; border-color: #e0c8ff; }
.badge.observed { background: #ddf4ff; color: #0550ae; border-color: #b6e3ff; }
.badge.skip, .badge.untested { background: #eff2f5; color: #59636e; border-color: #d1d9e0; }
.reason { color: var(--muted); font-size: 13px; }
.choice { font-size: 13px; }
.choice b { font-weight: 600; }
.failure { border: 1px solid #ffcecb; border-left: 4px solid #cf222e; border-radius: 4px; padding: 8px 12px; margin: 10px 0 16px; }
.failure h3 { margin: 0 0 4px; }
.headline { font-weight: 600; margin: 4px 0 6px; overflow-wrap: anywhere; }
.diverged { background: #ffebe9; border: 1px solid #ffcecb; border-radius: 4px; padding: 6px 10px; margin: 6px 0; white-space: pre-wrap; overflow-wrap: anywhere; max-height: 16em; overflow-y: auto; }
.diverged b { color: #a40e26; }
pre { background: var(--soft); border: 1px solid var(--line); border-radius: 4px; padding: 8px 10px; overflow-x: auto; font-size: 12px; line-height: 1.35; max-height: 420px; }
details > summary { cursor: pointer; color: #0969da; font-size: 13px; }
.tl { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px 10px; margin: 12px 0 18px; }
.tl h3 { margin-top: 4px; }
.scroll { overflow-x: auto; }
svg.timeline { display: block; font-family: system-ui, "DejaVu Sans", sans-serif; }
svg.timeline .lbl { font-size: 11.5px; text-anchor: end; fill: #1f2328; }
svg.timeline .tick { font-size: 10.5px; text-anchor: middle; fill: #59636e; }
svg.timeline .inbar { font-size: 10px; fill: #fff; font-weight: 600; }
svg.timeline .more { font-size: 10px; fill: #333; }
svg.timeline .marklbl { font-size: 12px; font-weight: 700; fill: #222; }
.legend { font-size: 12.5px; color: var(--muted); margin-top: 4px; }
.legend span { margin-right: 14px; white-space: nowrap; }
.sw { display: inline-block; width: 11px; height: 11px; border-radius: 2px; vertical-align: -1px; margin-right: 4px; }
.dot { border-radius: 50%; }
.dur { width: 260px; }
.durbar { height: 9px; background: #8ab6d6; border-radius: 2px; min-width: 1px; }
th.num, td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.mapstates { font-size: 12.5px; margin: 4px 0; }
.mapstates td { padding: 2px 8px; }
footer { color: var(--muted); font-size: 12px; padding: 16px 28px; border-top: 1px solid var(--line); }
</style>
</head>
<body>
<header>
<h1>Stickler — MSC4354 sticky events conformance</h1>
<div><span class="result {{.Result}}" id="result">{{if eq .Result "pass"}}PASS{{else}}FAIL{{end}}</span>
<span class="counts" id="counts"><span><b>{{.Counts.Passed}}</b> passed</span><span><b>{{.Counts.Failed}}</b> failed the run</span><span><b>{{.Counts.Skipped}}</b> skipped</span><span><b>{{.Counts.Warnings}}</b> warnings</span><span><b>{{.Counts.ExpectedFail}}</b> known failures</span>{{if .Counts.Observed}}<span><b>{{.Counts.Observed}}</b> observed</span>{{end}}{{if .Counts.FailsDifferently}}<span><b>{{.Counts.FailsDifferently}}</b> failing differently than expected</span>{{end}}{{if .Counts.UnexpectedPass}}<span><b>{{.Counts.UnexpectedPass}}</b> unexpected passes</span>{{end}}{{if .Counts.Unfinished}}<span><b>{{.Counts.Unfinished}}</b> unfinished</span>{{end}}</span></div>
{{if .Headline}}<div class="banner" id="headline">{{.Headline}}</div>{{end}}
<div class="meta">{{if .Meta.Label}}run <b>{{.Meta.Label}}</b> · {{end}}{{if .Meta.Strict}}<b>strict</b> (failed SHOULDs fail the run) · {{end}}{{if .Meta.Image}}image <code>{{.Meta.Image}}</code> · {{end}}{{range $hs, $img := .Meta.Servers}}{{$hs}} <code>{{$img}}</code> · {{end}}{{if .Meta.Names}}wire names <code>{{.Meta.Names}}</code> · {{end}}expectations <code>{{if .Meta.Expectations}}{{.Meta.Expectations}}{{else}}none{{end}}</code> · generated {{.Meta.Generated.UTC.Format "2006-01-02 15:04:05 UTC"}}</div>
</header>
<nav>{{if .Findings}}<a href="#findings">Findings ({{len .Findings}})</a>{{end}}{{if .Failing}}<a href="#failures">Failures ({{len .Failing}})</a>{{end}}{{if .Warnings}}<a href="#warnings">Warnings ({{len .Warnings}})</a>{{end}}{{if .Known}}<a href="#known">Known failures ({{len .Known}})</a>{{end}}{{if .Skips}}<a href="#skipped">Skipped ({{len .Skips}})</a>{{end}}{{if .Problems}}<a href="#expectations">Expectations file ({{len .Problems}})</a>{{end}}<a href="#requirements">Requirements</a>{{if .Timelines}}<a href="#timelines">Timelines ({{len .Timelines}})</a>{{end}}<a href="#tests">Tests and durations</a></nav>
<main>
{{if .Findings}}
<section id="findings">
<h2>Findings ({{len .Findings}})</h2>
<p class="reason">One entry per defect: the failure code groups the tests that show it (tests that failed without a code are grouped by their failure message); known failures and warnings are marked, skips are not findings. The same page as Markdown: findings.md beside this file. The commands run from the repository root against the same image(s), without the expectations file, so that the failure prints in full. Log lines: {{logRule}}</p>
{{range $i, $f := .Findings}}
<div class="{{if eq $f.Kind "fails the run" "never finished"}}failure{{else}}warning{{end}}" id="finding-{{$i}}">
<h3>{{if $f.Code}}<code>{{$f.Code}}</code>{{else}}{{findingTitle $f}}{{end}}: {{range $j, $q := $f.Rules}}{{if $j}}, {{end}}{{$q.ID}} ({{$q.Level}}){{end}} <span class="reason">[{{$f.Kind}}]</span></h3>
{{if $f.Meaning}}<div>{{$f.Meaning}}</div>{{end}}
<ul>{{range $f.Rules}}<li><b>{{.ID}} {{.Level}}</b>: {{.Title}}. <span class="reason">The proposal: {{.Statement}} ({{.Section}})</span></li>{{end}}</ul>
<div><b>Expected, and what the server did:</b></div>
<ul>{{range $f.Messages}}<li>{{.}}</li>{{end}}{{range $f.Known}}<li>known (expectations file): {{.}}</li>{{end}}</ul>
<div><b>Tests:</b> {{join $f.Tests ", "}}</div>
<div><b>Reproduce:</b></div>
<pre>{{$f.Reproduce}}{{if $f.ByRule}}
{{$f.ByRule}}   # every test of the rule{{end}}</pre>
{{if $f.Logs}}<details><summary>server log ({{len $f.Logs}} line(s) printed under {{$f.LogsSource}}{{if $f.LogsCut}}; {{$f.LogsCut}} earlier matching line(s) left out{{end}})</summary><pre>{{join $f.Logs "\n"}}</pre></details>{{else}}<div class="reason">server log: {{if $f.LogsSource}}no line printed under {{$f.LogsSource}} names its rooms or events or is a warning or error{{else}}none printed under the failing test{{end}}</div>{{end}}
</div>
{{end}}
</section>
{{end}}
{{if .Failing}}
<section id="failures">
<h2>Failures that fail the run</h2>
{{range .Failing}}
<div class="failure" id="fail-{{.Anchor}}">
<h3>{{badge (verdict .Verdict) ""}} <a href="#{{.Anchor}}">{{.Name}}</a> <span class="reason">({{secs .ElapsedMS}}{{if .Covers}}; {{join .Covers " "}}{{end}})</span></h3>
{{if eq (verdict .Verdict) "unexpected-pass"}}<div>Passed, but the expectations file says it fails ({{.Expectation.Reason}}): remove that line.</div>{{end}}
{{if eq (verdict .Verdict) "unfinished"}}<div>Never finished: the run timed out or the test binary crashed.</div>{{end}}
{{if .Difference}}<div class="headline">{{.Difference}}</div><div class="reason">known failure (expectations line {{.Expectation.Line}}): {{.Expectation.Reason}}</div>{{end}}
{{if and .Message (not .Diverged)}}<div class="headline">{{.Message}}</div>{{end}}
{{range .Diverged}}<div class="diverged"><b>{{.Client}} diverged:</b> {{.Why}}</div>{{end}}
{{if .HasPic}}<div><a href="#tl-{{.Anchor}}">timeline of this test ↓</a></div>{{end}}
{{if .Failure}}<pre>{{.Failure}}</pre>{{end}}
</div>
{{end}}
</section>
{{end}}

{{if .Warnings}}
<section id="warnings">
<h2>Warnings: SHOULD requirements failed</h2>
<p class="reason">A failed test whose requirements are all SHOULD is a warning: it does not fail the run unless STICKLER_STRICT=1.</p>
{{range .Warnings}}
<div class="warning" id="warn-{{.Anchor}}">
<h3>{{badge (verdict .Verdict) ""}} <a href="#{{.Anchor}}">{{.Name}}</a> <span class="reason">({{secs .ElapsedMS}}{{if .Covers}}; {{join .Covers " "}}{{end}})</span></h3>
{{if .Message}}<div class="headline">{{.Message}}</div>{{end}}
<details><summary>output</summary><pre>{{.Failure}}</pre></details>
</div>
{{end}}
</section>
{{end}}

{{if .Known}}
<section id="known">
<h2>Known failures ({{len .Known}})</h2>
<p class="reason">Tests that fail as this server's expectations file says (with the failure codes it names): they do not fail the run. Each line is what the server gets wrong.</p>
<table class="known"><thead><tr><th>Test</th><th>Requirements</th><th>Codes</th><th>What the server does</th></tr></thead><tbody>
{{range .Known}}<tr><td><a href="#{{.Anchor}}">{{.Name}}</a></td><td>{{join .Covers " "}}</td><td>{{if .Codes}}<code>{{join .Codes ", "}}</code>{{end}}</td><td>{{if .Expectation}}{{.Expectation.Reason}}{{end}}</td></tr>{{end}}
</tbody></table>
</section>
{{end}}

{{if .Skips}}
<section id="skipped">
<h2>Skipped ({{len .Skips}})</h2>
<p class="reason">Each reason once, with the tests skipped for it; an inconclusive skip (the machine was too slow to judge) is listed on its own.</p>
<table class="skips"><thead><tr><th>Reason</th><th class="num">Tests</th><th>Skipped tests</th></tr></thead><tbody>
{{range .SkipGroups}}<tr id="skip-{{.Index}}"><td>{{if .Reason}}{{.Reason}}{{else}}<span class="reason">no reason given</span>{{end}}</td><td class="num">{{len .Tests}}</td><td class="tests">{{range $i, $t := .Tests}}{{if $i}}, {{end}}<a href="#{{$t.Anchor}}">{{$t.Name}}</a>{{end}}</td></tr>{{end}}
</tbody></table>
</section>
{{end}}

{{if .Problems}}
<section id="expectations">
<h2>Expectations file problems</h2>
<ul>{{range .Problems}}<li class="{{if .Fatal}}problem{{end}}">{{.}}</li>{{end}}</ul>
</section>
{{end}}

<section id="requirements">
<h2>Requirements</h2>
<p class="reason">Every requirement of the catalogue (docs/requirements.md in the Stickler repository; hover an ID or open "requirement" for its text), the tests that check it, and their outcome on this server. A requirement's outcome is its worst test's.{{if .Untested}} {{.Untested}} requirement(s) have no test in this run.{{end}}</p>
<table class="matrix">
<colgroup><col style="width:9%"><col style="width:6%"><col style="width:28%"><col style="width:9%"><col style="width:24%"><col style="width:24%"></colgroup>
<thead><tr><th>ID</th><th>Level</th><th>Requirement</th><th>Outcome</th><th>Tests</th><th>Expectation and reason / behaviour seen</th></tr></thead>
<tbody>
{{range .Groups}}
<tr class="group"><th colspan="6">{{.Name}}<span class="gcount">{{.Pass}}/{{.Total}} pass</span></th></tr>
{{range .Requirements}}
<tr class="req" id="req-{{.ID}}" data-outcome="{{.Outcome}}">
<td class="id" title="{{.Text}}">{{.ID}}</td><td class="level">{{.Level}}</td><td>{{.Title}}<details class="reqtext"><summary>requirement</summary>{{.Text}} <i>Source: {{.From}}. In the repository: {{.Doc}}.</i></details></td>
<td>{{badge .Outcome .Level}}</td>
<td class="tests">{{range .Tests}}<div>{{badge (verdict .Verdict) ""}} <a href="#{{.Anchor}}">{{.Name}}</a> <span class="reason">{{secs .ElapsedMS}}</span></div>{{else}}<span class="reason">no test</span>{{end}}</td>
<td>{{range .Tests}}{{if .Expectation}}<div class="reason"><b>{{.Expectation.Outcome}}</b>{{if .Expectation.Codes}} [{{join .Expectation.Codes ","}}]{{end}} ({{.Name}}): {{.Expectation.Reason}}</div>{{end}}{{if .Difference}}<div class="reason problem">{{.Difference}}</div>{{end}}{{end}}{{range .Skips}}<div class="reason">skipped{{if eq (len .Tests) 1}} ({{index .Tests 0}}){{else}} ({{len .Tests}} tests){{end}}: <a href="#skip-{{.Group}}" title="{{.Reason}}">{{short .Reason}}</a>{{if .Others}} (+{{.Others}} other tests){{end}}</div>{{end}}{{range .Choices}}<div class="choice"><b>seen:</b> {{.Behaviour}} <span class="reason">({{.Test}})</span></div>{{end}}</td>
</tr>
{{end}}
{{end}}
</tbody>
</table>
</section>

{{if .Timelines}}
<section id="timelines">
<h2>Timelines</h2>
<p class="reason">Each bar is a sticky event's lifetime on its sender's server (origin_server_ts to + duration, capped at one hour). Under it, one lane per client: a dot when the client was delivered the event and a line to where its remaining-time field said it expires; a hollow dot is a delivery without that field. Shaded spans: a server cut off, paused or down. Hover any mark for details.</p>
{{range .Timelines}}
<div class="tl" id="tl-{{.Anchor}}">
<h3>{{badge (verdict .Verdict) ""}} <a href="#{{.Anchor}}">{{.Name}}</a> <span class="reason">{{if .Covers}}{{join .Covers " "}} · {{end}}zero = {{.Picture.Start}}</span></h3>
{{range .Diverged}}<div class="diverged"><b>{{.Client}} diverged:</b> {{.Why}}</div>{{end}}
<div class="scroll">{{.Picture.SVG}}</div>
{{if .Summaries}}<details class="mapstates" open><summary>map snapshots ({{len .Summaries}})</summary><table>{{range .Summaries}}<tr><td>{{.At}}</td><td>{{.Client}}</td><td><code>{{.Text}}</code></td></tr>{{end}}</table></details>{{end}}
<div class="legend">{{range .Picture.Clients}}<span><i class="sw dot" style="background:{{.Colour}}"></i>{{.Name}}</span>{{end}}{{range .Picture.Faults}}<span><i class="sw" style="background:{{.Colour}}"></i>{{.Name}}</span>{{end}}<span><i class="sw" style="background:#c00"></i>divergence (✕)</span><span>◆ map snapshot</span></div>
</div>
{{end}}
</section>
{{end}}

<section id="tests">
<h2>Tests and durations</h2>
<table class="tests">
<thead><tr><th>Test</th><th>Verdict</th><th class="num">Time</th><th class="dur"></th><th>Requirements</th></tr></thead>
<tbody>
{{$max := .MaxMS}}
{{range .AllTests}}
<tr id="{{.Anchor}}" data-verdict="{{verdict .Verdict}}"><td>{{.Name}}{{if not .Counted}} <span class="reason">(parent)</span>{{end}}{{if .HasPic}} <a href="#tl-{{.Anchor}}">timeline</a>{{end}}
{{if .SkipReason}}<div class="reason">skipped: <span title="{{.SkipReason}}">{{short .SkipReason}}</span></div>{{end}}
{{if .Expectation}}<div class="reason">expected to {{.Expectation.Outcome}}{{if .Expectation.Codes}} with {{join .Expectation.Codes " or "}}{{end}}: {{.Expectation.Reason}}</div>{{end}}{{if .Codes}}<div class="reason">failure codes: {{join .Codes ", "}}</div>{{end}}{{if .Choices}}{{if eq (verdict .Verdict) "observed"}}{{range $id, $c := .Choices}}<div class="choice"><b>observed ({{$id}}):</b> {{$c}}</div>{{end}}{{end}}{{end}}
{{if and .Failure (not (eq (verdict .Verdict) "fail"))}}<details><summary>output</summary><pre>{{.Failure}}</pre></details>{{end}}</td>
<td>{{badge (verdict .Verdict) ""}}</td><td class="num">{{secs .ElapsedMS}}</td><td class="dur"><div class="durbar" style="width:{{pct .ElapsedMS $max}}%"></div></td><td>{{join .Covers " "}}</td></tr>
{{end}}
</tbody>
</table>
</section>


{{if .Uncovered}}<p class="reason">Tests that name no requirement: {{join .Uncovered ", "}}</p>{{end}}
</main>
<footer>Made by stickler-report from a <code>go test -json</code> stream. Verdicts: pass; fail (fails the run); known failure (listed in the expectations file, does not fail the run); unexpected pass (fails the run until its expectations line is removed); skip; unfinished (timeout or crash, fails the run). fails differently (listed as a known failure, but failed with other failure codes than its line names: fails the run); warning (a failed test whose requirements are all SHOULD: does not fail the run unless STICKLER_STRICT=1); observed (the test only observes and reports what it saw).</footer>
</body>
</html>
`))
