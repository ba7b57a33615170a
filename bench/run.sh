#!/usr/bin/env bash
# Side-by-side benchmarks of this library, alexedwards/scs and gorilla/sessions,
# and an end-to-end load test of GET /me; writes bench/RESULTS.md, and the
# figures the READMEs quote from it (README.md, pgstore/README.md: the regions
# cmd/report -readmes writes) when OUT is that file.
#
#   bash bench/run.sh            # the full run (about 10 minutes on 2 cores)
#   QUICK=1 bash bench/run.sh    # a fast check that everything works (numbers meaningless)
#   ONLY=postgres bash bench/run.sh  # only the PostgreSQL subjects: rewrites the
#                                    # PostgreSQL section of RESULTS.md, nothing else
#
# It installs what it needs (redis-server from Debian's packages when missing,
# benchstat with `go install`), starts a throwaway redis-server on a free
# loopback port with no persistence, and stops everything it started on exit.
# The PostgreSQL subjects use the server at DATABASE_URL (default
# postgres://postgres@127.0.0.1:5432/test), each in a schema of its own that
# it drops afterwards; without a server they are left out.
# All traffic stays on 127.0.0.1; every loop is bounded in count and time.
#
# Knobs (environment): BENCHTIME (0.5s), COUNT (6), E2E_ROUNDS (3),
# E2E_REQUESTS (150000), E2E_SECONDS (8s), E2E_CONC (8), OUT (RESULTS.md),
# EXAMPLE_BIN (a prebuilt examples/loginserver to load instead of building it),
# PG_SESSIONS (100000: sessions signed in to measure PostgreSQL disk use).
set -euo pipefail
cd "$(dirname "$0")"
bench_dir=$(pwd)

count_given=${COUNT:-} # for the command line the PostgreSQL-only report quotes
knobs_given= # the knobs set in the environment, for the command line the report quotes
for v in BENCHTIME COUNT E2E_ROUNDS E2E_REQUESTS E2E_SECONDS E2E_CONC PG_SESSIONS; do
	if [ -n "${!v:-}" ]; then knobs_given="$knobs_given$v=${!v} "; fi
done
if [ "${QUICK:-}" = 1 ]; then
	: "${BENCHTIME:=200x}" "${COUNT:=2}" "${E2E_ROUNDS:=1}" "${E2E_REQUESTS:=5000}" "${E2E_SECONDS:=2s}" "${PG_SESSIONS:=2000}"
