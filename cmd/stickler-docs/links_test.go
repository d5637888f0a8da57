package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	mdLink   = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading  = regexp.MustCompile(`(?m)^#{1,6} (.*)$`)
	htmlID   = regexp.MustCompile(`<a id="([^"]+)">`)
	fenced   = regexp.MustCompile("(?ms)^```.*?^```")
	notSlug  = regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	external = regexp.MustCompile(`^[a-z]+:`)
)

// anchors are the link targets of a Markdown file, as GitHub makes them from headings (lower
// case, punctuation dropped, spaces to '-', repeats numbered) plus explicit <a id="...">.
func anchors(text string) map[string]bool {
	out := map[string]bool{}
	text = fenced.ReplaceAllString(text, "")
	for _, m := range heading.FindAllStringSubmatch(text, -1) {
		slug := strings.ReplaceAll(notSlug.ReplaceAllString(strings.ToLower(strings.TrimSpace(m[1])), ""), " ", "-")
		s := slug
		for n := 1; out[s]; n++ {
			s = slug + "-" + string(rune('0'+n))
		}
		out[s] = true
	}
	for _, m := range htmlID.FindAllStringSubmatch(text, -1) {
		out[m[1]] = true
	}
	return out
}

// Every relative link of the README, docs/ and the recipes' READMEs resolves: the file exists
// and, for a Markdown file, so does the heading the link names.
func TestRelativeLinksResolve(t *testing.T) {
	files := []string{"README.md"}
	for _, g := range []string{"docs/*.md", "docs/*/*.md", "servers/*/README.md"} {
		m, _ := filepath.Glob(filepath.Join(root, g))
		for _, p := range m {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
		}
	}
	checked := 0
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		text := fenced.ReplaceAllString(string(b), "")
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target := m[1]
			if external.MatchString(target) {
				continue
			}
			checked++
			path, frag, _ := strings.Cut(target, "#")
			dest := filepath.Join(filepath.Dir(f), path)
			if path == "" {
				dest = f
			}
			st, err := os.Stat(filepath.Join(root, dest))
			if err != nil {
				t.Errorf("%s: link %q: %s does not exist", f, target, dest)
				continue
			}
			if frag == "" || st.IsDir() || !strings.HasSuffix(dest, ".md") {
				continue
			}
			tb, _ := os.ReadFile(filepath.Join(root, dest))
			if !anchors(string(tb))[frag] {
				t.Errorf("%s: link %q: %s has no heading or anchor %q", f, target, dest, frag)
			}
		}
	}
	if checked < 10 {
		t.Errorf("checked only %d relative links: the scan no longer sees the documents", checked)
	}
}

func TestAnchors(t *testing.T) {
	a := anchors("# Running by requirement\n## Synapse on PostgreSQL\n## The `--req` flag: IDs\n<a id=\"x-1\"></a>\n## Notes\n## Notes\n")
	for _, want := range []string{"running-by-requirement", "synapse-on-postgresql", "the---req-flag-ids", "x-1", "notes", "notes-1"} {
		if !a[want] {
			t.Errorf("expected the anchor %q among %v", want, a)
		}
	}
}
