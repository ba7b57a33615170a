package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// inputs is everything one report is made of.
type inputs struct {
	seq, par  benchSet
	disk      benchSet // BenchmarkPostgresDisk: table size per session
	e2e       []e2eResult
	benchstat string
	machine   string
	command   string
}

var (
	scenarioOrder = []string{"anonymous", "read", "write", "login", "login-cap", "forged"}
	subjectOrder  = []string{"bare", "ours-mem", "ours-mem-plain", "ours-redis", "ours-redis-cached", "ours-cookie", "scs-mem", "scs-mem-idle", "scs-redis", "gorilla-cookie", "gorilla-redis", "ours-pg", "ours-pg-unprepared", "scs-pgx", "scs-pg"}
	scenarioTitle = map[string]string{
		"anonymous": "anonymous",
		"read":      "auth. read",
		"write":     "auth. write",
		"login":     "login",
		"login-cap": "login at cap",
		"forged":    "forged cookie",
	}
)

// ordered returns the names in want's order first, then the rest sorted.
func ordered(have map[string]bool, want []string) []string {
	var out []string
	for _, n := range want {
		if have[n] {
			out = append(out, n)
		}
	}
	rest := slices.Sorted(maps.Keys(have))
	for _, n := range rest {
		if !slices.Contains(want, n) {
			out = append(out, n)
		}
	}
	return out
}

// seqProcs is the GOMAXPROCS the sequential benchmarks ran with (the most
// common one in the data).
func seqProcs(set benchSet) int {
	count := map[int]int{}
	for k := range set {
		count[k.procs]++
	}
	best, n := 1, -1
	for p, c := range count {
		if c > n || (c == n && p > best) {
			best, n = p, c
		}
	}
	return best
}

// table is the sequential results at one GOMAXPROCS.
type table struct {
	set       benchSet
	procs     int
	scenarios []string
	subjects  []string
}

func newTable(set benchSet) table {
	t := table{set: set, procs: seqProcs(set)}
	sc, su := map[string]bool{}, map[string]bool{}
	for k := range set {
		if k.procs == t.procs {
			sc[k.scenario], su[k.subject] = true, true
		}
	}
	t.scenarios = ordered(sc, scenarioOrder)
	t.subjects = ordered(su, subjectOrder)
	return t
}

func (t table) get(scenario, subject, unit string) (float64, bool) {
	s, ok := t.set[benchKey{scenario: scenario, subject: subject, procs: t.procs}]
	if !ok {
		return 0, false
	}
	return median(s[unit])
}

// reference is the subject another is compared with: this library on the
// same kind of store.
func reference(subject string) string {
	switch {
	case strings.HasSuffix(subject, "-redis") || strings.Contains(subject, "-redis-"):
		return "ours-redis"
	case isPostgres(subject):
		return "ours-pg"
	}
	return "ours-mem"
}

// isPostgres tells the PostgreSQL subjects.
func isPostgres(subject string) bool {
	return strings.HasSuffix(subject, "-pg") || strings.Contains(subject, "-pg-") || strings.HasSuffix(subject, "-pgx")
}

func fmtTime(ns float64) string {
	switch {
	case ns < 1000:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 10_000:
		return fmt.Sprintf("%.2f µs", ns/1000)
	case ns < 100_000:
		return fmt.Sprintf("%.1f µs", ns/1000)
	default:
		return fmt.Sprintf("%.0f µs", ns/1000)
	}
}

func fmtRatio(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("×%.0f", r)
	case r >= 10:
		return fmt.Sprintf("×%.1f", r)
	default:
		return fmt.Sprintf("×%.2f", r)
	}
}

func fmtCount(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.2f", v)
}

