#!/usr/bin/env bash
# A point one target refuses for good and the other takes: influxd 1.x refuses
# `value="s"` where `value` is a float (field type conflict), VictoriaMetrics
# takes it. The refused line goes to `rejected` under influx's name only,
# VictoriaMetrics gets all 200 points, InfluxDB the 199 others, and the
# buffer empties (the point left once both had dealt with it).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"
. "$(dirname "$0")/targets_lib.sh"

t0=$(date +%s%N)
influx_start
influx_post_query 'CREATE DATABASE "iot"' >/dev/null || fail "CREATE DATABASE failed"
curl -sf -XPOST "$INFLUX_URL/write?db=iot&precision=ns" --data-binary 'data,type=t value=1 1600000000000000000' ||
	fail "the first write failed"
vm_start
EDGE_CONF="$WORK/edge.conf"
cat >"$EDGE_CONF" <<CONF
[uplink.influx]
url = $INFLUX_URL
database = iot
$TARGET_TIMING
[uplink.vm]
api = v2
url = $VM_URL
bucket = iot
$TARGET_TIMING
CONF
edge_start_targets
# Three requests, so the string line is not refused by the edge itself as a
# type conflict inside one request: lines 1-100, line 101 alone, 102-200.
line() { echo "data,type=t value=$2 $((1700000000000000000 + $1 * 1000000))"; }
CONTENT_TYPE=text/plain
assert_eq 204 "$(post '/write?db=iot' "$(for i in $(seq 1 100); do line "$i" "$i"; done)")" "POST /write of lines 1-100"
assert_eq 204 "$(post '/write?db=iot' "$(line 101 '"s"')")" "POST /write of line 101 (a string)"
assert_eq 204 "$(post '/write?db=iot' "$(for i in $(seq 102 200); do line "$i" "$i"; done)")" "POST /write of lines 102-200"
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"

assert_eq 1 "$(sqlite3 "$BUFFER" 'SELECT count(*) FROM rejected')" "rows in rejected"
assert_eq "influx|data,type=t value=\"s\" 1700000000101000000" \
	"$(sqlite3 "$BUFFER" 'SELECT target, line FROM rejected_readable')" "the rejected row: target and line"
case "$(sqlite3 "$BUFFER" 'SELECT reason FROM rejected')" in
*'field type conflict'*) ;;
*) fail "the reason is not InfluxDB's: $(sqlite3 "$BUFFER" 'SELECT reason FROM rejected')" ;;
esac
assert_eq 200 "$(influx_count)" "points in InfluxDB (the one written before + 199)"
wait_until 30 vm_has 200 || fail "VictoriaMetrics has $(vm_count) of 200"
assert_eq 200 "$(vm_count)" "points in VictoriaMetrics (all, the string one as 0)"
assert_eq "1 0" "$(status_jq '[.uplinks[].points_rejected | tostring] | join(" ")')" \
	"points_rejected of influx and vm"
assert_eq "199 200" "$(status_jq '[.uplinks[].points_sent | tostring] | join(" ")')" \
	"points_sent of influx and vm"
assert_eq "1 0" "$(sqlite3 "$BUFFER" "SELECT group_concat(rejected, ' ') FROM (SELECT rejected FROM target_backlog ORDER BY name)")" \
	"rejected per target (target_backlog view)"
edge_stop
say "took $((($(date +%s%N) - t0) / 1000000)) ms"
