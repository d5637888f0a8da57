// Package helpers holds no code of its own: its folders are the layers of the suite, and this
// test keeps them layered.
package helpers

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// layers ranks the folders of the project: a package may import packages of its own folder and
// of folders ranked below it, never above or beside (blueprints and results are both built on
// checks but know nothing of each other).
var layers = map[string]int{
	"helpers/spec":    0, // what is checked: catalogue, statements, failure codes, the marker record
	"helpers/harness": 1, // drives the servers
	"helpers/checks":  2, // judges what they did
	"blueprints":      3, // the tests' starting points
	"helpers/results": 3, // reads a run
	"cmd":             4,
	"tests":           5,
}

// layerOf is the folder of layers that holds a path of the repository ("" for none).
func layerOf(path string) string {
	for l := range layers {
		if path == l || strings.HasPrefix(path, l+"/") {
			return l
		}
	}
	return ""
}

func TestImportsRunDownTheLayers(t *testing.T) {
	root := ".."
	checked := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		own := layerOf(filepath.ToSlash(filepath.Dir(rel)))
		if own == "" {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			target, ok := strings.CutPrefix(path, "stickler/")
			if !ok {
				continue
			}
			checked++
			dep := layerOf(target)
			if dep != own && layers[dep] >= layers[own] {
				t.Errorf("%s (layer %s) imports %s (layer %s): a layer may import only its own folder and the layers below it", rel, own, path, dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("checked only %d imports of the project's own packages: the walk no longer sees the tree", checked)
	}
}
