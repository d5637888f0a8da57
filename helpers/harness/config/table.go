package config

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"strconv"
	"strings"
)

// SourcePath is this file's package source the table is made from, from the repository root.
const SourcePath = "helpers/harness/config/config.go"

// The README's settings table stands between these two lines.
const (
	TableBegin = "<!-- settings table: generated from helpers/harness/config/config.go by go run ./cmd/stickler-docs; edit the comments there -->"
	TableEnd   = "<!-- end of settings table -->"
)

// Table writes the settings table (markdown) from the source of config.go: one row per field
// of Settings, in their order, with the variable(s) of its `env` tag, its comment as the
// meaning (noting who reads it when its `by` tag says) and its "Default:" line.
func Table(src []byte) (string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), SourcePath, src, parser.ParseComments)
	if err != nil {
		return "", err
	}
	var fields *ast.FieldList
	ast.Inspect(f, func(n ast.Node) bool {
		if ts, ok := n.(*ast.TypeSpec); ok && ts.Name.Name == "Settings" {
			if st, ok := ts.Type.(*ast.StructType); ok {
				fields = st.Fields
			}
		}
		return fields == nil
	})
	if fields == nil {
		return "", fmt.Errorf("%s: no struct Settings", SourcePath)
	}
	var b strings.Builder
	b.WriteString("| variable | meaning | default |\n|---|---|---|\n")
	for _, fl := range fields.List {
		name := fl.Names[0].Name
		if fl.Tag == nil {
			return "", fmt.Errorf("%s: field %s has no env tag", SourcePath, name)
		}
		raw, _ := strconv.Unquote(fl.Tag.Value)
		tag := reflect.StructTag(raw)
		env := tag.Get("env")
		if env == "" {
			return "", fmt.Errorf("%s: field %s has no env tag", SourcePath, name)
		}
		meaning, def, ok := strings.Cut(fl.Doc.Text(), "\nDefault: ")
		if fl.Doc == nil || !ok {
			return "", fmt.Errorf("%s: field %s: its comment must end with a line \"Default: ...\"", SourcePath, name)
		}
		meaning = strings.Join(strings.Fields(meaning), " ")
		if by := tag.Get("by"); by != "" {
			meaning += " (read by " + quoteList(by) + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", quoteList(env), meaning, strings.Join(strings.Fields(def), " "))
	}
	return b.String(), nil
}

// quoteList puts each comma-separated name in backticks ("..." stays as it is).
func quoteList(s string) string {
	parts := strings.Split(s, ", ")
	for i, p := range parts {
		if p != "..." {
			parts[i] = "`" + p + "`"
		}
	}
	return strings.Join(parts, ", ")
}

// ReplaceTable returns readme with the text between TableBegin and TableEnd replaced by table.
func ReplaceTable(readme, table string) (string, error) {
	i := strings.Index(readme, TableBegin+"\n")
	j := strings.Index(readme, TableEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("README.md: no settings table between the lines %q and %q", TableBegin, TableEnd)
	}
	return readme[:i+len(TableBegin)+1] + table + readme[j:], nil
}
