package report

import (
	"path/filepath"
	"testing"
)

// The project's own expectations files parse: every fail line names its failure codes.
func TestProjectExpectationsParse(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "..", "servers", "*", "expectations.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("expected the Synapse, Dendrite and mixed expectations files, found %v", files)
	}
	for _, p := range files {
		e, err := LoadExpectations(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		for name, x := range e {
			if x.Outcome == "fail" && len(x.Codes) == 0 {
				t.Errorf("%s: %s is a fail line without a failure code", p, name)
			}
		}
	}
}
