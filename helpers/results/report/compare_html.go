package report

import (
	"html/template"
	"io"
	"strings"
	"time"
)

// WriteCompareHTML writes the comparison as one self-contained page (inline CSS, no script):
// requirements as rows, runs as columns, each cell its state in words and colour, the deciding
// reason under it (whole on hover) and every test behind it in a fold.
func WriteCompareHTML(w io.Writer, c *Comparison, generated time.Time) error {
	legend := make([]Cell, 0, len(cellStates))
	for _, s := range cellStates {
		legend = append(legend, Cell{State: s})
	}
	return comparePage.Execute(w, struct {
		*Comparison
		Legend    []Cell
		Meaning   map[string]string
		Generated time.Time
	}{c, legend, cellMeanings, generated})
}

// cellMeanings explain each state in the legend.
var cellMeanings = map[string]string{
	CellPass:           "every test of it passed (skipped ones aside)",
	CellObserved:       "its tests only observe and report what they saw",
	CellExpectedFail:   "fails as that run's expectations file says, with the listed failure codes",
	CellWarning:        "a SHOULD requirement failed; does not fail the run",
	CellSkip:           "its tests were skipped (reason given)",
	CellNotImplemented: "skipped: the server does not advertise org.matrix.msc4354",
	CellNotCovered:     "no test of that run names it",
	CellUnexpectedPass: "passes although listed as a known failure: fails that run",
	CellFail:           "fails that run (unlisted failure, a known failure with other codes, or unfinished)",
}

// cellGlyphs go with the words, so that the state reads without colour too.
var cellGlyphs = map[string]string{
	CellPass: "✓", CellObserved: "◉", CellExpectedFail: "✗", CellWarning: "⚠", CellSkip: "○",
	CellNotImplemented: "∅", CellNotCovered: "·", CellUnexpectedPass: "!", CellFail: "✗",
}

var compareFuncs = template.FuncMap{
	"glyph":   func(state string) string { return cellGlyphs[state] },
	"word":    func(state string) string { return cellWords[state] },
	"verdict": func(v Verdict) string { return string(v) },
	"short":   func(s string) string { return clip(s, 140) },
	"upper": func(s string) string {
		if s == "pass" {
			return "PASS"
		}
		if s == "fail" {
			return "FAIL"
		}
		return s
	},
	"add":  func(a, b int) int { return a + b },
	"join": strings.Join,
}

