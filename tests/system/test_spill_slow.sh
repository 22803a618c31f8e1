#!/usr/bin/env bash
# buffer.write = spill against an InfluxDB that turns slower than spill_after and fast again: the points go direct, then spill, then direct again; every reading in InfluxDB exactly once.
#
# SPILL_RATE (10 readings/s), SPILL_PHASE_SECONDS (8 per phase: fast, slow,
# fast), SPILL_SLOW_LATENCY (1.5 s added per request in the slow phase, above
# the spill_after of 1 s), DRAIN_LIMIT_SECONDS (60).
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

RATE=${SPILL_RATE:-10}
PHASE=${SPILL_PHASE_SECONDS:-8}
SLOW=${SPILL_SLOW_LATENCY:-1.5}
DRAIN_LIMIT=${DRAIN_LIMIT_SECONDS:-60}
export IOT_EDGE_BUFFER_WRITE=spill # faults_verify reads /status in this mode

# One figure of /status's buffer.write.
write_stat() { curl -sf "$EDGE_URL/status" | jq -r ".buffer.write.$1"; }

influx_start
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE "iot"' >/dev/null ||
	fail "CREATE DATABASE failed"
proxy_start --latency 0
edge_start IOT_EDGE_UPLINK_URL="http://127.0.0.1:$PROXY_PORT" IOT_EDGE_BUFFER_SPILL_AFTER=1s \
	IOT_EDGE_UPLINK_TIMEOUT=10s
sim_bg load --rate "$RATE" --count $((RATE * PHASE * 3)) --connections 2 --devices 10 --retries 10
sleep_watching "$PHASE"
direct1=$(write_stat points_direct)
late1=$(write_stat points_spill_late)
say "fast: $direct1 points direct, $late1 spilled late"
proxy_mode "latency $SLOW"
sleep_watching "$PHASE"
direct2=$(write_stat points_direct)
late2=$(write_stat points_spill_late)
spilled2=$(write_stat points_spilled)
say "slow (${SLOW}s): $direct2 points direct in all, $late2 spilled late, $spilled2 spilled"
proxy_mode "latency 0"
sim_wait load $((PHASE * 3 + 60))
t=$(now_ns)
wait_until "$DRAIN_LIMIT" buffer_empty || fail "the buffer did not drain"
DRAIN_S=$(seconds_since "$t")
direct3=$(write_stat points_direct)
say "fast again: $direct3 points direct in all"
[ "$direct1" -gt 0 ] || fail "nothing went direct while InfluxDB was fast"
[ "$late2" -gt "$late1" ] || fail "nothing spilled late while InfluxDB took ${SLOW}s"
[ "$direct3" -gt "$direct2" ] || fail "nothing went direct again once InfluxDB was fast again"
proxy_stop
faults_verify "latency 0 -> ${SLOW}s -> 0 under a spill_after of 1s, $RATE/s"
edge_stop
