#!/usr/bin/env bash
# MQTT payloads through a real mosquitto into InfluxDB, exact fields and tags: Zigbee2MQTT and
# Tasmota objects of values, a bare number, line protocol, POST /data JSON; bad messages
# (invalid JSON, too big, a topic outside the template, no values) are acknowledged, counted,
# refused and kept in the buffer's `refused` table while the good ones keep flowing.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/mqtt_lib.sh
. "$(dirname "$0")/mqtt_lib.sh"

influx_start
mosq_start
EDGE_CONF="$WORK/edge.conf"
cat >"$EDGE_CONF" <<EOF2
[mqtt.z2m]
url = mqtt://127.0.0.1:$MQTT_PORT
topics = zigbee2mqtt/+
template = zigbee2mqtt/+device
tags = site=home

[mqtt.tasmota]
url = mqtt://127.0.0.1:$MQTT_PORT
topics = tele/+/SENSOR
template = tele/+device/SENSOR
measurement = tasmota
qos = 2

[mqtt.misc]
url = mqtt://127.0.0.1:$MQTT_PORT
topics = sensors/#
template = sensors/+room
max_packet = 4KiB
EOF2
edge_start IOT_EDGE_COLLECTOR_EDGE_ENABLED=true IOT_EDGE_COLLECTOR_EDGE_INTERVAL=1s
all_subscribed() {
	[ "$(curl -sf "$EDGE_URL/status" | jq '[.mqtt[] | select(.connected)] | length')" = 3 ]
}
wait_until 20 all_subscribed || fail "the edge did not subscribe to all three sections"

pub() { mosquitto_pub -p "$MQTT_PORT" -q 1 "$@" || fail "mosquitto_pub $*"; }
# Zigbee2MQTT (an Aqara sensor and a plug, as Zigbee2MQTT 1.x publishes them)
pub -t zigbee2mqtt/bedroom -m '{"battery":97,"humidity":40.5,"linkquality":120,"pressure":1013.2,"temperature":21.5,"voltage":3005,"update":{"state":"idle"},"update_available":false}'
pub -t zigbee2mqtt/plug -m '{"state":"ON","power":12.5,"energy":1.25,"child_lock":"UNLOCK","linkquality":87}'
# Tasmota tele/…/SENSOR (its Time has no offset: not used as the time)
pub -t tele/plug1/SENSOR -m '{"Time":"2026-12-07T01:02:03","AM2301":{"Temperature":21.3,"Humidity":40.1,"DewPoint":7.2},"TempUnit":"C"}'
pub -t tele/plug2/SENSOR -m '{"Time":"2026-12-07T01:02:04","ENERGY":{"TotalStartTime":"2026-01-01T00:00:00","Total":3.21,"Power":5,"Voltage":231},"ANALOG":{"A0":512}}'
# misc: a bare number, line protocol, POST /data JSON, the seed reading
pub -t sensors/garage -m '23.5'
pub -t sensors/attic -m 'climate,room=attic temperature=18.25,ok=true 1700000000000000000'
pub -t sensors/x -m '{"measurement":"power","tags":{"phase":"L1"},"fields":{"watts":230.5},"ts":1700000001}'
pub -t sensors/y -m '{"ts":"2017-03-11T15:00:53Z","type":"temp","value":34,"sensor_id":7}'
# the bad ones, between good ones
pub -t sensors/bad -m '{"temperature":'
head -c 10000 /dev/zero | tr '\0' 'x' | sed 's/^/big v=1 1700000000000000000 # /' >"$WORK/big.txt"
pub -t sensors/big -f "$WORK/big.txt"
pub -t sensors/a/b -m '1'
pub -t zigbee2mqtt/button -m '{"action":"single"}'
pub -t sensors/late -m '42'
mosquitto_pub -p "$MQTT_PORT" -q 0 -t sensors/qos0 -m '7' || fail "mosquitto_pub -q 0"

