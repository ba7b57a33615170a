package main

import (
	"fmt"
	"strings"
)

// The regions of the READMEs (see readmes.go), each made from RESULTS.md
// alone.

// columns are the scenario columns of RESULTS.md's per-request tables.
var columns = []string{"anonymous", "auth. read", "auth. write", "login", "login at cap", "forged cookie"}

// How a subject's row of the root README's table shows each column.
const (
	rowTimes = iota // times only (the bare handler)
	rowPlain        // times, the read's allocations; no round trips (nobody counts them)
	rowFull         // times, the read's allocations, round trips · Set-Cookie
)

var rootRows = []struct {
	subject, label string
	kind           int
}{
	{"bare", "bare handler (the floor)", rowTimes},
	{"ours-mem-plain", "**this library, memory**", rowPlain},
	{"ours-mem", "this library, memory behind a wrapper (guarded)", rowFull},
	{"ours-cookie", "**this library, cookie-only**", rowFull},
	{"scs-mem", "alexedwards/scs, memstore", rowFull},
	{"gorilla-cookie", "gorilla/sessions, CookieStore", rowFull},
	{"ours-redis", "**this library, Redis**", rowFull},
	{"ours-redis-cached", "**this library, Redis, client-side cache**", rowFull},
	{"scs-redis", "alexedwards/scs, go-redis store", rowFull},
	{"gorilla-redis", "gorilla/sessions + boj/redistore", rowFull},
	{"ours-pg", "**this library, PostgreSQL (default: prepared)**", rowFull},
	{"ours-pg-unprepared", "this library, PostgreSQL, `DisablePreparedStatements`", rowFull},
	{"scs-pgx", "alexedwards/scs, pgxstore", rowFull},
	{"scs-pg", "alexedwards/scs, postgresstore", rowFull},
}

// rootTargets are the targets the root README lists (those of the hot-path
// issue), by how their bullets in RESULTS.md begin, in RESULTS.md's order.
var rootTargets = []string{
	"Redis: one round trip",
	"Cached Redis read at most 1/20",
	"Cached Redis read with no round trip",
	"Store guard:",
	"Plain memory read",
	"Cached Redis read within 1.25×",
	"Forged cookie",
	"A login at MaxSessionsPerUser",
	"PostgreSQL with default options",
}

var pgRows = []struct{ subject, label string }{
	{"ours-pg", "pgstore (default: prepared statements)"},
	{"ours-pg-unprepared", "pgstore, `DisablePreparedStatements: true`"},
	{"scs-pgx", "scs pgxstore (pgx, prepared statements)"},
	{"scs-pg", "scs postgresstore (lib/pq)"},
}

// rootPerformance is the root README's Performance section.
func rootPerformance(r results) (string, error) {
	f := &figures{r: r}
	var b strings.Builder
	fmt.Fprintf(&b, "From one run of `bash bench/run.sh`, which writes [bench/RESULTS.md](bench/RESULTS.md) with the full tables: every\n"+
		"subject side by side in the same run, %s rounds each, medians per request\n"+
		"through each library's middleware. The machine is a %s VM shared with\n"+
		"other jobs (load average %s before the run, %s after), so single\n"+
		"figures move from run to run (the anonymous and forged-cookie columns by up\n"+
		"to a factor of two between runs an hour apart); each round runs every\n"+
		"subject once, so load from elsewhere falls on all of them alike: compare\n"+
		"within the table. \"(rt · sc)\" is store round trips · Set-Cookie\n"+
		"headers per request (round trips of the plain MemoryStore are not counted).\n\n",
		rounds(f), cores(f), firstField(f.machine("load before")), firstField(f.machine("load after")))
	b.WriteString("| subject | anonymous | authenticated read | authenticated write | login | login at cap | forged cookie |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|\n")
	for _, row := range rootRows {
		if _, ok := r.tables[tableTime][row.subject]; !ok {
			continue // not in this run (PostgreSQL subjects without a server)
		}
		b.WriteString("| " + row.label)
		for _, col := range columns {
			cell := f.get(tableTime, row.subject, col)
			if row.kind != rowTimes && col == "auth. read" {
				allocs, _, _ := strings.Cut(f.get(tableAllocs, row.subject, col), " ")
				cell += ", " + allocs + " allocs"
			}
			if row.kind == rowFull && col != "anonymous" {
				trips := f.get(tableTrips, row.subject, col)
				if col == "forged cookie" {
					trips, _, _ = strings.Cut(trips, " ")
				}
				cell += " (" + trips + ")"
			}
			b.WriteString(" | " + cell)
		}
		b.WriteString(" |\n")
	}
	b.WriteString("\nAgainst the targets, in this run (ratios within the run):\n\n")
	for _, prefix := range rootTargets {
		found := false
		for _, t := range r.targets {
			if strings.HasPrefix(t, prefix) {
				b.WriteString("- " + t + "\n")
				found = true
			}
		}
		if !found && f.err == nil {
			f.err = fmt.Errorf("target %q: %w", prefix, errNoFigure)
		}
	}
	return b.String(), f.err
}

