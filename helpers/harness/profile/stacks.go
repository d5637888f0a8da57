package profile

import (
	"strconv"
	"strings"
)

// goroutine is one goroutine of a runtime.Stack(all) dump.
type goroutine struct {
	id      int64
	state   string   // "sleep", "chan receive", "running", ...
	frames  []string // function names, innermost first, without arguments
	creator string   // the function that started it ("created by ...")
	parent  int64    // the goroutine that started it, 0 when not said
}

// parseStacks reads the text of runtime.Stack(buf, true).
func parseStacks(b []byte) []goroutine {
	var out []goroutine
	for _, block := range strings.Split(string(b), "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		head, ok := strings.CutPrefix(lines[0], "goroutine ")
		if !ok {
			continue
		}
		idText, rest, _ := strings.Cut(head, " ")
		id, err := strconv.ParseInt(idText, 10, 64)
		if err != nil {
			continue
		}
		g := goroutine{id: id}
		if i, j := strings.Index(rest, "["), strings.Index(rest, "]"); i >= 0 && j > i {
			g.state, _, _ = strings.Cut(rest[i+1:j], ",")
		}
		for _, l := range lines[1:] {
			if strings.HasPrefix(l, "\t") || l == "" {
				continue // file:line
			}
			if c, ok := strings.CutPrefix(l, "created by "); ok {
				fn, in, _ := strings.Cut(c, " in goroutine ")
				g.creator = fn
				g.parent, _ = strconv.ParseInt(strings.TrimSpace(in), 10, 64)
				continue
			}
			if i := strings.LastIndex(l, "("); i > 0 && strings.HasSuffix(l, ")") {
				l = l[:i]
			}
			g.frames = append(g.frames, l)
		}
		out = append(out, g)
	}
	return out
}

const (
	testsPkg   = "stickler/tests."
	deployPkg  = "stickler/helpers/harness/deploy."
	clientPoll = "stickler/helpers/harness/client.Poll"
)

// testOf is the top-level test a function of the tests package belongs to
// ("stickler/tests.TestX.func1.2" -> "TestX"), "" for other functions.
func testOf(fn string) string {
	rest, ok := strings.CutPrefix(fn, testsPkg)
	if !ok || !strings.HasPrefix(rest, "Test") {
		return ""
	}
	name, _, _ := strings.Cut(rest, ".")
	if name == "TestMain" {
		return "" // the package's main, which runs the tests, is none of them
	}
	return name
}

// classify says, for one stack dump, what each top-level test was doing. owner remembers
// which test a goroutine served (updated here), so a test's cleanups, which run in its
// goroutine but outside its function, and goroutines a test's helpers start still count for
// it; goroutines started by the standard library (connections) never count.
func classify(gs []goroutine, owner map[int64]string) map[string]State {
	byID := map[int64]*goroutine{}
	for i := range gs {
		byID[gs[i].id] = &gs[i]
	}
	var find func(g *goroutine, depth int) string
	find = func(g *goroutine, depth int) string {
		for _, f := range g.frames {
			if t := testOf(f); t != "" {
				owner[g.id] = t
				return t
			}
		}
		if t, ok := owner[g.id]; ok {
			return t
		}
		if !strings.HasPrefix(g.creator, "stickler/") || depth > 20 {
			return ""
		}
		if t := testOf(g.creator); t != "" {
			owner[g.id] = t
			return t
		}
		if t, ok := owner[g.parent]; ok {
			owner[g.id] = t
			return t
		}
		if p := byID[g.parent]; p != nil {
			if t := find(p, depth+1); t != "" {
				owner[g.id] = t
				return t
			}
		}
		return ""
	}
	rank := map[State]int{}
	for i, s := range Order {
		rank[s] = i
	}
	out := map[string]State{}
	for i := range gs {
		g := &gs[i]
		t := find(g, 0)
		if t == "" {
			continue
		}
		s, ok := stateOf(g)
		if !ok {
			continue
		}
		if cur, seen := out[t]; !seen || rank[s] < rank[cur] {
			out[t] = s
		}
	}
	return out
}

// stateOf is what one goroutine of a test is doing; false when it only waits for the testing
// package (a parent waiting for its subtests).
func stateOf(g *goroutine) (State, bool) {
	has := func(prefix string) bool {
		for _, f := range g.frames {
			if strings.HasPrefix(f, prefix) {
				return true
			}
		}
		return false
	}
	switch {
	case has(deployPkg + "newDeployment"), has(deployPkg + "(*Server).startAndWait"),
		has(deployPkg+"Shared") && has("sync.(*Mutex).Lock"): // waits for another test's start of the shared servers
		return ServerStart, true
	case has(deployPkg + "(*Deployment).Destroy"):
		return Teardown, true
	case has(clientPoll):
		return Polling, true
	case has("testing.(*T).Parallel"):
		return Queued, true
	}
	for i, f := range g.frames {
		if f == "time.Sleep" && i+1 < len(g.frames) {
			caller := g.frames[i+1]
			if strings.HasPrefix(caller, testsPkg) || strings.HasPrefix(caller, "stickler/blueprints.") {
				return Sleep, true
			}
		}
	}
	if has("net/http.(*Client).do") {
		return Request, true
	}
	own := false
	for _, f := range g.frames {
		if !strings.HasPrefix(f, "testing.") && !strings.HasPrefix(f, "runtime.") && !strings.HasPrefix(f, "sync.") {
			own = true
		}
	}
	if !own {
		return "", false
	}
	for _, f := range g.frames {
		if strings.HasPrefix(f, "runtime.") {
			continue
		}
		if strings.HasPrefix(f, "testing.(*T).Run") {
			return "", false // the test waits for a subtest, whose goroutine says what happens
		}
		break
	}
	switch g.state {
	case "running", "runnable", "syscall":
		return Running, true
	}
	return Blocked, true
}
