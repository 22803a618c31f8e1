#!/usr/bin/env bash
# MQTT QoS 1 through outages: InfluxDB down until the buffer is full (reject_new: the commits
# fail, so the edge must not acknowledge and the broker keeps the messages), the broker
# restarted with messages queued for the edge, then InfluxDB back: every message the broker
# acknowledged to its publisher reaches InfluxDB exactly once.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/mqtt_lib.sh
. "$(dirname "$0")/mqtt_lib.sh"

FIRST=12000
LATER=1000
PAD=$(printf 'p%.0s' $(seq 120))
mosq_start
EDGE_CONF="$WORK/edge.conf"
mqtt_conf 'out/#' >"$EDGE_CONF"
# InfluxDB is not started yet: the points stay in a buffer of 1 MiB that refuses new ones when full.
edge_start IOT_EDGE_BUFFER_MAX_SIZE=1MiB IOT_EDGE_BUFFER_FULL_POLICY=reject_new
wait_until 20 edge_subscribed || fail "the edge did not subscribe"

python3 "$MQTT_PUB" "$MQTT_PORT" out/a "$FIRST" "out,run=b seq={i}i,pad=\"$PAD\" {ts}" \
	--acked "$WORK/acked" >"$WORK/pub1.out" || fail "publisher: $(cat "$WORK/pub1.out")"
say "publisher: $(cat "$WORK/pub1.out")"
buffer_stalled() { [ "$(buffer_count)" -gt 0 ] && [[ "$(mqtt_status last_error)" == *"commit failed"* ]]; }
wait_until 60 buffer_stalled || fail "the buffer did not fill: $(buffer_count) points, $(mqtt_status last_error)"
held=$(buffer_count)
[ "$held" -lt "$FIRST" ] || fail "the 1 MiB buffer holds all $held points: the test proves nothing"
say "ok: the full buffer holds $held of $FIRST points; the broker keeps the rest for the edge"

# The broker restarts with the rest queued (persistence), the edge reconnects by itself.
# (While the buffer is full each session ends at the first failed commit, so
# look for a resumed session in the log rather than for `connected`.)
resumed() { grep -c 'connected to .* (resumed session)' "$EDGE_LOG" || true; }
mosq_stop
before=$(resumed)
mosq_start
resumed_again() { [ "$(resumed)" -gt "$before" ]; }
wait_until 30 resumed_again || fail "the edge did not resume its session with the restarted broker"
say "ok: the edge resumed its session after the broker restart ($(mqtt_status reconnects) reconnects)"

influx_start
python3 "$MQTT_PUB" "$MQTT_PORT" out/a "$LATER" "out,run=b seq={i}i,pad=\"x\" {ts}" --start "$FIRST" \
	--acked "$WORK/acked" >"$WORK/pub2.out" || fail "publisher: $(cat "$WORK/pub2.out")"
total=$((FIRST + LATER))
assert_eq "$total" "$(wc -l <"$WORK/acked")" "messages the broker acknowledged to the publishers"
stored_all() { [ "$(influx_count_of out seq)" = "$total" ] && buffer_empty; }
wait_until 80 stored_all || fail "InfluxDB holds $(influx_count_of out seq) of $total points"
assert_eq "$total" "$(influx_count_of out seq)" "points in InfluxDB (each message once)"
influx_query 'SELECT "seq" FROM "out"' | jq -r '.results[0].series[0].values[][1]' | sort -n >"$WORK/stored"
sort -n "$WORK/acked" >"$WORK/sent"
diff -q "$WORK/sent" "$WORK/stored" >/dev/null || fail "InfluxDB's seq values differ from the acknowledged"
say "ok: exactly the $total acknowledged messages are in InfluxDB"
edge_stop
