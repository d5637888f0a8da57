// Command stickler-docs writes docs/requirements.md from the requirement catalogue in
// helpers/spec (the only copy of it). Run it from the repository root after changing the
// catalogue; a unit test of helpers/spec fails while the file is stale.
//
//	go run ./cmd/stickler-docs            # writes docs/requirements.md
//	go run ./cmd/stickler-docs -o -       # prints it
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"stickler/helpers/spec"
)

func main() {
	out := flag.String("o", spec.DocPath, "file to write, - for standard output")
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
}
