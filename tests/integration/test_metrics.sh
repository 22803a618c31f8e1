#!/usr/bin/env bash
# GET /metrics: Prometheus text format 0.0.4 that promtool accepts, with the
# same figures as /status under conventional names, exact after a known
# workload (HTTP, UDP, a failing collector) before and after InfluxDB takes it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/status_lib.sh"

command -v promtool >/dev/null || fail "promtool is missing (Debian package prometheus)"
check_metrics() {
	promtool check metrics <"$WORK/metrics.txt" >"$WORK/promtool.out" 2>&1 ||
		fail "promtool check metrics: $(cat "$WORK/promtool.out")"
	[ ! -s "$WORK/promtool.out" ] || fail "promtool lint: $(cat "$WORK/promtool.out")"
	say "ok: promtool check metrics passes without a lint remark"
}
# The families without a single sample, one a line: a figure /metrics lost on
# the way (as a renamed /status key once dropped one) shows up here.
families_without_sample() {
	awk '/^# TYPE / { n++; name[n] = $3; next } /^#/ { next }
		{ m = $1; sub(/\{.*/, "", m); seen[m] = 1 }
		END { for (i = 1; i <= n; i++) if (!(name[i] in seen)) print name[i] }' "$WORK/metrics.txt"
}
# Each figure as /metrics and /status say it: same_figure METRIC JQ EXPECTED
same_figure() {
	assert_eq "$3" "$(metric "$1")" "$1"
	assert_eq "$3" "$(snap_get "$2")" "/status $2"
}

UDP_PORT=$(free_port)
CONF="$WORK/edge.conf"
status_conf "$CONF" '[collector.probe]' 'type = exec' 'command = /bin/false' 'interval = 1s' \
	'timeout = 500ms'
status_edge_start "$CONF" IOT_EDGE_UDP_LISTEN="127.0.0.1:$UDP_PORT" # InfluxDB down

sim_run "$WORK/sim.out" --count 5 --interval 0 --quiet
assert_eq 204 "$(CONTENT_TYPE=text/plain post '/write?db=x' $'data,type=lp value=1 1700000000000000001\ndata,type=lp value=2 1700000000000000002\ndata,type=lp value=3 1700000000000000003')" "POST /write"
# One datagram each (bash's /dev/udp may split a write at a newline).
udp_send() {
	python3 -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[1].encode(), ("127.0.0.1", int(sys.argv[2])))' "$1" "$UDP_PORT"
}
udp_send $'data,type=udp value=7 1700000000000000007\nno fields here'
udp_send 'data,type=udp value=8 1700000000000000008'
udp_stored() { [ "$(curl -sf "$EDGE_URL/status" | jq .ingest.endpoints.udp.points)" = 2 ]; }
wait_until 20 udp_stored || fail "the UDP points were not stored"
probe_failed() { [ "$(curl -sf "$EDGE_URL/status" | jq '.collectors[0].errors')" -ge 1 ]; }
wait_until 20 probe_failed || fail "the failing collector counted no error"
wait_until 20 uplink_failing || fail "no failure counted"

snap_metrics
snap
assert_eq "text/plain; version=0.0.4; charset=utf-8" \
	"$(grep -i '^content-type:' "$WORK/metrics.head" | cut -d' ' -f2- | tr -d '\r')" "Content-Type"
check_metrics
# Every family has one HELP and one TYPE line, every sample a declared family.
assert_eq "$(grep -c '^# HELP ' "$WORK/metrics.txt")" "$(grep -c '^# TYPE ' "$WORK/metrics.txt")" "HELP and TYPE lines"
undeclared=$(awk '/^# TYPE /{t[$3]=1; next} /^#/{next} {n=$1; sub(/\{.*/, "", n); if (!(n in t)) print n}' "$WORK/metrics.txt")
assert_eq "" "$undeclared" "samples without a TYPE"
assert_eq 0 "$(grep -v '^#' "$WORK/metrics.txt" | grep -cv '^iot_edge_')" "samples without the iot_edge_ prefix"

