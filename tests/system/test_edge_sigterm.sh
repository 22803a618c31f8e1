#!/usr/bin/env bash
# iot-edge stopped with SIGTERM under keep-alive load and restarted, three times: each stop exits 0 and every acknowledged reading is in InfluxDB once.
#
# SIGTERM_STOPS (3), SIGTERM_EVERY_SECONDS (4), SIGTERM_RATE (1000 readings/s
# over 8 keep-alive connections). The README promises a clean stop: requests
# already received are answered once committed, the rest are refused; iot-sim
# resends what met a connection error or a 503.
# A directory of our own for $WORK: other tools' clean-ups of /tmp/iot-edge-test.* must not hit a long run.
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

STOPS=${SIGTERM_STOPS:-3}
EVERY=${SIGTERM_EVERY_SECONDS:-4}
RATE=${SIGTERM_RATE:-1000}
DRAIN_LIMIT=${DRAIN_LIMIT_SECONDS:-120}

influx_start
edge_start IOT_EDGE_LOG_LEVEL=info
sim_bg load --rate "$RATE" --connections 8 --devices 50 --retries 150
for i in $(seq "$STOPS"); do
	sleep "$EVERY"
	sim_running load || fail "iot-sim ended early: $(tail -n 2 "$WORK/load.out")"
	edge_stop # fails unless iot-edge exits 0
	say "stop $i: iot-edge exited 0 after SIGTERM under load"
	edge_start IOT_EDGE_LOG_LEVEL=info
done
sleep "$EVERY"
sim_stop load
t=$(now_ns)
wait_until "$DRAIN_LIMIT" buffer_empty || fail "the buffer did not drain"
DRAIN_S=$(seconds_since "$t")
faults_verify "$STOPS x SIGTERM under $RATE/s on 8 keep-alive connections, each exit 0"
edge_stop
