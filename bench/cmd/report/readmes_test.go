package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCommittedREADMEsAreWrittenFromResults checks that every region of
// the READMEs is what report -readmes makes of the committed RESULTS.md:
// the READMEs quote one run, whole, and no figure by hand.
func TestCommittedREADMEsAreWrittenFromResults(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../../RESULTS.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range readmeFiles {
		doc, err := os.ReadFile(filepath.Join("../../..", f.path))
		if err != nil {
			t.Fatal(err)
		}
		want, err := fillRegions(string(doc), string(raw), f.regions)
		if err != nil {
			t.Fatalf("%s: %v", f.path, err)
		}
		if string(doc) != want {
			t.Errorf("%s differs from what bench/RESULTS.md gives; run (cd bench && go run ./cmd/report -readmes .. -out RESULTS.md)", f.path)
		}
	}
}

const sampleResults = "# Benchmark results\n\n## Machine\n\n```\nnproc:       4\npostgres:    16.1 (fsync on, synchronous_commit on)\nload before: 0.50 0.40 0.30\nsettings:    -benchtime 1s -count 3; more\nload after:  1.25 1.00 0.75\n```\n\n" +
	"## Time per request\n\n| subject | anonymous | auth. read | auth. write | login | login at cap | forged cookie |\n|---|---:|---:|---:|---:|---:|---:|\n" +
	"| bare | 1 ns | 2 ns | 3 ns | 4 ns | 5 ns | 6 ns |\n| ours-mem | 10 ns | 20 ns | 30 ns | 40 ns | 50 ns | 60 ns |\n\n" +
	"## Allocations per request (bytes)\n\n| subject | anonymous | auth. read | auth. write | login | login at cap | forged cookie |\n|---|---:|---:|---:|---:|---:|---:|\n" +
	"| bare | 0 (0 B) | 0 (0 B) | 0 (0 B) | 0 (0 B) | 0 (0 B) | 0 (0 B) |\n| ours-mem | 1 (8 B) | 7 (80 B) | 1 (8 B) | 1 (8 B) | 1 (8 B) | 1 (8 B) |\n\n" +
	"## Store round trips · Set-Cookie headers per request\n\n| subject | anonymous | auth. read | auth. write | login | login at cap | forged cookie |\n|---|---:|---:|---:|---:|---:|---:|\n" +
	"| bare | 0 · 0 | 0 · 0 | 0 · 0 | 0 · 0 | 0 · 0 | 0 · 0 |\n| ours-mem | 0 · 0 | 1 · 0 | 2 · 0 | 1 · 1 | 1 · 1 | 0 · 0 |\n\n" +
	"## The issue's targets\n\n- Redis with client-side caching: fast — **met**.\n- … at most 1/20 of scs's Redis read: 1/30 — **met**.\n- Forged cookie at most 1 µs: 60 ns — **met**.\n"

func TestFillRegionsRewritesOnlyTheRegions(t *testing.T) {
	t.Parallel()
	one := func(r results) (string, error) {
		return "load " + r.machine["load before"] + "; " + r.tables[tableTime]["ours-mem"]["auth. read"] + "\n", nil
	}
	doc := "# Title\n\nhand-written\n" + regionBegin + "\nstale\nlines\n" + regionEnd + "\n\nmore hand-written\n"
	got, err := fillRegions(doc, sampleResults, []func(results) (string, error){one})
	if err != nil {
		t.Fatal(err)
	}
	want := "# Title\n\nhand-written\n" + regionBegin + "\nload 0.50 0.40 0.30; 20 ns\n" + regionEnd + "\n\nmore hand-written\n"
	if got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	again, err := fillRegions(got, sampleResults, []func(results) (string, error){one})
	if err != nil || again != got {
		t.Fatalf("a second pass changed the document (%v):\n%s", err, again)
	}
}

