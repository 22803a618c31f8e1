#!/usr/bin/env bash
# The link between iot-edge and its MQTT broker cut (veth down) and black-holed (packets
# dropped) in the test's own namespaces while QoS 1 messages are published: the edge notices
# (keepalive, connect errors), reconnects, and every message the broker acknowledged to its
# publisher reaches InfluxDB exactly once.
#
# MQTT_CUT_SECONDS (6), MQTT_HOLE_SECONDS (8), MQTT_RATE (200 messages/s), MQTT_COUNT (5000).
# Needs network namespaces (root); elsewhere it says so and skips (exit 0 with a SKIP line).
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"
MQTT_CHAIN=faults_on_exit
# shellcheck source=tests/integration/mqtt_lib.sh
. "$(dirname "$0")/../integration/mqtt_lib.sh"

CUT=${MQTT_CUT_SECONDS:-6}
HOLE=${MQTT_HOLE_SECONDS:-8}
RATE=${MQTT_RATE:-200}
COUNT=${MQTT_COUNT:-5000}

if ! netns_setup; then
	say "SKIP: this machine does not allow network namespaces: $(head -c 200 "$WORK/netns.err")"
	exit 0
fi
# The broker and InfluxDB live in the far namespace, the edge in its own.
MOSQ_IN="ip netns exec $INFLUX_NS"
MOSQ_BIND=$INFLUX_ADDR
ns_influx_start
mosq_start
EDGE_CONF="$WORK/edge.conf"
mqtt_conf 'cut/#' 'format = line' 'keepalive = 2s' >"$EDGE_CONF"
faults_edge_start
ns_status() { in_edge_ns curl -sf "$EDGE_URL/status" | jq -r ".mqtt[0].$1"; }
ns_subscribed() { [ "$(ns_status connected)" = true ]; }
wait_until 20 ns_subscribed || fail "the edge did not subscribe across the veth"

in_influx_ns python3 "$MQTT_PUB" "$MQTT_PORT" cut/a "$COUNT" 'cut,run=c seq={i}i {ts}' \
	--host "$INFLUX_ADDR" --rate "$RATE" --acked "$WORK/acked" >"$WORK/pub.out" &
PUB_PID=$!
FAULT_PIDS="$FAULT_PIDS $PUB_PID"
sleep 3
say "link cut for $CUT s"
mark=$(wc -l <"$EDGE_LOG")
link_down
sleep "$CUT"
link_up
wait_until 30 ns_subscribed || fail "the edge did not come back after the link cut"
say "link back; the edge logged: $(tail -n +"$mark" "$EDGE_LOG" | grep -m1 -o '\[mqtt.test\] [a-z].*' || true)"
sleep 3
say "black hole for $HOLE s"
mark=$(wc -l <"$EDGE_LOG")
blackhole_on
sleep "$HOLE"
tail -n +"$mark" "$EDGE_LOG" >"$WORK/hole.log"
grep -q 'no PINGRESP within the keepalive\|cannot connect' "$WORK/hole.log" ||
	fail "the edge did not notice the black hole (no keepalive failure logged)"
blackhole_off
wait_until 30 ns_subscribed || fail "the edge did not come back after the black hole"
say "black hole lifted; the edge logged: $(tail -n +"$mark" "$EDGE_LOG" | grep -m1 -o 'no PINGRESP within the keepalive' || true)"

wait "$PUB_PID" || fail "the publisher failed: $(cat "$WORK/pub.out")"
FAULT_PIDS=${FAULT_PIDS/ $PUB_PID/}
say "publisher: $(cat "$WORK/pub.out")"
acked=$(wc -l <"$WORK/acked")
assert_eq "$COUNT" "$acked" "messages the broker acknowledged to the publisher"
stored_all() { [ "$(influx_count_of cut seq)" = "$acked" ] && buffer_empty; }
wait_until 90 stored_all || fail "InfluxDB holds $(influx_count_of cut seq) of $acked points"
assert_eq "$acked" "$(influx_count_of cut seq)" "points in InfluxDB (each message once)"
influx_query 'SELECT "seq" FROM "cut"' | jq -r '.results[0].series[0].values[][1]' | sort -n >"$WORK/stored"
sort -n "$WORK/acked" >"$WORK/sent"
diff -q "$WORK/sent" "$WORK/stored" >/dev/null || fail "InfluxDB's seq values differ from the acknowledged"
say "RESULT mqtt_link_cut: published $COUNT, acknowledged $acked, in InfluxDB $(influx_count_of cut seq) once each; $(ns_status reconnects) reconnects"
edge_stop