assert_eq 1 "$(metric "iot_edge_build_info{version=\"$(snap_get .version)\"}")" "build_info"
same_figure 'iot_edge_ingest_requests_total{endpoint="data"}' .ingest.endpoints.data.requests 5
same_figure 'iot_edge_ingest_points_total{endpoint="data"}' .ingest.endpoints.data.points 5
same_figure 'iot_edge_ingest_requests_total{endpoint="write"}' .ingest.endpoints.write.requests 1
same_figure 'iot_edge_ingest_points_total{endpoint="write"}' .ingest.endpoints.write.points 3
same_figure 'iot_edge_ingest_requests_total{endpoint="api_v2_write"}' .ingest.endpoints.api_v2_write.requests 0
same_figure 'iot_edge_ingest_requests_total{endpoint="udp"}' .ingest.endpoints.udp.requests 2
same_figure 'iot_edge_ingest_points_total{endpoint="udp"}' .ingest.endpoints.udp.points 2
same_figure 'iot_edge_ingest_bad_lines_total{listener="udp"}' .ingest.endpoints.udp.bad_lines 1
same_figure 'iot_edge_ingest_bad_lines_total{listener="http"}' .ingest.bad_lines 0
same_figure 'iot_edge_ingest_udp_dropped_points_total' .ingest.endpoints.udp.dropped 0
same_figure 'iot_edge_http_responses_total{code="201"}' '.ingest.answers."201"' 5
same_figure 'iot_edge_http_responses_total{code="204"}' '.ingest.answers."204"' 1
assert_eq "" "$(metric 'iot_edge_http_responses_total{code="400"}')" "no 400 sample"
same_figure iot_edge_buffer_points .buffer.points 10
same_figure iot_edge_buffer_appended_points_total .buffer.appended 10
same_figure iot_edge_buffer_acked_points_total .buffer.acked 0
same_figure iot_edge_buffer_dropped_points_total .buffer.dropped 0
same_figure iot_edge_buffer_bytes .buffer.bytes "$(buffer_bytes)"
same_figure iot_edge_buffer_quarantined '.buffer.quarantined | if . then 1 else 0 end' 0
same_figure iot_edge_uplink_sent_points_total .uplink.points_sent 0
same_figure 'iot_edge_uplink_requests_total{result="ok"}' .uplink.requests_ok 0
assert_eq "0 1 0" "$(metric 'iot_edge_uplink_state{state="ok"}') $(metric 'iot_edge_uplink_state{state="failing"}') $(metric 'iot_edge_uplink_state{state="authentication failed"}')" "uplink_state: failing"
assert_eq 1 "$(metric 'iot_edge_uplink_last_error_info{class="network"}')" "last_error_info network"
assert_eq "" "$(metric iot_edge_uplink_last_success_timestamp_seconds)" "no last success sample yet"
assert_eq "" "$(metric iot_edge_uplink_backlog_drain_seconds)" "no drain estimate while nothing drains"
assert_eq "iot_edge_uplink_last_success_timestamp_seconds iot_edge_uplink_backlog_drain_seconds" \
	"$(families_without_sample | tr '\n' ' ' | sed 's/ $//')" "families without a sample (InfluxDB down)"
assert_eq true "$(awk -v t="$(date +%s)" '$1 == "iot_edge_uplink_last_error_timestamp_seconds" { print ($2 > t - 60 && $2 <= t + 1) ? "true" : "false" }' "$WORK/metrics.txt")" "last error timestamp: seconds since the epoch, recent"
awk '$1 == "iot_edge_buffer_oldest_age_seconds" && $2 > 0 { ok = 1 } END { exit !ok }' "$WORK/metrics.txt" ||
	fail "buffer_oldest_age_seconds should be above 0"
# The collector: static figures exact, the others as counted.
P='{collector="probe",type="exec"}'
same_figure "iot_edge_collector_interval_seconds$P" .collectors[0].interval_s 1
same_figure "iot_edge_collector_points_total$P" .collectors[0].points 0
assert_eq true "$(awk -v n="iot_edge_collector_errors_total$P" '$1 == n { print ($2 >= 1) ? "true" : "false" }' "$WORK/metrics.txt")" "collector errors counted"
assert_eq true "$(snap_get '.collectors[0].last_error != "" and .collectors[0].runs >= 1')" "collector last_error and runs"

influx_start
wait_until 60 buffer_empty || fail "the buffer did not drain"
wait_until 10 uplink_ok || fail "the uplink did not return to ok"
snap_metrics
snap
check_metrics
same_figure iot_edge_uplink_sent_points_total .uplink.points_sent 10
same_figure iot_edge_buffer_points .buffer.points 0
same_figure iot_edge_buffer_acked_points_total .buffer.acked 10
same_figure iot_edge_buffer_bytes .buffer.bytes 0
same_figure iot_edge_uplink_consecutive_failures .uplink.consecutive_failures 0
assert_eq "1 0" "$(metric 'iot_edge_uplink_state{state="ok"}') $(metric 'iot_edge_uplink_state{state="failing"}')" "uplink_state: ok"
assert_eq true "$(awk -v t="$(date +%s)" '$1 == "iot_edge_uplink_last_success_timestamp_seconds" { print ($2 > t - 60 && $2 <= t + 1) ? "true" : "false" }' "$WORK/metrics.txt")" "last success timestamp, recent"
assert_eq iot_edge_uplink_backlog_drain_seconds "$(families_without_sample | tr '\n' ' ' | sed 's/ $//')" \
	"families without a sample (the buffer empty, nothing to drain)"
assert_eq 10 "$(influx_count)" "points in InfluxDB"
# /metrics answers HEAD and refuses POST like the other GET endpoints.
assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$EDGE_URL/metrics")" "POST /metrics"
edge_stop
