// Command report turns the raw output of the bench run (go test -bench lines,
// load-generator JSON lines, benchstat's summary, machine facts) into
// bench/RESULTS.md: medians per scenario and subject, ratios to this library
// and to the bare handler, round trips and Set-Cookie per request, the
// parallel read's scaling, the end-to-end numbers and the targets.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
)

func main() {
	seq := flag.String("seq", "", "go test -bench output of BenchmarkScenario")
	par := flag.String("par", "", "go test -bench output of BenchmarkParallelRead (-cpu 1,N)")
	disk := flag.String("disk", "", "go test -bench output of BenchmarkPostgresDisk")
	e2e := flag.String("e2e", "", "load generator JSON lines")
	stat := flag.String("benchstat", "", "benchstat output to append")
	machine := flag.String("machine", "", "machine facts, one 'key: value' a line")
	cmd := flag.String("command", "bench/run.sh", "the command that produced the run")
	out := flag.String("out", "RESULTS.md", "where to write")
	splice := flag.Bool("splice", false, "write only the PostgreSQL section, into the existing -out file, with this run's machine facts")
	readmes := flag.String("readmes", "", "rewrite, from the -out file, the regions of the READMEs under this directory (the repository's root), and nothing else")
	flag.Parse()
	if *readmes != "" {
		if err := writeREADMEs(*out, *readmes); err != nil {
			fatal(err)
		}
		return
	}
	var in inputs
	var err error
	if in.seq, err = readBench(*seq); err != nil {
		fatal(err)
	}
	if in.par, err = readBench(*par); err != nil {
		fatal(err)
	}
	if in.disk, err = readBench(*disk); err != nil {
		fatal(err)
	}
	if in.e2e, err = readE2E(*e2e); err != nil {
		fatal(err)
	}
	if in.benchstat, err = readOptional(*stat); err != nil {
		fatal(err)
	}
	if in.machine, err = readOptional(*machine); err != nil {
		fatal(err)
	}
	in.command = *cmd
	if *splice {
		if err := spliceFile(*out, in); err != nil {
			fatal(err)
		}
		return
	}
	f, err := os.Create(*out)
	if err != nil {
		fatal(err)
	}
	if err := write(f, in); err != nil {
		fatal(err)
	}
	if err := f.Close(); err != nil {
		fatal(err)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}

func readOptional(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	return string(b), err
}

// sample is every value measured for one benchmark, by unit.
type sample map[string][]float64

// benchKey names one benchmark: its keys (scenario, subject) and GOMAXPROCS.
type benchKey struct {
	scenario, subject string
	procs             int
}

type benchSet map[benchKey]sample

func readBench(path string) (benchSet, error) {
	set := benchSet{}
	if path == "" {
		return set, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return set, parseBench(f, set)
}

// parseBench reads go test -bench lines such as
//
//	BenchmarkScenario/scenario=read/subject=ours-mem-2  2000  2940 ns/op  1.000 roundtrips/op  17 allocs/op
func parseBench(r io.Reader, set benchSet) error {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		k := benchKey{procs: 1}
		name := fields[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if p, err := strconv.Atoi(name[i+1:]); err == nil {
				k.procs, name = p, name[:i]
			}
		}
		for part := range strings.SplitSeq(name, "/") {
			key, val, ok := strings.Cut(part, "=")
			if !ok {
				continue
			}
			switch key {
			case "scenario":
				k.scenario = val
			case "subject":
				k.subject = val
			}
		}
		if k.subject == "" {
			continue
		}
		s := set[k]
		if s == nil {
			s = sample{}
			set[k] = s
		}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return fmt.Errorf("%s: %q: %w", fields[0], fields[i], err)
			}
			s[fields[i+1]] = append(s[fields[i+1]], v)
		}
	}
	return sc.Err()
}

// e2eResult is one load-generator line (see cmd/loadgen).
type e2eResult struct {
	Name      string  `json:"name"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	ReqPerSec float64 `json:"req_per_sec"`
	P50us     float64 `json:"p50_us"`
	P99us     float64 `json:"p99_us"`
	BodyBytes int     `json:"body_bytes"`
	Conc      int     `json:"concurrency"`
}

func readE2E(path string) ([]e2eResult, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	var out []e2eResult
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var r e2eResult
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return nil, fmt.Errorf("e2e line %q: %w", line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}

// median of vs; ok false when there are none.
func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}
