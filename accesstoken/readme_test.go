package accesstoken

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
)

// readmeBlocks returns the code blocks of this module's README and of the
// root README that follow an "accesstoken-test" marker: kind, language and
// code.
func readmeBlocks(t *testing.T) [][3]string {
	var out [][3]string
	re := regexp.MustCompile("(?s)<!-- accesstoken-test: ([a-z]+) -->\n```([a-z]+)\n(.*?)```")
	for _, name := range []string{"README.md", "../README.md"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			out = append(out, [3]string{m[1], m[2], m[3]})
		}
	}
	return out
}

// TestREADMECodeBuilds builds every Go program of the READMEs against this
// checkout (both modules), and runs every shell block in a scratch
// directory, checking that each PEM file it writes is a key ParsePrivateKeys
// accepts.
func TestREADMECodeBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs with the go command")
	}
	blocks := readmeBlocks(t)
	programs, shells := 0, 0
	mod, _ := filepath.Abs(".")
	root, _ := filepath.Abs("..")
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range blocks {
		kind, lang, code := b[0], b[1], b[2]
		switch {
		case kind == "program" && lang == "go":
			programs++
			t.Run(fmt.Sprintf("%d-program", i), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				gomod := "module readmetest\n\ngo 1.26\n\nrequire (\n\tgithub.com/sessionauth/session v0.0.0\n\tgithub.com/sessionauth/session/accesstoken v0.0.0\n)\n\n" +
					"replace github.com/sessionauth/session => " + root + "\n\nreplace github.com/sessionauth/session/accesstoken => " + mod + "\n"
				writeFile(t, filepath.Join(dir, "go.mod"), gomod)
				writeFile(t, filepath.Join(dir, "go.sum"), string(sum))
				writeFile(t, filepath.Join(dir, "main.go"), code)
				for _, args := range [][]string{{"mod", "tidy"}, {"vet", "."}} {
					cmd := exec.Command("go", args...)
					cmd.Dir = dir
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("go %v: %v\n%s\n--- code ---\n%s", args, err, out, code)
					}
				}
			})
		case kind == "sh" && lang == "sh":
			shells++
			t.Run(fmt.Sprintf("%d-sh", i), func(t *testing.T) {
				t.Parallel()
				if _, err := exec.LookPath("openssl"); err != nil {
					if os.Getenv("CI") == "true" {
						t.Fatal("openssl is not installed (CI must install it)")
					}
					t.Skip("openssl is not installed")
				}
				dir := t.TempDir()
				cmd := exec.Command("bash", "-euo", "pipefail", "-c", code)
				cmd.Dir = dir
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Fatalf("%v\n%s\n--- block ---\n%s", err, out, code)
				}
				pems, _ := filepath.Glob(filepath.Join(dir, "*.pem"))
				if len(pems) == 0 {
					t.Fatal("the block wrote no .pem file")
				}
				for _, p := range pems {
					data, _ := os.ReadFile(p)
					if _, err := ParsePrivateKeys(data); err != nil {
						t.Fatalf("%s: %v", filepath.Base(p), err)
					}
				}
			})
		default:
			t.Errorf("block %d: unknown kind %q / language %q", i, kind, lang)
		}
	}
	if programs < 2 || shells < 1 {
		t.Fatalf("found %d programs and %d shell blocks, want at least 2 and 1", programs, shells)
	}
}

func writeFile(t *testing.T, name, data string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
