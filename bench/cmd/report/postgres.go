package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
)

// pgScenarios are the scenarios that reach a PostgreSQL store.
var pgScenarios = []string{"read", "write", "login", "login-cap"}

// pgSubjects returns the PostgreSQL subjects of the run, in table order.
func pgSubjects(t table) []string {
	var out []string
	for _, su := range t.subjects {
		if isPostgres(su) {
			out = append(out, su)
		}
	}
	return out
}

// writePostgres writes the PostgreSQL section: time and round trips of the
// scenarios that reach the store, the table size per session, and the
// store's target. run, when not empty, describes a run of its own (command
// and machine facts) that produced the section alone.
func writePostgres(w io.Writer, t table, disk benchSet, run string) {
	subjects := pgSubjects(t)
	if len(subjects) == 0 {
		return
	}
	fmt.Fprintln(w, "## PostgreSQL")
	fmt.Fprintln(w)
	if run != "" {
		fmt.Fprint(w, run)
	}
	fmt.Fprintln(w, "The PostgreSQL subjects side by side: time per request (round trips on the wire in parentheses) "+
		"for the scenarios that reach the store, and the disk one session takes: `pg_total_relation_size` of the subject's table "+
		"(heap, TOAST and every index) after signing in the given number of sessions through it (`BenchmarkPostgresDisk`), "+
		"per session and scaled to 100,000 sessions. All subjects use the same server (its version and settings are in the machine facts); "+
		"a write or a login waits for the server's commit to reach the disk, so those columns move with the machine's disk.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| subject | auth. read | auth. write | login | login at cap | disk per 100,000 sessions | bytes per session | sessions measured |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, su := range subjects {
		fmt.Fprintf(w, "| %s |", su)
		for _, sc := range pgScenarios {
			cell := "–"
			if v, ok := t.get(sc, su, "ns/op"); ok {
				cell = fmtTime(v)
				if rt, ok := t.get(sc, su, "roundtrips/op"); ok {
					cell += " (" + fmtCount(rt) + ")"
				}
			}
			fmt.Fprintf(w, " %s |", cell)
		}
		mib, bps, n := "–", "–", "–"
		if s, ok := disk[benchKey{subject: su, procs: t.procs}]; ok {
			if v, ok := median(s["MiB/100k-sessions"]); ok {
				mib = fmt.Sprintf("%.1f MiB", v)
			}
			if v, ok := median(s["B/session"]); ok {
				bps = fmt.Sprintf("%.0f B", v)
			}
			if v, ok := median(s["sessions"]); ok {
				n = fmt.Sprintf("%.0f", v)
			}
		}
		fmt.Fprintf(w, " %s | %s | %s |\n", mib, bps, n)
	}
	fmt.Fprintln(w)
	if line, ok := postgresTarget(t); ok {
		fmt.Fprintln(w, "Target: "+line)
		fmt.Fprintln(w)
	}
}

// spliceFile replaces the PostgreSQL section of the report at path (or
// inserts it before the targets) with one made from in alone,
// leaving every other section as it is.
func spliceFile(path string, in inputs) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	t := newTable(in.seq)
	var run bytes.Buffer
	fmt.Fprintf(&run, "From a run of its own, `%s` (the PostgreSQL subjects only; every number in this section comes from that run, "+
		"medians of all runs per benchmark, GOMAXPROCS=%d):\n\n", in.command, t.procs)
	if in.machine != "" {
		fmt.Fprintf(&run, "```\n%s\n```\n\n", strings.TrimRight(in.machine, "\n"))
	}
	var section bytes.Buffer
	writePostgres(&section, t, in.disk, run.String())
	if section.Len() == 0 {
		return fmt.Errorf("no PostgreSQL results to write")
	}
	return os.WriteFile(path, []byte(splice(string(old), section.String())), 0o644)
}

// splice puts section (a "## PostgreSQL" section) into report: in place of
// the existing one, or else before "## The targets", or at the end.
func splice(report, section string) string {
	const head = "## PostgreSQL\n"
	if i := sectionStart(report, head); i >= 0 {
		end := len(report)
		if j := strings.Index(report[i+len(head):], "\n## "); j >= 0 {
			end = i + len(head) + j + 1
		}
		return report[:i] + section + report[end:]
	}
	if i := sectionStart(report, "## The issue's targets\n"); i >= 0 {
		return report[:i] + section + report[i:]
	}
	return strings.TrimRight(report, "\n") + "\n\n" + section
}

// sectionStart is the offset of a line equal to head, or -1.
func sectionStart(report, head string) int {
	if strings.HasPrefix(report, head) {
		return 0
	}
	if i := strings.Index(report, "\n"+head); i >= 0 {
		return i + 1
	}
	return -1
}

// pgPairs are this library's PostgreSQL subjects and the scs store of the
// same kind: with prepared statements (pgx's statement cache: ours-pg's
// default, scs's pgxstore), and without (ours-pg-unprepared, as behind
// PgBouncer before 1.21; lib/pq uses the unnamed statement).
var pgPairs = [][2]string{{"ours-pg", "scs-pgx"}, {"ours-pg-unprepared", "scs-pg"}}

// postgresTarget checks the PostgreSQL store's target: an unchanged read in
// one round trip, and no slower than scs's store of the same kind in this
// run.
func postgresTarget(t table) (string, bool) {
	var rts, cmps []string
	met, any := true, false
	for _, p := range pgPairs {
		ours, ok := t.get("read", p[0], "ns/op")
		if !ok {
			continue
		}
		any = true
		rt, _ := t.get("read", p[0], "roundtrips/op")
		rts = append(rts, fmt.Sprintf("%s %s", p[0], fmtCount(rt)))
		met = met && rt == 1
		if theirs, ok := t.get("read", p[1], "ns/op"); ok {
			cmps = append(cmps, fmt.Sprintf("%s %s vs %s %s", p[0], fmtTime(ours), p[1], fmtTime(theirs)))
			met = met && ours <= theirs
		}
	}
	if !any {
		return "", false
	}
	if len(cmps) == 0 {
		return fmt.Sprintf("PostgreSQL: an unchanged authenticated read in one round trip (%s); no scs PostgreSQL store in this run to compare with.", strings.Join(rts, ", ")), true
	}
	line := fmt.Sprintf("PostgreSQL: an unchanged authenticated read in one round trip (%s) and no slower than scs's store of the same kind in the same run (%s) — %s.",
		strings.Join(rts, ", "), strings.Join(cmps, "; "), verdict(met))
	return line, true
}
