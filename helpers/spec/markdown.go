package spec

import (
	"fmt"
	"io"
	"strings"
)

//go:generate go run ../../cmd/stickler-docs -o ../../docs/requirements.md

// WriteMarkdown writes the catalogue as docs/requirements.md: one heading per requirement, so
// the report and the README can link to an entry (#sync-3).
func WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	b.WriteString("<!-- Generated from helpers/spec/catalogue.go by `go run ./cmd/stickler-docs`; do not edit. -->\n")
	b.WriteString("# Requirement catalogue\n\n")
	b.WriteString("What Stickler checks, one entry per requirement ID. Every conformance test names the IDs it checks\n")
	b.WriteString("(`spec.Covers`), and the report is keyed by them. The texts are this project's reading of\n")
	fmt.Fprintf(&b, "[MSC4354 Sticky Events](%s), [MSC4480 (Sliding Sync extension)](%s) and, for delayed\n", MSC4354, MSC4480)
	fmt.Fprintf(&b, "sticky events, [MSC4140](%s); where they differ from the proposals, the proposals decide.\n\n", MSC4140)
	b.WriteString("Levels: **MUST**: a failure fails the run. **SHOULD**: a failure is a warning (it fails the run only\n")
	b.WriteString("with `STICKLER_STRICT=1`). **MAY**: the test accepts every allowed behaviour and reports the one it saw.\n\n")
	counts := map[Level]int{}
	for _, r := range Catalogue {
		counts[r.Level]++
	}
	fmt.Fprintf(&b, "%d requirements: %d MUST, %d SHOULD, %d MAY.\n\n", len(Catalogue), counts[Must], counts[Should], counts[May])
	b.WriteString("| ID | level | requirement |\n|---|---|---|\n")
	for _, r := range Catalogue {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s |\n", r.ID, r.Anchor(), r.Level, strings.ReplaceAll(r.Title, "|", "\\|"))
	}
	for _, g := range Groups {
		fmt.Fprintf(&b, "\n## %s: %s\n", g.Name, g.Title)
		for _, r := range Catalogue {
			if r.Group() != g.Name {
				continue
			}
			fmt.Fprintf(&b, "\n### %s\n\n", r.ID)
			fmt.Fprintf(&b, "**%s**: %s.\n\n", r.Level, r.Title)
			fmt.Fprintf(&b, "%s\n\n", r.Text)
			fmt.Fprintf(&b, "Source: %s.\n", r.Section)
			if st := Statements[r.ID]; st != "" {
				fmt.Fprintf(&b, "\nProposal statement: %s\n", st)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
