#!/usr/bin/env bash
# bench_wear.sh -- SD-card wear: bytes iot-edge writes to disk per point (/proc/<pid>/io write_bytes) in both durability modes, uplink keeping up and down.
#
# Usage: tests/bench/bench_wear.sh [BUILD_DIR]
#   BUILD_DIR  default: build-bench (made here as a release build if missing)
# Environment: WEAR_SECONDS (30 per run), WEAR_RATES ("10 1000" readings/s),
#   WEAR_DIR (where the buffer lives: a directory on a real disk, default a
#   temporary one in /var/tmp; tmpfs does not count writes). Starts its own
#   influxd on 127.0.0.1 for "uplink up"; "uplink down" points the uplink at a
#   closed port. No pass/fail: prints a Markdown table and the commands used.
set -euo pipefail
export LC_ALL=C
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$TOP/build-bench}
SECS=${WEAR_SECONDS:-30}
RATES=${WEAR_RATES:-10 1000}

if [ ! -x "$BUILD/edge/iot-edge" ] || [ ! -x "$BUILD/simulator/iot-sim" ]; then
	cmake -S "$TOP" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIOT_EDGE_BENCH=ON >/dev/null
	cmake --build "$BUILD" --target iot-edge iot-sim -j"$(nproc)" >/dev/null
fi
WORK=$(mktemp -d "${WEAR_DIR:-/var/tmp}/iot-edge-wear.XXXXXX")
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
	echo "wear: $1 never answered $2" >&2
	exit 1
}

influx_start() {
	local dir=$WORK/influxdb port rpc
	port=$(free_port)
	rpc=$(free_port)
	mkdir -p "$dir"
	cat >"$dir/influxd.conf" <<-CONF
		reporting-disabled = true
		bind-address = "127.0.0.1:$rpc"
		[meta]
		  dir = "$dir/meta"
		[data]
		  dir = "$dir/data"
		  wal-dir = "$dir/wal"
		  query-log-enabled = false
		[http]
		  bind-address = "127.0.0.1:$port"
		  log-enabled = false
		[monitor]
		  store-enabled = false
	CONF
	influxd -config "$dir/influxd.conf" >"$WORK/influxd.log" 2>&1 &
	INFLUX_PID=$!
	INFLUX_URL=http://127.0.0.1:$port
	wait_code "$INFLUX_URL/ping" 204
}

write_bytes() { awk '/^write_bytes/ { print $2 }' "/proc/$1/io"; }

ROWS=()
run() { # DURABILITY UPLINK(up|down) RATE
	local dur=$1 up=$2 rate=$3 port url before after points commits
	port=$(free_port)
	url=http://127.0.0.1:9
	[ "$up" = down ] || url=$INFLUX_URL
	rm -f "$WORK"/buffer.db*
	IOT_EDGE_HTTP_LISTEN=127.0.0.1:$port IOT_EDGE_BUFFER_PATH=$WORK/buffer.db \
		IOT_EDGE_BUFFER_DURABILITY=$dur IOT_EDGE_BUFFER_MIN_FREE_DISK=0 \
		IOT_EDGE_UPLINK_URL=$url IOT_EDGE_UPLINK_FLUSH_INTERVAL=1s IOT_EDGE_LOG_LEVEL=info \
		"$BUILD/edge/iot-edge" -c /dev/null 2>"$WORK/edge.log" &
	EDGE_PID=$!
	wait_code "http://127.0.0.1:$port/health" 200
	# warm up 3 s (file creation, first pages), then measure SECS
	"$BUILD/simulator/iot-sim" -h 127.0.0.1 -p "$port" --quiet --rate "$rate" \
		--connections 4 --devices 10 --count $((rate * (SECS + 3))) >"$WORK/sim.out" &
	local sim=$!
	sleep 3
	before=$(write_bytes "$EDGE_PID")
	sleep "$SECS"
	after=$(write_bytes "$EDGE_PID")
	wait "$sim" || { echo "wear: iot-sim failed: $(tail -n 1 "$WORK/sim.out")" >&2; exit 1; }
	kill -TERM "$EDGE_PID"
	wait "$EDGE_PID"
	EDGE_PID=""
	points=$((rate * SECS))
	commits=$(grep -o '([0-9.]* points per commit)' "$WORK/edge.log" | tr -d '()' | awk '{ print $1 }')
	ROWS+=("| $dur | $up | $rate | $(awk -v w=$((after - before)) -v n="$points" 'BEGIN { printf "%.0f", w / n }') | $((after - before)) | $commits |")
}

influx_start
for rate in $RATES; do
	for dur in full normal; do
		for up in up down; do
			run "$dur" "$up" "$rate"
		done
	done
done

echo "## Bytes written per point ($(date -u +%FT%TZ), ${SECS}s per run, buffer on $(df --output=fstype "$WORK" | tail -1))"
echo
echo "| durability | uplink | readings/s | bytes written per point | bytes written | points per commit (whole run) |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "load: iot-sim --rate R --connections 4 --devices 10 (one reading per request), measured after 3 s of warm-up"
echo "written: write_bytes of /proc/<iot-edge pid>/io over ${SECS}s / (R * ${SECS})"
