#!/usr/bin/env bash
# bench_ingest_lp.sh -- line-protocol ingest: 5000-point POST /write requests into iot-edge's durable buffer, beside raw SQLite inserts of the same lines, in the same run.
#
# Usage: tests/bench/bench_ingest_lp.sh [BUILD_DIR]
#   BUILD_DIR  a build configured with -DIOT_EDGE_BENCH=ON (default: build-bench,
#              made here as a release build if it does not exist)
# Environment: BENCH_REQUESTS (40), BENCH_POINTS (5000 per request),
#   BENCH_CLIENTS (4, for the concurrent run), BENCH_ROUNDS (3: each figure is
#   the median of this many runs, all shown), BENCH_DIR (a directory on the
#   disk to measure; default a temporary one in /var/tmp).
# For each durability (full, normal) it measures
#   - iot-edge, one client sending the requests one after the other (keep-alive),
#   - iot-edge, BENCH_CLIENTS clients at once (group commit),
#   - raw SQLite: bench_sqlite_raw INSERTs the very lines iot-edge stored (its
#     canonical form), one transaction per BENCH_POINTS lines, same schema and
#     pragmas, no HTTP, no parsing, no queue,
#   - storage only: bench_storage_append hands the same lines to iot-edge's
#     storage_append() BENCH_POINTS at a time, waiting for each commit (the
#     daemon without HTTP and parsing: what is left is the buffer's own cost).
# No pass/fail: it prints a Markdown table and the command lines used. The
# uplink points at a closed port, so nothing leaves the buffer during the run.
# Everything runs on 127.0.0.1 and is stopped by pid.
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$TOP/build-bench}
REQUESTS=${BENCH_REQUESTS:-40}
POINTS=${BENCH_POINTS:-5000}
CLIENTS=${BENCH_CLIENTS:-4}
ROUNDS=${BENCH_ROUNDS:-3}

if [ ! -x "$BUILD/tests/bench/bench_sqlite_raw" ] || [ ! -x "$BUILD/tests/bench/bench_storage_append" ] ||
	[ ! -x "$BUILD/edge/iot-edge" ]; then
	cmake -S "$TOP" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOT_EDGE_BENCH=ON >/dev/null
	cmake --build "$BUILD" --target bench_sqlite_raw bench_storage_append iot-edge -j"$(nproc)" >/dev/null
fi
WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/iot-edge-bench-lp.XXXXXX")
PID=""
cleanup() {
	[ -z "$PID" ] || { kill -KILL "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; } || true
	rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 40000))
		ss -Htln "sport = :$port" | grep -q . || { echo "$port"; return; }
	done
}

now() { date +%s.%N; }

# Requests: POINTS lines each, a realistic greenhouse point, unique timestamps.
for r in $(seq "$REQUESTS"); do
	awk -v r="$r" -v n="$POINTS" 'BEGIN {
		for (i = 0; i < n; i++) {
			k = (r - 1) * n + i
			printf "env,site=greenhouse-3,device=dev%04d temp=%d.%d,hum=%d.5,co2=%di,ok=true 17%017d\n",
				k % 500, 15 + k % 20, k % 10, 30 + k % 50, 400 + k % 300, k
		}
	}' >"$WORK/req$r.txt"
done
TOTAL=$((REQUESTS * POINTS))

# A curl config sending requests FIRST..LAST one after the other on one connection.
curl_config() { # FIRST LAST PORT
	local r
	for r in $(seq "$1" "$2"); do
		[ "$r" = "$1" ] || echo next
		printf 'url = "http://127.0.0.1:%s/write?db=bench"\n' "$3"
		printf 'data-binary = "@%s/req%s.txt"\n' "$WORK" "$r"
		printf 'header = "Content-Type: text/plain"\noutput = "/dev/null"\n'
		printf 'write-out = "%%{http_code}\\n"\n'
	done
}

edge_start() { # DURABILITY PORT
	rm -f "$WORK"/buffer.db*
	IOT_EDGE_HTTP_LISTEN="127.0.0.1:$2" IOT_EDGE_BUFFER_PATH="$WORK/buffer.db" \
		IOT_EDGE_BUFFER_DURABILITY="$1" IOT_EDGE_HTTP_MAX_BODY=64MiB \
		IOT_EDGE_UPLINK_URL="http://127.0.0.1:1" IOT_EDGE_UPLINK_RETRY_INITIAL=1h \
		IOT_EDGE_UPLINK_RETRY_MAX=1h IOT_EDGE_LOG_LEVEL=warn \
		"$BUILD/edge/iot-edge" -c /dev/null >>"$WORK/edge.log" 2>&1 &
	PID=$!
	for _ in $(seq 100); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$2/health")" = 200 ] && return 0
		sleep 0.1
	done
	echo "bench: iot-edge did not start (see $WORK/edge.log)" >&2
	exit 1
}

edge_stop() {
	kill -TERM "$PID"
	wait "$PID" || { echo "bench: iot-edge exited with an error" >&2; exit 1; }
	PID=""
}

