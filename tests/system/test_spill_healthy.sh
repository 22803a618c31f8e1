#!/usr/bin/env bash
# buffer.write = spill with InfluxDB healthy, 10 readings/s: every reading in InfluxDB exactly once, almost nothing written to disk (the bytes per reading are printed).
#
# SPILL_RATE (10 readings/s), SPILL_SECONDS (30), SPILL_DEVICES (10).
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

RATE=${SPILL_RATE:-10}
SECS=${SPILL_SECONDS:-30}
DEVICES=${SPILL_DEVICES:-10}

# write_bytes of iot-edge so far (/proc/PID/io: what it made the kernel write to disk).
edge_write_bytes() { awk '$1 == "write_bytes:" { print $2 }' "/proc/$EDGE_PID/io"; }

influx_start
# The database exists beforehand (its creation is a spill: the first write gets 404).
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE "iot"' >/dev/null ||
	fail "CREATE DATABASE failed"
# Log level warn: the log file's own writes would count in write_bytes.
edge_start IOT_EDGE_BUFFER_WRITE=spill IOT_EDGE_BUFFER_SPILL_AFTER=1s IOT_EDGE_LOG_LEVEL=warn
# Let start-up's own writes (schema, WAL) settle before counting.
sleep 2
w0=$(edge_write_bytes)
sim_bg load --rate "$RATE" --count $((RATE * SECS)) --connections 2 --devices "$DEVICES" --retries 5
sim_wait load $((SECS + 60))
sleep 1
w1=$(edge_write_bytes)
n=$(wc -l <"$WORK/load.rec")
curl -sf "$EDGE_URL/status" >"$WORK/status.json" || fail "GET /status failed"
direct=$(jq -r '.buffer.write.points_direct' "$WORK/status.json")
spilled=$(jq -r '.buffer.write.points_spilled' "$WORK/status.json")
per=$(awk -v b=$((w1 - w0)) -v n="$n" 'BEGIN { printf "%.1f", b / n }')
say "MEASURED spill, uplink up, $RATE readings/s: $((w1 - w0)) bytes written for $n readings = $per bytes per reading ($(awk -v p="$per" -v r="$RATE" 'BEGIN { printf "%.1f MB", p * r * 86400 / 1e6 }') per day); direct $direct, spilled $spilled"
faults_verify "spill, $RATE/s, $per B written per reading, direct $direct, spilled $spilled"
assert_eq "$n" "$((direct + spilled))" "points direct + spilled = readings"
# Not a timing bound: with InfluxDB healthy a spill is the exception.
[ "$spilled" -le $((n / 10)) ] || fail "$spilled of $n readings spilled with InfluxDB healthy"
edge_stop
