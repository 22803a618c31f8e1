#!/usr/bin/env bash
# iot-sim's load features the system tests rely on: --batch, --ts-start/--ts-step, --record, --connections, --rate, retries, bad usage.
# A directory of our own for $WORK: other tools' clean-ups of /tmp/iot-edge-test.* must not hit a long run.
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

# Bad usage: exit status 2 and a reason, nothing sent.
for args in "--rate 5 --interval 1" "--ts-step 1" "--ts-start 2024-02-30T00:00:00Z" \
	"--ts-start 2024-05-01T12:00:00+02:00" "--ts-start 2024-05-01T12:00:00Z --ts-step 0" \
	"--batch 0" "--batch 10001" "--connections 0" "--rate 0" "--rate x"; do
	rc=0
	# shellcheck disable=SC2086 # the words are meant to split
	"$IOT_SIM" -p 1 $args >"$WORK/usage.out" 2>&1 || rc=$?
	assert_eq 2 "$rc" "exit status for '$args'"
done

influx_start
edge_start

# Back-dated batches over several connections: exact timestamps, devices and one record line each.
"$IOT_SIM" -h 127.0.0.1 -p "$EDGE_PORT" --count 1000 --devices 20 --batch 9 --connections 3 \
	--interval 0 --ts-start 2024-05-01T12:00:00.5Z --ts-step 0.25 --seed 42 \
	--record "$WORK/batch.rec" >"$WORK/batch.out" || fail "iot-sim: $(tail -n 1 "$WORK/batch.out")"
assert_eq "iot-sim: sent 1000, 2xx 1000, errors 0 (http 0, connection 0)" "$(tail -n 1 "$WORK/batch.out")" "summary"
# A batch never spans two rounds: 50 rounds of 20 devices as 9 + 9 + 2.
assert_eq 150 "$(grep -c '^POST .* -> 201$' "$WORK/batch.out")" "requests"
sizes=$(grep '^POST [^ ]* \[{.*}\] -> 201$' "$WORK/batch.out" |
	awk '{ print gsub(/"sensor_id"/, "") }' | sort -n | uniq -c | awk '{ printf "%s", $1 "x" $2 " " }')
assert_eq "50x2 100x9 " "$sizes" "JSON arrays by size"
assert_eq 1000 "$(wc -l <"$WORK/batch.rec")" "record lines"
first=$(date -u -d 2024-05-01T12:00:00.5Z +%s%N)
# (Nanosecond times need 64-bit integers: bash, not awk's doubles.)
for n in $(seq 0 999); do echo $((first + n * 250000000)); done | sort >"$WORK/want_ts"
cut -d' ' -f1 "$WORK/batch.rec" | sort >"$WORK/got_ts"
diff -q "$WORK/want_ts" "$WORK/got_ts" >/dev/null || fail "timestamps are not start + n * step"
say "ok: timestamps are exactly start + n * 0.25 s"
# Reading n comes from device n % 20 + 1: the reading at start + n*step names that device.
bad=0
while read -r ts dev _ status; do
	n=$(((ts - first) / 250000000))
	[ "$dev" = $((n % 20 + 1)) ] && [ "$status" = 201 ] || bad=$((bad + 1))
done <"$WORK/batch.rec"
assert_eq 0 "$bad" "readings with the wrong device or status"
# The record and stdout agree with each other and with InfluxDB.
sim_points "$WORK/batch.out" | cut -d' ' -f1-2 >"$WORK/printed"
cut -d' ' -f1-2 "$WORK/batch.rec" | sort >"$WORK/recorded"
diff -q "$WORK/printed" "$WORK/recorded" >/dev/null || fail "stdout and --record differ"
wait_until 60 buffer_empty || fail "the buffer did not drain"
influx_rows >"$WORK/stored"
cut -d' ' -f1-3 "$WORK/batch.rec" | sort >"$WORK/sent"
diff -q "$WORK/sent" "$WORK/stored" >/dev/null || fail "InfluxDB differs from the record"
say "ok: InfluxDB holds exactly the 1000 recorded readings"

# The same seed gives the same values, reading by reading.
"$IOT_SIM" -p 1 --count 5 --interval 0 --seed 42 --retries 0 >"$WORK/seed.out" || true
want=$(grep -o '"value":[0-9]*' "$WORK/seed.out" | cut -d: -f2 | tr '\n' ' ')
got=$(sort -k1,1n "$WORK/batch.rec" | awk 'NR <= 5 { printf "%s ", $3 }')
assert_eq "$want" "$got" "values of the first five readings with --seed 42"

# Live timestamps over 4 connections: unique, all acknowledged, and --rate paces.
"$IOT_SIM" -h 127.0.0.1 -p "$EDGE_PORT" --quiet --count 600 --rate 300 --connections 4 \
	--devices 3 --record "$WORK/live.rec" >"$WORK/live.out" || fail "iot-sim: $(tail -n 1 "$WORK/live.out")"
assert_eq 600 "$(cut -d' ' -f1 "$WORK/live.rec" | sort -u | wc -l)" "distinct live timestamps"
assert_eq 1 "$(wc -l <"$WORK/live.out")" "lines printed with --quiet"

# Connection errors: retried, recorded with status 0, exit status 1.
rc=0
"$IOT_SIM" -h 127.0.0.1 -p "$(free_port)" --count 4 --interval 0 --connections 2 --retries 2 \
	--record "$WORK/err.rec" >"$WORK/err.out" || rc=$?
assert_eq 1 "$rc" "exit status when nothing got through"
assert_eq "iot-sim: sent 4, 2xx 0, errors 4 (http 0, connection 4)" "$(tail -n 1 "$WORK/err.out")" "summary"
assert_eq 4 "$(grep -c '(attempts: 3)$' "$WORK/err.out")" "readings tried three times"
assert_eq 4 "$(awk '$4 == 0' "$WORK/err.rec" | wc -l)" "record lines with status 0"
edge_stop
