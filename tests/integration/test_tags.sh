#!/usr/bin/env bash
# [tags] and the edge's name on every door (POST /data, /write, UDP, MQTT from a real mosquitto, a
# collector): the buffer holds the
# tagged canonical lines (read with sqlite3) and InfluxDB exactly those points; a point's own tag keeps its
# value; with no tags the seed format's line is byte for byte what it was.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ingest_lib.sh"
# shellcheck source=tests/integration/mqtt_lib.sh
. "$(dirname "$0")/mqtt_lib.sh"

UDP_PORT=$(free_udp_port)
SEED='{"ts":"2026-12-07T00:00:00Z","type":"temp","value":21.5,"sensor_id":3}'
SEED_LINE='data,type=temp sensor_id=3,value=21.5 1796601600000000000'

# 1. No [tags]: the seed format as it was (InfluxDB out of reach: the buffer keeps it to look at).
INFLUX_URL="http://127.0.0.1:$(free_port)" edge_start
assert_eq 201 "$(post /data "$SEED")" "POST /data"
assert_eq "$SEED_LINE" "$(sqlite3 "$BUFFER" 'SELECT line FROM points')" "the seed reading in the buffer, no tags set"
edge_stop
rm -f "$BUFFER" "$BUFFER-wal" "$BUFFER-shm"

# 2. [tags] site and room, the edge collector on, the name only on the collectors' points.
cat >"$WORK/edge.conf" <<EOF
[edge]
name = pi-7
[tags]
site = farm
room = a b
[collector.edge]
interval = 1s
[mqtt.lan]
url = mqtt://127.0.0.1:$MQTT_PORT
topics = sensors/+
template = sensors/+device
EOF
mosq_start
"$IOT_EDGE" -c "$WORK/edge.conf" -n >"$WORK/check.out" || fail "iot-edge -n refused the configuration"
grep -qx 'room = a b' "$WORK/check.out" || fail "iot-edge -n does not print [tags]: $(cat "$WORK/check.out")"
INFLUX_URL="http://127.0.0.1:$(free_port)" EDGE_CONF=$WORK/edge.conf edge_start \
	IOT_EDGE_UDP_LISTEN="127.0.0.1:$UDP_PORT" IOT_EDGE_TAGS_ZONE=z1 IOT_EDGE_COLLECTOR_EDGE_ENABLED=true
assert_eq 201 "$(post /data "$SEED")" "POST /data"
assert_eq 204 "$(CONTENT_TYPE=text/plain post '/write?db=iot' $'lp,site=own v=1i 1\nlp v=2i 2')" "POST /write"
udp_send "$UDP_PORT" 'dgram v=3 3'
wait_until 20 edge_subscribed || fail "the edge did not subscribe to mosquitto"
mosquitto_pub -p "$MQTT_PORT" -q 1 -t sensors/kitchen -m '23.5' || fail "mosquitto_pub"
mqtt_line() { sqlite3 -cmd '.timeout 5000' "$BUFFER" "SELECT line FROM points WHERE line LIKE 'sensors,%'"; }
mqtt_stored() { [ -n "$(mqtt_line)" ]; }
wait_until 20 mqtt_stored || fail "the MQTT message is not in the buffer"
# its time is the receipt time: compared without it
assert_eq 'sensors,device=kitchen,room=a\ b,site=farm,zone=z1 value=23.5' "$(mqtt_line | sed 's/ [0-9]*$//')" \
	"the MQTT point in the buffer: the template's device and [tags], no host"
edge_points() { sqlite3 -cmd '.timeout 5000' "$BUFFER" "SELECT count(*) FROM points WHERE line LIKE 'iot_edge,%'"; }
two_edge_points() { [ "$(edge_points)" -ge 2 ]; }
wait_until 10 two_edge_points || fail "no iot_edge points in the buffer"
lines=$(sqlite3 -cmd '.timeout 5000' "$BUFFER" "SELECT line FROM points WHERE line NOT LIKE 'iot_edge,%' AND line NOT LIKE 'sensors,%' ORDER BY id")
assert_eq 'data,room=a\ b,site=farm,type=temp,zone=z1 sensor_id=3,value=21.5 1796601600000000000
lp,room=a\ b,site=own,zone=z1 v=1i 1
lp,room=a\ b,site=farm,zone=z1 v=2i 2
dgram,room=a\ b,site=farm,zone=z1 v=3 3' "$lines" "network points in the buffer: [tags] added, a point's own site kept"
edge_line=$(sqlite3 -cmd '.timeout 5000' "$BUFFER" "SELECT line FROM points WHERE line LIKE 'iot_edge,%' LIMIT 1")
case "$edge_line" in
'iot_edge,host=pi-7,room=a\ b,site=farm,zone=z1 buffer_points='*) say "ok: iot_edge carries host=pi-7 and [tags]" ;;
*) fail "iot_edge line: $edge_line" ;;
esac
assert_eq "pi-7" "$(curl -sf "$EDGE_URL/status" | jq -r .edge)" "/status edge"
"$IOT_EDGE" status --url "$EDGE_URL" >"$WORK/cli.out" || true
grep -q '^edge: *pi-7 (iot-edge ' "$WORK/cli.out" || fail "iot-edge status does not name the edge: $(cat "$WORK/cli.out")"
grep -q 'ready: edge pi-7, ' "$EDGE_LOG" || fail "the start line does not name the edge"
edge_stop

# 3. The same buffer forwarded to a real InfluxDB: exactly those points, with those tags.
influx_start
n_edge=$(buffer_count)
EDGE_CONF=$WORK/edge.conf edge_start
n_edge=$((n_edge - 5)) # the network points of run 2
influx_edge() {
	influx_query "SELECT count(buffer_points) FROM iot_edge WHERE host = 'pi-7' AND site = 'farm' AND zone = 'z1'" |
		jq -r '.results[0].series[0].values[0][1] // 0'
}
influx_lp() { influx_query 'SELECT count(v) FROM lp, dgram' | jq -r '[.results[0].series[]?.values[0][1]] | add // 0'; }
influx_mqtt() {
	influx_query "SELECT count(value) FROM sensors WHERE device = 'kitchen' AND site = 'farm' AND room = 'a b' AND zone = 'z1' AND host = ''" |
		jq -r '.results[0].series[0].values[0][1] // 0'
}
all_there() { [ "$(influx_count)" = 1 ] && [ "$(influx_lp)" = 3 ] && [ "$(influx_mqtt)" = 1 ] && [ "$(influx_edge)" = "$n_edge" ]; }
wait_until 30 all_there || fail "not every point reached InfluxDB: data $(influx_count)/1, lp+dgram $(influx_lp)/3, mqtt $(influx_mqtt)/1, iot_edge $(influx_edge)/$n_edge"
say "ok: InfluxDB holds the 5 network points (one by MQTT) and the $n_edge iot_edge points of the buffer"
wait_until 10 buffer_empty || fail "the buffer did not drain"
assert_eq '[["farm","a b","z1","temp"]]' "$(influx_query 'SELECT value, site, room, zone, type FROM data' | jq -c '[.results[0].series[0].values[] | .[2:]]')" \
	"the seed reading's tags in InfluxDB"
assert_eq '[["own"],["farm"]]' "$(influx_query 'SELECT v, site FROM lp' | jq -c '[.results[0].series[0].values[] | .[2:]]')" "lp's site in InfluxDB"
edge_stop
say PASS