fi
BENCHTIME=${BENCHTIME:-0.5s}
COUNT=${COUNT:-6}
E2E_ROUNDS=${E2E_ROUNDS:-3}
E2E_REQUESTS=${E2E_REQUESTS:-150000}
E2E_SECONDS=${E2E_SECONDS:-8s}
E2E_CONC=${E2E_CONC:-8}
PG_SESSIONS=${PG_SESSIONS:-100000}
export DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
OUT=${OUT:-RESULTS.md}
case "$OUT" in /*) out_path=$OUT ;; *) out_path=$bench_dir/$OUT ;; esac
only_pg=
case "${ONLY:-}" in
"") ;;
postgres) only_pg=1 ;;
*) echo "run.sh: ONLY=$ONLY: only ONLY=postgres is known" >&2; exit 1 ;;
esac

log() { printf '== %s\n' "$*" >&2; }

# write_readmes rewrites the READMEs' quotes of the run when the run wrote
# the committed RESULTS.md; a quick run, or a run into another file, leaves
# them alone.
write_readmes() {
	if [ "${QUICK:-}" = 1 ]; then
		log "README.md and pgstore/README.md left alone (a QUICK run's figures mean nothing)"
	elif [ "$out_path" = "$bench_dir/RESULTS.md" ]; then
		if "$tmp/report" -readmes "$bench_dir/.." -out "$out_path"; then
			log "rewrote the figures README.md and pgstore/README.md quote from it"
		else
			log "README.md and pgstore/README.md left as they were: this run lacks figures they quote (above)"
		fi
	else
		log "README.md and pgstore/README.md left alone (OUT is not bench/RESULTS.md)"
	fi
}

command -v go >/dev/null || { echo "run.sh: Go is not installed (go 1.26 or newer is needed)" >&2; exit 1; }

# --- what we need -----------------------------------------------------------
if ! command -v redis-server >/dev/null; then
	log "installing redis-server (Debian package)"
	if [ "$(id -u)" = 0 ]; then sudo=; else sudo=sudo; fi
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi
benchstat=$(go env GOPATH)/bin/benchstat
if [ ! -x "$benchstat" ]; then
	log "installing benchstat"
	go install golang.org/x/perf/cmd/benchstat@latest
fi

# The root module's requirements can move ahead of bench/go.mod (it replaces
# the root with ../); let the go command bring go.mod along rather than stop.
# In a workspace (a go.work of the caller's own) the go command resolves the
# modules together and refuses -mod=mod, so it is set only outside one.
if [ -z "$(go env GOWORK)" ]; then
	export GOFLAGS="${GOFLAGS:+$GOFLAGS }-mod=mod"
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

log "building"
go build -o "$tmp/loadgen" ./cmd/loadgen
go build -o "$tmp/meserver" ./cmd/meserver
go build -o "$tmp/report" ./cmd/report
go test -c -o "$tmp/bench.test" .
example=${EXAMPLE_BIN:-} # a prebuilt example server, else built from ../examples/loginserver
if [ -z "$example" ] && [ -d ../examples/loginserver ]; then
	(cd ../examples/loginserver && go build -o "$tmp/loginserver" .) && example=$tmp/loginserver
fi

# --- machine ------------------------------------------------------------------
cpu_model=$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
{
	echo "date:        $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "cpu:         ${cpu_model:-unknown}"
	echo "nproc:       $(nproc)"
	echo "memory:      $(free -h 2>/dev/null | awk '/^Mem:/ {print $2}')"
	echo "os:          $(uname -sr)"
	echo "go:          $(go version | cut -d' ' -f3-)"
	echo "redis:       $(redis-server --version | grep -o 'v=[^ ]*' | cut -d= -f2)"
	if command -v psql >/dev/null && pg=$(psql "$DATABASE_URL" -Atc "SELECT current_setting('server_version') || ' (fsync ' || current_setting('fsync') || ', synchronous_commit ' || current_setting('synchronous_commit') || ', shared_buffers ' || current_setting('shared_buffers') || ')'" 2>/dev/null); then
		echo "postgres:    $pg"
	else
		echo "postgres:    not reached with psql at DATABASE_URL"
	fi
	echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "settings:    -benchtime $BENCHTIME -count $COUNT; PostgreSQL disk after $PG_SESSIONS sessions; e2e $E2E_ROUNDS rounds of at most $E2E_REQUESTS requests or $E2E_SECONDS, $E2E_CONC connections"
} >"$tmp/machine.txt"
cat "$tmp/machine.txt" >&2

# --- redis ----------------------------------------------------------------------
port=$("$tmp/loadgen" -free-port)
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
	--daemonize no --loglevel warning >"$tmp/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
	redis-cli -p "$port" ping >/dev/null 2>&1 && break
	sleep 0.1
done
redis-cli -p "$port" ping >/dev/null || { echo "run.sh: redis-server did not start" >&2; cat "$tmp/redis.log" >&2; exit 1; }
export REDIS_URL="redis://127.0.0.1:$port/0" BENCH_REDIS_FLUSH=1

# --- in-process benchmarks ------------------------------------------------------
scenario_bench='^BenchmarkScenario$'
[ -n "$only_pg" ] && scenario_bench='^BenchmarkScenario$/^scenario=(read|write|login|login-cap)$/^subject=(ours-pg|ours-pg-unprepared|scs-pgx|scs-pg)$'
log "benchmarks: scenarios x subjects (-benchtime $BENCHTIME -count $COUNT)"
# A subject that fails (a store error, a wrong user) fails its benchmark,
# not the run: the others' figures stand, and the failures are noted.
failures() {
	grep -A1 -- '--- FAIL: Benchmark.*/' "$1" | grep -v -- '^--$' | paste - - | sed 's/^--- FAIL: //; s/[[:space:]]\+/ /g' | cut -c1-300 |
		while read -r line; do echo "failed:      $line"; done >>"$tmp/machine.txt"
}
# COUNT rounds of -count 1 rather than one -count COUNT: each round runs
# every subject once, so a burst of load from elsewhere on a shared
# machine falls on all the subjects of a round alike instead of on all the
# runs of the few subjects measured while it lasts.
: >"$tmp/seq.txt"
for round in $(seq "$COUNT"); do
	log "  round $round of $COUNT"
	timeout 1800 "$tmp/bench.test" -test.run '^$' -test.bench "$scenario_bench" \
		-test.benchtime "$BENCHTIME" -test.count 1 -test.benchmem | tee "$tmp/round.txt" >&2 || failures "$tmp/round.txt"
	cat "$tmp/round.txt" >>"$tmp/seq.txt"
done
log "benchmarks: PostgreSQL disk per session ($PG_SESSIONS logins per subject)"
timeout 1800 "$tmp/bench.test" -test.run '^$' -test.bench '^BenchmarkPostgresDisk$' \
	-test.benchtime "${PG_SESSIONS}x" -test.count 1 | tee "$tmp/disk.txt" >&2 || failures "$tmp/disk.txt"
