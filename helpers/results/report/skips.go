package report

import (
	"fmt"
	"strings"
)

// SkipGroup is one skip reason with every test skipped for it. A server that does not
// implement the proposal skips seventy tests for one reason: the reason is said once, with the
// count and the tests. An inconclusive skip (the machine was too slow to judge) stays alone,
// since each one says something of its own.
type SkipGroup struct {
	Reason string
	Tests  []string
}

// Inconclusive says whether a skip reason is an inconclusive verdict, kept one per test.
func Inconclusive(reason string) bool {
	return strings.Contains(strings.ToLower(reason), "inconclusive")
}

// GroupSkips groups skipped tests (names and reasons, in run order) by identical reason, in
// the order each reason first appeared.
func GroupSkips(names, reasons []string) []SkipGroup {
	var out []SkipGroup
	at := map[string]int{}
	for i, n := range names {
		why := reasons[i]
		if i, ok := at[why]; ok && !Inconclusive(why) {
			out[i].Tests = append(out[i].Tests, n)
			continue
		}
		at[why] = len(out)
		out = append(out, SkipGroup{Reason: why, Tests: []string{n}})
	}
	return out
}

// writeSkipGroups prints the groups: a lone test as "Test: reason", a group as "N tests:
// reason" with its tests wrapped below.
func writeSkipGroups(b *strings.Builder, groups []SkipGroup) {
	for _, g := range groups {
		why := g.Reason
		if why == "" {
			why = "no reason given"
		}
		if len(g.Tests) == 1 {
			fmt.Fprintf(b, "  %s: %s\n", g.Tests[0], why)
			continue
		}
		fmt.Fprintf(b, "  %d tests: %s\n", len(g.Tests), why)
		line := "     "
		for i, n := range g.Tests {
			if i < len(g.Tests)-1 {
				n += ","
			}
			if len(line)+1+len(n) > 100 && strings.TrimSpace(line) != "" {
				b.WriteString(line + "\n")
				line = "     "
			}
			line += " " + n
		}
		b.WriteString(line + "\n")
	}
}
