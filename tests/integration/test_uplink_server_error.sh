#!/usr/bin/env bash
# Error table, 5xx rows, against the fake: a line InfluxDB answers 500 to every time is found
# by bisection (only while /ping works), rejected with the reason once it failed alone 5 times,
# before and after InfluxDB took another line, and the rest is delivered; an InfluxDB that goes
# down in the middle of the bisection (/ping fails, or the connection is reset) stops it; 500
# for every line while /ping works, 500 for a while, and 500 with /ping failing reject nothing
# and deliver everything once InfluxDB is well again; 503 and 504 never start a bisection.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

status_get() { curl -sf "$EDGE_URL/status" | jq -r "$1"; }
# "lines of write request 1,lines of request 2,..." in arrival order
request_lines() { fake_jq '[.[] | select(.path != "/query") | .lines | tostring] | join(",")'; }
expect_stored() { # FROM TO [SKIP]: the fake holds exactly buffer_fill's points FROM..TO but SKIP
	local x
	for x in $(seq "$1" "$2"); do
		[ "$x" = "${3:-}" ] || echo "data,type=t value=$x $((1700000000000000000 + x * 1000))"
	done | sort >"$WORK/want.txt"
	sort -u "$FAKE_STORE" | diff -q "$WORK/want.txt" - >/dev/null ||
		fail "the fake does not hold exactly points $1..$2${3:+ but $3}"
	say "ok: the fake holds exactly points $1..$2${3:+ but $3}"
}
reason_of() { sqlite3 "$BUFFER" "SELECT reason FROM rejected WHERE line LIKE '%value=$1 %'"; }
isolation_ended() { [ "$(grep -c 'fails on (another point failed too' "$EDGE_LOG")" -ge "$1" ]; }
SHORT=(IOT_EDGE_UPLINK_RETRY_INITIAL=50ms IOT_EDGE_UPLINK_RETRY_MAX=400ms)

buffer_init
fake_start '{"then": {"status": 204}}'

# 1. Point 41 of 100 makes InfluxDB answer 500; the 2nd /ping, in the middle of the first
#    bisection, fails: everything is kept and the whole batch goes again; the 2nd bisection
#    finds point 41, which fails alone 4 times; the control (point 40, the last line InfluxDB
#    took) is accepted; point 41 fails alone a 5th time, is rejected, and 42..100 go in one
#    request.
begin=$SECONDS
buffer_fill 40 1
buffer_fill 1 41 poison
buffer_fill 59 42
fake_forget
fake_script '{"then": {"status": 204}, "bad": "type=poison", "bad_style": "v1_500",
              "ping_answers": [{"status": 204}, {"status": 500}]}'
edge_start_fake "${SHORT[@]}"
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
say "drained in $((SECONDS - begin)) s"
# 3 whole (no bisection before 3), 50 (2nd ping fails: stop), 3 whole again, then the
# bisection: 50 25 25 13 13 7 4 2 2, point 41 alone 4 times, the control, 41 again, the rest.
assert_eq "100,100,100,50,100,100,100,50,25,25,13,13,7,4,2,2,1,1,1,1,1,1,59" "$(request_lines)" \
	"points per write request"
assert_eq "500,500,500,500,204,500,204" "$(fake_jq '[.[] | .status | tostring] | .[-7:] | join(",")')" \
	"the last answers: point 41 alone 4 times, the control, point 41, the rest"
# a ping for the 3rd 5xx in a row (twice) and for every 5xx in a bisection (12)
assert_eq 14 "$(fake_pings)" "GET /ping requests"
assert_eq 1 "$(rejected_count)" "points in rejected"
assert_eq "InfluxDB answered 500 to this line alone 5 times: Internal Server Error" \
	"$(reason_of 41)" "the reason stored with point 41"
assert_eq 0 "$(grep -c 'type=poison' "$FAKE_STORE" || true)" "poison points stored"
expect_stored 1 100 41
assert_eq "2 1 1" "$(status_get '"\(.uplink.server_isolations) \(.uplink.points_rejected_server) \(.uplink.points_rejected)"')" \
	"/status: server_isolations, points_rejected_server, points_rejected"
# read whole first: grep -q leaving early would make curl fail on SIGPIPE (pipefail)
curl -sf "$EDGE_URL/metrics" >"$WORK/metrics.txt" || fail "GET /metrics"
grep -qx 'iot_edge_uplink_rejected_server_points_total 1' "$WORK/metrics.txt" ||
	fail "/metrics lacks iot_edge_uplink_rejected_server_points_total 1"
grep -q 'stopped looking for a line InfluxDB fails on (/ping answered 500)' "$EDGE_LOG" ||
	fail "no log line for the bisection stopped by the failing /ping"
edge_stop

# 1b. The connection is reset in the middle of a bisection (InfluxDB gone):
#    the search stops, the whole batch goes again, and a later search rejects the poison.
buffer_fill 40 501
buffer_fill 1 541 poison
buffer_fill 59 542
fake_forget
fake_script '{"answers": [{"status": 204}, {"status": 204}, {"status": 204}, {"status": 204},
                          {"reset": true}],
              "then": {"status": 204}, "bad": "type=poison", "bad_style": "v1_500"}'
edge_start_fake "${SHORT[@]}"
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
assert_eq "100,100,100,50,25,100" "$(request_lines | cut -d, -f1-6)" "points per write request, first 6"
assert_eq "InfluxDB answered 500 to this line alone 5 times: Internal Server Error" \
	"$(reason_of 541)" "the reason stored with point 541"
