package passkey_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionauth/session/passkey/pgpasskey"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestREADMEProgramBuilds builds the README's Go program against this
// checkout of both modules.
func TestREADMEProgramBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program with the go command")
	}
	t.Parallel()
	blocks := regexp.MustCompile("(?s)<!-- readme-test: program -->\n```go\n(.*?)```").FindAllStringSubmatch(readme(t), -1)
	if len(blocks) == 0 {
		t.Fatal("README has no readme-test program")
	}
	here, _ := filepath.Abs(".")
	root := filepath.Dir(here)
	sum, err := os.ReadFile("go.sum")
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range blocks {
		dir := t.TempDir()
		gomod := "module readmetest\n\ngo 1.26\n\n" +
			"require (\n\tgithub.com/sessionauth/session v0.0.0\n\tgithub.com/sessionauth/session/passkey v0.0.0\n)\n\n" +
			"replace github.com/sessionauth/session => " + root + "\n\n" +
			"replace github.com/sessionauth/session/passkey => " + here + "\n"
		for name, data := range map[string][]byte{"go.mod": []byte(gomod), "go.sum": sum, "main.go": []byte(b[1])} {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, args := range [][]string{{"mod", "tidy"}, {"vet", "."}} {
			cmd := exec.Command("go", args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("go %s: %v\n%s\n--- program ---\n%s", strings.Join(args, " "), err, out, b[1])
			}
		}
	}
}

// TestREADMESchemaIsSetupsSQL checks the README's SQL is what Setup runs.
func TestREADMESchemaIsSetupsSQL(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), "postgres://unused@127.0.0.1:1/unused") // never connects
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := pgpasskey.New(pool)
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(readme(t), -1)
	if len(blocks) != 1 || blocks[0][1] != s.Schema() {
		t.Fatalf("README's SQL is not Setup's:\n%s", s.Schema())
	}
}

// TestREADMEErrorCodesAreTheHandlers checks that every error code the
// README lists is one the Handler answers, and the other way round.
func TestREADMEErrorCodesAreTheHandlers(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("handler.go")
	if err != nil {
		t.Fatal(err)
	}
	codes := regexp.MustCompile(`errCode\{http\.Status\w+, "(\w+)"\}`).FindAllStringSubmatch(string(src), -1)
	if len(codes) < 10 {
		t.Fatalf("found %d codes in handler.go", len(codes))
	}
	doc := readme(t)
	for _, c := range codes {
		if !strings.Contains(doc, "`"+c[1]+"`") {
			t.Errorf("README does not list the error code %q", c[1])
		}
	}
}
