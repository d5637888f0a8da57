package report

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"
)

// terminalReason is how much of a reason the terminal table's notes show.
const terminalReason = 160

// WriteCompareTerminal prints the comparison as a table (requirements down, runs across), then
// the reasons behind every cell that is not a pass, each reason once with the requirements it
// explains.
func WriteCompareTerminal(w io.Writer, c *Comparison) {
	writeCompareRuns(w, c)
	writeCompareTable(w, c)
	fmt.Fprintf(w, "≠: the runs that tested it disagree (%d requirement(s); skipped and not-implemented cells aside)\n", len(c.Differ))
	fmt.Fprintln(w, c.Seen.Line(len(c.Runs)))
	if len(c.Seen.Never) > 0 {
		fmt.Fprintf(w, "  never seen passing: %s\n", strings.Join(c.Seen.Never, " "))
	}
	writeCompareReasons(w, c)
}

// writeCompareRuns prints the heading: one entry per run (its result, count line, images,
// headline and requirement totals), then which runs implement nothing (their cells show ∅).
func writeCompareRuns(w io.Writer, c *Comparison) {
	fmt.Fprintf(w, "stickler side by side: %d run(s)\n", len(c.Runs))
	lw := 0
	for _, r := range c.Runs {
		lw = max(lw, utf8.RuneCountInString(r.Label))
	}
	for _, r := range c.Runs {
		result := strings.ToUpper(r.Result)
		if result == "" {
			result = "?"
		}
		fmt.Fprintf(w, "  %s  %-4s  %s", pad(r.Label, lw), result, r.CountLine)
		if img := r.Images(); img != "" && img != r.Label {
			fmt.Fprintf(w, "  (%s)", img)
		}
		fmt.Fprintln(w)
		if r.Headline != "" {
			fmt.Fprintf(w, "  %s  %s\n", pad("", lw), r.Headline)
		}
		fmt.Fprintf(w, "  %s  requirements: %s\n", pad("", lw), r.TotalsLine())
	}
	fmt.Fprintln(w)
	collapsed := false
	for _, r := range c.Runs {
		if r.NotImplemented {
			collapsed = true
			fmt.Fprintf(w, "%s implements nothing of the proposal: its %d not-implemented requirement(s) show as ∅ below\n", r.Label, r.Totals[CellNotImplemented])
		}
	}
	if collapsed {
		fmt.Fprintln(w)
	}
}

// writeCompareTable prints the table itself: a header, then per group its tally line and
// one line per requirement (≠ marks those the runs disagree on).
func writeCompareTable(w io.Writer, c *Comparison) {
	cw := 17 // every state's word and two spaces
	for _, r := range c.Runs {
		cw = max(cw, utf8.RuneCountInString(r.Label)+2)
	}
	head := fmt.Sprintf("  %-14s %-7s", "requirement", "level")
	for _, r := range c.Runs {
		head += pad(r.Label, cw)
	}
	head += "seen passing on"
	fmt.Fprintln(w, strings.TrimRight(head, " "))
	for _, g := range c.Groups {
		line := fmt.Sprintf("%-24s", g.Name)
		for i := range c.Runs {
			line += pad(g.Tally(i), cw)
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
		for _, row := range g.Rows {
			fmt.Fprintln(w, strings.TrimRight(compareRowLine(c, row, cw), " "))
		}
	}
}

// compareRowLine is one requirement's line of the table, each cell padded to cw runes; a run
// that implements nothing shows its not-implemented cells as the ∅ glyph.
func compareRowLine(c *Comparison, row CompareRow, cw int) string {
	mark := " "
	if row.Differs {
		mark = "≠"
	}
	line := fmt.Sprintf("%s %-14s %-7s", mark, row.ID, row.Level)
	for i, cell := range row.Cells {
		word := cell.Word()
		if cell.State == CellNotImplemented && c.Runs[i].NotImplemented {
			word = cellGlyphs[CellNotImplemented]
		}
		line += pad(word, cw)
	}
	if len(row.SeenPassing) > 0 {
		line += strings.Join(row.SeenPassing, ", ")
	} else {
		line += "-"
	}
	return line
}

// writeCompareReasons prints the reasons behind every cell that is not a pass, grouped by
// run, state and reason (a Dendrite run skips forty requirements for one reason), runs in
// order.
func writeCompareReasons(w io.Writer, c *Comparison) {
	type note struct {
		run           int
		state, reason string
		ids           []string
	}
	var notes []*note
	index := map[string]*note{}
	for _, g := range c.Groups {
		for _, row := range g.Rows {
			for i, cell := range row.Cells {
				if cell.State == CellPass || cell.State == CellNotCovered && cell.Reason == "" {
					continue
				}
				k := fmt.Sprint(i) + "\x00" + cell.State + "\x00" + cell.Reason
				n := index[k]
				if n == nil {
					n = &note{run: i, state: cell.State, reason: cell.Reason}
					index[k] = n
					notes = append(notes, n)
				}
				n.ids = append(n.ids, row.ID)
			}
		}
	}
	sort.SliceStable(notes, func(a, b int) bool { return notes[a].run < notes[b].run })
	if len(notes) > 0 {
		fmt.Fprintln(w, "\nreasons (every cell that is not a pass; not covered = no test of that run names it):")
	}
	for _, n := range notes {
		reason := n.reason
		if reason == "" {
			reason = "(no reason recorded)"
		}
		fmt.Fprintf(w, "  %s: %s %s: %s\n", c.Runs[n.run].Label, cellWords[n.state], strings.Join(n.ids, " "), clip(reason, terminalReason))
	}
}

// pad fills s with spaces to n runes; a longer s keeps one space after it.
func pad(s string, n int) string {
	if k := utf8.RuneCountInString(s); k <= n {
		return s + strings.Repeat(" ", n-k)
	}
	return s + " "
}

// clip shortens s to n runes on one line.
func clip(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
