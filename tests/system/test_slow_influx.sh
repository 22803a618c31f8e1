#!/usr/bin/env bash
# A slow InfluxDB (a proxy adds seconds of latency and resets some requests): ingest keeps its rate, the uplink lags, then catches up; nothing lost or duplicated.
#
# SLOW_SECONDS (60 of ingest), SLOW_RATE (500 readings/s), SLOW_LATENCY_SECONDS
# (2, added to every request to InfluxDB), SLOW_RESET_EVERY (5: every 5th
# request is reset, alternately before it reaches InfluxDB and after InfluxDB
# stored it), SLOW_UPLINK_TIMEOUT (10s), DRAIN_LIMIT_SECONDS (120).
# A directory of our own for $WORK: other tools' clean-ups of /tmp/iot-edge-test.* must not hit a long run.
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

RATE=${SLOW_RATE:-500}
SECS=${SLOW_SECONDS:-60}
LATENCY=${SLOW_LATENCY_SECONDS:-2}
RESET_EVERY=${SLOW_RESET_EVERY:-5}
TIMEOUT=${SLOW_UPLINK_TIMEOUT:-10s}
DRAIN_LIMIT=${DRAIN_LIMIT_SECONDS:-120}

influx_start
proxy_start --latency "$LATENCY" --reset-every "$RESET_EVERY"
edge_start IOT_EDGE_UPLINK_URL="http://127.0.0.1:$PROXY_PORT" IOT_EDGE_UPLINK_TIMEOUT="$TIMEOUT"
t0=$(now_ns)
sim_bg load --rate "$RATE" --count $((RATE * SECS)) --connections 4 --devices 50 --retries 10
while sim_running load; do
	sleep_watching 1
done
sim_wait load 10
t1=$(now_ns)
ingest=$(awk -v n="$(wc -l <"$WORK/load.rec")" -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", n / ((b - a) / 1e9) }')
waiting=$(buffer_count)
say "ingest: $ingest readings/s acknowledged (target $RATE/s); the backlog peaked at $BACKLOG_MAX points, $waiting waited when iot-sim ended"
wait_drained "$t1" "$DRAIN_LIMIT"
say "the uplink caught up $DRAIN_S s after iot-sim ended"
proxy_stop
requests=$(proxy_stat requests)
before=$(proxy_stat "resets before")
after=$(proxy_stat "resets after")
[ "$BACKLOG_MAX" -gt 0 ] || fail "the backlog never grew: the latency did not slow the uplink"
[ "$before" -gt 0 ] || fail "no request was reset before reaching InfluxDB"
[ "$after" -gt 0 ] || fail "no request was reset after InfluxDB stored it"
faults_verify "latency ${LATENCY}s; $before+$after of $requests requests reset; ingest $ingest/s of $RATE/s; backlog max $BACKLOG_MAX"
edge_stop
