package bench

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestREADMEPerformanceMatchesResults checks that every measured number in
// the root README's "Performance" section appears in RESULTS.md, the file
// run.sh writes: the README quotes the script, never a number of its own.
func TestREADMEPerformanceMatchesResults(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	results, err := os.ReadFile("RESULTS.md")
	if err != nil {
		t.Fatal(err)
	}
	section := string(readme)
	start := strings.Index(section, "\n## Performance\n")
	if start < 0 {
		t.Fatal("README has no Performance section")
	}
	section = section[start+1:]
	if end := strings.Index(section, "\n## "); end >= 0 {
		section = section[:end]
	}
	numbers := regexp.MustCompile(`\d[\d.]*\s?(?:ns|µs|ms)\b|\d+ req/s|\d+%|×\d[\d.]*|1/\d[\d.]*|\b\d{4,}\b`).FindAllString(section, -1)
	if len(numbers) < 20 {
		t.Fatalf("found only %d numbers in the Performance section", len(numbers))
	}
	for _, n := range numbers {
		n = strings.TrimSuffix(n, " req/s")
		if !strings.Contains(string(results), n) {
			t.Errorf("README's Performance section says %q, which RESULTS.md does not", n)
		}
	}
}
