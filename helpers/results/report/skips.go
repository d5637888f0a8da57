package report

import (
	"fmt"
	"strings"

	"stickler/helpers/spec/marker"
)

// SkipGroup is one skip reason with every test skipped for it. A server that does not
// implement the proposal skips seventy tests for one reason: the reason is said once, with the
// count and the tests. An inconclusive skip (the machine was too slow to judge, a control
// failed) stays alone, since each one says something of its own.
type SkipGroup struct {
	Reason string
	Tests  []string
}

// Skip is a skipped test as the groups take it: its name, its reason and the kind of its ending
// record ("" when it skipped without one).
type Skip struct {
	Name, Reason string
	Kind         marker.Kind
}

// Alone says whether a skip of ending kind k is kept one per test: an inconclusive one.
func Alone(k marker.Kind) bool {
	return k == marker.Inconclusive || k == marker.ControlFailed
}

// GroupSkips groups skipped tests (in run order) by identical reason, in the order each reason
// first appeared; inconclusive ones (Alone) each in a group of their own.
func GroupSkips(skips []Skip) []SkipGroup {
	var out []SkipGroup
	at := map[string]int{}
	for _, s := range skips {
		if i, ok := at[s.Reason]; ok && !Alone(s.Kind) {
			out[i].Tests = append(out[i].Tests, s.Name)
			continue
		}
		if !Alone(s.Kind) {
			at[s.Reason] = len(out)
		}
		out = append(out, SkipGroup{Reason: s.Reason, Tests: []string{s.Name}})
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