func header(w io.Writer, first string, cols []string) {
	fmt.Fprintf(w, "| %s |", first)
	for _, c := range cols {
		if t, ok := scenarioTitle[c]; ok {
			c = t
		}
		fmt.Fprintf(w, " %s |", c)
	}
	fmt.Fprint(w, "\n|---|")
	for range cols {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
}

// matrix writes one subjects × scenarios table whose cells cell renders.
func (t table) matrix(w io.Writer, cell func(scenario, subject string) string) {
	header(w, "subject", t.scenarios)
	for _, su := range t.subjects {
		fmt.Fprintf(w, "| %s |", su)
		for _, sc := range t.scenarios {
			c := cell(sc, su)
			if c == "" {
				c = "–"
			}
			fmt.Fprintf(w, " %s |", c)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w)
}

func write(w io.Writer, in inputs) error {
	t := newTable(in.seq)
	fmt.Fprintln(w, "# Benchmark results")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Written by `%s`; every number below comes from that one run. "+
		"Medians of all runs per benchmark (`-count` rounds, each of which runs every subject once), in-process requests through each subject's middleware "+
		"with a reused request and response writer; GOMAXPROCS=%d unless stated.\n\n", in.command, t.procs)
	if in.machine != "" {
		fmt.Fprintln(w, "## Machine")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "```")
		fmt.Fprint(w, strings.TrimRight(in.machine, "\n")+"\n")
		fmt.Fprintln(w, "```")
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "Subjects: `bare` is a handler with no session work (the floor); `ours-*` is this library "+
		"(`ours-mem`: memory store behind a counting wrapper, so the Manager guards it as any other store; `ours-mem-plain`: the MemoryStore itself, which the Manager calls unguarded and nobody counts; Redis store, Redis store on a client with go-redis's server-assisted client-side cache, and `ours-cookie`: cookie-only mode, the whole session sealed in the cookie, no store); `scs-*` is alexedwards/scs v2 (memstore; memstore with IdleTimeout; goredisstore); "+
		"`gorilla-cookie` is gorilla/sessions with its CookieStore, `gorilla-redis` the same with boj/redistore "+
		"(redigo, configured as its NewRediStore does, which PINGs on every connection borrow; "+
		"no gorilla/sessions store on go-redis v9 is available from the Go module proxy); "+
		"`ours-pg` is this library's pgstore with its defaults (pgx v5, pgxpool, prepared statements; `ours-pg-unprepared` with Config.DisablePreparedStatements, as behind PgBouncer before 1.21), `scs-pgx` scs with its pgxstore (pgx v5, pgxpool), "+
		"`scs-pg` scs with its postgresstore (database/sql, lib/pq), each in a schema of its own on the same PostgreSQL server. Scenarios: anonymous (no cookie, handler touches nothing), "+
		"auth. read (valid cookie, handler reads the user ID), auth. write (handler changes one small value), "+
		"login (no cookie → signed in with a fresh token, as a user who has few sessions), login at cap (the same, as a user who already has 32, the library's default MaxSessionsPerUser, so the login also ends the oldest), forged cookie (one character of a valid cookie changed).")
	fmt.Fprintln(w)

	fmt.Fprintln(w, "## Time per request")
	fmt.Fprintln(w)
	t.matrix(w, func(sc, su string) string {
		if v, ok := t.get(sc, su, "ns/op"); ok {
			return fmtTime(v)
		}
		return ""
	})

	fmt.Fprintln(w, "## Allocations per request (bytes)")
	fmt.Fprintln(w)
	t.matrix(w, func(sc, su string) string {
		a, ok1 := t.get(sc, su, "allocs/op")
		b, ok2 := t.get(sc, su, "B/op")
		if !ok1 || !ok2 {
			return ""
		}
		return fmt.Sprintf("%s (%.0f B)", fmtCount(a), b)
	})

	fmt.Fprintln(w, "## Store round trips · Set-Cookie headers per request")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Round trips are Redis commands or pipelines (a go-redis hook), calls into an in-process store (a counting wrapper), "+
		"and for PostgreSQL subjects the round trips on the network connection (a write after a read starts one).")
	fmt.Fprintln(w)
	t.matrix(w, func(sc, su string) string {
		rt, ok1 := t.get(sc, su, "roundtrips/op")
		ck, ok2 := t.get(sc, su, "setcookies/op")
		if !ok1 || !ok2 {
			return ""
		}
		return fmt.Sprintf("%s · %s", fmtCount(rt), fmtCount(ck))
	})

	fmt.Fprintln(w, "## Time relative to this library (same kind of store)")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Each subject's median time divided by `ours-mem`'s (in-process subjects), `ours-redis`'s (Redis subjects) or `ours-pg`'s (PostgreSQL subjects): ×5 means five times slower than ours.")
	fmt.Fprintln(w)
	t.matrix(w, func(sc, su string) string {
		v, ok1 := t.get(sc, su, "ns/op")
		ref, ok2 := t.get(sc, reference(su), "ns/op")
		if !ok1 || !ok2 || ref == 0 || su == "bare" {
			return ""
		}
		return fmtRatio(v / ref)
	})

	fmt.Fprintln(w, "## Time relative to the bare handler")
	fmt.Fprintln(w)
	t.matrix(w, func(sc, su string) string {
		v, ok1 := t.get(sc, su, "ns/op")
		ref, ok2 := t.get(sc, "bare", "ns/op")
		if !ok1 || !ok2 || ref == 0 {
			return ""
		}
		return fmtRatio(v / ref)
	})

	par := parallel(in.par)
	if len(par.rows) > 0 {
		fmt.Fprintln(w, "## Parallel authenticated read")
		fmt.Fprintln(w)
		fmt.Fprintf(w, "`b.RunParallel`, one subject and store shared by all goroutines, at GOMAXPROCS=%d and %d. "+
			"Scaling is the throughput at %d divided by the throughput at %d (ideal: %d).\n\n", par.lo, par.hi, par.hi, par.lo, par.hi/par.lo)
		fmt.Fprintf(w, "| subject | time/op at %d | time/op at %d | scaling |\n|---|---:|---:|---:|\n", par.lo, par.hi)
		for _, r := range par.rows {
			fmt.Fprintf(w, "| %s | %s | %s | ×%.2f |\n", r.subject, fmtTime(r.lo), fmtTime(r.hi), r.lo/r.hi)
		}
		fmt.Fprintln(w)
	}

	e2e := summariseE2E(in.e2e)
	if len(e2e) > 0 {
		fmt.Fprintln(w, "## End to end: authenticated GET /me over loopback")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "A server process answering an authenticated `GET /me` with the signed-in user as JSON, loaded by `cmd/loadgen` "+
			"from a second process over loopback (keep-alive connections, at most a fixed number of requests or a time limit, after a warm-up). "+
			"`bare` answers the same JSON with no session middleware; `ours-mem` and `ours-redis` are `cmd/meserver`, which uses the library "+
			"as the example server does (Middleware around the mux, RequireAuth around /me); `example-*` is `examples/loginserver` itself "+
			"(which also writes a structured log line per request). Both processes share the machine's cores. "+
			"Medians over the rounds; rounds alternate between servers.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "| server | rounds | req/s | p50 | p99 | req/s vs bare | response bytes |")
		fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
		bare := e2eNamed(e2e, "bare")
		for _, r := range e2e {
			vs := "–"
			if bare != nil && bare.rps > 0 && r.name != "bare" {
				vs = fmt.Sprintf("%.0f%%", 100*r.rps/bare.rps)
			}
			fmt.Fprintf(w, "| %s | %d | %.0f | %s | %s | %s | %d |\n", r.name, r.rounds, r.rps, fmtTime(r.p50*1000), fmtTime(r.p99*1000), vs, r.bytes)
		}
		fmt.Fprintln(w)
	}

	writePostgres(w, t, in.disk, "")

	fmt.Fprintln(w, "## The issue's targets")
	fmt.Fprintln(w)
	for _, line := range targets(t, par, e2e) {
		fmt.Fprintln(w, "- "+line)
	}
	fmt.Fprintln(w)

	if in.benchstat != "" {
		fmt.Fprintln(w, "## benchstat")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "```")
		fmt.Fprint(w, strings.TrimRight(in.benchstat, "\n")+"\n")
		fmt.Fprintln(w, "```")
	}
	return nil
}