var comparePage = template.Must(template.New("compare").Funcs(compareFuncs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Stickler — implementations side by side</title>
<style>
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --soft:#f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); }
header { padding: 16px 24px 10px; border-bottom: 1px solid var(--line); background: var(--soft); }
h1 { margin: 0 0 8px; font-size: 21px; }
main { padding: 6px 24px 40px; }
h2 { font-size: 17px; margin: 20px 0 8px; }
table { border-collapse: collapse; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--soft); font-weight: 600; font-size: 13px; }
.muted, .reason { color: var(--muted); }
table.runs { width: 100%; }
.runs td, .runs th { font-size: 13px; }
.runs td.img { min-width: 240px; }
.runs code { font-size: 12px; overflow-wrap: anywhere; }
.result { display: inline-block; font-weight: 700; padding: 1px 9px; border-radius: 4px; color: #fff; }
.result.pass { background: #1a7f37; } .result.fail { background: #cf222e; }
.banner { font-weight: 700; color: #953800; background: #fff1e5; border: 1px solid #ffd8b5; border-radius: 4px; padding: 2px 8px; margin-top: 4px; display: inline-block; }
.legend { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 6px 18px; font-size: 12.5px; color: var(--muted); margin: 10px 0 4px; }
table.cmp { width: 100%; table-layout: fixed; }
table.cmp thead th { position: sticky; top: 0; z-index: 2; border-bottom: 2px solid #afb8c1; }
table.cmp th.run { text-align: center; }
tr.group th { background: #eaeef2; font-size: 14px; }
tr.group th.gcount { text-align: center; font-weight: 400; color: var(--muted); font-size: 12.5px; }
td.id { font-weight: 600; white-space: nowrap; }
td.id .diff { color: #8250df; font-weight: 700; margin-left: 3px; }
tr.differs td.id, tr.differs td.level, tr.differs td.title { background: #fbf7ff; }
td.level { font-size: 12px; color: var(--muted); }
td.title { font-size: 13px; }
td.cell { font-size: 12.5px; border-left: 1px solid var(--line); }
.st { display: block; font-weight: 600; font-size: 12.5px; padding: 2px 7px; border-radius: 4px; border: 1px solid transparent; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.st.pass { background: #dafbe1; color: #116329; border-color: #aceebb; }
.st.observed { background: #ddf4ff; color: #0550ae; border-color: #b6e3ff; }
.st.expected-fail { background: #fff8c5; color: #7d4e00; border-color: #f5e08f; }
.st.warning { background: #fff1e5; color: #953800; border-color: #ffd8b5; }
.st.skip { background: #eff2f5; color: #424a53; border-color: #d1d9e0; }
.st.not-implemented { background: #f0ecf5; color: #57534e; border-color: #d8d0e3; border-style: dashed; }
.st.not-covered { background: #fff; color: #8c959f; border-color: #d1d9e0; border-style: dotted; font-weight: 400; }
.st.unexpected-pass { background: #fbefff; color: #6e40c9; border-color: #e0c8ff; }
.st.fail { background: #cf222e; color: #fff; border-color: #a40e26; }
.legend div { display: flex; gap: 8px; align-items: baseline; }
.st.legend-st { flex: none; width: 172px; }
.why { margin-top: 3px; color: var(--muted); overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 3; -webkit-box-orient: vertical; overflow: hidden; }
details { margin-top: 2px; }
details > summary { cursor: pointer; color: #0969da; font-size: 12px; }
details ul { margin: 3px 0 0; padding-left: 16px; }
details li { overflow-wrap: anywhere; margin-bottom: 2px; }
details li b { font-weight: 600; }
footer { color: var(--muted); font-size: 12px; padding: 14px 24px; border-top: 1px solid var(--line); }
p.seen { font-size: 14px; margin: 14px 0 6px; }
p.collapsed { font-size: 13px; color: #57534e; background: #f0ecf5; border: 1px dashed #d8d0e3; border-radius: 4px; padding: 4px 8px; }
td.cell.ni { text-align: center; color: #8c959f; background: #faf8fc; }
td.seenon { font-size: 12px; border-left: 1px solid var(--line); overflow-wrap: anywhere; }
td.seenon .never { color: #953800; font-weight: 600; }
</style>
</head>
<body>
<header>
<h1>Stickler — MSC4354 sticky events, implementations side by side</h1>
<table class="runs" id="runs">
<thead><tr><th>Run</th><th>Result</th><th>Tests</th><th>Image</th><th>Expectations</th><th>Generated</th></tr></thead>
<tbody>
{{range .Runs}}<tr><td><b>{{.Label}}</b>{{if .Source}}<div class="muted">{{.Source}}</div>{{end}}</td>
<td><span class="result {{.Result}}">{{upper .Result}}</span></td>
<td>{{.CountLine}}{{if .Headline}}<div class="banner">{{.Headline}}</div>{{end}}</td>
<td class="img"><code>{{.Images}}</code>{{if .Meta.Names}} <span class="muted">({{.Meta.Names}} names{{if .Meta.Strict}}, strict{{end}})</span>{{end}}</td>
<td><code>{{if .Meta.Expectations}}{{.Meta.Expectations}}{{else}}none{{end}}</code></td>
<td class="muted">{{if not .Meta.Generated.IsZero}}{{.Meta.Generated.UTC.Format "2006-01-02 15:04 UTC"}}{{end}}</td></tr>
{{end}}
</tbody></table>
<div class="legend" id="legend">{{$m := .Meaning}}{{range .Legend}}<div><span class="st legend-st {{.State}}">{{glyph .State}} {{word .State}}</span> {{index $m .State}}</div>{{end}}</div>
</header>
<main>
<p class="seen" id="seen"><b>{{.Seen.IDs}} of {{.Seen.Total}}</b> requirement IDs seen passing on at least one of these runs ({{range $i, $l := .Seen.ByLevel}}{{if $i}}, {{end}}{{$l.Level}} {{$l.Seen}}/{{$l.Total}}{{end}}){{if .Seen.Never}}; never seen passing: {{join .Seen.Never " "}}{{end}}. A requirement is seen passing on a run when it passed there and a test that checks it passed (not only a parent whose checking subtest skipped).</p>
{{range .Runs}}{{if .NotImplemented}}<p class="collapsed"><b>{{.Label}}</b> implements nothing of the proposal ({{.Headline}}): its {{index .Totals "not-implemented"}} not-implemented requirement(s) show as a bare ∅ in its column, the reason said here once.</p>{{end}}{{end}}
<p class="reason">One row per requirement of the catalogue (docs/requirements.md in the Stickler repository; hover an ID for its text), one column per run. Under each state, the reason that decided it (hover for all of it); "tests" opens every test behind the cell with its own reason. <b>≠</b> marks the {{len .Differ}} requirement(s) on which the runs that tested them disagree (skipped and not-implemented cells say nothing). The last column names the runs each requirement passed on.</p>
<table class="cmp" id="matrix">
<colgroup><col style="width:112px"><col style="width:64px"><col style="width:22%">{{range .Runs}}{{if .NotImplemented}}<col style="width:150px">{{else}}<col>{{end}}{{end}}<col style="width:120px"></colgroup>
<thead><tr><th>ID</th><th>Level</th><th>Requirement</th>{{range .Runs}}<th class="run">{{.Label}}<div class="muted" style="font-weight:400">{{.TotalsLine}}</div></th>{{end}}<th>seen passing on</th></tr></thead>
<tbody>
{{range .Groups}}{{$g := .}}
<tr class="group"><th colspan="3">{{.Name}}</th>{{range $i, $r := $.Runs}}<th class="gcount">{{$g.Tally $i}}</th>{{end}}<th></th></tr>
{{range .Rows}}
<tr class="req{{if .Differs}} differs{{end}}" id="req-{{.ID}}">
<td class="id" title="{{.Text}}">{{.ID}}{{if .Differs}}<span class="diff" title="the runs that tested it disagree">≠</span>{{end}}</td>
<td class="level">{{.Level}}</td>
<td class="title" title="{{.Text}}">{{.Title}}</td>
{{range $i, $c := .Cells}}{{if and (eq $c.State "not-implemented") (index $.Runs $i).NotImplemented}}<td class="cell ni" data-state="{{$c.State}}" title="not implemented: {{$c.Reason}}">∅</td>{{else}}<td class="cell" data-state="{{.State}}"><span class="st {{.State}}" title="{{word .State}}{{if .Reason}}: {{.Reason}}{{end}}">{{glyph .State}} {{word .State}}</span>{{if .Reason}}<div class="why" title="{{.Reason}}">{{short .Reason}}</div>{{end}}{{if .Tests}}<details><summary>tests ({{len .Tests}})</summary><ul>{{range .Tests}}<li><b>{{verdict .Verdict}}</b> {{.Name}}{{if .Reason}}: <span class="reason">{{.Reason}}</span>{{end}}</li>{{end}}</ul></details>{{end}}</td>{{end}}{{end}}
<td class="seenon">{{if .SeenPassing}}{{join .SeenPassing ", "}}{{else}}<span class="never">never</span>{{end}}</td>
</tr>
{{end}}{{end}}
</tbody>
</table>
</main>
<footer>Made by stickler-report -compare from the runs' summary.json files{{if not .Generated.IsZero}}, {{.Generated.UTC.Format "2006-01-02 15:04:05 UTC"}}{{end}}. Each cell is the requirement's worst test outcome in that run, judged against that run's own expectations file.</footer>
</body>
</html>
`))