# run_edge DURABILITY CLIENTS: "seconds points/s" into $WORK/result; checks every
# answer and the buffer. (Runs in this shell: PID must stay visible to cleanup.)
run_edge() {
	local port t0 t1 c per first pids=()
	port=$(free_port)
	edge_start "$1" "$port"
	per=$((REQUESTS / $2))
	t0=$(now)
	for c in $(seq "$2"); do
		first=$(((c - 1) * per + 1))
		curl_config "$first" $((c == $2 ? REQUESTS : first + per - 1)) "$port" >"$WORK/curl$c.cfg"
		curl -s -K "$WORK/curl$c.cfg" >"$WORK/codes$c.txt" &
		pids+=($!)
	done
	wait "${pids[@]}"
	t1=$(now)
	local ok
	ok=$(cat "$WORK"/codes*.txt | grep -c '^204$' || true)
	rm -f "$WORK"/codes*.txt
	[ "$ok" = "$REQUESTS" ] || { echo "bench: only $ok of $REQUESTS requests got 204" >&2; exit 1; }
	edge_stop
	local stored
	stored=$(sqlite3 "$WORK/buffer.db" 'SELECT count(*) FROM points')
	[ "$stored" = "$TOTAL" ] || { echo "bench: $stored points in the buffer, not $TOTAL" >&2; exit 1; }
	sqlite3 "$WORK/buffer.db" 'SELECT line FROM points ORDER BY id' >"$WORK/canonical.txt"
	awk -v a="$t0" -v b="$t1" -v n="$TOTAL" 'BEGIN { printf "%.3f %.0f\n", b - a, n / (b - a) }' \
		>"$WORK/result"
}

# run_raw DURABILITY: "seconds points/s" of bench_sqlite_raw on the stored lines.
run_raw() {
	rm -f "$WORK"/raw.db*
	"$BUILD/tests/bench/bench_sqlite_raw" "$WORK/raw.db" "$1" "$POINTS" "$WORK/canonical.txt" |
		awk '{ print $2, $3 }'
}

# run_storage DURABILITY: "seconds points/s" of bench_storage_append on the stored lines.
run_storage() {
	rm -f "$WORK"/storage.db*
	"$BUILD/tests/bench/bench_storage_append" "$WORK/storage.db" "$1" "$POINTS" \
		"$WORK/canonical.txt" 2>>"$WORK/edge.log" | awk '{ print $2, $3 }'
}

# median of the numbers on stdin
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "| durability | writer | points | points/s (median of $ROUNDS) | % of raw SQLite | each round |"
echo "|---|---|---:|---:|---:|---|"
for durability in full normal; do
	: >"$WORK/raw.r" && : >"$WORK/storage.r" && : >"$WORK/one.r" && : >"$WORK/many.r"
	for _ in $(seq "$ROUNDS"); do
		run_edge "$durability" 1
		awk '{ print $2 }' "$WORK/result" >>"$WORK/one.r"
		run_edge "$durability" "$CLIENTS"
		awk '{ print $2 }' "$WORK/result" >>"$WORK/many.r"
		run_raw "$durability" | awk '{ print $2 }' >>"$WORK/raw.r"
		run_storage "$durability" | awk '{ print $2 }' >>"$WORK/storage.r"
	done
	r0=$(median <"$WORK/raw.r")
	rs=$(median <"$WORK/storage.r")
	r1=$(median <"$WORK/one.r")
	rn=$(median <"$WORK/many.r")
	echo "| $durability | raw SQLite INSERT, $POINTS per transaction | $TOTAL | $r0 | 100 | $(paste -sd' ' "$WORK/raw.r") |"
	echo "| $durability | storage_append() only, $POINTS per append | $TOTAL | $rs | $((100 * rs / r0)) | $(paste -sd' ' "$WORK/storage.r") |"
	echo "| $durability | iot-edge POST /write, 1 client | $TOTAL | $r1 | $((100 * r1 / r0)) | $(paste -sd' ' "$WORK/one.r") |"
	echo "| $durability | iot-edge POST /write, $CLIENTS clients | $TOTAL | $rn | $((100 * rn / r0)) | $(paste -sd' ' "$WORK/many.r") |"
done
echo
echo "Requests: $REQUESTS x $POINTS points ($(wc -c <"$WORK/req1.txt") bytes each), e.g."
echo "    $(head -n 1 "$WORK/req1.txt")"
echo "iot-edge: IOT_EDGE_BUFFER_DURABILITY=<full|normal> $BUILD/edge/iot-edge -c /dev/null"
echo "clients:  curl -s -K CONFIG (one keep-alive connection per client; requests in sequence)"
echo "raw:      $BUILD/tests/bench/bench_sqlite_raw DB <full|normal> $POINTS CANONICAL_LINES"
echo "storage:  $BUILD/tests/bench/bench_storage_append DB <full|normal> $POINTS CANONICAL_LINES"
echo "disk:     $(df -h --output=source,fstype "$WORK" | tail -n 1), $(nproc) CPUs"
