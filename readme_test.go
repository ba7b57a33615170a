package session

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestREADMECodeCompiles builds every Go block of README.md that follows a
// "readme-test" marker, against this checkout of the module. A "fragment"
// block is compiled inside a function that provides the names the README
// leaves to the reader (cfg, pw, stored, storedHash, name, ip, newMyStore);
// a fragment that starts with "func" is compiled at top level. Only
// "declared and not used" is forgiven in fragments.
func TestREADMECodeCompiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs with the go command")
	}
	var blocks [][][]byte
	for _, name := range []string{"README.md", "examples/loginserver/README.md"} {
		readme, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		blocks = append(blocks, regexp.MustCompile("(?s)<!-- readme-test: ([a-z-]+) -->\n```go\n(.*?)```").FindAllSubmatch(readme, -1)...)
	}
	if len(blocks) < 6 {
		t.Fatalf("found %d readme-test blocks in the READMEs, want at least 6", len(blocks))
	}
	root, _ := filepath.Abs(".")
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blocks {
		kind, code := string(b[1]), string(b[2])
		t.Run(fmt.Sprintf("%d-%s", i, kind), func(t *testing.T) {
			t.Parallel()
			if kind == "fragment" {
				code = wrapFragment(code)
			}
			dir := t.TempDir()
			gomod := "module readmetest\n\ngo 1.26\n\nrequire github.com/sessionauth/session v0.0.0\n\nreplace github.com/sessionauth/session => " + root + "\n"
			must(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
			must(t, os.WriteFile(filepath.Join(dir, "go.sum"), sum, 0o644))
			must(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o644))
			cmd := exec.Command("go", "mod", "tidy")
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go mod tidy: %v\n%s", err, out)
			}
			cmd = exec.Command("go", "vet", ".")
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err == nil {
				return
			}
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if kind == "fragment" && (strings.Contains(line, "declared and not used") || strings.HasPrefix(line, "#")) {
					continue
				}
				t.Fatalf("README block %d (%s) does not build: %v\n%s\n--- code ---\n%s", i, kind, err, out, code)
			}
		})
	}
}

func wrapFragment(code string) string {
	var top, body string
	if strings.HasPrefix(code, "func ") {
		top = code
	} else {
		body = code
	}
	return `package main

import (
	"testing"
	"time"

	"github.com/sessionauth/session"
	"github.com/sessionauth/session/storetest"
)

var (
	_          = storetest.Run
	_          = time.Second
	newMyStore func(*testing.T) session.Store
)

func main() {}

` + top + `
func fragment(cfg *session.Config, pw, stored, storedHash, name, ip string) {
` + body + `
}
`
}
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// Coverage for S10: the README gives the three-step multi-instance rollout in
// order: [old,new] everywhere, then [new,old], then drop old.
func TestS10_READMEDocumentsRolloutOrder(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	steps := []string{"SESSION_KEYS=old,new", "SESSION_KEYS=new,old", "SESSION_KEYS=new`"}
	at := 0
	for _, s := range steps {
		i := strings.Index(readme[at:], s)
		if i < 0 {
			t.Fatalf("README lacks rollout step %q after offset %d", s, at)
		}
		at += i + len(s)
	}
}
