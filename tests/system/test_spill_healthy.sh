#!/usr/bin/env bash
# buffer.write = spill with InfluxDB healthy, 10 readings/s: every reading in InfluxDB exactly once, almost nothing written to disk (the bytes per reading are printed); UDP and the edge collector go direct too.
#
# SPILL_RATE (10 readings/s), SPILL_SECONDS (30), SPILL_DEVICES (10).
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"
. "$(dirname "$0")/../integration/ingest_lib.sh"

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
UDP_PORT=$(free_udp_port)
edge_start IOT_EDGE_BUFFER_WRITE=spill IOT_EDGE_BUFFER_SPILL_AFTER=1s IOT_EDGE_LOG_LEVEL=warn \
	IOT_EDGE_UDP_LISTEN="127.0.0.1:$UDP_PORT" IOT_EDGE_COLLECTOR_EDGE_ENABLED=true \
	IOT_EDGE_COLLECTOR_EDGE_INTERVAL=1s
# Let start-up's own writes (schema, WAL) settle before counting.
sleep 2
w0=$(edge_write_bytes)
sim_bg load --rate "$RATE" --count $((RATE * SECS)) --connections 2 --devices "$DEVICES" --retries 5
sim_wait load $((SECS + 60))
# 20 datagrams of one point each: nobody waits for their answer.
for i in $(seq 20); do
	udp_send "$UDP_PORT" "udp_spill,src=dgram v=$i ${i}000000000"
done
udp_in() { influx_query 'SELECT count("v") FROM "udp_spill"' | jq -r '.results[0].series[0].values[0][1] // 0'; }
wait_until 20 eval '[ "$(udp_in)" = 20 ]' || fail "$(udp_in) of 20 UDP points in InfluxDB"
say "ok: 20 UDP points in InfluxDB"
sleep 1
w1=$(edge_write_bytes)
n=$(wc -l <"$WORK/load.rec")
edge_points=$(influx_query 'SELECT count("points_direct") FROM "iot_edge"' |
	jq -r '.results[0].series[0].values[0][1] // 0')
[ "$edge_points" -gt 0 ] || fail "no iot_edge point with points_direct in InfluxDB"
say "ok: $edge_points iot_edge points (the edge collector) with points_direct in InfluxDB"
curl -sf "$EDGE_URL/status" >"$WORK/status.json" || fail "GET /status failed"
direct=$(jq -r '.buffer.write.points_direct' "$WORK/status.json")
spilled=$(jq -r '.buffer.write.points_spilled' "$WORK/status.json")
per=$(awk -v b=$((w1 - w0)) -v n="$n" 'BEGIN { printf "%.1f", b / n }')
say "MEASURED spill, uplink up, $RATE readings/s: $((w1 - w0)) bytes written for $n readings = $per bytes per reading ($(awk -v p="$per" -v r="$RATE" 'BEGIN { printf "%.1f MB", p * r * 86400 / 1e6 }') per day); direct $direct, spilled $spilled"
faults_verify "spill, $RATE/s, $per B written per reading, direct $direct, spilled $spilled"
# The readings, the datagrams and the edge collector's points (one more may be on its way).
all=$((n + 20 + edge_points))
[ $((direct + spilled)) -ge "$all" ] && [ $((direct + spilled)) -le $((all + 2)) ] ||
	fail "points direct $direct + spilled $spilled, expected $all"
say "ok: points direct + spilled = $((direct + spilled)) (readings $n, UDP 20, iot_edge $edge_points)"
# Not a timing bound: with InfluxDB healthy a spill is the exception.
[ "$spilled" -le $((n / 10)) ] || fail "$spilled of $n readings spilled with InfluxDB healthy"
edge_stop
