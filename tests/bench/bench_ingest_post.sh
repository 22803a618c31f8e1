#!/usr/bin/env bash
# bench_ingest_post.sh -- single-reading POST /data at 32 connections: iot-edge (durability full and normal) beside a raw libmicrohttpd server that stores nothing, in the same run.
#
# Usage: tests/bench/bench_ingest_post.sh [BUILD_DIR]
#   BUILD_DIR  a build configured with -DIOT_EDGE_BENCH=ON (default: build-bench,
#              made here as a release build if it does not exist)
# Environment: BENCH_SECONDS (10), BENCH_CONNECTIONS (32), BENCH_THREADS (2),
#   BENCH_DIR (a directory on the disk to measure; default a temporary one in
#   /var/tmp). Needs wrk (Debian: apt-get install wrk). No pass/fail: it prints
#   a Markdown table with the command lines used. Everything runs on 127.0.0.1
#   and is stopped by pid.
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$TOP/build-bench}
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNECTIONS:-32}
THREADS=${BENCH_THREADS:-2}
LUA=$TOP/tests/bench/post_reading.lua

command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install wrk)" >&2; exit 2; }
if [ ! -x "$BUILD/tests/bench/raw_mhd" ]; then
	cmake -S "$TOP" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOT_EDGE_BENCH=ON >/dev/null
	cmake --build "$BUILD" --target raw_mhd iot-edge -j"$(nproc)" >/dev/null
fi
WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/iot-edge-bench.XXXXXX")
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

wait_http() { # URL: wait up to 10 s for any HTTP answer
	for _ in $(seq 100); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" != 000 ] && return 0
		sleep 0.1
	done
	echo "bench: nothing answers $1" >&2
	exit 1
}

write_bytes() { awk '/^write_bytes/ { print $2 }' "/proc/$1/io"; }

# run_wrk NAME URL: wrk's output in $WORK/NAME.wrk
run_wrk() {
	wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency -s "$LUA" "$2" >"$WORK/$1.wrk"
}

# "requests/s p50 p99 non2xx requests" from a wrk output (latencies in ms)
wrk_numbers() {
	awk '
	function ms(v) {
		if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
		if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
		if (v ~ /s$/) { sub(/s$/, "", v); return v * 1000 }
		return v
	}
	/Requests\/sec/ { rps = $2 }
	$1 == "50%" { p50 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	/Non-2xx/ { bad = $NF }
	/requests in/ { n = $1 }
	END { printf "%.0f %.2f %.2f %d %d\n", rps, p50, p99, bad, n }' "$WORK/$1.wrk"
}

ROWS=()
raw() {
	local port
	port=$(free_port)
	"$BUILD/tests/bench/raw_mhd" "$port" &
	PID=$!
	wait_http "http://127.0.0.1:$port/"
	run_wrk raw "http://127.0.0.1:$port/data"
	kill -TERM "$PID"
	wait "$PID"
	PID=""
	read -r rps p50 p99 bad n < <(wrk_numbers raw)
	RAW_RPS=$rps
	ROWS+=("| raw libmicrohttpd, 201 without storing | $rps | 100% | $p50 | $p99 | $bad | - | - |")
}

edge() { # DURABILITY
	local port dur=$1 before after per_commit
	port=$(free_port)
	rm -f "$WORK"/buffer.db*
	IOT_EDGE_HTTP_LISTEN=127.0.0.1:$port IOT_EDGE_BUFFER_PATH=$WORK/buffer.db \
		IOT_EDGE_BUFFER_DURABILITY=$dur IOT_EDGE_BUFFER_MIN_FREE_DISK=0 \
		IOT_EDGE_UPLINK_URL=http://127.0.0.1:9 IOT_EDGE_LOG_LEVEL=info \
		"$BUILD/edge/iot-edge" -c /dev/null 2>"$WORK/edge-$dur.log" &
	PID=$!
	wait_http "http://127.0.0.1:$port/health"
	before=$(write_bytes "$PID")
	run_wrk "edge-$dur" "http://127.0.0.1:$port/data"
	after=$(write_bytes "$PID")
	kill -TERM "$PID"
	wait "$PID"
	PID=""
	read -r rps p50 p99 bad n < <(wrk_numbers "edge-$dur")
	per_commit=$(grep -o '([0-9.]* points per commit)' "$WORK/edge-$dur.log" | tr -d '()' |
		awk '{ print $1 }')
	ROWS+=("| iot-edge, durability=$dur (uplink down) | $rps | $(awk -v a="$rps" -v b="$RAW_RPS" 'BEGIN { printf "%.0f%%", 100 * a / b }') | $p50 | $p99 | $bad | ${per_commit:-?} | $(awk -v w=$((after - before)) -v n="$((n - bad))" 'BEGIN { printf "%.0f", n ? w / n : 0 }') |")
}

raw
edge full
edge normal

echo "## POST /data, one reading per request, $CONNS connections, ${SECS}s each ($(date -u +%FT%TZ), $(nproc) cores)"
echo
echo "| server | requests/s | of raw | p50 ms | p99 ms | non-2xx | points per commit | bytes written per point |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "load: wrk -t$THREADS -c$CONNS -d${SECS}s --latency -s tests/bench/post_reading.lua URL"
echo "edge: IOT_EDGE_BUFFER_DURABILITY=full|normal IOT_EDGE_UPLINK_URL=http://127.0.0.1:9 iot-edge -c /dev/null (buffer in $(df --output=fstype "$WORK" | tail -1) $WORK)"
echo "bytes written: write_bytes of /proc/<iot-edge pid>/io over the wrk run / 2xx answers"
