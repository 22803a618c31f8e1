#!/usr/bin/env bash
# InfluxDB killed with SIGKILL and restarted, three times, while readings flow: nothing lost or duplicated.
#
# INFLUX_RESTARTS (3), RESTART_UP_SECONDS (8: InfluxDB runs this long between
# kills), RESTART_DOWN_SECONDS (5: and stays dead this long), RESTART_RATE
# (300 readings/s), DRAIN_LIMIT_SECONDS (120).
# A directory of our own for $WORK: other tools' clean-ups of /tmp/iot-edge-test.* must not hit a long run.
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

RATE=${RESTART_RATE:-300}
RESTARTS=${INFLUX_RESTARTS:-3}
UP=${RESTART_UP_SECONDS:-8}
DOWN=${RESTART_DOWN_SECONDS:-5}
DRAIN_LIMIT=${DRAIN_LIMIT_SECONDS:-120}

influx_start
edge_start
sim_bg load --rate "$RATE" --connections 4 --devices 10 --retries 10
DRAINS=""
for i in $(seq "$RESTARTS"); do
	sleep_watching "$UP"
	influx_stop KILL
	say "restart $i: influxd killed (SIGKILL), down for $DOWN s"
	sleep_watching "$DOWN"
	held=$(buffer_count)
	influx_start
	wait_drained "$(now_ns)" "$DRAIN_LIMIT"
	say "restart $i: $held points waited, drained $DRAIN_S s after InfluxDB answered again"
	[ "$held" -gt 0 ] || fail "restart $i: nothing waited in the buffer while InfluxDB was dead"
	DRAINS="$DRAINS${DRAINS:+/}$DRAIN_S"
done
sleep_watching "$UP"
sim_stop load
wait_until "$DRAIN_LIMIT" buffer_empty || fail "the buffer did not drain at the end"
DRAIN_S=$DRAINS
faults_verify "$RESTARTS x SIGKILL of influxd, ${DOWN}s down each, at ${RATE}/s"
edge_stop
