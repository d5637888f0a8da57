// Command stickler-req maps requirement IDs to the tests that check them, from the tests'
// spec.Covers declarations (helpers/results/reqmap). run.sh uses it for --req and --list.
//
//	stickler-req -list                 every ID, its level and its tests
//	stickler-req -run SYNC-3,FED       the go test -run regexp for those IDs and groups
//
// Exit code 2 with one line on stderr for an unknown ID or group, or one no test covers.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"stickler/helpers/results/reqmap"
)

func main() {
	list := flag.Bool("list", false, "print every requirement ID with its level and its tests")
	run := flag.String("run", "", "comma-separated requirement IDs or groups: print the go test -run regexp that runs their tests")
	dir := flag.String("tests", "tests", "directory of the conformance tests")
	verbose := flag.Bool("v", false, "with -run: also print, on stderr, the tests selected")
	flag.Parse()
	if *list == (*run != "") {
		fail("give -list or -run IDS")
	}
	m, err := reqmap.Scan(*dir)
	if err != nil {
		fail("reading the tests' declarations: %v", err)
	}
	if *list {
		fmt.Print(m.List())
		return
	}
	ids, err := reqmap.Resolve(*run)
	if err != nil {
		fail("%v", err)
	}
	entries, err := m.Select(ids)
	if err != nil {
		fail("%v", err)
	}
	if *verbose {
		var names []string
		for _, e := range entries {
			names = append(names, e.String())
		}
		fmt.Fprintf(os.Stderr, "run.sh: --req %s: %d requirement(s), run: %s\n", *run, len(ids), strings.Join(names, " "))
	}
	fmt.Println(m.RunPattern(entries))
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "stickler-req: "+format+"\n", args...)
	os.Exit(2)
}
