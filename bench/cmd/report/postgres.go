package main

import (
	"fmt"
	"io"
	"strings"
)

// pgScenarios are the scenarios that reach a PostgreSQL store.
var pgScenarios = []string{"read", "write", "login"}

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
// scenarios that reach the store, and the table size per session.
func writePostgres(w io.Writer, t table, disk benchSet) {
	subjects := pgSubjects(t)
	if len(subjects) == 0 {
		return
	}
	fmt.Fprintln(w, "## PostgreSQL")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The PostgreSQL subjects from the tables above, side by side: time per request (round trips on the wire in parentheses) "+
		"for the scenarios that reach the store, and the disk one session takes: `pg_total_relation_size` of the subject's table "+
		"(heap, TOAST and every index) after signing in the given number of sessions through it (`BenchmarkPostgresDisk`), "+
		"per session and scaled to 100,000 sessions. All subjects use the same server with its settings (see Machine); "+
		"a write or a login waits for the server's commit to reach the disk, so those columns move with the machine's disk.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| subject | auth. read | auth. write | login | disk per 100,000 sessions | bytes per session | sessions measured |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
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
}

// postgresTarget checks the PostgreSQL store's target: an unchanged read in
// one round trip, and no slower than scs's PostgreSQL stores in this run.
func postgresTarget(t table) (string, bool) {
	ours, ok := t.get("read", "ours-pg", "ns/op")
	if !ok {
		return "", false
	}
	rt, _ := t.get("read", "ours-pg", "roundtrips/op")
	met := rt == 1
	var vs []string
	for _, su := range pgSubjects(t) {
		if su == "ours-pg" {
			continue
		}
		if v, ok := t.get("read", su, "ns/op"); ok {
			vs = append(vs, fmt.Sprintf("%s %s", su, fmtTime(v)))
			met = met && ours <= v
		}
	}
	if len(vs) == 0 {
		return fmt.Sprintf("PostgreSQL: unchanged authenticated read in one round trip (%s); no scs PostgreSQL store in this run to compare with.", fmtCount(rt)), true
	}
	return fmt.Sprintf("PostgreSQL: an unchanged authenticated read in one round trip (%s) and no slower than scs's PostgreSQL stores in the same run: %s vs %s — %s.",
		fmtCount(rt), fmtTime(ours), strings.Join(vs, ", "), verdict(met)), true
}