type parRow struct {
	subject string
	lo, hi  float64
}

type parSummary struct {
	lo, hi int
	rows   []parRow
}

func parallel(set benchSet) parSummary {
	var ps parSummary
	procs := map[int]bool{}
	subjects := map[string]bool{}
	for k := range set {
		procs[k.procs], subjects[k.subject] = true, true
	}
	if len(procs) < 2 {
		return ps
	}
	p := slices.Sorted(maps.Keys(procs))
	ps.lo, ps.hi = p[0], p[len(p)-1]
	for _, su := range ordered(subjects, subjectOrder) {
		lo, ok1 := median(set[benchKey{subject: su, procs: ps.lo}]["ns/op"])
		hi, ok2 := median(set[benchKey{subject: su, procs: ps.hi}]["ns/op"])
		if ok1 && ok2 && hi > 0 {
			ps.rows = append(ps.rows, parRow{su, lo, hi})
		}
	}
	return ps
}

func (ps parSummary) scaling(subject string) (float64, bool) {
	for _, r := range ps.rows {
		if r.subject == subject {
			return r.lo / r.hi, true
		}
	}
	return 0, false
}

type e2eRow struct {
	name          string
	rounds        int
	rps, p50, p99 float64
	bytes         int
}

func summariseE2E(rs []e2eResult) []e2eRow {
	by := map[string][]e2eResult{}
	var names []string
	for _, r := range rs {
		if _, ok := by[r.Name]; !ok {
			names = append(names, r.Name)
		}
		by[r.Name] = append(by[r.Name], r)
	}
	var out []e2eRow
	for _, n := range names {
		var rps, p50, p99 []float64
		for _, r := range by[n] {
			rps, p50, p99 = append(rps, r.ReqPerSec), append(p50, r.P50us), append(p99, r.P99us)
		}
		row := e2eRow{name: n, rounds: len(by[n]), bytes: by[n][0].BodyBytes}
		row.rps, _ = median(rps)
		row.p50, _ = median(p50)
		row.p99, _ = median(p99)
		out = append(out, row)
	}
	return out
}

