// Command stickler-docs writes the generated documents: docs/requirements.md from the
// requirement catalogue in helpers/spec, docs/settings.md from the Settings struct in
// helpers/harness/config, and docs/findings/synapse.md (what Synapse gets wrong, one entry per
// defect, written as upstream bug reports) from the Synapse recipes' expectations files, the
// catalogue, docs/failure-codes.md and the tests' declarations. Those sources are the only
// copies; run it after changing any of them (from the repository root, or through
// `go generate ./helpers/spec`). Unit tests fail while a
// generated file is stale (this command's for settings.md and the findings, helpers/spec's for
// requirements.md).
//
//	go run ./cmd/stickler-docs            # writes every generated document
//	go run ./cmd/stickler-docs -o -       # prints the requirements document only
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"stickler/helpers/harness/config"
	"stickler/helpers/results/report"
	"stickler/helpers/results/reqmap"
	"stickler/helpers/spec"
)

// Paths of the generated documents, from the repository root.
const (
	SettingsPath = "docs/settings.md"
	SynapsePath  = "docs/findings/synapse.md"
)

func main() {
	out := flag.String("o", spec.DocPath, "file to write the requirements document to, - for standard output (then nothing else is written)")
	flag.Parse()
	var b bytes.Buffer
	if err := spec.WriteMarkdown(&b); err != nil {
		fail(err)
	}
	if *out == "-" {
		os.Stdout.Write(b.Bytes())
		return
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		fail(err)
	}
	// The other documents go to the repository root, wherever it is run from (go generate
	// runs it in helpers/spec).
	root, err := repoRoot()
	if err != nil {
		fail(err)
	}
	docs := map[string]func(root string) (string, error){SettingsPath: settingsDoc, SynapsePath: synapseFindings}
	for path, gen := range docs {
		text, err := gen(root)
		if err != nil {
			fail(err)
		}
		dest := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			fail(err)
		}
		if err := os.WriteFile(dest, []byte(text), 0o644); err != nil {
			fail(err)
		}
	}
}

// repoRoot is the nearest directory at or above the working directory that holds go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = up
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "stickler-docs:", err)
	os.Exit(1)
}

// settingsDoc is docs/settings.md: every setting, generated from the Settings struct's field
// comments, between the markers helpers/harness/config's own test reads.
func settingsDoc(root string) (string, error) {
	src, err := os.ReadFile(filepath.Join(root, config.SourcePath))
	if err != nil {
		return "", err
	}
	table, err := config.Table(src)
	if err != nil {
		return "", err
	}
	return "# Settings\n\n" +
		"Every setting of Stickler is an environment variable, read once per process into one struct, `helpers/harness/config.Settings`; the Go code takes its " +
		"settings from there. This page is generated from the struct's field comments by `go run ./cmd/stickler-docs` (a unit test fails while it is " +
		"stale): edit the comments in `" + config.SourcePath + "`, not this page. Settings read only by the scripts are listed too, marked with who reads them. " +
		"The `COMPLEMENT_*` variables mean what they mean for Complement, so an image and a command line that run Complement run Stickler unchanged.\n\n" +
		config.TableBegin + "\n" + table + config.TableEnd + "\n\n" +
		"Wire names (`STICKLER_NAMES`):\n\n" +
		"| concept | stable | unstable |\n" +
		"|---|---|---|\n" +
		"| send query parameter | `sticky_duration_ms` | `org.matrix.msc4354.sticky_duration_ms` |\n" +
		"| event key | `sticky` | `msc4354_sticky` |\n" +
		"| /sync room section | `sticky` | `msc4354_sticky` |\n" +
		"| remaining lifetime | `unsigned.sticky_duration_ttl_ms` | `unsigned.msc4354_sticky_duration_ttl_ms` |\n" +
		"| map key in content | `sticky_key` | `msc4354_sticky_key` |\n" +
		"| Sliding Sync extension | `sticky_events` | `org.matrix.msc4354.sticky_events` |\n" +
		"| `/versions` | a spec version with sticky events, or `unstable_features[\"org.matrix.msc4354.stable\"]` | `unstable_features[\"org.matrix.msc4354\"]` |\n", nil
}

// synapseFindings is docs/findings/synapse.md, from the Synapse recipes' expectations files.
func synapseFindings(root string) (string, error) {
	load := func(recipe, what string) (report.ServerRecipe, string, error) {
		path := "servers/" + recipe + "/expectations.txt"
		text, err := os.ReadFile(filepath.Join(root, path))
		if err != nil {
			return report.ServerRecipe{}, "", err
		}
		e, err := report.ParseExpectations(bytes.NewReader(text), path)
		return report.ServerRecipe{Recipe: recipe, What: what, Path: path, Expectations: e}, string(text), err
	}
	sqlite, text, err := load("synapse", "")
	if err != nil {
		return "", err
	}
	version := report.VersionOf(text)
	name := "Synapse"
	if version != "" {
		name += " " + version
	}
	sqlite.What = name + " on SQLite"
	pg, _, err := load("synapse-postgres", name+" on PostgreSQL")
	if err != nil {
		return "", err
	}
	tests, err := reqmap.Scan(filepath.Join(root, "tests"))
	if err != nil {
		return "", err
	}
	d := report.ServerDoc{Server: "Synapse", Version: version, Main: sqlite, Others: []report.ServerRecipe{pg}, Tests: tests,
		Meanings: report.LoadCodeMeanings(filepath.Join(root, report.CodeMeaningsPath)),
		Sources: []string{sqlite.Path, pg.Path, "helpers/spec (catalogue, statements)", report.CodeMeaningsPath,
			"helpers/results/report/fixes.go", "the tests' spec.Covers declarations"}}
	return d.Markdown(), nil
}
