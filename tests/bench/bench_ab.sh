#!/usr/bin/env bash
# bench_ab.sh -- POST /data of several iot-edge binaries taking turns round by round, each beside the 2-thread turbo ceiling of its round.
#
# Usage: tests/bench/bench_ab.sh [BUILD_DIR] IOT_EDGE_A IOT_EDGE_B ...
#        (BUILD_DIR as for run.sh: its raw_mhd is the ceiling; default build-bench)
# Environment: AB_ROUNDS (8), AB_SECONDS (4 per run).
# Each round runs raw_mhd --turbo, then every binary in turn, under the load
# of run.sh's POST /data row (wrk, 32 connections, durability=full). Per run:
# requests/s, the ratio to the ceiling of the same round (the machine's state
# cancels best within a round), and iot-edge's CPU per request (all its
# threads, utime + stime from /proc/PID/task/*/stat). Then the medians. For
# comparing builds on a shared, noisy machine: run.sh gives the figures.
# Fails when a count is wrong (every 201 must be in the buffer).
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$TOP/build-bench
if [ $# -gt 0 ] && [ -d "$1" ]; then
	BUILD=$1
	shift
fi
[ $# -gt 0 ] || { echo "usage: bench_ab.sh [BUILD_DIR] IOT_EDGE_A [IOT_EDGE_B ...]" >&2; exit 2; }
command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install wrk)" >&2; exit 2; }
ROUNDS=${AB_ROUNDS:-8}
SECS=${AB_SECONDS:-4}
CONNS=32
. "$TOP/tests/bench/bench_lib.sh"
WRK="wrk -t2 -c$CONNS -d${SECS}s -s $TOP/tests/bench/post_reading.lua"
TICK=$(getconf CLK_TCK)

# CPU ticks (user + system) of every thread of PID so far.
ab_ticks() { cat /proc/"$1"/task/*/stat | awk '{ t += $14 + $15 } END { print t }'; }

ab_ceiling() { # one ceiling run: prints requests/s
	local rps bad n err
	bench_raw_start --turbo
	$WRK "http://127.0.0.1:$RAW_PORT/data" >"$WORK/ab.wrk"
	bench_raw_stop
	read -r rps _ _ bad n err < <(bench_wrk_numbers "$WORK/ab.wrk")
	[ "$bad" = 0 ] && [ "$err" = 0 ] && [ "$n" -gt 0 ] || fail "raw_mhd --turbo: $bad non-2xx, $err errors"
	echo "$rps"
}

ab_edge() { # BINARY: one iot-edge run: prints "requests/s cpu_us_per_request"
	local t0 t1 rps bad n err stored
	rm -f "$BUFFER"*
	IOT_EDGE=$1 bench_edge_start IOT_EDGE_BUFFER_DURABILITY=full
	t0=$(ab_ticks "$EDGE_PID")
	$WRK "$EDGE_URL/data" >"$WORK/ab.wrk"
	t1=$(ab_ticks "$EDGE_PID")
	edge_stop
	read -r rps _ _ bad n err < <(bench_wrk_numbers "$WORK/ab.wrk")
	[ "$bad" = 0 ] && [ "$err" = 0 ] && [ "$n" -gt 0 ] || fail "$1: $bad non-2xx, $err errors"
	stored=$(buffer_count)
	[ "$stored" -ge "$n" ] && [ "$stored" -le $((n + 2 * CONNS)) ] ||
		fail "$1: $n answered 201 but $stored points in the buffer"
	awk -v r="$rps" -v t=$((t1 - t0)) -v hz="$TICK" -v n="$n" \
		'BEGIN { printf "%s %.2f\n", r, t * 1e6 / hz / n }'
}

: >"$WORK/ab.all"
for round in $(seq "$ROUNDS"); do
	ceiling=$(ab_ceiling)
	line="round $round: ceiling $ceiling"
	i=0
	for bin in "$@"; do
		i=$((i + 1))
		read -r rps cpu < <(ab_edge "$bin")
		ratio=$(awk -v a="$rps" -v b="$ceiling" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
		line="$line | #$i $rps ${ratio}x ${cpu}us"
		echo "$i $ratio $cpu $rps" >>"$WORK/ab.all"
	done
	echo "$line"
done
echo
i=0
for bin in "$@"; do
	i=$((i + 1))
	ratio=$(awk -v i="$i" '$1 == i { print $2 }' "$WORK/ab.all" | bench_median)
	cpu=$(awk -v i="$i" '$1 == i { print $3 }' "$WORK/ab.all" | bench_median)
	rps=$(awk -v i="$i" '$1 == i { print $4 }' "$WORK/ab.all" | bench_median)
	echo "#$i $bin: median ${ratio}x the ceiling, $rps requests/s, $cpu us CPU per request ($ROUNDS rounds of ${SECS}s)"
done
bench_machine
