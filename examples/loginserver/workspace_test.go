package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
)

// This example is its own module (it depends on nested modules the root
// module may not), so the root's go.work makes `go run
// ./examples/loginserver` work from the root. go.work must list every
// module of the repository: `go` refuses to run in the directory of a
// module it leaves out.
func TestWorkspaceListsEveryModule(t *testing.T) {
	t.Parallel()
	work, err := os.ReadFile("../../go.work")
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, m := range regexp.MustCompile(`(?m)^\s+(\.[^\s]*)\s*$`).FindAllStringSubmatch(string(work), -1) {
		listed = append(listed, filepath.Clean(m[1]))
	}
	var modules []string
	err = filepath.WalkDir("../..", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.Name() == "go.mod" {
			rel, _ := filepath.Rel("../..", filepath.Dir(p))
			modules = append(modules, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(listed)
	slices.Sort(modules)
	if !slices.Equal(listed, modules) {
		t.Fatalf("go.work uses %q; the repository's modules are %q", listed, modules)
	}
}
