package helpers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// parallelStarters are the calls that make a top-level test parallel: t.Parallel itself, or a
// starting point that calls it for the test.
var parallelStarters = map[string]bool{"t.Parallel": true, "blueprints.OverBothFeeds": true}

// Every conformance test runs in parallel with the others. Go runs a top-level test that does
// not call t.Parallel alone, before any parallel test starts: 19 such tests (their subtests
// parallel, the tests not) took the first six minutes of a Synapse run.
func TestEveryConformanceTestIsParallel(t *testing.T) {
	files, err := filepath.Glob("../tests/*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files under ../tests: %v", err)
	}
	fset := token.NewFileSet()
	for _, file := range files {
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv != nil || !strings.HasPrefix(fn.Name.Name, "Test") || fn.Name.Name == "TestMain" || fn.Body == nil {
				continue
			}
			parallel := false
			for _, st := range fn.Body.List { // statements of the test itself, not of its subtests
				if es, ok := st.(*ast.ExprStmt); ok {
					if call, ok := es.X.(*ast.CallExpr); ok {
						if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
							if id, ok := sel.X.(*ast.Ident); ok && parallelStarters[id.Name+"."+sel.Sel.Name] {
								parallel = true
							}
						}
					}
				}
			}
			if !parallel {
				t.Errorf("%s: %s neither calls t.Parallel nor starts with blueprints.OverBothFeeds, so it runs alone before every parallel test", fset.Position(fn.Pos()), fn.Name.Name)
			}
		}
	}
}
