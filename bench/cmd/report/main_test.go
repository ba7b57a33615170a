package main

import (
	"bytes"
	"strings"
	"testing"
)

const sampleBench = `goos: linux
BenchmarkScenario/scenario=read/subject=ours-mem-2   	 2000	  2000 ns/op	 1.000 roundtrips/op	 0 setcookies/op	 1640 B/op	 17 allocs/op
BenchmarkScenario/scenario=read/subject=ours-mem-2   	 2000	  2400 ns/op	 1.000 roundtrips/op	 0 setcookies/op	 1640 B/op	 17 allocs/op
BenchmarkScenario/scenario=read/subject=ours-mem-2   	 2000	  9000 ns/op	 1.000 roundtrips/op	 0 setcookies/op	 1640 B/op	 17 allocs/op
BenchmarkScenario/scenario=read/subject=scs-mem-2    	 2000	 20000 ns/op	 1.000 roundtrips/op	 0 setcookies/op	 9104 B/op	 199 allocs/op
BenchmarkScenario/scenario=read/subject=ours-cookie-2 	 2000	  1600 ns/op	 0 roundtrips/op	 0 setcookies/op	 900 B/op	 5 allocs/op
BenchmarkScenario/scenario=read/subject=gorilla-cookie-2 	 2000	 12000 ns/op	 0 roundtrips/op	 0 setcookies/op	 9616 B/op	 192 allocs/op
BenchmarkScenario/scenario=read/subject=bare-2       	 2000	    10 ns/op	 0 roundtrips/op	 0 setcookies/op	 0 B/op	 0 allocs/op
BenchmarkScenario/scenario=read/subject=ours-redis-2 	 2000	 50000 ns/op	 1.000 roundtrips/op	 0 setcookies/op	 2000 B/op	 30 allocs/op
BenchmarkScenario/scenario=anonymous/subject=ours-redis-2 	 2000	 500 ns/op	 0 roundtrips/op	 0 setcookies/op	 600 B/op	 3 allocs/op
BenchmarkScenario/scenario=forged/subject=ours-redis-2 	 2000	 1500 ns/op	 0 roundtrips/op	 0 setcookies/op	 600 B/op	 15 allocs/op
BenchmarkScenario/scenario=read/subject=ours-redis-cached-2 	 2000	 4000 ns/op	 0.0005 roundtrips/op	 0 setcookies/op	 1200 B/op	 9 allocs/op
BenchmarkScenario/scenario=read/subject=scs-redis-2 	 2000	 60000 ns/op	 1.000 roundtrips/op	 0 setcookies/op	 9544 B/op	 207 allocs/op
PASS
`

const samplePar = `BenchmarkParallelRead/subject=ours-mem     	 2000	  2000 ns/op	 0 setcookies/op	 1640 B/op	 17 allocs/op
BenchmarkParallelRead/subject=ours-mem-2   	 2000	  1000 ns/op	 0 setcookies/op	 1640 B/op	 17 allocs/op
`

func TestParseBenchMedians(t *testing.T) {
	t.Parallel()
	set := benchSet{}
	if err := parseBench(strings.NewReader(sampleBench), set); err != nil {
		t.Fatal(err)
	}
	s := set[benchKey{scenario: "read", subject: "ours-mem", procs: 2}]
	if got, _ := median(s["ns/op"]); got != 2400 {
		t.Fatalf("median ns/op = %v, want 2400", got)
	}
	if got, _ := median(s["allocs/op"]); got != 17 {
		t.Fatalf("median allocs/op = %v, want 17", got)
	}
	if _, ok := median(nil); ok {
		t.Fatal("median of nothing reported ok")
	}
	if got, _ := median([]float64{4, 1, 3, 2}); got != 2.5 {
		t.Fatalf("median of four = %v, want 2.5", got)
	}
}

