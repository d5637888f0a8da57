// Command stickler-docs writes the generated documents: docs/requirements.md from the
// requirement catalogue in helpers/spec, and README.md's settings table from the Settings
// struct in helpers/harness/config (the only copies of both). Run it from the repository root after
// changing either; unit tests of helpers/spec and helpers/harness/config fail while a file is stale.
//
//	go run ./cmd/stickler-docs            # writes docs/requirements.md and README.md's settings table
//	go run ./cmd/stickler-docs -o -       # prints the requirements document only
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"stickler/helpers/harness/config"
	"stickler/helpers/spec"
)

func main() {
	out := flag.String("o", spec.DocPath, "file to write, - for standard output")
	readme := flag.String("readme", "README.md", "the README whose settings table to regenerate")
	flag.Parse()
	var b bytes.Buffer
	if err := spec.WriteMarkdown(&b); err != nil {
		fmt.Fprintln(os.Stderr, "stickler-docs:", err)
		os.Exit(1)
	}
	if *out == "-" {
		os.Stdout.Write(b.Bytes())
		return
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "stickler-docs:", err, "(run it from the repository root)")
		os.Exit(1)
	}
	if err := writeSettingsTable(*readme); err != nil {
		fmt.Fprintln(os.Stderr, "stickler-docs:", err, "(run it from the repository root)")
		os.Exit(1)
	}
}

// writeSettingsTable regenerates the settings table of the README from helpers/harness/config.
func writeSettingsTable(readme string) error {
	src, err := os.ReadFile(config.SourcePath)
	if err != nil {
		return err
	}
	table, err := config.Table(src)
	if err != nil {
		return err
	}
	old, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	text, err := config.ReplaceTable(string(old), table)
	if err != nil {
		return err
	}
	return os.WriteFile(readme, []byte(text), 0o644)
}
