#!/usr/bin/env bash
# run.sh -- the benchmark suite: every figure of issue #10 beside its baseline measured in the same run, in one table.
#
# Usage: tests/bench/run.sh [BUILD_DIR]      (default build-bench; made as a
#        release build with -DIOT_EDGE_BENCH=ON if its binaries are missing)
# QUICK=1 for a short run (~2-3 min); otherwise ~15 min (longer on a busy machine). ROUNDS overrides the
# rounds per figure (QUICK 1, else 3; the table shows the median round).
# Needs wrk, influxd, sqlite3, curl, jq. Everything runs on 127.0.0.1 in a
# temporary directory under TMPDIR (the disk measured) and is stopped by pid.
# No pass/fail on timing: it exits non-zero only when something broke (a
# process died or exited with an error, a count is wrong). docs/PERFORMANCE.md
# explains each figure and its baseline.
set -euo pipefail
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "${1:-$TOP/build-bench}" 2>/dev/null && pwd || echo "${1:-$TOP/build-bench}")
if [ "${QUICK:-0}" = 1 ]; then
	SECS=8 LP_REQUESTS=20 DRAIN_POINTS=300000 ROUNDS=${ROUNDS:-1}
else
	SECS=20 LP_REQUESTS=40 DRAIN_POINTS=2000000 ROUNDS=${ROUNDS:-3}
fi
CONNS=32
LP_POINTS=5000
LP_CLIENTS=4
command -v wrk >/dev/null || { echo "bench: needs wrk (apt-get install wrk)" >&2; exit 2; }
. "$TOP/tests/bench/bench_lib.sh"
MACHINE=$(bench_machine)
LUA=$TOP/tests/bench/post_reading.lua
ROWS=()
CMDS=()

# row FIGURE EDGE BASELINE RATIO TARGET MET
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.0f%%", 100 * a / b; else printf "-" }'; }
times() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else printf "-" }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { print (a >= b) ? "yes" : "no" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? "yes" : "no" }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f MB", k / 1024 }'; }
say "$MACHINE"

# --- the disk's physical limit ---------------------------------------------
FSYNC_MS=$(bench_fsync_ms 200)
CMDS+=("fsync:  dd if=/dev/zero of=\$TMPDIR/probe bs=4096 count=200 oflag=dsync conv=notrunc (preallocated; median of 5)")