func TestReportTargets(t *testing.T) {
	t.Parallel()
	in := inputs{seq: benchSet{}, par: benchSet{}, command: "test"}
	if err := parseBench(strings.NewReader(sampleBench), in.seq); err != nil {
		t.Fatal(err)
	}
	if err := parseBench(strings.NewReader(samplePar), in.par); err != nil {
		t.Fatal(err)
	}
	in.e2e = []e2eResult{{Name: "bare", ReqPerSec: 1000}, {Name: "ours-mem", ReqPerSec: 700}}
	var b bytes.Buffer
	if err := write(&b, in); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"1/8.3 — **met**",              // time vs scs: 20000/2400
		"1/11.7 — **met**",             // allocs vs scs
		"2.40 µs, 17 allocs — **met**", // absolute target
		"forged (0), no Set-Cookie on the read (0) — **met**",
		"1.60 µs vs 12.0 µs, 1/7.5, 0 Set-Cookie — **met**", // cookie-only vs gorilla
		"×2.00 — **met**",                                   // parallel scaling
		"70% — **missed**",                                  // e2e within 25%
		"| ours-mem | – | ×1.00 | – |",                      // ratio to ours
		"| ours-mem | – | ×240 | – |",                       // ratio to bare: 2400/10
		"4.00 µs vs 2.40 µs, ×1.67 — **met**",               // cached read within 2× memory
		"4.00 µs vs 60.0 µs, 1/15 — **missed**",             // and 1/20 of scs-redis
		"after the login fills the cache) — **met**",        // no round trip
		"| ours-redis-cached | – | ×0.08 | – |",             // ratio to ours-redis: 4000/50000
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

const samplePG = `BenchmarkScenario/scenario=read/subject=ours-pg-unprepared-2   	 2000	 140000 ns/op	 1.000 roundtrips/op	 0 setcookies/op	 1685 B/op	 23 allocs/op
BenchmarkScenario/scenario=read/subject=ours-pg-2  	 2000	 100000 ns/op	 1.000 roundtrips/op	 0 setcookies/op	 1685 B/op	 23 allocs/op
BenchmarkScenario/scenario=read/subject=scs-pgx-2  	 2000	 160000 ns/op	 1.000 roundtrips/op	 0 setcookies/op	 9741 B/op	 209 allocs/op
BenchmarkScenario/scenario=read/subject=scs-pg-2   	 2000	 300000 ns/op	 2.000 roundtrips/op	 0 setcookies/op	 10354 B/op	 230 allocs/op
BenchmarkScenario/scenario=login/subject=ours-pg-2 	 2000	 900000 ns/op	 1.000 roundtrips/op	 1 setcookies/op	 3153 B/op	 40 allocs/op
`

const sampleDisk = `BenchmarkPostgresDisk/subject=ours-pg-2 	 100000	 900000 ns/op	 150.0 B/session	 14.31 MiB/100k-sessions	 100000 sessions
BenchmarkPostgresDisk/subject=scs-pg-2  	 100000	 900000 ns/op	 250.0 B/session	 23.84 MiB/100k-sessions	 100000 sessions
`

func TestReportPostgres(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, seq string
		want      []string
	}{
		{"faster", samplePG, []string{
			"| ours-pg | 100 µs (1) | – | 900 µs (1) | – | 14.3 MiB | 150 B | 100000 |",
			"| scs-pg | 300 µs (2) | – | – | – | 23.8 MiB | 250 B | 100000 |",
			"| scs-pgx | 160 µs (1) | – | – | – | – | – |",
			"Target: PostgreSQL: an unchanged authenticated read in one round trip (ours-pg 1, ours-pg-unprepared 1) and no slower than scs's store of the same kind in the same run (ours-pg 100 µs vs scs-pgx 160 µs; ours-pg-unprepared 140 µs vs scs-pg 300 µs) — **met**.",
			"| ours-pg-unprepared | 140 µs (1) |",
			"| scs-pgx | ×1.60 | – |", // time relative to ours-pg (the tables have the scenarios run: read, login)
		}},
		{"slower", strings.Replace(samplePG, " 160000 ns/op", " 90000 ns/op", 1), []string{
			"(ours-pg 100 µs vs scs-pgx 90.0 µs; ours-pg-unprepared 140 µs vs scs-pg 300 µs) — **missed**",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := inputs{seq: benchSet{}, par: benchSet{}, disk: benchSet{}, command: "test"}
			if err := parseBench(strings.NewReader(tc.seq), in.seq); err != nil {
				t.Fatal(err)
			}
			if err := parseBench(strings.NewReader(sampleDisk), in.disk); err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := write(&b, in); err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.want {
				if !strings.Contains(b.String(), want) {
					t.Errorf("report lacks %q:\n%s", want, b.String())
				}
			}
		})
	}
}

// TestSpliceKeepsOtherSections checks that the PostgreSQL-only run changes
// its own section of RESULTS.md and nothing else.
func TestSpliceKeepsOtherSections(t *testing.T) {
	t.Parallel()
	const before = "# Benchmark results\n\n## Time per request\n\n| a |\n\n## The issue's targets\n\n- x\n\n## benchstat\n\n```\nraw\n```\n"
	first := splice(before, "## PostgreSQL\n\nrun 1\n\n")
	want := "# Benchmark results\n\n## Time per request\n\n| a |\n\n## PostgreSQL\n\nrun 1\n\n## The issue's targets\n\n- x\n\n## benchstat\n\n```\nraw\n```\n"
	if first != want {
		t.Fatalf("first splice:\n%s\nwant:\n%s", first, want)
	}
	if second := splice(first, "## PostgreSQL\n\nrun 2\n\n"); second != strings.Replace(want, "run 1", "run 2", 1) {
		t.Fatalf("second splice:\n%s", second)
	}
	if got := splice("# R\n\n## Other\n", "## PostgreSQL\n\nx\n"); got != "# R\n\n## Other\n\n## PostgreSQL\n\nx\n" {
		t.Fatalf("splice into a report without targets: %q", got)
	}
}
