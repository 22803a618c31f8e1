#!/usr/bin/env bash
# Long outage catch-up: one hour of readings from 100 devices at 1/s (360 000, real timestamps over the past hour) buffered while InfluxDB is down, then the drain time while new readings keep arriving.
#
# OUTAGE_DEVICES (100), OUTAGE_SECONDS (3600 seconds of back-dated readings),
# OUTAGE_LIVE_SECONDS (60: live readings, 1/s per device, during the drain),
# DRAIN_LIMIT_SECONDS (300). The target is a drain under 30 s; it is reported,
# not asserted (timing depends on the machine).
# A directory of our own for $WORK: other tools' clean-ups of /tmp/iot-edge-test.* must not hit a long run.
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

DEVICES=${OUTAGE_DEVICES:-100}
SECS=${OUTAGE_SECONDS:-3600}
LIVE=${OUTAGE_LIVE_SECONDS:-60}
DRAIN_LIMIT=${DRAIN_LIMIT_SECONDS:-300}
TARGET=30
N=$((DEVICES * SECS))

# InfluxDB is not running: every delivery attempt is refused.
edge_start IOT_EDGE_LOG_LEVEL=info
# The hour that ended a minute ago; reading n at start + n/DEVICES s, so each
# device reports once a second and no two readings share a timestamp.
start=$(date -u -d "@$(($(date +%s) - SECS - 60))" +%Y-%m-%dT%H:%M:%SZ)
step_ns=$((1000000000 / DEVICES))
step=$(printf '%d.%09d' $((step_ns / 1000000000)) $((step_ns % 1000000000)))
t0=$(now_ns)
sim_bg backlog --count "$N" --devices "$DEVICES" --ts-start "$start" --ts-step "$step" \
	--interval 0 --batch 100 --connections 4 --retries 10
sim_wait backlog 900
fill_s=$(seconds_since "$t0")
assert_eq "$N" "$(buffer_count)" "readings buffered while InfluxDB is down"
say "buffered $N readings ($start + ${SECS} s) in $fill_s s; buffer file $(du -h "$BUFFER" | cut -f1)"

sim_bg live --devices "$DEVICES" --interval 1 --count $((DEVICES * LIVE)) --connections 2 --retries 10
sleep 2
influx_start
restored=$(now_ns)
say "InfluxDB is up: draining $N old readings while $DEVICES devices send 1/s"
wait_drained "$restored" "$DRAIN_LIMIT"
verdict="target $TARGET s: $(awk -v d="$DRAIN_S" -v t="$TARGET" 'BEGIN { print (d < t) ? "met" : "MISSED" }')"
say "the hour of readings drained in $DRAIN_S s ($verdict)"
sim_wait live $((LIVE + 120))
wait_until 60 buffer_empty || fail "the buffer did not drain after the live readings"
faults_verify "$N back-dated + live $DEVICES/s; buffered in $fill_s s; $verdict"
edge_stop