# --- single-reading POST /data, 32 connections, durability=full -------------
WRK="wrk -t2 -c$CONNS -d${SECS}s --latency -s $LUA"
post_raw() { # [--turbo]: one round: appends "rps p50 p99" to $WORK/raw.r (turbo: raw2.r)
	local out=$WORK/raw${1:+2}
	bench_raw_start "$@"
	if [ $# = 0 ]; then
		RAW_START+=("$BENCH_START_MS")
		RAW_IDLE_KB=$(bench_kb "$RAW_PID" VmRSS)
		RAW_ANON_KB=$(bench_kb "$RAW_PID" RssAnon)
	fi
	$WRK "http://127.0.0.1:$RAW_PORT/data" >"$out.wrk"
	[ $# != 0 ] || RAW_PEAK_KB=$(bench_kb "$RAW_PID" VmHWM)
	bench_raw_stop
	read -r rps p50 p99 bad n err < <(bench_wrk_numbers "$out.wrk")
	[ "$bad" = 0 ] && [ "$err" = 0 ] && [ "$n" -gt 0 ] ||
		fail "raw_mhd $*: $bad non-2xx answers, $err socket errors, $n requests"
	echo "$rps $p50 $p99" >>"$out.r"
}
post_edge() { # one round: appends "rps p50 p99 per_commit bytes_per_point idle_kb peak_kb"
	local w0 w1 idle stored
	rm -f "$BUFFER"*
	bench_edge_start IOT_EDGE_BUFFER_DURABILITY=full
	EDGE_START+=("$BENCH_START_MS")
	sleep 1
	idle=$(bench_kb "$EDGE_PID" VmRSS)
	anon=$(bench_kb "$EDGE_PID" RssAnon)
	w0=$(bench_write_bytes "$EDGE_PID")
	$WRK "$EDGE_URL/data" >"$WORK/edge.wrk"
	w1=$(bench_write_bytes "$EDGE_PID")
	peak=$(bench_kb "$EDGE_PID" VmHWM)
	edge_stop
	read -r rps p50 p99 bad n err < <(bench_wrk_numbers "$WORK/edge.wrk")
	[ "$bad" = 0 ] && [ "$err" = 0 ] && [ "$n" -gt 0 ] ||
		fail "iot-edge POST /data: $bad non-2xx answers, $err socket errors, $n requests"
	# every 201 is stored; a few more are stored than wrk counted: requests
	# in flight when wrk's time ran out (about one per connection; seen: 33)
	stored=$(buffer_count)
	[ "$stored" -ge "$n" ] && [ "$stored" -le $((n + 2 * CONNS)) ] ||
		fail "iot-edge POST /data: $n answered 201 but $stored points in the buffer"
	echo "$rps $p50 $p99 $(bench_per_commit) $(((w1 - w0) / stored)) $idle $peak $anon" >>"$WORK/edge.r"
}
RAW_START=() EDGE_START=()
: >"$WORK/raw.r"
: >"$WORK/raw2.r"
: >"$WORK/edge.r"
for _ in $(seq "$ROUNDS"); do
	post_raw
	post_raw --turbo
	post_edge
done
col() { awk -v c="$1" '{ print $c }' "$2" | bench_median; }
turbo_rps=$(col 1 "$WORK/raw2.r")
raw_rps=$(col 1 "$WORK/raw.r") raw_p50=$(col 2 "$WORK/raw.r") raw_p99=$(col 3 "$WORK/raw.r")
e_rps=$(col 1 "$WORK/edge.r") e_p50=$(col 2 "$WORK/edge.r") e_p99=$(col 3 "$WORK/edge.r")
e_commit=$(col 4 "$WORK/edge.r") e_bpp=$(col 5 "$WORK/edge.r")
E_IDLE_KB=$(col 6 "$WORK/edge.r") E_PEAK_POST_KB=$(col 7 "$WORK/edge.r") E_ANON_KB=$(col 8 "$WORK/edge.r")
ceiling=$(awk -v c="$CONNS" -v f="$FSYNC_MS" 'BEGIN { printf "%.0f", c * 1000 / f }')
payload=$(sed -n "s/^wrk.body = '\\(.*\\)'\$/\\1/p" "$LUA" | tr -d '\n' | wc -c)
row "POST /data, 1 reading, $CONNS conns, full: requests/s" "$e_rps" "$raw_rps (raw MHD)" \
	"$(pct "$e_rps" "$raw_rps")" ">= 50%" "$(ge "$(pct "$e_rps" "$raw_rps" | tr -d %)" 50)"
row "POST /data vs the 2-thread turbo ceiling" "$e_rps" "$turbo_rps (MHD, 2 threads, epoll, turbo)" \
	"$(times "$e_rps" "$turbo_rps")" ">= 0.40x" "$(ge "$(awk -v a="$e_rps" -v b="$turbo_rps" \
	'BEGIN { printf "%.4f", (b > 0 ? a / b : 0) }')" 0.40)"
row "POST /data p50 latency, ms" "$e_p50" "$raw_p50 (raw MHD)" "$(times "$e_p50" "$raw_p50")" "-" "-"
row "POST /data p99 latency, ms" "$e_p99" "$raw_p99 (raw MHD)" "$(times "$e_p99" "$raw_p99")" \
	"<= 10 ms" "$(le "$e_p99" 10)"
row "POST /data requests/s vs the fsync ceiling" "$e_rps" \
	"$ceiling ($CONNS per fdatasync of $FSYNC_MS ms)" "$(pct "$e_rps" "$ceiling")" "-" "-"
row "POST /data points per group commit" "$e_commit" "$CONNS (all connections)" \
	"$(pct "$e_commit" "$CONNS")" "-" "-"
row "POST /data bytes written to disk per point" "$e_bpp" "$payload (JSON body)" \
	"$(times "$e_bpp" "$payload")" "-" "-"
CMDS+=("post:   $WRK URL/data   (wrk $( (wrk -v 2>&1 || true) | awk 'NR == 1 { print $2 }'); load generator, not measured)")
CMDS+=("  raw:  $RAW_MHD PORT   (libmicrohttpd, same flags as edge/ingest/http.c, 201 without storing)")
CMDS+=("  ceiling: $RAW_MHD --turbo PORT   (MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO, MHD_OPTION_THREAD_POOL_SIZE 2, 201 without storing)")
CMDS+=("  edge: IOT_EDGE_BUFFER_DURABILITY=full IOT_EDGE_UPLINK_URL=http://127.0.0.1:9 $IOT_EDGE -c /dev/null")

# --- 5000-point line-protocol requests into the buffer ----------------------
for r in $(seq "$LP_REQUESTS"); do
	awk -v r="$r" -v n="$LP_POINTS" 'BEGIN {
		for (i = 0; i < n; i++) {
			k = (r - 1) * n + i
			printf "env,site=greenhouse-3,device=dev%04d temp=%d.%d,hum=%d.5,co2=%di,ok=true 17%017d\n",
				k % 500, 15 + k % 20, k % 10, 30 + k % 50, 400 + k % 300, k
		}
	}' >"$WORK/req$r.txt"
done
LP_TOTAL=$((LP_REQUESTS * LP_POINTS))
lp_config() { # FIRST LAST: a curl config sending those requests on one connection
	local r
	for r in $(seq "$1" "$2"); do
		[ "$r" = "$1" ] || echo next
		printf 'url = "%s/write?db=bench"\n' "$EDGE_URL"
		printf 'data-binary = "@%s/req%s.txt"\n' "$WORK" "$r"
		printf 'header = "Content-Type: text/plain"\noutput = "/dev/null"\n'
		printf 'write-out = "%%{http_code}\\n"\n'
	done
}
lp_edge() { # CLIENTS: appends "points/s bytes_per_point peak_kb" to $WORK/lp$CLIENTS.r
	local per c first t0 t1 ok stored w0 w1 peak pids=()
	rm -f "$BUFFER"*
	bench_edge_start IOT_EDGE_BUFFER_DURABILITY=full IOT_EDGE_HTTP_MAX_BODY=64MiB
	per=$((LP_REQUESTS / $1))
	for c in $(seq "$1"); do
		first=$(((c - 1) * per + 1))
		lp_config "$first" $((c == $1 ? LP_REQUESTS : first + per - 1)) >"$WORK/curl$c.cfg"
	done
	w0=$(bench_write_bytes "$EDGE_PID")
	t0=$EPOCHREALTIME
	for c in $(seq "$1"); do
		curl -s -K "$WORK/curl$c.cfg" >"$WORK/codes$c.txt" &
		pids+=($!)
	done
	wait "${pids[@]}" || fail "a curl client failed"
	t1=$EPOCHREALTIME
	w1=$(bench_write_bytes "$EDGE_PID")
	peak=$(bench_kb "$EDGE_PID" VmHWM)
	edge_stop
	ok=$(cat "$WORK"/codes*.txt | grep -c '^204$' || true)
	rm -f "$WORK"/codes*.txt
	[ "$ok" = "$LP_REQUESTS" ] || fail "line protocol: $ok of $LP_REQUESTS requests got 204"
	stored=$(buffer_count)
	[ "$stored" = "$LP_TOTAL" ] || fail "line protocol: $stored points in the buffer, not $LP_TOTAL"
	[ -s "$WORK/canonical.txt" ] ||
		sqlite3 "$BUFFER" 'SELECT line FROM points ORDER BY id' >"$WORK/canonical.txt"
	awk -v a="$t0" -v b="$t1" -v n="$LP_TOTAL" -v w=$((w1 - w0)) -v p="$peak" \
		'BEGIN { printf "%.0f %.0f %d\n", n / (b - a), w / n, p }' >>"$WORK/lp$1.r"
}
: >"$WORK/lp1.r"
: >"$WORK/lp$LP_CLIENTS.r"
: >"$WORK/lpraw.r"
: >"$WORK/lpstore.r"
for _ in $(seq "$ROUNDS"); do
	lp_edge 1
	lp_edge "$LP_CLIENTS"
	rm -f "$WORK"/raw.db*
	"$SQLITE_RAW" "$WORK/raw.db" full "$LP_POINTS" "$WORK/canonical.txt" >"$WORK/raw.out" ||
		fail "bench_sqlite_raw failed"
	read -r n _ pps <"$WORK/raw.out"
	[ "$n" = "$LP_TOTAL" ] || fail "bench_sqlite_raw inserted $n points, not $LP_TOTAL"
	echo "$pps" >>"$WORK/lpraw.r"
	rm -f "$WORK"/storage.db*
	"$STORAGE_APPEND" "$WORK/storage.db" full "$LP_POINTS" "$WORK/canonical.txt" \
		>"$WORK/store.out" 2>>"$WORK/store.log" || fail "bench_storage_append failed"
	read -r n _ pps <"$WORK/store.out"
	[ "$n" = "$LP_TOTAL" ] || fail "bench_storage_append stored $n points, not $LP_TOTAL"
	echo "$pps" >>"$WORK/lpstore.r"
done
lp_raw=$(bench_median <"$WORK/lpraw.r")
lp_store=$(bench_median <"$WORK/lpstore.r")
lp1=$(col 1 "$WORK/lp1.r")
lpn=$(col 1 "$WORK/lp$LP_CLIENTS.r")
lp_bpp=$(col 2 "$WORK/lp1.r")
E_PEAK_LP_KB=$(col 3 "$WORK/lp$LP_CLIENTS.r")
lp_line=$(awk '{ n += length($0) + 1 } END { printf "%.0f", n / NR }' "$WORK/canonical.txt")
row "$LP_POINTS-point /write, 1 client, full: points/s" "$lp1" "$lp_raw (raw SQLite)" \
	"$(pct "$lp1" "$lp_raw")" ">= 50%" "$(ge "$(pct "$lp1" "$lp_raw" | tr -d %)" 50)"
row "$LP_POINTS-point /write, $LP_CLIENTS clients, full: points/s" "$lpn" "$lp_raw (raw SQLite)" \
	"$(pct "$lpn" "$lp_raw")" ">= 50%" "$(ge "$(pct "$lpn" "$lp_raw" | tr -d %)" 50)"
row "  storage_append() alone (no HTTP, no parsing)" "$lp_store" "$lp_raw (raw SQLite)" \
	"$(pct "$lp_store" "$lp_raw")" "-" "-"
row "$LP_POINTS-point /write bytes written to disk per point" "$lp_bpp" "$lp_line (line + newline)" \
	"$(times "$lp_bpp" "$lp_line")" "-" "-"
CMDS+=("lp:     curl -s -K CONFIG  (1 or $LP_CLIENTS clients, each one keep-alive connection, $LP_REQUESTS requests of $LP_POINTS points in all, IOT_EDGE_HTTP_MAX_BODY=64MiB)")
CMDS+=("  raw:  $SQLITE_RAW DB full $LP_POINTS CANONICAL_LINES   (same schema and pragmas, prepared INSERT, $LP_POINTS per transaction)")
CMDS+=("  also: $STORAGE_APPEND DB full $LP_POINTS CANONICAL_LINES")

# --- backlog drain into a real influxd ---------------------------------------
influx_start
bench_buffer_init
buffer_fill "$DRAIN_POINTS" 1
sqlite3 "$BUFFER" 'SELECT line FROM points ORDER BY id' | split -l 5000 - "$WORK/batch."
cp "$BUFFER" "$WORK/backlog.db"
count_in() { # DB: points in measurement data of database DB
	curl -sfG "$INFLUX_URL/query" --data-urlencode "db=$1" \
		--data-urlencode 'q=SELECT count("value") FROM "data"' |
		jq -r '.results[0].series[0].values[0][1] // 0'
}
drain_curl() { # DB: appends points/s to $WORK/dcurl.r
	local t0 t1 f code
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE \"$1\"" >/dev/null
	t0=$EPOCHREALTIME
	for f in "$WORK"/batch.*; do
		code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: text/plain' \
			--data-binary "@$f" "$INFLUX_URL/write?db=$1&precision=ns")
		[ "$code" = 204 ] || fail "curl loop: HTTP $code for $f"
	done
	t1=$EPOCHREALTIME
	[ "$(count_in "$1")" = "$DRAIN_POINTS" ] || fail "curl loop: $(count_in "$1") points in $1"
	awk -v a="$t0" -v b="$t1" -v n="$DRAIN_POINTS" 'BEGIN { printf "%.0f\n", n / (b - a) }' \
		>>"$WORK/dcurl.r"
}
buffer_drained() {
	[ "$(sqlite3 -cmd '.timeout 5000' "$BUFFER" 'SELECT NOT EXISTS (SELECT 1 FROM points)')" = 1 ]
}
drain_edge() { # DB GZIP: appends "points/s peak_kb" to $WORK/dedge-GZIP.r
	local t0 t1 peak
	rm -f "$BUFFER"*
	cp "$WORK/backlog.db" "$BUFFER"
	bench_edge_start IOT_EDGE_UPLINK_URL="$INFLUX_URL" IOT_EDGE_UPLINK_DATABASE="$1" \
		IOT_EDGE_UPLINK_GZIP="$2"
	wait_until 900 buffer_drained || fail "iot-edge did not drain ($(buffer_count) left)"
	t1=$EPOCHREALTIME
	peak=$(bench_kb "$EDGE_PID" VmHWM)
	# from the uplink thread's start: opening and checking the buffer is start-up
	t0=$(date -d "$(grep -m1 '\[uplink\] forwarding to' "$EDGE_LOG" | cut -d' ' -f1)" +%s.%N)
	edge_stop
	[ "$(count_in "$1")" = "$DRAIN_POINTS" ] || fail "iot-edge drain: $(count_in "$1") points in $1"
	awk -v a="$t0" -v b="$t1" -v n="$DRAIN_POINTS" -v p="$peak" \
		'BEGIN { printf "%.0f %d\n", n / (b - a), p }' >>"$WORK/dedge-$2.r"
}
: >"$WORK/dcurl.r"
: >"$WORK/dedge-true.r"
: >"$WORK/dedge-false.r"
for round in $(seq "$ROUNDS"); do
	# alternate the order: influxd gets slower as it fills
	if [ $((round % 2)) = 1 ]; then
		drain_curl "curl_$round"
		drain_edge "edge_$round" true
		drain_edge "plain_$round" false
	else
		drain_edge "plain_$round" false
		drain_edge "edge_$round" true
		drain_curl "curl_$round"
	fi
done
d_curl=$(bench_median <"$WORK/dcurl.r")
d_edge=$(col 1 "$WORK/dedge-true.r")
d_plain=$(col 1 "$WORK/dedge-false.r")
E_PEAK_DRAIN_KB=$(col 2 "$WORK/dedge-true.r")
row "backlog drain into influxd, gzip (default): points/s" "$d_edge" "$d_curl (curl loop)" \
	"$(pct "$d_edge" "$d_curl")" ">= 90%" "$(ge "$(pct "$d_edge" "$d_curl" | tr -d %)" 90)"
row "  the same, gzip off (as the curl loop sends)" "$d_plain" "$d_curl (curl loop)" \
	"$(pct "$d_plain" "$d_curl")" ">= 90%" "$(ge "$(pct "$d_plain" "$d_curl" | tr -d %)" 90)"
CMDS+=("drain:  $DRAIN_POINTS points (buffer_fill) in batches of 5000 into influxd $(influxd version 2>/dev/null | awk '{ print $2 }') on 127.0.0.1, a fresh database per run")
CMDS+=("  raw:  for f in batch.*; do curl -s -XPOST --data-binary @\$f 'URL/write?db=D&precision=ns'; done")
CMDS+=("  edge: IOT_EDGE_UPLINK_URL=URL IOT_EDGE_UPLINK_DATABASE=D $IOT_EDGE -c /dev/null   IOT_EDGE_UPLINK_GZIP=true|false (5000 per batch, the default); timed from '[uplink] forwarding to' to an empty buffer")

# --- worst-case parse time per MB (issue #15): what the limits let through ----
"$PARSE" 5 >"$WORK/parse.txt" || fail "bench_parse failed"
pm() { awk -v n="$1" '$1 == n { print $4 }' "$WORK/parse.txt"; }
row "parse ms per MB, worst JSON (one object of 120 000 fields)" "$(pm json_120000_fields)" \
	"$(pm json_seed_array) (array of seed readings)" \
	"$(times "$(pm json_120000_fields)" "$(pm json_seed_array)")" "-" "-"
row "parse ms per MB, worst line protocol (1024-field lines)" "$(pm lp_1024_fields)" \
	"$(pm lp_short_lines) (short lines)" "$(times "$(pm lp_1024_fields)" "$(pm lp_short_lines)")" \
	"-" "-"
CMDS+=("parse:  $PARSE 5   (edge/model in-process: median of 5 parses of each ~1 MiB body, ms per MiB)")
# --- MQTT QoS 1 into the buffer (tests/bench/bench_mqtt.sh) --------------------
. "$TOP/tests/bench/bench_mqtt.sh"
# --- buffer.write (issue #16): bytes per reading; POST /data on a slow disk ---
. "$TOP/tests/bench/bench_spill.sh"

# --- memory, start-up, size ---------------------------------------------------
raw_idle=$RAW_IDLE_KB
row "RSS idle (VmRSS, 1 s after ready)" "$(mb "$E_IDLE_KB")" "$(mb "$raw_idle") (raw MHD)" \
	"$(times "$E_IDLE_KB" "$raw_idle")" "<= 8 MB" "$(le "$E_IDLE_KB" 8192)"
row "  of it anonymous (RssAnon: heap, stacks, caches)" "$(mb "$E_ANON_KB")" "$(mb "$RAW_ANON_KB") (raw MHD)" \
	"$(times "$E_ANON_KB" "$RAW_ANON_KB")" "-" "-"
row "RSS peak (VmHWM), POST /data load" "$(mb "$E_PEAK_POST_KB")" "$(mb "$RAW_PEAK_KB") (raw MHD)" \
	"$(times "$E_PEAK_POST_KB" "$RAW_PEAK_KB")" "<= 16 MB" "$(le "$E_PEAK_POST_KB" 16384)"
row "RSS peak (VmHWM), $LP_POINTS-point /write load" "$(mb "$E_PEAK_LP_KB")" "-" "-" "<= 16 MB" \
	"$(le "$E_PEAK_LP_KB" 16384)"
row "RSS peak (VmHWM), drain into influxd" "$(mb "$E_PEAK_DRAIN_KB")" "-" "-" "<= 16 MB" \
	"$(le "$E_PEAK_DRAIN_KB" 16384)"
e_start=$(printf '%s\n' "${EDGE_START[@]}" | bench_median)
r_start=$(printf '%s\n' "${RAW_START[@]}" | bench_median)
row "start-up: exec -> first 204 from /ping, ms" "$e_start" "$r_start (raw MHD, first answer)" \
	"$(times "$e_start" "$r_start")" "-" "-"
strip -o "$WORK/iot-edge.stripped" "$IOT_EDGE"
strip -o "$WORK/raw_mhd.stripped" "$RAW_MHD"
kb() { awk -v b="$(stat -L -c %s "$1")" 'BEGIN { printf "%.0f", b / 1024 }'; }
row "binary size as built, kB" "$(kb "$IOT_EDGE")" "$(kb "$RAW_MHD") (raw MHD)" "-" "-" "-"
row "binary size stripped, kB" "$(kb "$WORK/iot-edge.stripped")" \
	"$(kb "$WORK/raw_mhd.stripped") (raw MHD)" "-" "-" "-"
CMDS+=("memory: VmRSS / VmHWM from /proc/PID/status; written: write_bytes of /proc/PID/io over the load / points stored")
CMDS+=("start:  bash /dev/tcp GET /ping every 2 ms from exec; median of $ROUNDS")

echo
echo "## iot-edge benchmark ($(date -u +%FT%TZ), $([ "${QUICK:-0}" = 1 ] && echo QUICK || echo full) mode, median of $ROUNDS round(s))"
echo
echo "| figure | iot-edge | baseline | ratio | target | met? |"
echo "|---|---:|---:|---:|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "fdatasync latency of TMPDIR's disk: $FSYNC_MS ms"
printf '%s\n' "${CMDS[@]}"
echo "build:  $BUILD ($(grep -m1 '^CMAKE_BUILD_TYPE' "$BUILD/CMakeCache.txt" 2>/dev/null | cut -d= -f2))"
echo "$MACHINE"
