#!/usr/bin/env bash
# MQTT QoS 1: every message the broker acknowledged to its publisher reaches InfluxDB exactly
# once while the edge is killed with SIGKILL ten times during publishing (the edge sends its
# PUBACK only after the commit; the broker redelivers the rest; identical points overwrite).
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/mqtt_lib.sh
. "$(dirname "$0")/mqtt_lib.sh"

KILLS=10
COUNT=3000
influx_start
mosq_start
EDGE_CONF="$WORK/edge.conf"
mqtt_conf 'kill/#' 'format = line' >"$EDGE_CONF"
edge_start
wait_until 20 edge_subscribed || fail "the edge did not subscribe"

# ~15 s of publishing at 200 messages/s, each with its own timestamp.
python3 "$MQTT_PUB" "$MQTT_PORT" kill/a "$COUNT" 'kill,run=a seq={i}i {ts}' --rate 200 \
	--acked "$WORK/acked" >"$WORK/pub.out" &
PUB_PID=$!
for k in $(seq "$KILLS"); do
	sleep 0.$((5 + RANDOM % 9))
	edge_kill9
	say "kill -9 number $k: $(buffer_count) points in the buffer"
	edge_start
done
wait "$PUB_PID" || fail "the publisher lost its broker: $(cat "$WORK/pub.out")"
say "publisher: $(cat "$WORK/pub.out")"
acked=$(wc -l <"$WORK/acked")
assert_eq "$COUNT" "$acked" "messages the broker acknowledged to the publisher"

stored_all() { [ "$(influx_count_of kill seq)" = "$acked" ] && buffer_empty; }
wait_until 60 stored_all || fail "InfluxDB holds $(influx_count_of kill seq) of $acked points"
assert_eq "$acked" "$(influx_count_of kill seq)" "points in InfluxDB (each message once)"
# Exactly the messages published: the distinct seq values are 0 .. COUNT-1.
influx_query 'SELECT "seq" FROM "kill"' | jq -r '.results[0].series[0].values[][1]' | sort -n >"$WORK/stored"
sort -n "$WORK/acked" >"$WORK/sent"
diff -q "$WORK/sent" "$WORK/stored" >/dev/null || fail "InfluxDB's seq values differ from the acknowledged"
say "ok: the $acked points are exactly the acknowledged messages, after $KILLS kill -9"
say "edge: $(mqtt_status messages) messages received by the last run, $(mqtt_status reconnects) reconnects"
edge_stop
