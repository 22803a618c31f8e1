#!/usr/bin/env bash
# bench_uplink_drain.sh -- drain a 1 000 000-point backlog into a real influxd; baseline: curl.
#
# Usage: tests/bench/bench_uplink_drain.sh [POINTS]
#   IOT_EDGE=path/to/iot-edge (default: build/edge/iot-edge, a release build: ./dev build)
#
# One influxd on 127.0.0.1; ROUNDS rounds (default 2), each of three runs, every
# run into its own database:
#   - baseline: a plain loop that POSTs the backlog's own 5000-point batches with
#     curl (one process and one connection per batch, no gzip) to /write;
#   - iot-edge draining the same backlog (uplink defaults: 5000 points per batch,
#     gzip on, durability full: acks are fsynced), timed from the uplink's start
#     (logged) to an empty buffer (polled every 0.1 s);
#   - the same with gzip off.
# influxd gets faster once warm and slower as it fills, so the rounds repeat the
# three and the summary takes the best run of each kind. Prints every run and
# the summary: points/s and the ratio to the best curl loop.
# A report, never a pass/fail test: the numbers depend on the machine and its load.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
POINTS=${1:-1000000}
ROUNDS=${ROUNDS:-2}
BATCH=5000
: "${IOT_EDGE:=$TOP/build/edge/iot-edge}"
: "${IOT_SIM:=$(dirname "$IOT_EDGE")/../simulator/iot-sim}"
[ -x "$IOT_EDGE" ] || { echo "no iot-edge at $IOT_EDGE: run ./dev build or set IOT_EDGE" >&2; exit 2; }
export IOT_EDGE IOT_SIM
. "$TOP/tests/integration/lib.sh"
. "$TOP/tests/integration/uplink_lib.sh"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }

count_in() { # count_in DB: points of measurement data in database DB
	curl -sfG "$INFLUX_URL/query" --data-urlencode "db=$1" \
		--data-urlencode 'q=SELECT count("value") FROM "data"' |
		jq -r '.results[0].series[0].values[0][1] // 0'
}

curl_loop() { # curl_loop DB: sets SECS to the seconds taken
	local db=$1 t0 t1 f code
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE \"$db\"" >/dev/null
	t0=$(now)
	for f in "$WORK"/batch.*; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: text/plain' \
			--data-binary "@$f" "$INFLUX_URL/write?db=$db&precision=ns")
		[ "$code" = 204 ] || fail "curl loop: HTTP $code for $f"
	done
	t1=$(now)
	[ "$(count_in "$db")" = "$POINTS" ] || fail "curl loop: $(count_in "$db") points in $db"
	SECS=$(elapsed "$t0" "$t1")
}

# Is the buffer empty? Cheap even with a million rows (count(*) would scan them
# every 0.1 s and steal CPU from the run being measured).
buffer_drained() {
	[ "$(sqlite3 -cmd '.timeout 5000' "$BUFFER" 'SELECT NOT EXISTS (SELECT 1 FROM points)')" = 1 ]
}

edge_drain() { # edge_drain DB GZIP: sets SECS to the seconds taken
	local db=$1 gzip=$2 t0 t1
	buffer_fill "$POINTS" 1
	: >"$EDGE_LOG"
	edge_start IOT_EDGE_UPLINK_DATABASE="$db" IOT_EDGE_UPLINK_GZIP="$gzip" \
		IOT_EDGE_LOG_LEVEL=info IOT_EDGE_UPLINK_FLUSH_INTERVAL=1s
	wait_until 600 buffer_drained || fail "iot-edge did not drain ($(buffer_count) left)"
	t1=$(now)
	# From the uplink thread's start: the buffer's open and check (quick_check
	# of a million rows) is start-up, not draining.
	t0=$(date -d "$(grep -m1 '\[uplink\] forwarding to' "$EDGE_LOG" | cut -d' ' -f1)" +%s.%N)
	edge_stop
	[ "$(count_in "$db")" = "$POINTS" ] || fail "iot-edge: $(count_in "$db") points in $db"
	SECS=$(elapsed "$t0" "$t1")
}

influx_start
buffer_init
buffer_fill "$POINTS" 1
sqlite3 "$BUFFER" 'SELECT line FROM points ORDER BY id' | split -l "$BATCH" - "$WORK/batch."
sqlite3 "$BUFFER" 'DELETE FROM points'
say "backlog: $POINTS points in $(ls "$WORK"/batch.* | wc -l) batches of $BATCH," \
	"$(cat "$WORK"/batch.* | wc -c) bytes of line protocol"

declare -A best=()
runs=()
keep() { # keep KIND SECONDS
	runs+=("$1|$2")
	if [ -z "${best[$1]:-}" ] || awk -v a="$2" -v b="${best[$1]}" 'BEGIN { exit !(a < b) }'; then
		best[$1]=$2
	fi
}
for round in $(seq 1 "$ROUNDS"); do
	curl_loop "curl_$round"
	keep "curl loop, 5000-point batches (baseline)" "$SECS"
	edge_drain "edge_gzip_$round" true
	keep "iot-edge uplink, gzip on (default)" "$SECS"
	edge_drain "edge_plain_$round" false
	keep "iot-edge uplink, gzip off" "$SECS"
done

base=${best["curl loop, 5000-point batches (baseline)"]}
echo
echo "command: ROUNDS=$ROUNDS $0 $POINTS   (IOT_EDGE=$IOT_EDGE)"
echo "influxd $(influxd version 2>/dev/null | head -n 1), $(nproc) cores, loopback"
printf '%-44s %9s %8s %10s %13s\n' run points seconds points/s "vs best curl"
row() { printf '%-44s %9s %8s %10s %12s%%\n' "$1" "$POINTS" "$2" "$(rate "$POINTS" "$2")" \
	"$(awk -v b="$base" -v s="$2" 'BEGIN { printf "%.0f", 100 * b / s }')"; }
for r in "${runs[@]}"; do row "${r%%|*}" "${r##*|}"; done
echo "best of $ROUNDS:"
for kind in "curl loop, 5000-point batches (baseline)" "iot-edge uplink, gzip on (default)" \
	"iot-edge uplink, gzip off"; do
	row "$kind" "${best[$kind]}"
done
