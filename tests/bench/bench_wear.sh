#!/usr/bin/env bash
# bench_wear.sh -- SD-card wear: bytes iot-edge writes to disk per point (/proc/<pid>/io write_bytes) in both durability modes, uplink keeping up and down.
#
# Usage: tests/bench/bench_wear.sh [BUILD_DIR]   (default build-bench, made if missing)
# Environment: WEAR_SECONDS (30 per run), WEAR_RATES ("10 1000" readings/s).
# The buffer lives in a temporary directory under TMPDIR: put TMPDIR on a real
# disk (tmpfs does not count writes). "uplink up" is a real influxd on
# 127.0.0.1, "down" a closed port. No pass/fail: a Markdown table and the
# commands used. tests/bench/run.sh measures the same at full load.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$TOP/build-bench}
SECS=${WEAR_SECONDS:-30}
RATES=${WEAR_RATES:-10 1000}
. "$TOP/tests/bench/bench_lib.sh"
MACHINE=$(bench_machine)

ROWS=()
run() { # DURABILITY UPLINK(up|down) RATE
	local dur=$1 up=$2 rate=$3 url=http://127.0.0.1:9 before after points sim
	[ "$up" = down ] || url=$INFLUX_URL
	rm -f "$BUFFER"*
	bench_edge_start IOT_EDGE_BUFFER_DURABILITY="$dur" IOT_EDGE_UPLINK_URL="$url" \
		IOT_EDGE_UPLINK_FLUSH_INTERVAL=1s
	# warm up 3 s (file creation, first pages), then measure SECS
	"$IOT_SIM" -h 127.0.0.1 -p "$EDGE_PORT" --quiet --rate "$rate" --connections 4 \
		--devices 10 --count $((rate * (SECS + 3))) >"$WORK/sim.out" &
	sim=$!
	BENCH_PIDS="$BENCH_PIDS $sim"
	sleep 3
	before=$(bench_write_bytes "$EDGE_PID")
	sleep "$SECS"
	after=$(bench_write_bytes "$EDGE_PID")
	wait "$sim" || fail "iot-sim failed: $(tail -n 1 "$WORK/sim.out")"
	BENCH_PIDS=${BENCH_PIDS/ $sim/}
	edge_stop
	points=$((rate * SECS))
	ROWS+=("| $dur | $up | $rate | $(awk -v w=$((after - before)) -v n="$points" 'BEGIN { printf "%.0f", w / n }') | $((after - before)) | $(bench_per_commit) |")
}

influx_start
for rate in $RATES; do
	for dur in full normal; do
		for up in up down; do
			run "$dur" "$up" "$rate"
		done
	done
done

echo "## Bytes written per point ($(date -u +%FT%TZ), ${SECS}s per run)"
echo
echo "| durability | uplink | readings/s | bytes written per point | bytes written | points per commit (whole run) |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "load: $IOT_SIM --rate R --connections 4 --devices 10 (one reading per request), measured after 3 s of warm-up"
echo "written: write_bytes of /proc/<iot-edge pid>/io over ${SECS}s / (R * ${SECS})"
echo "$MACHINE"