// rootPostgres is the paragraph of the root README's PostgreSQL section
// that quotes the run.
func rootPostgres(r results) (string, error) {
	f := &figures{r: r}
	read, trips := timeAndTrips(f.get(tablePG, "ours-pg", "auth. read"))
	unprepared, _ := timeAndTrips(f.get(tablePG, "ours-pg-unprepared", "auth. read"))
	scsPgx, _ := timeAndTrips(f.get(tablePG, "scs-pgx", "auth. read"))
	scsPg, _ := timeAndTrips(f.get(tablePG, "scs-pg", "auth. read"))
	disk := "disk per 100,000 sessions"
	s := fmt.Sprintf("From `bash bench/run.sh` (the PostgreSQL section of\n"+
		"[bench/RESULTS.md](bench/RESULTS.md), on a shared %s VM, against a local\n"+
		"PostgreSQL %s): an unchanged authenticated read took %s in %s %s\n"+
		"(%s with `DisablePreparedStatements`), scs's pgxstore %s and its\n"+
		"postgresstore %s; a session takes %s per 100,000 sessions against\n"+
		"scs pgxstore's %s.\n",
		cores(f), postgresMajor(f), read, spelled(trips), plural(trips, "round trip"),
		unprepared, scsPgx, scsPg, f.get(tablePG, "ours-pg", disk), f.get(tablePG, "scs-pgx", disk))
	return s, f.err
}

// pgstorePerformance is pgstore/README.md's quote of the run.
func pgstorePerformance(r results) (string, error) {
	f := &figures{r: r}
	var b strings.Builder
	fmt.Fprintf(&b, "From `bash bench/run.sh`, which writes [bench/RESULTS.md](../bench/RESULTS.md) with every\n"+
		"subject in one run (its PostgreSQL section): medians of the runs per request through each library's\n"+
		"middleware, all %s against the same local PostgreSQL %s (%s), round trips counted on the wire. The machine\n"+
		"is a %s VM shared with other jobs (load average %s before the run, %s\n"+
		"after), so single figures move from run to run; compare within the table.\n\n",
		spelled(fmt.Sprint(len(r.tables[tablePG]))), postgresMajor(f), commitSetting(f),
		cores(f), firstField(f.machine("load before")), firstField(f.machine("load after")))
	b.WriteString("| store | unchanged read | value change | login | login at cap | disk per 100,000 sessions |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	for _, row := range pgRows {
		b.WriteString("| " + row.label)
		for _, col := range []string{"auth. read", "auth. write", "login", "login at cap", "disk per 100,000 sessions"} {
			b.WriteString(" | " + f.get(tablePG, row.subject, col))
		}
		b.WriteString(" |\n")
	}
	if r.pgTarget == "" && f.err == nil {
		f.err = fmt.Errorf("the PostgreSQL target: %w", errNoFigure)
	}
	_, login := timeAndTrips(f.get(tablePG, "ours-pg", "login"))
	_, atCap := timeAndTrips(f.get(tablePG, "ours-pg", "login at cap"))
	fmt.Fprintf(&b, "\n- %s\n"+
		"- A login is %s %s and a login at the cap %s: pgstore's `Replace`\n"+
		"  swaps the sessions and keeps the user within `MaxSessionsPerUser` with\n"+
		"  two statements (the user's lock, then the replace) sent together.\n",
		r.pgTarget, login, plural(login, "round trip"), atCap)
	return b.String(), f.err
}

// rounds is how many rounds the run made (its -count), in words.
func rounds(f *figures) string {
	_, after, _ := strings.Cut(f.machine("settings"), "-count ")
	fields := strings.Fields(after)
	if len(fields) == 0 {
		if f.err == nil {
			f.err = fmt.Errorf("machine facts, settings: no -count: %w", errNoFigure)
		}
		return ""
	}
	return spelled(strings.TrimRight(fields[0], ";,"))
}

func cores(f *figures) string { return f.machine("nproc") + "-core" }

// postgresMajor is the server's major version: "15" of "15.20 (Debian …)".
func postgresMajor(f *figures) string {
	v, _, _ := strings.Cut(f.machine("postgres"), ".")
	return v
}

// commitSetting says whether a commit waits for the disk on the run's
// server.
func commitSetting(f *figures) string {
	if strings.Contains(f.machine("postgres"), "synchronous_commit off") {
		return "synchronous_commit off: a commit does not wait for the disk"
	}
	return "default settings:\nevery commit waits for the disk"
}

// timeAndTrips splits "141 µs (1)" into "141 µs" and "1".
func timeAndTrips(cell string) (string, string) {
	t, trips, _ := strings.Cut(cell, " (")
	return t, strings.TrimSuffix(trips, ")")
}

func firstField(s string) string {
	if fields := strings.Fields(s); len(fields) > 0 {
		return fields[0]
	}
	return s
}

func spelled(n string) string {
	words := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	for i, w := range words {
		if n == fmt.Sprint(i) {
			return w
		}
	}
	return n
}

func plural(n, noun string) string {
	if n == "1" {
		return noun
	}
	return noun + "s"
}
