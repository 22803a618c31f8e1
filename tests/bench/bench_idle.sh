#!/usr/bin/env bash
# bench_idle.sh -- idle wake-ups: context switches of each thread of an idle iot-edge over a fixed time.
#
# Usage: tests/bench/bench_idle.sh [BUILD_DIR]   (default: build)
# Environment: IOT_EDGE (default BUILD_DIR/edge/iot-edge: any iot-edge binary,
# e.g. an older build, to compare), IDLE_SECONDS (10), IDLE_SETTLE (3).
#
# Three runs, each with a fresh buffer, no load, the UDP listener on and the
# built-in `edge` collector off: the uplink pointed at a real influxd on
# 127.0.0.1 ("up"), at a closed port with an empty buffer ("down"), and at the
# closed port with 100 points waiting ("down, backlog": the uplink retries with
# its backoff, uplink.retry_max = 2s). After IDLE_SETTLE seconds the
# voluntary + nonvoluntary context switches of every thread
# (/proc/PID/task/*/status) are read twice, IDLE_SECONDS apart. Every switch
# is a wake-up: a thread that sleeps until there is work has none when idle.
# No pass/fail (tests/integration/test_idle_wakeups.sh is the test): Markdown
# tables and the commands used.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${1:-$TOP/build}
SECS=${IDLE_SECONDS:-10}
SETTLE=${IDLE_SETTLE:-3}
export IOT_EDGE=${IOT_EDGE:-$BUILD/edge/iot-edge}
export IOT_SIM=${IOT_SIM:-$BUILD/simulator/iot-sim} # lib.sh wants it; not run here
export LC_ALL=C
[ -x "$IOT_EDGE" ] || {
	echo "bench_idle: no iot-edge at $IOT_EDGE (build it or set IOT_EDGE)" >&2
	exit 2
}
. "$TOP/tests/integration/lib.sh"

# "TID COMM SWITCHES WCHAN" per thread of PID.
idle_snapshot() { # PID
	local t tid comm sw wchan
	for t in /proc/"$1"/task/*; do
		tid=${t##*/}
		comm=$(cat "$t/comm" 2>/dev/null) || continue
		sw=$(awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }' \
			"$t/status" 2>/dev/null) || continue
		wchan=$(cat "$t/wchan" 2>/dev/null || echo "?")
		echo "$tid ${comm// /_} $sw ${wchan:-?}"
	done
}

# Measure the running edge: prints the Markdown table of one run and sets
# IDLE_TOTAL (wake-ups per second of the whole process).
idle_measure() { # TITLE
	local before after
	sleep "$SETTLE"
	before=$(idle_snapshot "$EDGE_PID")
	sleep "$SECS"
	after=$(idle_snapshot "$EDGE_PID")
	echo "### $1"
	echo
	echo "| tid | thread | blocked in (wchan) | wake-ups in ${SECS} s | per second |"
	echo "|---|---|---|---|---|"
	# A thread started during the window counts from 0; one that ended is left out.
	awk -v secs="$SECS" -v main="$EDGE_PID" '
	NR == FNR { was[$1] = $3; next }
	{
		n = $3 - ($1 in was ? was[$1] : 0)
		total += n
		name = $2 ($1 == main ? " (main)" : "")
		printf "| %s | %s | %s | %d | %.1f |\n", $1, name, $4, n, n / secs
	}
	END { printf "| | **total** | | **%d** | **%.1f** |\n", total, total / secs > "/dev/stderr" }' \
		<(echo "$before") <(echo "$after") 2>"$WORK/total"
	cat "$WORK/total"
	IDLE_TOTAL=$(awk -F'|' '{ gsub(/[* ]/, "", $6); print $6 }' "$WORK/total")
	echo
}

# Start the edge with its UDP listener; extra VAR=value settings may follow.
idle_edge_start() {
	local udp_port
	udp_port=$(pick_free_port udp || fail "no free UDP port found")
	rm -f "$BUFFER"*
	: >"$EDGE_LOG"
	edge_start IOT_EDGE_UDP_LISTEN="127.0.0.1:$udp_port" IOT_EDGE_LOG_LEVEL=info \
		IOT_EDGE_UPLINK_FLUSH_INTERVAL=1s IOT_EDGE_UPLINK_RETRY_INITIAL=500ms "$@"
}

CLOSED_PORT=$(free_port) # nothing listens there
SUMMARY=()
influx_start

idle_edge_start
idle_measure "uplink up (influxd on 127.0.0.1), empty buffer"
SUMMARY+=("| up, empty buffer | $IDLE_TOTAL |")
edge_stop

idle_edge_start IOT_EDGE_UPLINK_URL="http://127.0.0.1:$CLOSED_PORT"
idle_measure "uplink down (closed port), empty buffer"
SUMMARY+=("| down, empty buffer | $IDLE_TOTAL |")
edge_stop

idle_edge_start IOT_EDGE_UPLINK_URL="http://127.0.0.1:$CLOSED_PORT" IOT_EDGE_UPLINK_RETRY_MAX=2s
body=$(for i in $(seq 1 100); do echo "idle,run=backlog value=$i $((1700000000000000000 + i))"; done)
[ "$(CONTENT_TYPE=text/plain post "/write?db=iot" "$body")" = 204 ] || fail "POST /write: $(cat "$WORK/last_response")"
idle_measure "uplink down (closed port), 100 points waiting (retry_max 2s)"
SUMMARY+=("| down, 100 points waiting | $IDLE_TOTAL |")
edge_stop

echo "### Total wake-ups per second"
echo
echo "| run | wake-ups per second (all threads) |"
echo "|---|---|"
printf '%s\n' "${SUMMARY[@]}"
echo
echo "binary: $IOT_EDGE ($("$IOT_EDGE" --version 2>&1 | head -n 1))"
echo "measured: sum of voluntary_ctxt_switches + nonvoluntary_ctxt_switches of /proc/<pid>/task/*/status," \
	"${SECS} s after ${SETTLE} s of settling; uplink.flush_interval 1s, retry_initial 500ms"
echo "load average before the run: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, kernel $(uname -r)"
