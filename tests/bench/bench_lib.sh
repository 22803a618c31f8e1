# bench_lib.sh -- shared by the benchmark scripts: builds, processes, /proc readings, wrk output, the machine line.
# shellcheck shell=bash
#
# Source it from a bench script after setting BUILD (a build made with
# -DIOT_EDGE_BENCH=ON; a release build is made there if the binaries are
# missing). It sources tests/integration/lib.sh (temporary WORK directory,
# free ports, influxd on 127.0.0.1, cleanup by pid) and uplink_lib.sh
# (buffer_fill), and adds what the benchmarks need on top:
# iot-edge started with its start-up time measured, extra processes stopped
# by pid, VmRSS/VmHWM and write_bytes from /proc, wrk's numbers.

BENCH_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${BUILD:?set BUILD to a build directory}"
export LC_ALL=C

bench_build() {
	local t missing=0
	for t in edge/iot-edge simulator/iot-sim tests/bench/raw_mhd tests/bench/bench_sqlite_raw \
		tests/bench/bench_storage_append tests/bench/bench_parse tests/bench/libfsync_delay.so; do
		[ -x "$BUILD/$t" ] || missing=1
	done
	[ "$missing" = 0 ] && return 0
	echo "bench: building $BUILD (Release, IOT_EDGE_BENCH=ON)" >&2
	cmake -S "$BENCH_TOP" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DIOT_EDGE_BENCH=ON >/dev/null
	cmake --build "$BUILD" --target iot-edge iot-sim raw_mhd bench_sqlite_raw \
		bench_storage_append bench_parse fsync_delay -j"$(nproc)" >/dev/null
}
bench_build

export IOT_EDGE=$BUILD/edge/iot-edge
export IOT_SIM=$BUILD/simulator/iot-sim
RAW_MHD=$BUILD/tests/bench/raw_mhd
SQLITE_RAW=$BUILD/tests/bench/bench_sqlite_raw
STORAGE_APPEND=$BUILD/tests/bench/bench_storage_append
PARSE=$BUILD/tests/bench/bench_parse
FSYNC_DELAY_SO=$BUILD/tests/bench/libfsync_delay.so # LD_PRELOAD with IOT_BENCH_FSYNC_DELAY_MS

. "$BENCH_TOP/tests/integration/lib.sh"
. "$BENCH_TOP/tests/integration/uplink_lib.sh"

# Extra processes (raw_mhd, clients) are stopped by pid on exit, then lib.sh's
# cleanup stops iot-edge and influxd and removes WORK.
BENCH_PIDS=""
bench_cleanup() {
	local pid
	for pid in $BENCH_PIDS; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	BENCH_PIDS=""
}
trap 'bench_rc=$?; set +e; bench_cleanup; (exit $bench_rc); cleanup' EXIT

