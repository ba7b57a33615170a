package otelsession_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// README.md's wiring is newMetrics's body in example_test.go, which
// Example_prometheus runs, and its output block is that example's checked
// Output.
func TestREADMEShowsTheExample(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)<!-- otelsession-readme: ([a-z]+) -->\n```[a-z]*\n(.*?)```").FindAllSubmatch(readme, -1)
	if len(blocks) != 3 {
		t.Fatalf("found %d marked blocks, want 3", len(blocks))
	}
	for _, b := range blocks {
		for line := range strings.Lines(string(b[2])) {
			line = strings.TrimSpace(line)
			if b[1][0] == 'o' {
				line = "// " + line
			}
			if line != "" && !strings.Contains(string(example), line) {
				t.Errorf("README's %s line %q is not in example_test.go", b[1], line)
			}
		}
	}
}
