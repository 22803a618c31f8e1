#!/usr/bin/env bash
# bench_space.sh -- does the buffer file give its space back after a large backlog drains? File sizes at the peak, drained, and after a restart, with the start-up check's time.
#
# Usage: tests/bench/bench_space.sh [BUILD_DIR]   (default build-bench, made if missing)
# Environment: SPACE_READINGS (2000000), SPACE_DIR (default a temporary
#   directory in /var/tmp). Starts its own influxd on 127.0.0.1. No pass/fail.
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$TOP/build-bench}
N=${SPACE_READINGS:-2000000}

if [ ! -x "$BUILD/edge/iot-edge" ] || [ ! -x "$BUILD/simulator/iot-sim" ]; then
	cmake -S "$TOP" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOT_EDGE_BENCH=ON >/dev/null
	cmake --build "$BUILD" --target iot-edge iot-sim -j"$(nproc)" >/dev/null
fi
WORK=$(mktemp -d "${SPACE_DIR:-/var/tmp}/iot-edge-space.XXXXXX")
EDGE_PID=""
INFLUX_PID=""
cleanup() {
	for pid in $EDGE_PID $INFLUX_PID; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
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
wait_code() { # URL CODE
	for _ in $(seq 600); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "space: $1 never answered $2" >&2
	exit 1
}
size() { stat -c %s "$WORK/buffer.db" 2>/dev/null || echo 0; }
wal() { stat -c %s "$WORK/buffer.db-wal" 2>/dev/null || echo 0; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
count() { sqlite3 -cmd '.timeout 5000' "$WORK/buffer.db" 'SELECT count(*) FROM points;'; }
written() { awk '/^write_bytes/ { print $2 }' "/proc/$EDGE_PID/io"; }

INFLUX_PORT=$(free_port)
RPC_PORT=$(free_port)
EDGE_PORT=$(free_port)
edge_start() {
	IOT_EDGE_HTTP_LISTEN=127.0.0.1:$EDGE_PORT IOT_EDGE_BUFFER_PATH=$WORK/buffer.db \
		IOT_EDGE_BUFFER_MIN_FREE_DISK=0 IOT_EDGE_BUFFER_MAX_SIZE=4GB \
		IOT_EDGE_UPLINK_URL=http://127.0.0.1:$INFLUX_PORT IOT_EDGE_LOG_LEVEL=info \
		"$BUILD/edge/iot-edge" -c /dev/null 2>>"$WORK/edge.log" &
	EDGE_PID=$!
	wait_code "http://127.0.0.1:$EDGE_PORT/health" 200
}
edge_stop() {
	kill -TERM "$EDGE_PID"
	wait "$EDGE_PID"
	EDGE_PID=""
}

edge_start # InfluxDB down: everything stays in the buffer
"$BUILD/simulator/iot-sim" -h 127.0.0.1 -p "$EDGE_PORT" --quiet --count "$N" --interval 0 \
	--batch 100 --connections 4 --devices 100 >"$WORK/sim.out"
peak=$(size)
peak_wal=$(wal)
backlog=$(count)
edge_stop
t0=$(date +%s%N)
edge_start
start_ms=$((($(date +%s%N) - t0) / 1000000))

mkdir -p "$WORK/influxdb"
cat >"$WORK/influxdb/influxd.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$RPC_PORT"
[meta]
  dir = "$WORK/influxdb/meta"
[data]
  dir = "$WORK/influxdb/data"
  wal-dir = "$WORK/influxdb/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$INFLUX_PORT"
  log-enabled = false
[monitor]
  store-enabled = false
CONF
w0=$(written)
t0=$(date +%s)
influxd -config "$WORK/influxdb/influxd.conf" >"$WORK/influxd.log" 2>&1 &
INFLUX_PID=$!
until [ "$(count)" = 0 ]; do sleep 1; done
drain_s=$(($(date +%s) - t0))
sleep 5 # the writer gives space back while idle
drained=$(size)
drained_wal=$(wal)
w1=$(written)
free_pages=$(sqlite3 -cmd '.timeout 5000' "$WORK/buffer.db" 'PRAGMA freelist_count;')
edge_stop
closed=$(size)

echo "## Space after a drained backlog ($(date -u +%FT%TZ), buffer on $(df --output=fstype "$WORK" | tail -1))"
echo
echo "| moment | buffer.db | buffer.db-wal |"
echo "|---|---|---|"
echo "| backlog of $backlog readings (InfluxDB down) | $(mb "$peak") | $(mb "$peak_wal") |"
echo "| drained (5 s idle after the last delete) | $(mb "$drained") | $(mb "$drained_wal") |"
echo "| after a clean stop | $(mb "$closed") | - |"
echo
echo "start-up with the backlog (quick_check included): $start_ms ms; drain: $drain_s s;"
echo "written by iot-edge while draining: $(mb $((w1 - w0))) ($(awk -v w=$((w1 - w0)) -v n="$backlog" 'BEGIN { printf "%.0f", w / n }') bytes per point);"
echo "free pages left in the file when drained: $free_pages"
echo
echo "load: iot-sim --count $N --interval 0 --batch 100 --connections 4 --devices 100"