stored() { [ "$(influx_count_of sensors value)" = 3 ] && [ "$(influx_count_of data value)" = 1 ] && [ "$(influx_count_of tasmota AM2301_Temperature)$(influx_count_of tasmota ENERGY_Total)" = 11 ] && [ "$(influx_count_of zigbee2mqtt linkquality)" = 2 ]; }
wait_until 30 stored || fail "not every good message reached InfluxDB"

# Receipt times are not predictable: compare without the time column.
influx_rows zigbee2mqtt | cut -d' ' -f2- >"$WORK/z2m.txt"
cat >"$WORK/z2m.want" <<'EOF2'
battery=97 device=bedroom humidity=40.5 linkquality=120 pressure=1013.2 site=home temperature=21.5 update_available=false voltage=3005
device=plug energy=1.25 linkquality=87 power=12.5 site=home
EOF2
diff "$WORK/z2m.want" "$WORK/z2m.txt" || fail "Zigbee2MQTT points differ"
say "ok: Zigbee2MQTT: numbers and booleans as fields, strings left out, tags device and site"
influx_rows tasmota | cut -d' ' -f2- >"$WORK/tasmota.txt"
cat >"$WORK/tasmota.want" <<'EOF2'
AM2301_DewPoint=7.2 AM2301_Humidity=40.1 AM2301_Temperature=21.3 device=plug1
ANALOG_A0=512 ENERGY_Power=5 ENERGY_Total=3.21 ENERGY_Voltage=231 device=plug2
EOF2
diff "$WORK/tasmota.want" "$WORK/tasmota.txt" || fail "Tasmota points differ"
say "ok: Tasmota (QoS 2): nested keys joined with _, tag device, measurement tasmota"
influx_rows sensors | cut -d' ' -f2- >"$WORK/sensors.txt"
printf 'room=garage value=23.5\nroom=late value=42\nroom=qos0 value=7\n' >"$WORK/sensors.want"
diff "$WORK/sensors.want" "$WORK/sensors.txt" || fail "bare numbers differ"
assert_eq "2023-11-14T22:13:20Z ok=true room=attic temperature=18.25" "$(influx_rows climate)" "line protocol"
assert_eq "2023-11-14T22:13:21Z phase=L1 watts=230.5" "$(influx_rows power)" "POST /data JSON"
assert_eq "2017-03-11T15:00:53Z sensor_id=7 type=temp value=34" "$(influx_rows data)" "the seed JSON reading"

# counted: misc refused the invalid JSON, the big one and sensors/a/b; z2m the button
assert_eq 9 "$(mqtt_status messages 2)" "messages of [mqtt.misc]"
assert_eq 3 "$(mqtt_status refused 2)" "messages [mqtt.misc] refused"
assert_eq 1 "$(mqtt_status refused 0)" "messages [mqtt.z2m] refused"
assert_eq 0 "$(mqtt_status refused 1)" "messages [mqtt.tasmota] refused"
# every QoS 1/2 message acknowledged (refused ones too), the QoS 0 one not
assert_eq 8 "$(mqtt_status acked 2)" "PUBACKs [mqtt.misc] sent"
assert_eq 2 "$(mqtt_status acked 1)" "PUBRECs [mqtt.tasmota] sent"
assert_eq 0 "$(influx_count_of big v)" "points of the message above max_packet"
assert_eq '{"sensors/bad":1,"sensors/big":1,"sensors/a/b":1}' \
	"$(curl -sf "$EDGE_URL/status" | jq -c '.mqtt[2].refused_topics')" "[mqtt.misc] refusals per topic"
grep -q 'message on "sensors/big" refused: a message of 100[0-9][0-9] bytes (max_packet 4096)' "$EDGE_LOG" ||
	fail "no log line for the message too big"
grep -q 'message on "sensors/bad" refused: invalid JSON' "$EDGE_LOG" || fail "no log line for the bad JSON"
curl -sf "$EDGE_URL/metrics" >"$WORK/metrics.txt" || fail "GET /metrics"
grep -q '^iot_edge_mqtt_refused_total{broker="misc"} 3$' "$WORK/metrics.txt" ||
	fail "/metrics has no iot_edge_mqtt_refused_total of 3 for misc"