func TestFillRegionsRefusesDocumentsAndResultsThatDoNotFit(t *testing.T) {
	t.Parallel()
	ok := func(results) (string, error) { return "x\n", nil }
	region := regionBegin + "\nold\n" + regionEnd + "\n"
	tests := []struct {
		name    string
		doc     string
		raw     string
		writers []func(results) (string, error)
	}{
		{"no region", "text\n", sampleResults, []func(results) (string, error){ok}},
		{"no end", regionBegin + "\nold\n", sampleResults, []func(results) (string, error){ok}},
		{"a region with no writer", region + region, sampleResults, []func(results) (string, error){ok}},
		{"no time table", region, "# Benchmark results\n", []func(results) (string, error){ok}},
		{"a figure missing", region, sampleResults, []func(results) (string, error){rootPostgres}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, err := fillRegions(tt.doc, tt.raw, tt.writers); err == nil {
				t.Fatalf("no error; wrote:\n%s", got)
			}
		})
	}
}

func TestRootPerformanceQuotesTheRun(t *testing.T) {
	t.Parallel()
	r, err := parseResults(sampleResults)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rootPerformance(r)
	if !errors.Is(err, errNoFigure) {
		t.Fatalf("err = %v, want a missing target (the sample has two of them)", err)
	}
	for _, want := range []string{
		"three rounds each",
		"a 4-core VM",
		"(load average 0.50 before the run, 1.25 after)",
		"| bare handler (the floor) | 1 ns | 2 ns | 3 ns | 4 ns | 5 ns | 6 ns |\n",
		"| this library, memory behind a wrapper (guarded) | 10 ns | 20 ns, 7 allocs (1 · 0) | 30 ns (2 · 0) | 40 ns (1 · 1) | 50 ns (1 · 1) | 60 ns (0) |\n",
		"- Cached Redis read at most 1/20 of scs's Redis read: 1/30 — **met**.\n",
		"- Forged cookie at most 1 µs: 60 ns — **met**.\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "ours-redis") || strings.Contains(got, "this library, Redis") {
		t.Errorf("a row for a subject the run did not measure:\n%s", got)
	}
}

// TestWriteREADMEsWritesAllOrNone checks that a run missing a figure one
// README quotes changes no README, so the READMEs never mix two runs.
func TestWriteREADMEsWritesAllOrNone(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile("../../RESULTS.md")
	if err != nil {
		t.Fatal(err)
	}
	// Another run: the bare handler's anonymous request took 1 ns (its
	// row in the time table gains a cell in front).
	run := strings.Replace(string(committed), "| bare | ", "| bare | 1 ns | ", 1)
	root := t.TempDir()
	originals := map[string][]byte{}
	for _, f := range readmeFiles {
		b, err := os.ReadFile(filepath.Join("../../..", f.path))
		if err != nil {
			t.Fatal(err)
		}
		originals[f.path] = b
		if err := os.MkdirAll(filepath.Dir(filepath.Join(root, f.path)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f.path), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write := func(results string) error {
		path := filepath.Join(t.TempDir(), "RESULTS.md")
		if err := os.WriteFile(path, []byte(results), 0o644); err != nil {
			t.Fatal(err)
		}
		return writeREADMEs(path, root)
	}

	// Without the PostgreSQL target, pgstore/README.md (the second file)
	// cannot be written: README.md, which could, must stay as it was.
	var kept []string
	for _, line := range strings.SplitAfter(run, "\n") {
		if !strings.HasPrefix(line, "Target: PostgreSQL") {
			kept = append(kept, line)
		}
	}
	if err := write(strings.Join(kept, "")); !errors.Is(err, errNoFigure) {
		t.Fatalf("err = %v, want a missing figure", err)
	}
	for path, want := range originals {
		if got, _ := os.ReadFile(filepath.Join(root, path)); string(got) != string(want) {
			t.Errorf("%s changed although the run could not fill pgstore/README.md", path)
		}
	}

	if err := write(run); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(root, "README.md"))
	if !strings.Contains(string(got), "| bare handler (the floor) | 1 ns | ") {
		t.Errorf("README.md does not quote the new run:\n%s", got)
	}
}
