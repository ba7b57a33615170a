package pgstore

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestREADMESchemaIsSetupsSQL checks that the README's SQL block is what
// Setup runs for the default table.
func TestREADMESchemaIsSetupsSQL(t *testing.T) {
	t.Parallel()
	s, err := New(lazyPool(t), Config{CleanupInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(readme(t), -1)
	if len(blocks) != 1 {
		t.Fatalf("README has %d sql blocks, want 1", len(blocks))
	}
	if blocks[0][1] != s.Schema() {
		t.Fatalf("README's SQL:\n%s\nSetup's:\n%s", blocks[0][1], s.Schema())
	}
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
			"require (\n\tgithub.com/sessionauth/session v0.0.0\n\tgithub.com/sessionauth/session/pgstore v0.0.0\n)\n\n" +
			"replace github.com/sessionauth/session => " + root + "\n\n" +
			"replace github.com/sessionauth/session/pgstore => " + here + "\n"
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

// TestREADMETestCommandRunsInCI checks that the test command the README
// gives is the one .ci/run runs for this module.
func TestREADMETestCommandRunsInCI(t *testing.T) {
	t.Parallel()
	blocks := regexp.MustCompile("(?s)```sh\n(.*?)```").FindAllStringSubmatch(readme(t), -1)
	ci, err := os.ReadFile("../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) == 0 {
		t.Fatal("README has no sh block")
	}
	for _, b := range blocks {
		for line := range strings.Lines(b[1]) {
			line = strings.TrimSpace(line)
			if line != "" && !strings.Contains(string(ci), line) {
				t.Errorf("README command %q is not run by .ci/run", line)
			}
		}
	}
}

// TestREADMENumbersComeFromResults checks every measured number in this
// README's Performance section, and in the root README's PostgreSQL
// section, against bench/RESULTS.md, which bench/run.sh writes.
func TestREADMENumbersComeFromResults(t *testing.T) {
	t.Parallel()
	results, err := os.ReadFile("../bench/RESULTS.md")
	if err != nil {
		t.Fatal(err)
	}
	rootReadme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, text, heading string }{
		{"pgstore/README.md", readme(t), "## Performance"},
		{"README.md", string(rootReadme), "## PostgreSQL"},
	} {
		section := tc.text
		start := strings.Index(section, "\n"+tc.heading+"\n")
		if start < 0 {
			t.Fatalf("%s has no %q section", tc.file, tc.heading)
		}
		section = section[start+1:]
		if end := strings.Index(section, "\n## "); end >= 0 {
			section = section[:end]
		}
		numbers := regexp.MustCompile(`\d[\d.]*\s?(?:ns|µs|ms|MiB|B)\b|×\d[\d.]*`).FindAllString(section, -1)
		if len(numbers) < 4 {
			t.Fatalf("%s: found only %d numbers in %q", tc.file, len(numbers), tc.heading)
		}
		for _, n := range numbers {
			if !strings.Contains(string(results), n) {
				t.Errorf("%s %q says %q, which bench/RESULTS.md does not", tc.file, tc.heading, n)
			}
		}
	}
}

// TestREADMEShowsTheTestedBouncerSettings checks that the README's PgBouncer
// settings are the ones TestBehindPgBouncerRecoversFromRestart runs with.
func TestREADMEShowsTheTestedBouncerSettings(t *testing.T) {
	t.Parallel()
	m := regexp.MustCompile("(?s)<!-- readme-test: pgbouncer-recovery -->\n```ini\n(.*?)```").FindStringSubmatch(readme(t))
	if m == nil {
		t.Fatal("README has no pgbouncer-recovery block")
	}
	if got, want := strings.TrimSpace(m[1]), strings.Join(bouncerFastRecovery, "\n"); got != want {
		t.Fatalf("README's PgBouncer settings:\n%s\nthe test's:\n%s", got, want)
	}
}
