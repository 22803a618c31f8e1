#!/usr/bin/env bash
# Soak: a steady load with a healthy uplink; iot-edge's RSS, open file descriptors and buffer file size each minute, none growing without bound.
#
# SOAK_SECONDS (600), SOAK_RATE (2000 readings/s, one reading per request over
# 4 keep-alive connections), SOAK_SAMPLE_SECONDS (60). Growth check: the
# largest sample of the second half may exceed the largest of the first half
# by at most 25 % plus a little (8 MiB of RSS, 4 fds, 8 MiB of file).
# A directory of our own for $WORK: other tools' clean-ups of /tmp/iot-edge-test.* must not hit a long run.
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

RATE=${SOAK_RATE:-2000}
SECS=${SOAK_SECONDS:-600}
SAMPLE=${SOAK_SAMPLE_SECONDS:-60}
DRAIN_LIMIT=${DRAIN_LIMIT_SECONDS:-120}
SAMPLES=$((SECS / SAMPLE))
[ "$SAMPLES" -ge 2 ] || fail "SOAK_SECONDS=$SECS gives fewer than 2 samples of $SAMPLE s: too short to judge growth"

influx_start
edge_start IOT_EDGE_LOG_LEVEL=info
t0=$(now_ns)
sim_bg load --rate "$RATE" --connections 4 --devices 100 --retries 10

file_bytes() {
	local f total=0
	for f in "$BUFFER" "$BUFFER-wal" "$BUFFER-shm"; do
		[ ! -e "$f" ] || total=$((total + $(stat -c %s "$f")))
	done
	echo "$total"
}

: >"$WORK/samples"
prev_count=0
prev_t=$t0
for i in $(seq "$SAMPLES"); do
	wait_s=$((t0 / 1000000000 + i * SAMPLE - $(date +%s)))
	[ "$wait_s" -le 0 ] || sleep "$wait_s"
	rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$EDGE_PID/status")
	fds=$(find "/proc/$EDGE_PID/fd" -mindepth 1 | wc -l)
	bytes=$(file_bytes)
	backlog=$(buffer_count)
	count=$(influx_count)
	t=$(now_ns)
	rate=$(awk -v n=$((count - prev_count)) -v a="$prev_t" -v b="$t" 'BEGIN { printf "%d", n / ((b - a) / 1e9) }')
	echo "$rss $fds $bytes" >>"$WORK/samples"
	say "at $(seconds_since "$t0") s: RSS $((rss / 1024)) MiB, fds $fds, buffer file $((bytes / 1024)) KiB, backlog $backlog, InfluxDB $count (+$rate/s)"
	prev_count=$count
	prev_t=$t
done
sim_stop load
ingest=$(awk -v n="$(wc -l <"$WORK/load.rec")" -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%d", n / ((b - a) / 1e9) }')
t=$(now_ns)
wait_until "$DRAIN_LIMIT" buffer_empty || fail "the buffer did not drain"
DRAIN_S=$(seconds_since "$t")

# growth COLUMN NAME SLACK: max of the second half <= 1.25 * max of the first half + SLACK.
growth() {
	awk -v c="$1" -v half=$((SAMPLES / 2)) -v slack="$3" -v name="$2" '
		NR <= half { if ($c > a) a = $c }
		NR > half { if ($c > b) b = $c }
		END {
			printf "%s: first half max %d, second half max %d (limit %d)\n", name, a, b, a * 1.25 + slack
			exit !(b <= a * 1.25 + slack)
		}' "$WORK/samples"
}
growth 1 "RSS KiB" 8192 | while read -r l; do say "$l"; done
growth 1 "RSS KiB" 8192 >/dev/null || fail "iot-edge's RSS kept growing"
growth 2 "open fds" 4 | while read -r l; do say "$l"; done
growth 2 "open fds" 4 >/dev/null || fail "iot-edge's open file descriptors kept growing"
growth 3 "buffer bytes" 8388608 | while read -r l; do say "$l"; done
growth 3 "buffer bytes" 8388608 >/dev/null || fail "the buffer file kept growing"
last=$(tail -n 1 "$WORK/samples")
faults_verify "${SECS}s at $RATE/s (ingest $ingest/s); last RSS $((${last%% *} / 1024)) MiB, fds $(cut -d' ' -f2 <<<"$last"), file $(($(cut -d' ' -f3 <<<"$last") / 1024)) KiB"
edge_stop
