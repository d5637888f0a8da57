// Package reqmap maps requirement IDs to the tests that check them, read from the tests'
// source: every spec.Covers call (and blueprints.OverBothFeeds, which covers its two subtests)
// in a Test function of tests/. It is what `./run.sh --req` and `./run.sh --list` use, so the
// mapping is the tests' own declarations, never a hand-kept list.
package reqmap

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"stickler/helpers/spec"
)

// Entry is one test (Sub empty: the whole test) or one of its subtests that covers an ID.
type Entry struct {
	Test string
	Sub  string // first-level subtest name; empty for the whole test
}

func (e Entry) String() string {
	if e.Sub == "" {
		return e.Test
	}
	return e.Test + "/" + e.Sub
}

// Map is what a scan of the tests found.
type Map struct {
	ByID        map[string][]Entry // requirement ID -> tests and subtests declaring it, sorted
	HasSubtests map[string]bool    // test -> it starts subtests (t.Run or OverBothFeeds)
}

// Scan reads every *_test.go file in dir.
func Scan(dir string) (*Map, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_test.go"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no *_test.go files in %s", dir)
	}
	sort.Strings(files)
	m := &Map{ByID: map[string][]Entry{}, HasSubtests: map[string]bool{}}
	fset := token.NewFileSet()
	seen := map[string]map[Entry]bool{}
	add := func(id string, e Entry) {
		if seen[id] == nil {
			seen[id] = map[Entry]bool{}
		}
		if !seen[id][e] {
			seen[id][e] = true
			m.ByID[id] = append(m.ByID[id], e)
		}
	}
	for _, path := range files {
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			isTest := fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Test") && fn.Name.Name != "TestMain"
			s := scanner{fset: fset, test: fn.Name.Name, add: add, m: m}
			s.walk(fn.Body, "", true)
			if s.err != nil {
				return nil, s.err
			}
			if !isTest && s.found {
				return nil, fmt.Errorf("%s: spec.Covers in %s, which is not a Test function: the requirement map reads declarations in Test functions only (declare the IDs in the test)",
					fset.Position(fn.Pos()), fn.Name.Name)
			}
		}
	}
	for id := range m.ByID {
		sort.Slice(m.ByID[id], func(i, j int) bool {
			a, b := m.ByID[id][i], m.ByID[id][j]
			if a.Test != b.Test {
				return a.Test < b.Test
			}
			return a.Sub < b.Sub
		})
	}
	return m, nil
}

type scanner struct {
	fset  *token.FileSet
	test  string
	add   func(string, Entry)
	m     *Map
	err   error
	found bool
}

// walk visits n; sub is the first-level subtest whose body n is in ("" for the test's own body)
// and known says whether that name is a literal (a loop's computed name selects the whole test).
func (s *scanner) walk(n ast.Node, sub string, known bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		if s.err != nil {
			return false
		}
		call, ok := n.(*ast.CallExpr)
		if !ok {
			return true
		}
		pkg, name := callee(call)
		switch {
		case pkg == "spec" && name == "Covers":
			s.found = true
			ids, err := s.literals(call.Args[1:])
			if err != nil {
				s.err = err
				return false
			}
			e := Entry{Test: s.test}
			if known {
				e.Sub = sub
			}
			for _, id := range ids {
				s.add(id, e)
			}
			return false
		case pkg == "blueprints" && name == "OverBothFeeds" && len(call.Args) == 4:
			s.found = true
			s.m.HasSubtests[s.test] = true
			for i, feed := range []string{"sync", "sliding"} {
				lit, ok := call.Args[1+i].(*ast.CompositeLit)
				if !ok {
					s.err = fmt.Errorf("%s: OverBothFeeds needs literal []string{...} ID lists to be mapped", s.fset.Position(call.Pos()))
					return false
				}
				ids, err := s.literals(lit.Elts)
				if err != nil {
					s.err = err
					return false
				}
				e := Entry{Test: s.test, Sub: feed}
				if sub != "" || !known {
					e = Entry{Test: s.test} // nested deeper than one level: the whole test
				}
				for _, id := range ids {
					s.add(id, e)
				}
			}
			s.walk(call.Args[3], sub, false)
			return false
		case name == "Run" && pkg != "" && len(call.Args) == 2:
			body, ok := call.Args[1].(*ast.FuncLit)
			if !ok {
				return true
			}
			s.m.HasSubtests[s.test] = true
			if sub != "" || !known {
				s.walk(body, sub, known) // deeper levels select their first-level parent
				return false
			}
			if lit, ok := call.Args[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
				v, _ := strconv.Unquote(lit.Value)
				s.walk(body, subtestName(v), true)
			} else {
				s.walk(body, "", false)
			}
			return false
		}
		return true
	})
}

