package spec

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCodesOf(t *testing.T) {
	base := errors.New("3 of 4 event(s) never delivered")
	for _, tc := range []struct {
		err  error
		want []string
	}{
		{nil, nil},
		{base, nil},
		{WithCode("not-delivered", base), []string{"not-delivered"}},
		// An outer code restates what the inner one means for the test.
		{WithCode("missing-after-join", WithCode("not-delivered", base)), []string{"missing-after-join"}},
		{fmt.Errorf("%w (last response: ...)", WithCode("lost-events", base)), []string{"lost-events"}},
		{errors.Join(WithCode("duplicate-delivery", base), WithCode("lost-events", base), WithCode("lost-events", base)), []string{"duplicate-delivery", "lost-events"}},
	} {
		if got := CodesOf(tc.err); !slices.Equal(got, tc.want) {
			t.Errorf("CodesOf(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
	if WithCode("x", nil) != nil {
		t.Error("WithCode of nil must stay nil")
	}
}

// Every failure code the suite states is listed in docs/failure-codes.md, so the table stays
// the complete list of what a report can show.
func TestEveryCodeDocumented(t *testing.T) {
	root := filepath.Join("..", "..")
	doc, err := os.ReadFile(filepath.Join(root, "docs", "failure-codes.md"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9-]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		listed[m[1]] = true
	}
	// A code is the first string literal of these calls (a check's As, sticky.CheckNoRemaining
	// after the client and room, sticky.RequireExpired: the two after the IDs).
	call := regexp.MustCompile(`(?:spec\.(?:Fatalf|Errorf|MarkFailure)\(t, |\.As\(|WithCode\(|CheckNoRemaining\(t, [\w.]+, [\w.]+, |RequireExpired\(t, [\w.]+, [\w.]+, \[\]string\{[^}]*\}, )"([a-z0-9-]+)"(?:, "([a-z0-9-]+)")?`)
	used := 0
	for _, dir := range []string{"tests", "blueprints", "helpers"} {
		err := filepath.WalkDir(filepath.Join(root, dir), func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") && dir != "tests" {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, m := range call.FindAllStringSubmatch(string(b), -1) {
				for _, c := range m[1:] {
					if c == "" {
						continue
					}
					used++
					if !listed[c] {
						t.Errorf("%s uses failure code %q, which docs/failure-codes.md does not list", p, c)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if used < 20 {
		t.Fatalf("found only %d failure codes in the suite's sources; the pattern no longer matches how tests state them", used)
	}
}