if [ -n "$only_pg" ]; then
	echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)" >>"$tmp/machine.txt"
	"$tmp/report" -seq "$tmp/seq.txt" -disk "$tmp/disk.txt" -machine "$tmp/machine.txt" \
		-command "${QUICK:+QUICK=1 }${count_given:+COUNT=$count_given }ONLY=postgres bash bench/run.sh" -splice -out "$out_path"
	log "wrote the PostgreSQL section of $out_path"
	write_readmes
	exit 0
fi
log "benchmarks: parallel read (-cpu 1,2)"
timeout 600 "$tmp/bench.test" -test.run '^$' -test.bench '^BenchmarkParallelRead$' \
	-test.benchtime "$BENCHTIME" -test.count "$COUNT" -test.benchmem -test.cpu 1,2 | tee "$tmp/par.txt" >&2 || failures "$tmp/par.txt"

# --- end to end -------------------------------------------------------------------
# start_server NAME ADDR CMD...: starts a server in the background. With ADDR
# empty, the server prints "listening on URL" first (meserver); otherwise it
# listens on ADDR (the example server). Sets $base and $server_pid.
start_server() {
	local name=$1 addr=$2
	shift 2
	"$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
	server_pid=$!
	pids+=("$server_pid")
	base=
	if [ -n "$addr" ]; then base="http://$addr"; return 0; fi
	for _ in $(seq 100); do
		base=$(sed -n 's/^listening on //p' "$tmp/$name.out" | head -1)
		[ -n "$base" ] && return 0
		sleep 0.1
	done
	echo "run.sh: $name did not start" >&2
	cat "$tmp/$name.err" >&2
	return 1
}

stop_server() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
}

# load NAME USER PASSWORD: waits for the server, signs in, then GET /me
# under a bounded load; appends the result to e2e.jsonl.
load() {
	"$tmp/loadgen" -name "$1" -wait 10s -url "$base/me" -login-url "$base/login" \
		-login-body "{\"username\":\"$2\",\"password\":\"$3\"}" \
		-n "$E2E_REQUESTS" -d "$E2E_SECONDS" -c "$E2E_CONC" -warmup 2000 -out "$tmp/e2e.jsonl" >&2
}

e2e_servers="bare ours-mem ours-redis"
if [ -n "$example" ]; then e2e_servers="$e2e_servers example-mem example-redis"; fi
log "end to end: $e2e_servers ($E2E_ROUNDS rounds)"
demo_password="bench-$(date +%s)-password"
skipped=" "
for round in $(seq "$E2E_ROUNDS"); do
	for s in $e2e_servers; do
		case $skipped in *" $s "*) continue ;; esac
		case $s in
		bare | ours-mem | ours-redis)
			start_server "$s" "" "$tmp/meserver" -mode "$s" -redis "$REDIS_URL" -max-lifetime 2m
			load "$s" demo bench-password
			;;
		example-mem | example-redis)
			# The example server is another team's code: if it cannot run
			# here (say, a build without the Redis store), note it and go on.
			eaddr="127.0.0.1:$("$tmp/loadgen" -free-port)"
			# DATABASE_URL (exported above for the PostgreSQL subjects)
			# would move the example's accounts, and without Redis its
			# sessions, into PostgreSQL: the example runs without it.
			redis_env=(-u DATABASE_URL -u REDIS_URL)
			[ "$s" = example-redis ] && redis_env=(-u DATABASE_URL REDIS_URL="$REDIS_URL")
			start_server "$s" "$eaddr" env "${redis_env[@]}" ADDR="$eaddr" \
				SESSION_KEYS="$(head -c 32 /dev/urandom | base64 | tr -d '\n')" \
				DEMO_USER=demo DEMO_PASSWORD="$demo_password" "$example"
			if ! load "$s" demo "$demo_password"; then
				why=$(grep -v '^$' "$tmp/$s.err" | tail -1 | cut -c1-200)
				echo "note:        $s did not run: ${why:-see the log}" >>"$tmp/machine.txt"
				log "$s did not run; going on without it"
				skipped="$skipped$s "
			fi
			;;
		esac
		stop_server
	done
	log "round $round done"
done

echo "load after:  $(cut -d' ' -f1-3 /proc/loadavg)" >>"$tmp/machine.txt"

# --- summary ----------------------------------------------------------------------
cat "$tmp/seq.txt" "$tmp/par.txt" >"$tmp/all.txt"
(cd "$tmp" && "$benchstat" all.txt >benchstat.txt)
cmd="${knobs_given}bash bench/run.sh"
[ "${QUICK:-}" = 1 ] && cmd="QUICK=1 ${knobs_given}bash bench/run.sh"
"$tmp/report" -seq "$tmp/seq.txt" -par "$tmp/par.txt" -disk "$tmp/disk.txt" -e2e "$tmp/e2e.jsonl" \
	-benchstat "$tmp/benchstat.txt" -machine "$tmp/machine.txt" -command "$cmd" -out "$out_path"
log "wrote $out_path"
write_readmes