expect_stored 501 600 541
assert_eq "2 1" "$(status_get '"\(.uplink.server_isolations) \(.uplink.points_rejected_server)"')" \
	"/status: server_isolations, points_rejected_server"
edge_stop

# 2. The poison is the oldest point and the edge has just started (no line taken yet): the
#    control is the next point of the buffer, which InfluxDB takes (and gets again with the rest).
#    The v2 API this time (/ping is the same).
begin=$SECONDS
buffer_fill 1 101 poison
buffer_fill 20 102
fake_forget
fake_script '{"then": {"status": 204}, "bad": "type=poison", "bad_style": "v1_500"}'
edge_start_fake "${SHORT[@]}" IOT_EDGE_UPLINK_API=v2 IOT_EDGE_UPLINK_ORG=o IOT_EDGE_UPLINK_BUCKET=b
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
say "drained in $((SECONDS - begin)) s"
assert_eq "21,21,21,11,6,3,2,1,1,1,1,1,1,20" "$(request_lines)" "points per write request"
assert_eq "[\"/api/v2/write\"]" "$(fake_jq '[.[].path] | unique | tostring')" "the write path"
assert_eq 3 "$(rejected_count)" "points in rejected (three rounds)"
assert_eq "InfluxDB answered 500 to this line alone 5 times: Internal Server Error" \
	"$(reason_of 101)" "the reason stored with point 101"
expect_stored 102 121
edge_stop

# 3. 500 for every line while /ping answers 204: bisections find a "suspect", but the control
#    fails too, so nothing is rejected; once InfluxDB is well, everything is delivered.
begin=$SECONDS
buffer_fill 30 201
fake_forget
fake_script '{"then": {"status": 500, "body": {"error": "engine: boom"}}}'
edge_start_fake "${SHORT[@]}"
wait_until 60 isolation_ended 2 || fail "no two isolations ended without a rejection"
say "two isolations given up in $((SECONDS - begin)) s"
[ "$(fake_jq '[.[] | select(.lines == 1)] | length')" -ge 10 ] ||
	fail "the suspects were not tried alone 4 times and the control once"
assert_eq 3 "$(rejected_count)" "points in rejected (none of this round)"
assert_eq 30 "$(buffer_count)" "points kept"
fake_script '{"then": {"status": 204}}'
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
expect_stored 201 230
assert_eq 3 "$(rejected_count)" "points in rejected (none of this round)"
assert_eq 0 "$(status_get .uplink.points_rejected)" "/status: points_rejected"
edge_stop

# 3b. InfluxDB unwell for a while (500 to the first K writes, /ping answering), well again
#    just at the control (K = 11: 3 whole, 4 halvings, 4 alone) or just after it (K = 12): the
#    suspect is tried once more after an accepted control, so neither rejects anything.
for k in 11 12; do
	buffer_fill 30 $((231 + k * 100))
	fake_forget
	fake_script "{\"answers\": $(jq -nc "[range($k)] | map({status: 500})"), \"then\": {\"status\": 204}}"
	edge_start_fake "${SHORT[@]}"
	wait_until 60 buffer_empty || fail "K=$k: the buffer did not drain ($(buffer_count) left)"
	assert_eq 0 "$(status_get .uplink.points_rejected)" "K=$k: /status: points_rejected"
	assert_eq 1 "$(status_get .uplink.server_isolations)" "K=$k: /status: server_isolations"
	expect_stored $((231 + k * 100)) $((260 + k * 100))
	edge_stop
done

# 4. 500 for every line and /ping failing too (500, then no answer at all): InfluxDB is unwell,
#    no batch is ever bisected, nothing is rejected.
begin=$SECONDS
buffer_fill 30 301
fake_forget
fake_script '{"then": {"status": 500, "body": {"error": "engine: boom"}},
              "ping_answers": [{"status": 500}, {"status": 500}], "ping": {"close": true}}'
edge_start_fake "${SHORT[@]}"
pinged() { [ "$(fake_pings)" -ge "$1" ]; }
wait_until 60 pinged 4 || fail "no four pings"
say "four pings failed in $((SECONDS - begin)) s"
assert_eq "[30]" "$(fake_jq '[.[].lines] | unique | tostring')" "every request carried all 30 points"
assert_eq 3 "$(rejected_count)" "points in rejected (none of this round)"
assert_eq 0 "$(status_get .uplink.server_isolations)" "/status: server_isolations"
fake_script '{"then": {"status": 204}}'
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
expect_stored 301 330
edge_stop

# 5. 503 and 504 (unavailable, gateway timeout) say InfluxDB is overloaded or unreachable,
#    never that a line is at fault: eight in a row, no /ping, no bisection.
buffer_fill 30 401
fake_forget
fake_script '{"answers": [{"status": 503}, {"status": 504}, {"status": 503}, {"status": 504},
                          {"status": 503}, {"status": 504}, {"status": 503}, {"status": 504}],
              "then": {"status": 204}}'
edge_start_fake "${SHORT[@]}"
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
assert_eq "30,30,30,30,30,30,30,30,30" "$(request_lines)" "points per write request"
assert_eq 0 "$(fake_pings)" "GET /ping requests"
expect_stored 401 430
edge_stop
assert_eq 3 "$(rejected_count)" "points in rejected (all rounds)"