say "ok: refusals counted in /status and /metrics, logged, nothing stored of them"
# ... and each kept in the buffer's `refused` table with its topic and reason,
# read the way a user would (best effort: the rows join the next commit)
refused_rows() {
	sqlite3 -cmd '.timeout 5000' "$BUFFER" \
		"SELECT source, topic, reason, payload_len, substr(payload, 1, 40) FROM refused_readable ORDER BY source, id;"
}
four_kept() { [ "$(sqlite3 -cmd '.timeout 5000' "$BUFFER" 'SELECT count(*) FROM refused;')" = 4 ]; }
wait_until 10 four_kept || fail "refused rows: $(refused_rows)"
cat >"$WORK/refused.want" <<'EOF2'
mqtt.misc|sensors/bad|invalid JSON at byte 14|15|{"temperature":
mqtt.misc|sensors/big|a message of 10048 bytes (max_packet 4096)|10030|
mqtt.misc|sensors/a/b|topic does not match the template sensors/+room|1|1
mqtt.z2m|zigbee2mqtt/button|no number or boolean in the object|19|{"action":"single"}
EOF2
refused_rows >"$WORK/refused.txt"
diff "$WORK/refused.want" "$WORK/refused.txt" || fail "the refused table differs"
assert_eq 0 "$(sqlite3 -cmd '.timeout 5000' "$BUFFER" 'SELECT count(*) FROM refused WHERE length(CAST(payload AS BLOB)) > 4096;')" \
	"refused payloads over 4 KiB"
say "ok: each refused message is in the refused table with its topic, reason and payload"
# `iot-edge status` shows each broker
"$IOT_EDGE" status --url "$EDGE_URL" >"$WORK/cli.out" || true
grep -q '^            misc (connected): 9 messages, 6 points, 3 refused, 0 reconnects; last error: message on "sensors/a/b" refused: topic does not match the template sensors/+room$' "$WORK/cli.out" ||
	fail "iot-edge status: $(grep -A3 '^mqtt' "$WORK/cli.out")"
say "ok: iot-edge status lists the brokers"
# the edge collector's iot_edge point sums the brokers
edge_mqtt() {
	influx_query 'SELECT last("mqtt_messages"), last("mqtt_refused"), last("mqtt_connected") FROM "iot_edge"' |
		jq -r '.results[0].series[0].values[0] | "\(.[1]) \(.[2]) \(.[3])"'
}
edge_mqtt_done() { [ "$(edge_mqtt)" = "14 4 3" ]; }
wait_until 20 edge_mqtt_done || fail "iot_edge: mqtt_messages, mqtt_refused, mqtt_connected = $(edge_mqtt)"
say "ok: iot_edge has mqtt_messages 14, mqtt_refused 4, mqtt_connected 3"

# A retained message is stored when forwarded live, not again when the next
# subscription replays it (retained = false, the default).
pub -r -t sensors/retained -m '5'
four() { [ "$(influx_count_of sensors value)" = 4 ]; }
wait_until 20 four || fail "the live retained message was not stored"
edge_stop
edge_start
wait_until 20 all_subscribed || fail "the edge did not subscribe again"
skipped() { [ "$(mqtt_status retained_skipped 2)" = 1 ]; }
wait_until 20 skipped || fail "retained_skipped of [mqtt.misc]: $(mqtt_status retained_skipped 2)"
assert_eq 1 "$(mqtt_status messages 2)" "messages of [mqtt.misc] after the restart (the replay)"
assert_eq 0 "$(mqtt_status points 2)" "points of [mqtt.misc] after the restart"
wait_until 10 buffer_empty || fail "the buffer did not drain"
assert_eq 4 "$(influx_count_of sensors value)" "bare numbers in InfluxDB (the replay not stored)"
edge_stop
