#!/usr/bin/env bash
# Real influxd really down while readings keep coming: stopped for 15 s (connection refused),
# started again, then frozen with SIGSTOP for 10 s (requests and /ping time out), thawed.
# Nothing is rejected and every one of the 3000 readings arrives exactly once. With retry_max
# at 1 s, 25 s of outage is some 25 failed attempts at the cap: many times the 3 in a row that
# may start a bisection and the 5 tries alone that may reject a point, so a longer outage
# would not test anything more (the outage's length is not a parameter of the uplink).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

readings() { # K: 100 readings data,type=t value=I at 1700000000000000000 + I * 1000, I = 100K+1..
	local x
	for x in $(seq $(($1 * 100 + 1)) $(($1 * 100 + 100))); do
		printf 'data,type=t value=%d %d\n' "$x" $((1700000000000000000 + x * 1000))
	done
}
send() { # FROM TO: POST readings(FROM..TO) one a second; the edge must answer 204
	local k
	for k in $(seq "$1" "$2"); do
		[ "$(CONTENT_TYPE=text/plain post '/write?db=iot' "$(readings "$k")")" = 204 ] ||
			fail "POST /write $k: $(cat "$WORK/last_response")"
		sleep 1
	done
}
failed_since() { [ "$(curl -sf "$EDGE_URL/status" | jq -r .uplink.requests_failed)" -ge "$1" ]; }

influx_start
edge_start IOT_EDGE_UPLINK_TIMEOUT=1s
send 0 2
influx_stop TERM
say "influxd stopped"
send 3 17
failed=$(curl -sf "$EDGE_URL/status" | jq -r .uplink.requests_failed)
say "$failed failed requests while stopped, $(buffer_count) points kept"
[ "$failed" -ge 5 ] || fail "the edge did not retry while influxd was down"
assert_eq 0 "$(rejected_count)" "points in rejected while influxd is down"
influx_start
wait_until 60 buffer_empty || fail "the buffer did not drain after the start ($(buffer_count) left)"
kill -STOP "$INFLUX_PID"
say "influxd frozen (SIGSTOP)"
send 18 27
wait_until 30 failed_since $((failed + 5)) || fail "the edge did not retry while influxd was frozen"
say "$(curl -sf "$EDGE_URL/status" | jq -r .uplink.requests_failed) failed requests in all, $(buffer_count) points kept"
assert_eq 0 "$(rejected_count)" "points in rejected while influxd is frozen"
kill -CONT "$INFLUX_PID"
send 28 29
wait_until 60 buffer_empty || fail "the buffer did not drain after the thaw ($(buffer_count) left)"
isolations=$(curl -sf "$EDGE_URL/status" | jq -r .uplink.server_isolations)
edge_stop
assert_eq "3000 4501500" "$(influx_count_sum)" "count and sum of value in InfluxDB (1..3000)"
for x in $(seq 1 3000); do echo $((1700000000000000000 + x * 1000)); done | sort >"$WORK/want_times.txt"
influx_times | diff -q "$WORK/want_times.txt" - >/dev/null || fail "InfluxDB's points differ from the 3000 expected"
say "ok: InfluxDB holds each of the 3000 readings exactly once"
assert_eq 0 "$(rejected_count)" "points in rejected"
say "ok: $isolations bisections for 5xx; $(uplink_summary)"
