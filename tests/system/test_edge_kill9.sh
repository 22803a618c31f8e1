#!/usr/bin/env bash
# iot-edge killed with SIGKILL every few seconds for a minute while iot-sim keeps sending: every acknowledged reading in InfluxDB exactly once.
#
# EDGE_CRASH_SECONDS (60), EDGE_KILL_EVERY_SECONDS (3), EDGE_CRASH_RATE
# (300 readings/s), DRAIN_LIMIT_SECONDS (120). iot-sim resends a reading that
# met a connection error for up to 30 s and counts only what got a 2xx.
# A directory of our own for $WORK: other tools' clean-ups of /tmp/iot-edge-test.* must not hit a long run.
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

RATE=${EDGE_CRASH_RATE:-300}
SECS=${EDGE_CRASH_SECONDS:-60}
EVERY=${EDGE_KILL_EVERY_SECONDS:-3}
DRAIN_LIMIT=${DRAIN_LIMIT_SECONDS:-120}

influx_start
edge_start
sim_bg load --rate "$RATE" --count $((RATE * SECS)) --connections 4 --devices 10 --retries 150
kills=0
end=$((SECONDS + SECS))
while [ "$SECONDS" -lt "$end" ]; do
	sleep "$EVERY"
	sim_running load || break
	edge_kill9
	kills=$((kills + 1))
	edge_start
done
say "iot-edge killed with SIGKILL $kills times, restarted each time"
[ "$kills" -gt 0 ] || fail "iot-sim ended before the first kill"
sim_wait load $((SECS + 120))
t=$(now_ns)
wait_until "$DRAIN_LIMIT" buffer_empty || fail "the buffer did not drain"
DRAIN_S=$(seconds_since "$t")
faults_verify "$kills x SIGKILL of iot-edge every ${EVERY}s at ${RATE}/s, durability full; $(uplink_resent "$(wc -l <"$WORK/load.rec")") points delivered twice, overwritten"
edge_stop
