#!/usr/bin/env bash
# Two targets at once, two real engines: influxd (v1 API) and VictoriaMetrics
# (v2 API, /api/v2/write). Both get every reading exactly once, through an
# outage of each: while one is down the other keeps receiving, the buffer
# keeps what the down one lacks (and nothing more), /status names it as the
# target holding the buffer, and once it is back it gets exactly what it missed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/targets_lib.sh"

t0=$(date +%s%N)
influx_start
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
org = edge
bucket = iot
token = not-checked
batch_points = 50
$TARGET_TIMING
CONF
edge_start_targets
grep -q 'forwarding to http://127.0.0.1:[0-9]* (v2), org "edge", bucket "iot", token, gzip; target "vm"' "$EDGE_LOG" ||
	fail "no start-up line for target vm"

# Both up: every reading reaches both.
sim_run "$WORK/sim1.out" --count 300 --interval 0 --devices 3
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
assert_eq 300 "$(influx_count)" "points in InfluxDB"
wait_until 30 vm_has 300 || fail "VictoriaMetrics has $(vm_count) of 300"
assert_eq 300 "$(vm_count)" "points in VictoriaMetrics"
assert_eq '["influx","vm"]' "$(status_jq '[.uplinks[].name] | tostring')" "the targets in /status"
assert_eq "300 300" "$(status_jq '[.uplinks[].points_sent | tostring] | join(" ")')" \
	"points_sent of each target"
assert_eq 600 "$(status_jq '.uplink.points_sent')" "points_sent of both (the uplink total)"
assert_eq "influx v1 $INFLUX_URL vm v2 $VM_URL" \
	"$(status_jq '[.config.targets[] | .name, .api, .url] | join(" ")')" "config.targets in /status"
assert_eq "$INFLUX_URL" "$(status_jq .config.uplink.url)" "config.uplink: the first target's"

# One target down: the other keeps receiving; the buffer keeps exactly what
# the down one lacks. Usage: outage DOWN UP SIM_OUT UP_COUNT_AFTER
outage() {
	local down=$1 up=$2 file=$3 after_up=$4
	sim_run "$file" --count 200 --interval 0 --devices 4
	if [ "$up" = influx ]; then
		wait_until 60 influx_has "$after_up" ||
			fail "InfluxDB did not get the readings while $down was down"
		assert_eq "$after_up" "$(influx_count)" "points in InfluxDB while $down is down"
	else
		wait_until 60 vm_has "$after_up" ||
			fail "VictoriaMetrics did not get the readings while $down was down"
		assert_eq "$after_up" "$(vm_count)" "points in VictoriaMetrics while $down is down"
	fi
	wait_until 30 target_is "$up" backlog_points 0 ||
		fail "$up's backlog did not empty"
	assert_eq 200 "$(buffer_count)" "points kept in the buffer (sqlite3) for $down"
	assert_eq 200 "$(sqlite3 "$BUFFER" "SELECT points FROM target_backlog WHERE name = '$down'")" \
		"$down's backlog (target_backlog view)"
	assert_eq 0 "$(sqlite3 "$BUFFER" "SELECT points FROM target_backlog WHERE name = '$up'")" \
		"$up's backlog (target_backlog view)"
	assert_eq "$down" "$(status_jq '.buffer.held_by')" "the target holding the buffer (/status)"
	wait_until 30 target_is "$down" state failing ||
		fail "$down is not shown as failing"
	assert_eq 200 "$(target_field "$down" backlog_points)" \
		"$down's backlog in /status"
	curl -sf "$EDGE_URL/metrics" >"$WORK/metrics.txt" || fail "GET /metrics failed"
	grep -qx "iot_edge_target_backlog_points{target=\"$down\"} 200" "$WORK/metrics.txt" ||
		fail "/metrics: no backlog of 200 for $down"
	say "ok: /metrics shows $down's backlog of 200"
	"$IOT_EDGE" status --url "$EDGE_URL" >"$WORK/status.txt" && fail "iot-edge status exits 0 while $down is down"
	grep -Eq "^(targets:| ) +$down: failing \(network\), backlog 200 points \(oldest [0-9]+s\), [0-9]+ sent; holds the buffer$" \
		"$WORK/status.txt" || fail "iot-edge status does not show $down holding the buffer: $(cat "$WORK/status.txt")"
	say "ok: iot-edge status shows $down holding the buffer"
}

# VictoriaMetrics down (SIGTERM), then back with its data.
vm_stop
outage vm influx "$WORK/sim2.out" 500
vm_start
wait_until 60 buffer_empty || fail "the buffer did not drain after VictoriaMetrics came back ($(buffer_count) left)"
wait_until 30 vm_has 500 || fail "VictoriaMetrics has $(vm_count) of 500"
assert_eq 500 "$(vm_count)" "points in VictoriaMetrics after its outage"
assert_eq null "$(status_jq '.buffer.held_by')" "no target holds the empty buffer"

# InfluxDB down (killed), then back.
influx_stop KILL
outage influx vm "$WORK/sim3.out" 700
influx_start
wait_until 60 buffer_empty || fail "the buffer did not drain after InfluxDB came back ($(buffer_count) left)"
assert_eq 700 "$(influx_count)" "points in InfluxDB after its outage"
assert_eq 700 "$(vm_count)" "points in VictoriaMetrics at the end"

# Exactly what was sent, on both.
cat "$WORK"/sim[123].out >"$WORK/sim_all.out"
sim_points "$WORK/sim_all.out" >"$WORK/sent.txt"
influx_points >"$WORK/influx_stored.txt"
diff -q "$WORK/sent.txt" "$WORK/influx_stored.txt" >/dev/null || fail "InfluxDB differs from what was sent"
say "ok: InfluxDB holds exactly the 700 readings sent"
sim_points_ms "$WORK/sim_all.out" >"$WORK/sent_ms.txt"
vm_points >"$WORK/vm_stored.txt"
diff -q "$WORK/sent_ms.txt" "$WORK/vm_stored.txt" >/dev/null || fail "VictoriaMetrics differs from what was sent"
say "ok: VictoriaMetrics holds exactly the 700 readings sent (ms times)"
assert_eq "700 700" "$(status_jq '[.uplinks[].points_sent | tostring] | join(" ")')" \
	"points_sent of each target at the end"
edge_stop

# The edge's own figures (collector edge, measurement iot_edge) carry one
# point per target, tagged target=NAME: with VictoriaMetrics down, InfluxDB is
# told that vm is not ok and holds points, influx is ok.
edge_start_targets IOT_EDGE_COLLECTOR_EDGE_ENABLED=true IOT_EDGE_COLLECTOR_EDGE_INTERVAL=1s
vm_stop
iot_edge_seen() {
	[ "$(influx_query "SELECT count(\"target_ok\") FROM \"iot_edge\" WHERE \"target\" = '$1' AND \"target_ok\" = $2 $3" |
		jq -r '.results[0].series[0].values[0][1] // 0')" -gt 0 ]
}
wait_until 30 iot_edge_seen vm 0 "AND \"target_backlog_points\" > 0" ||
	fail "no iot_edge point saying vm is down with a backlog"
wait_until 30 iot_edge_seen influx 1 "AND \"target_backlog_points\" = 0" ||
	fail "no iot_edge point saying influx is ok"
say "ok: iot_edge points per target (target=vm not ok with a backlog, target=influx ok)"
edge_stop
say "took $((($(date +%s%N) - t0) / 1000000)) ms"
