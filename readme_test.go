package session

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMECodeCompiles builds every Go block of README.md that follows a
// "readme-test" marker, against this checkout of the module.
func TestREADMECodeCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with the go command")
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)<!-- readme-test: ([a-z-]+) -->\n```go\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) == 0 {
		t.Fatal("no readme-test blocks in README.md")
	}
	root, _ := filepath.Abs(".")
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		t.Run(string(b[1]), func(t *testing.T) {
			dir := t.TempDir()
			gomod := "module readmetest\n\ngo 1.26\n\nrequire github.com/sessionauth/session v0.0.0\n\nreplace github.com/sessionauth/session => " + root + "\n"
			must(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
			must(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
			must(t, os.WriteFile(filepath.Join(dir, "main.go"), b[2], 0o644))
			cmd := exec.Command("go", "mod", "tidy")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go mod tidy: %v\n%s", err, out)
			}
			cmd = exec.Command("go", "vet", ".")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("README block %s does not build: %v\n%s", b[1], err, strings.TrimSpace(string(out)))
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
