#!/usr/bin/env bash
# Network loss between iot-edge and InfluxDB (own namespaces, veth): two link cuts and a black hole while readings flow; nothing lost or duplicated.
#
# LINK_CUT_SECONDS (30), BLACKHOLE_SECONDS (30), NETLOSS_GAP_SECONDS (10, steady
# time after each drain), NETLOSS_RATE (200 readings/s), NETLOSS_UPLINK_TIMEOUT
# (5s: the black hole is only noticed by this timeout), DRAIN_LIMIT_SECONDS (120).
# Where network namespaces are not allowed (or FAULTS_FORCE_PROXY=1) it says
# so and uses the named fallback: slow_proxy.py on loopback cuts and black-holes.
# A directory of our own for $WORK: other tools' clean-ups of /tmp/iot-edge-test.* must not hit a long run.
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

RATE=${NETLOSS_RATE:-200}
CUT=${LINK_CUT_SECONDS:-30}
HOLE=${BLACKHOLE_SECONDS:-30}
GAP=${NETLOSS_GAP_SECONDS:-10}
TIMEOUT=${NETLOSS_UPLINK_TIMEOUT:-5s}
DRAIN_LIMIT=${DRAIN_LIMIT_SECONDS:-120}

if [ "${FAULTS_FORCE_PROXY:-0}" != 1 ] && netns_setup; then
	TOPOLOGY="netns+veth"
	ns_influx_start
	faults_edge_start IOT_EDGE_UPLINK_TIMEOUT="$TIMEOUT"
	cut_on() { link_down; }
	cut_off() { link_up; }
	hole_on() { blackhole_on; }
	hole_off() { blackhole_off; }
else
	if [ "${FAULTS_FORCE_PROXY:-0}" = 1 ]; then
		say "NOTE: FAULTS_FORCE_PROXY=1"
	else
		say "NOTE: this machine does not allow network namespaces: $(head -c 200 "$WORK/netns.err")"
	fi
	say "FALLBACK: slow_proxy.py on loopback cuts (resets) and black-holes the link"
	TOPOLOGY="FALLBACK loopback proxy"
	influx_start
	proxy_start
	faults_edge_start IOT_EDGE_UPLINK_URL="http://127.0.0.1:$PROXY_PORT" \
		IOT_EDGE_UPLINK_TIMEOUT="$TIMEOUT"
	cut_on() { proxy_mode cut; }
	cut_off() { proxy_mode pass; }
	hole_on() { proxy_mode hole; }
	hole_off() { proxy_mode pass; }
fi

DRAINS=""
# fault NAME ON OFF SECONDS ERROR_PATTERN: hold a fault while readings flow,
# lift it, and wait until everything received before the lift is delivered.
fault() {
	local name=$1 on=$2 off=$3 secs=$4 pattern=$5 mark held failures
	mark=$(log_mark)
	say "$name for $secs s"
	$on
	sleep_watching "$secs"
	held=$(buffer_count)
	$off
	wait_drained "$(now_ns)" "$DRAIN_LIMIT"
	failures=$(log_since "$mark" | grep -ci "$pattern" || true)
	say "$name: $held points waited at its end, $failures failed deliveries logged, drained in $DRAIN_S s"
	[ "$held" -gt 0 ] || fail "$name: nothing waited in the buffer: the fault did not stop delivery"
	[ "$failures" -gt 0 ] || fail "$name: the uplink logged no failure matching \"$pattern\" (a fault shorter than the uplink timeout $TIMEOUT may heal unnoticed)"
	DRAINS="$DRAINS${DRAINS:+/}$DRAIN_S"
	sleep_watching "$GAP"
}

sim_bg load --rate "$RATE" --connections 4 --devices 20 --retries 10
sleep_watching 5
fault "link cut 1" cut_on cut_off "$CUT" "not delivered\|delivery failing"
fault "link cut 2" cut_on cut_off "$CUT" "not delivered\|delivery failing"
# Dropped packets are never refused: only the uplink's timeout can notice.
fault "black hole" hole_on hole_off "$HOLE" "timeout was reached\|timed out"
sim_stop load
wait_until "$DRAIN_LIMIT" buffer_empty || fail "the buffer did not drain at the end"
DRAIN_S=$DRAINS
[ -z "$BLACKHOLE_TOOL" ] || TOPOLOGY="$TOPOLOGY, $BLACKHOLE_TOOL DROP"
[ -z "$PROXY_PID" ] || proxy_stop
faults_verify "$TOPOLOGY; cuts ${CUT}s x2 + hole ${HOLE}s at ${RATE}/s, uplink timeout $TIMEOUT"
edge_stop
