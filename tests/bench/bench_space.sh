#!/usr/bin/env bash
# bench_space.sh -- does the buffer file give its space back after a large backlog drains? File sizes at the peak, drained, and after a restart, with the start-up check's time.
#
# Usage: tests/bench/bench_space.sh [BUILD_DIR]   (default build-bench, made if missing)
# Environment: SPACE_READINGS (2000000). The buffer lives in a temporary
# directory under TMPDIR; influxd runs on 127.0.0.1. No pass/fail.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$TOP/build-bench}
N=${SPACE_READINGS:-2000000}
. "$TOP/tests/bench/bench_lib.sh"
MACHINE=$(bench_machine)

size() { stat -c %s "$BUFFER" 2>/dev/null || echo 0; }
wal() { stat -c %s "$BUFFER-wal" 2>/dev/null || echo 0; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }

bench_edge_start # InfluxDB down: everything stays in the buffer
"$IOT_SIM" -h 127.0.0.1 -p "$EDGE_PORT" --quiet --count "$N" --interval 0 \
	--batch 100 --connections 4 --devices 100 >"$WORK/sim.out" || fail "iot-sim failed"
peak=$(size)
peak_wal=$(wal)
edge_stop
backlog=$(buffer_count)
[ "$backlog" = "$N" ] || fail "$backlog readings in the buffer, not $N"
influx_start
bench_edge_start IOT_EDGE_UPLINK_URL="$INFLUX_URL"
start_ms=$BENCH_START_MS
w0=$(bench_write_bytes "$EDGE_PID")
t0=$SECONDS
wait_until 900 buffer_empty || fail "the backlog did not drain"
drain_s=$((SECONDS - t0))
sleep 5 # the writer gives space back while idle
drained=$(size)
drained_wal=$(wal)
w1=$(bench_write_bytes "$EDGE_PID")
free_pages=$(sqlite3 -cmd '.timeout 5000' "$BUFFER" 'PRAGMA freelist_count;')
edge_stop
closed=$(size)
[ "$(influx_count)" = "$N" ] || fail "$(influx_count) readings in InfluxDB, not $N"

echo "## Space after a drained backlog ($(date -u +%FT%TZ))"
echo
echo "| moment | buffer.db | buffer.db-wal |"
echo "|---|---|---|"
echo "| backlog of $backlog readings (InfluxDB down) | $(mb "$peak") | $(mb "$peak_wal") |"
echo "| drained (5 s idle after the last delete) | $(mb "$drained") | $(mb "$drained_wal") |"
echo "| after a clean stop | $(mb "$closed") | - |"
echo
echo "start-up with the backlog (quick_check included, exec -> /ping 204): $start_ms ms; drain: $drain_s s;"
echo "written by iot-edge while draining: $(mb $((w1 - w0))) ($(awk -v w=$((w1 - w0)) -v n="$backlog" 'BEGIN { printf "%.0f", w / n }') bytes per point);"
echo "free pages left in the file when drained: $free_pages"
echo
echo "load: $IOT_SIM --count $N --interval 0 --batch 100 --connections 4 --devices 100"
echo "$MACHINE"
