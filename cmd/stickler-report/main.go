// Command stickler-report reads the `go test -json` stream of a conformance run (standard
// input or a saved results.json), judges it against an image's expectations, prints the
// summary, writes the report files, and exits 0 only when every outcome is as expected.
//
//	go test -json ./tests/... | stickler-report -expectations FILE -dir DIR -live
//	stickler-report -expectations FILE -dir DIR reports/results.json
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"stickler/helpers/report"
)

func main() {
	expFile := flag.String("expectations", "", "expectations file of the image under test (TestName fail|skip reason)")
	dir := flag.String("dir", "", "directory for results.json and the report files (none when empty)")
	live := flag.Bool("live", false, "print each test's outcome as it finishes")
	flag.Parse()

	exp, err := report.LoadExpectations(*expFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stickler-report:", err)
		os.Exit(2)
	}
	var in io.Reader = os.Stdin
	if flag.NArg() > 0 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "stickler-report:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	}
	var onEvent func(*report.Test, string)
	if *live {
		onEvent = func(t *report.Test, action string) {
			v := exp.Judge(t)
			fmt.Printf("%-16s %s (%.1fs)\n", v, t.Name, t.Elapsed.Seconds())
		}
	}
	res, err := report.Read(in, onEvent)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stickler-report: reading the test stream:", err)
		os.Exit(2)
	}
	if *dir != "" {
		if err := os.MkdirAll(*dir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "stickler-report:", err)
			os.Exit(2)
		}
		if flag.NArg() == 0 || filepath.Clean(flag.Arg(0)) != filepath.Join(*dir, "results.json") {
			if err := os.WriteFile(filepath.Join(*dir, "results.json"), res.Raw, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "stickler-report:", err)
				os.Exit(2)
			}
		}
	}
	c := report.WriteTerminal(os.Stdout, res, exp)
	if len(res.Tests) == 0 {
		fmt.Println("stickler-report: the stream held no test at all")
		os.Exit(1)
	}
	if c.Failed+c.UnexpectedPass+c.Unfinished > 0 {
		os.Exit(1)
	}
}