# One HTTP GET on 127.0.0.1:PORT PATH with bash's /dev/tcp (no process
# started, so start-up can be polled every 2 ms); succeeds when the status
# line starts with "HTTP/1.1 CODE" (CODE may be a prefix, "" for any answer).
bench_http_get() { # PORT PATH CODE
	local line
	{ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
	printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' "$2" >&3 ||
		{ exec 3<&-; return 1; }
	IFS= read -r -t 5 line <&3 || { exec 3<&-; return 1; }
	exec 3<&-
	[[ $line == "HTTP/1.1 $3"* ]]
}

# Wait until PID answers GET PATH with CODE on PORT; sets BENCH_START_MS to
# the ms since T0 ($EPOCHREALTIME taken just before the exec). Fails if PID dies.
bench_wait_ready() { # PID PORT PATH CODE T0
	local deadline=$((SECONDS + 60))
	until bench_http_get "$2" "$3" "$4"; do
		kill -0 "$1" 2>/dev/null || fail "process $1 died during start-up"
		[ "$SECONDS" -lt "$deadline" ] || fail "process $1: no $4 on $3 within 60 s"
		sleep 0.002
	done
	BENCH_START_MS=$(awk -v a="$5" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
}

# Start iot-edge on a fresh port with the buffer in WORK; extra VAR=value
# settings may follow. Sets EDGE_PID, EDGE_PORT, EDGE_URL and BENCH_START_MS
# (exec -> first 204 from /ping). The log goes to EDGE_LOG (emptied first).
# BENCH_CONF names a configuration file (default none).
# The built-in `edge` collector is off: its points would join the counts.
bench_edge_start() {
	local t0
	EDGE_PORT=$(free_port)
	EDGE_URL=http://127.0.0.1:$EDGE_PORT
	: >"$EDGE_LOG"
	t0=$EPOCHREALTIME
	env IOT_EDGE_HTTP_LISTEN="127.0.0.1:$EDGE_PORT" IOT_EDGE_BUFFER_PATH="$BUFFER" \
		IOT_EDGE_BUFFER_MIN_FREE_DISK=0 IOT_EDGE_BUFFER_MAX_SIZE=4GB \
		IOT_EDGE_UPLINK_URL=http://127.0.0.1:9 IOT_EDGE_LOG_LEVEL=info \
		IOT_EDGE_COLLECTOR_EDGE_ENABLED=false "$@" \
		"$IOT_EDGE" -c "${BENCH_CONF:-/dev/null}" >>"$EDGE_LOG" 2>&1 &
	EDGE_PID=$!
	bench_wait_ready "$EDGE_PID" "$EDGE_PORT" /ping 204 "$t0"
}

# Start raw_mhd on a fresh port, with its options if any (--turbo): sets
# RAW_PID, RAW_PORT, BENCH_START_MS.
bench_raw_start() {
	local t0
	RAW_PORT=$(free_port)
	t0=$EPOCHREALTIME
	"$RAW_MHD" "$@" "$RAW_PORT" &
	RAW_PID=$!
	BENCH_PIDS="$BENCH_PIDS $RAW_PID"
	bench_wait_ready "$RAW_PID" "$RAW_PORT" / "" "$t0"
}

bench_raw_stop() {
	kill -TERM "$RAW_PID"
	wait "$RAW_PID" || fail "raw_mhd exited with an error"
	BENCH_PIDS=${BENCH_PIDS/ $RAW_PID/}
	RAW_PID=""
}

# Create an empty buffer (schema and all) by starting and stopping iot-edge.
bench_buffer_init() {
	rm -f "$BUFFER"*
	bench_edge_start
	edge_stop
}

# A /proc/PID/status field in kB (VmRSS, VmHWM, RssAnon: heap, stacks and
# caches, without the pages of the binary and its libraries), or
# /proc/PID/io's write_bytes.
bench_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
bench_write_bytes() { awk '$1 == "write_bytes:" { print $2 }' "/proc/$1/io"; }

# The edge's own "N points per commit" from its closing log line ("?" if absent).
bench_per_commit() {
	local v
	v=$(grep -o '([0-9.]* points per commit)' "$EDGE_LOG" | tail -n 1 | tr -d '()' |
		awk '{ print $1 }')
	echo "${v:-?}"
}

# "requests/s p50_ms p99_ms non2xx requests socket_errors" from wrk --latency output.
bench_wrk_numbers() { # FILE
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
	/Socket errors/ { gsub(/,/, ""); err = $4 + $6 + $8 + $10 }
	/requests in/ { n = $1 }
	END { printf "%.0f %.2f %.2f %d %d %d\n", rps, p50, p99, bad, n, err }' "$1"
}

# Median of the numbers on stdin (the middle one; the lower middle of an even count).
bench_median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# Latency of one small O_DSYNC overwrite of a preallocated file in TMPDIR (the
# cost of the fdatasync a durable commit waits for), in ms: median of 5 runs of N.
bench_fsync_ms() { # N
	local f=$WORK/fsync.probe i
	dd if=/dev/zero of="$f" bs=4096 count="$1" conv=fsync status=none
	for i in 1 2 3 4 5; do
		dd if=/dev/zero of="$f" bs=4096 count="$1" oflag=dsync conv=notrunc 2>&1 |
			awk -v n="$1" '/copied/ { for (i = 1; i <= NF; i++) if ($i ~ /^s,?$/) t = $(i - 1);
				printf "%.3f\n", 1000 * t / n }'
	done | bench_median
	rm -f "$f"
}

# The machine: CPU, cores, kernel, TMPDIR's disk and filesystem, load average.
bench_machine() {
	local cpu src
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	src=$(df --output=source,fstype "$WORK" | tail -n 1 | awk '{ print $1 " (" $2 ")" }')
	echo "machine: ${cpu:-?}, $(nproc) cores, kernel $(uname -r), TMPDIR=${TMPDIR:-/tmp} on $src," \
		"load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
}
