#!/usr/bin/env bash
# The seed's own curl command reaches InfluxDB as the original API stored it,
# and iot-sim's readings arrive exactly: every one, once, with its values and time.
. "$(dirname "$0")/lib.sh"

influx_start
edge_start

status=$(post /data '{"ts":"2017-03-11T15:00:53Z", "type": "temp", "value": 34, "sensor_id": 123 }')
assert_eq 201 "$status" "seed curl command answer"
wait_until 20 buffer_empty || fail "the buffer did not drain"
got=$(influx_query 'SELECT * FROM "data"' ns | grep -o '"columns":.*]]')
assert_eq '"columns":["time","sensor_id","type","value"],"values":[[1489244453000000000,123,"temp",34]]' \
	"$got" "stored point"
# Tag or field? The original stored type as a tag and the numbers as float fields.
tags=$(influx_query 'SHOW TAG KEYS FROM "data"' | jq -r '[.results[0].series[0].values[][0]]|join(",")')
assert_eq "type" "$tags" "tag keys"
fields=$(influx_query 'SHOW FIELD KEYS FROM "data"' |
	jq -r '[.results[0].series[0].values[]|join(":")]|join(",")')
assert_eq "sensor_id:float,value:float" "$fields" "field keys and types"
influx_query 'DROP SERIES FROM "data"' >/dev/null

sim_run "$WORK/sim.out" --count 500 --interval 0 --devices 5
assert_eq "iot-sim: sent 500, 2xx 500, errors 0 (http 0, connection 0)" "$(tail -n 1 "$WORK/sim.out")" "iot-sim summary"
wait_until 30 buffer_empty || fail "the buffer did not drain"
assert_eq 500 "$(influx_count)" "points in InfluxDB"
sim_points "$WORK/sim.out" >"$WORK/sent.txt"
influx_points >"$WORK/stored.txt"
assert_eq 500 "$(wc -l <"$WORK/sent.txt")" "readings printed by iot-sim"
diff "$WORK/sent.txt" "$WORK/stored.txt" >"$WORK/diff.txt" ||
	fail "InfluxDB differs from what iot-sim sent: $(head -n 5 "$WORK/diff.txt")"
say "ok: every reading arrived once with its timestamp, sensor_id and value"
edge_stop