func (s *scanner) literals(args []ast.Expr) ([]string, error) {
	var ids []string
	for _, a := range args {
		lit, ok := a.(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return nil, fmt.Errorf("%s: %s declares requirement IDs that are not string literals: the requirement map cannot read them", s.fset.Position(a.Pos()), s.test)
		}
		id, _ := strconv.Unquote(lit.Value)
		if _, ok := spec.Lookup(id); !ok {
			return nil, fmt.Errorf("%s: %s declares %q, which is not in the catalogue", s.fset.Position(a.Pos()), s.test, id)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func callee(call *ast.CallExpr) (pkg, name string) {
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok {
		return "", ""
	}
	if x, ok := sel.X.(*ast.Ident); ok {
		return x.Name, sel.Sel.Name
	}
	return "", ""
}

// subtestName is the name go test gives a subtest: spaces become underscores.
func subtestName(s string) string { return strings.ReplaceAll(s, " ", "_") }

// Resolve turns a comma-separated list of IDs and groups ("SYNC-3,FED") into requirement IDs
// in catalogue order. An unknown name is an error that lists the groups.
func Resolve(list string) ([]string, error) {
	want := map[string]bool{}
	var bad []string
	for _, name := range strings.Split(list, ",") {
		name = strings.ToUpper(strings.TrimSpace(name))
		if name == "" {
			continue
		}
		if _, ok := spec.Lookup(name); ok {
			want[name] = true
			continue
		}
		group := false
		for _, r := range spec.Catalogue {
			if r.Group() == name {
				want[r.ID] = true
				group = true
			}
		}
		if !group {
			bad = append(bad, name)
		}
	}
	if len(bad) > 0 {
		var groups []string
		for _, g := range spec.Groups {
			groups = append(groups, g.Name)
		}
		return nil, fmt.Errorf("unknown requirement ID or group %s (groups: %s; IDs: ./run.sh --list or %s)",
			strings.Join(bad, ", "), strings.Join(groups, " "), spec.DocPath)
	}
	if len(want) == 0 {
		return nil, fmt.Errorf("no requirement ID or group given (e.g. --req SYNC-3,FED)")
	}
	var ids []string
	for _, r := range spec.Catalogue {
		if want[r.ID] {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

// Select returns the tests covering ids, and an error naming IDs that no test covers.
func (m *Map) Select(ids []string) ([]Entry, error) {
	set := map[Entry]bool{}
	var none []string
	for _, id := range ids {
		if len(m.ByID[id]) == 0 {
			none = append(none, id)
		}
		for _, e := range m.ByID[id] {
			set[e] = true
		}
	}
	if len(set) == 0 {
		return nil, fmt.Errorf("no test covers %s", strings.Join(none, ", "))
	}
	var out []Entry
	for e := range set {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// RunPattern builds the go test -run regexp that runs entries. go test matches each level of
// a test name separately, so a subtest filter applies to every selected test: it is used only
// when no selected test would lose a subtest that is needed (a test selected whole, that has
// subtests, makes the pattern select whole tests). The pattern may run more than asked (the
// same subtest name of another selected test), never less.
func (m *Map) RunPattern(entries []Entry) string {
	whole := map[string]bool{}
	subs := map[string]map[string]bool{}
	for _, e := range entries {
		if e.Sub == "" {
			whole[e.Test] = true
		} else {
			if subs[e.Test] == nil {
				subs[e.Test] = map[string]bool{}
			}
			subs[e.Test][e.Sub] = true
		}
	}
	useSub := len(subs) > 0
	for t := range whole {
		if m.HasSubtests[t] {
			useSub = false
		}
	}
	tests := map[string]bool{}
	subNames := map[string]bool{}
	for t := range whole {
		tests[t] = true
	}
	for t, ss := range subs {
		tests[t] = true
		for s := range ss {
			subNames[s] = true
		}
	}
	pat := "^(" + alternation(tests) + ")$"
	if useSub {
		pat += "/^(" + alternation(subNames) + ")$"
	}
	return pat
}

func alternation(set map[string]bool) string {
	var names []string
	for n := range set {
		names = append(names, regexp.QuoteMeta(n))
	}
	sort.Strings(names)
	return strings.Join(names, "|")
}

// List writes every catalogue ID with its level and the tests that cover it.
func (m *Map) List() string {
	var b strings.Builder
	for _, r := range spec.Catalogue {
		whole := map[string]bool{}
		for _, e := range m.ByID[r.ID] {
			if e.Sub == "" {
				whole[e.Test] = true
			}
		}
		var names []string
		for _, e := range m.ByID[r.ID] {
			if e.Sub == "" || !whole[e.Test] { // a subtest of a test listed whole says nothing more
				names = append(names, e.String())
			}
		}
		tests := strings.Join(names, ", ")
		if tests == "" {
			tests = "(no test covers it)"
		}
		fmt.Fprintf(&b, "%-11s %-6s %s\n", r.ID, r.Level, tests)
	}
	return b.String()
}