func e2eNamed(rows []e2eRow, name string) *e2eRow {
	for i := range rows {
		if rows[i].name == name {
			return &rows[i]
		}
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

// targets checks the targets against this run.
func targets(t table, par parSummary, e2e []e2eRow) []string {
	var out []string
	add := func(s string, args ...any) { out = append(out, fmt.Sprintf(s, args...)) }
	oursT, ok1 := t.get("read", "ours-mem", "ns/op")
	oursA, ok2 := t.get("read", "ours-mem", "allocs/op")
	scsT, ok3 := t.get("read", "scs-mem", "ns/op")
	scsA, ok4 := t.get("read", "scs-mem", "allocs/op")
	if ok1 && ok2 && ok3 && ok4 {
		add("Authenticated read, memory store, at most 1/5 of scs's time: %s vs %s, 1/%.1f — %s.", fmtTime(oursT), fmtTime(scsT), scsT/oursT, verdict(oursT*5 <= scsT))
		add("… and at most 1/5 of its allocations: %s vs %s, 1/%.1f — %s.", fmtCount(oursA), fmtCount(scsA), scsA/oursA, verdict(oursA*5 <= scsA))
		add("… at most 3 µs and 25 allocations: %s, %s allocs — %s.", fmtTime(oursT), fmtCount(oursA), verdict(oursT <= 3000 && oursA <= 25))
	}
	if rt, ok := t.get("read", "ours-redis", "roundtrips/op"); ok {
		ck, _ := t.get("read", "ours-redis", "setcookies/op")
		an, _ := t.get("anonymous", "ours-redis", "roundtrips/op")
		fo, _ := t.get("forged", "ours-redis", "roundtrips/op")
		add("Redis: one round trip on an unchanged authenticated read (%s), zero on anonymous (%s) and forged (%s), no Set-Cookie on the read (%s) — %s.",
			fmtCount(rt), fmtCount(an), fmtCount(fo), fmtCount(ck), verdict(rt == 1 && an == 0 && fo == 0 && ck == 0))
	} else {
		add("Redis: no `ours-redis` results in this run.")
	}
	cachedT, ok1 := t.get("read", "ours-redis-cached", "ns/op")
	cachedRT, ok2 := t.get("read", "ours-redis-cached", "roundtrips/op")
	memT, ok3 := t.get("read", "ours-mem", "ns/op")
	scsRT, ok4 := t.get("read", "scs-redis", "ns/op")
	if ok1 && ok2 && ok3 && ok4 {
		line := fmt.Sprintf("Redis with client-side caching: unchanged authenticated read within 2× the memory store's time: %s vs %s, %s — %s.", fmtTime(cachedT), fmtTime(memT), fmtRatio(cachedT/memT), verdict(cachedT <= 2*memT))
		cachedC, okc := t.get("read", "ours-redis-cached", "cpu-ns/op")
		memC, okm := t.get("read", "ours-mem", "cpu-ns/op")
		if okc && okm && memC > 0 {
			line += fmt.Sprintf(" Process CPU time per request: %s vs %s, %s.", fmtTime(cachedC), fmtTime(memC), fmtRatio(cachedC/memC))
		}
		add("%s", line)
		add("… at most 1/20 of scs's Redis read: %s vs %s, 1/%.0f — %s.", fmtTime(cachedT), fmtTime(scsRT), scsRT/cachedT, verdict(cachedT*20 <= scsRT))
		add("… with no round trip: %s round trips per read (the first read after the login fills the cache) — %s.", fmtCount(cachedRT), verdict(cachedRT < 0.01))
	}
	out = append(out, hotPathTargets(t)...)
	cookieT, ok1 := t.get("read", "ours-cookie", "ns/op")
	gorillaT, ok2 := t.get("read", "gorilla-cookie", "ns/op")
	if ok1 && ok2 {
		ck, _ := t.get("read", "ours-cookie", "setcookies/op")
		add("Cookie-only unchanged read at most 1/5 of gorilla CookieStore's time, with no Set-Cookie: %s vs %s, 1/%.1f, %s Set-Cookie — %s.",
			fmtTime(cookieT), fmtTime(gorillaT), gorillaT/cookieT, fmtCount(ck), verdict(cookieT*5 <= gorillaT && ck == 0))
	}
	if s, ok := par.scaling("ours-mem"); ok {
		line := fmt.Sprintf("Parallel read throughput at GOMAXPROCS=%d at least 1.6× GOMAXPROCS=%d (memory store): ×%.2f — %s.", par.hi, par.lo, s, verdict(s >= 1.6))
		if g, ok := par.scaling("gorilla-cookie"); ok {
			line += fmt.Sprintf(" For comparison, gorilla-cookie, which shares no state between requests, scaled ×%.2f in the same run.", g)
		}
		add("%s", line)
	}
	bare := e2eNamed(e2e, "bare")
	mem := e2eNamed(e2e, "example-mem")
	if mem == nil {
		mem = e2eNamed(e2e, "ours-mem")
	}
	if bare != nil && mem != nil && bare.rps > 0 {
		r := mem.rps / bare.rps
		add("End to end, memory store, GET /me throughput within 25%% of the bare handler (`%s`): %.0f vs %.0f req/s, %.0f%% — %s.", mem.name, mem.rps, bare.rps, 100*r, verdict(r >= 0.75))
	}
	return out
}

// hotPathTargets checks the targets of the hot paths: the store guard's
// cost, the plain memory read, cached Redis, forged cookies, PostgreSQL by
// default and a login at the per-user cap.
func hotPathTargets(t table) []string {
	var out []string
	add := func(s string, args ...any) { out = append(out, fmt.Sprintf(s, args...)) }
	wrapped, ok1 := t.get("read", "ours-mem", "ns/op")
	plain, ok2 := t.get("read", "ours-mem-plain", "ns/op")
	if ok1 && ok2 {
		add("Store guard: a read through a wrapped memory store (guarded) within 1.1× of one on the MemoryStore itself (unguarded): %s vs %s, %s — %s.",
			fmtTime(wrapped), fmtTime(plain), fmtRatio(wrapped/plain), verdict(wrapped <= 1.1*plain))
	}
	if ok2 {
		allocs, _ := t.get("read", "ours-mem-plain", "allocs/op")
		add("Plain memory read at most 0.8 µs and 3 allocations: %s, %s allocs — %s.", fmtTime(plain), fmtCount(allocs), verdict(plain <= 800 && allocs <= 3))
	}
	cached, ok3 := t.get("read", "ours-redis-cached", "ns/op")
	if ok1 && ok2 && ok3 {
		// Both behind the store guard, as the target's baseline was (the
		// memory store behind a counting wrapper): the ratio is then the
		// stores' own difference. The unguarded MemoryStore is quoted too.
		add("Cached Redis read within 1.25× of the memory store's, both behind the store guard: %s vs %s (ours-mem), %s — %s. Against the MemoryStore itself (unguarded): %s (ours-mem-plain), %s.",
			fmtTime(cached), fmtTime(wrapped), fmtRatio(cached/wrapped), verdict(cached <= 1.25*wrapped), fmtTime(plain), fmtRatio(cached/plain))
	}
	forged, ok4 := t.get("forged", "ours-mem", "ns/op")
	scsForged, ok5 := t.get("forged", "scs-mem", "ns/op")
	if ok4 {
		line := fmt.Sprintf("Forged cookie at most 0.85 µs: %s — %s.", fmtTime(forged), verdict(forged <= 850))
		if ok5 {
			line += fmt.Sprintf(" scs-mem in the same run: %s (%s).", fmtTime(scsForged), fmtRatio(forged/scsForged))
		}
		add("%s", line)
	}
	var caps []string
	capMet, capAny := true, false
	for _, su := range []string{"ours-mem", "ours-redis", "ours-pg"} {
		fresh, ok1 := t.get("login", su, "ns/op")
		full, ok2 := t.get("login-cap", su, "ns/op")
		if !ok1 || !ok2 {
			continue
		}
		capAny = true
		caps = append(caps, fmt.Sprintf("%s %s vs %s, %s", su, fmtTime(full), fmtTime(fresh), fmtRatio(full/fresh)))
		capMet = capMet && full <= 1.5*fresh
	}
	if capAny {
		add("A login at MaxSessionsPerUser within 1.5× of a login under it: %s — %s.", strings.Join(caps, "; "), verdict(capMet))
	}
	var pgs []string
	pgMet, pgAny := true, false
	for _, sc := range []string{"read", "write", "login"} {
		ours, ok1 := t.get(sc, "ours-pg", "ns/op")
		theirs, ok2 := t.get(sc, "scs-pgx", "ns/op")
		if !ok1 || !ok2 {
			continue
		}
		pgAny = true
		pgs = append(pgs, fmt.Sprintf("%s %s vs %s", sc, fmtTime(ours), fmtTime(theirs)))
		pgMet = pgMet && ours <= theirs
	}
	if pgAny {
		add("PostgreSQL with default options no slower than scs pgxstore on read, write and login: %s — %s.", strings.Join(pgs, "; "), verdict(pgMet))
	}
	return out
}
