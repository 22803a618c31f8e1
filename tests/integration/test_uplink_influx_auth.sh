#!/usr/bin/env bash
# Real influxd with auth-enabled: a wrong password keeps every point and the log says
# "authentication failed" (once); the right password creates the database and delivers all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

influx_start_auth
# The first user may be created without credentials.
influx_post_query "CREATE USER admin WITH PASSWORD 'adm1n' WITH ALL PRIVILEGES" >/dev/null ||
	fail "cannot create the admin user"
INFLUX_USER=admin INFLUX_PASS=adm1n
[ "$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$INFLUX_URL/query" --data-urlencode 'q=SHOW DATABASES')" = 401 ] ||
	fail "influxd does not enforce authentication"

buffer_init
buffer_fill 1000
edge_start IOT_EDGE_UPLINK_USERNAME=admin IOT_EDGE_UPLINK_PASSWORD=wrong IOT_EDGE_UPLINK_RETRY_MAX=500ms
wait_until 30 grep -q 'authentication failed' "$EDGE_LOG" || fail "no authentication failure logged"
sleep 2 # several more attempts at the cap
edge_stop
assert_eq 1000 "$(buffer_count)" "points kept with a wrong password"
assert_eq 0 "$(rejected_count)" "points in rejected"
assert_eq 1 "$(grep -c 'authentication failed (HTTP 401: authorization failed): check \[uplink\] username and password' "$EDGE_LOG")" \
	"error lines saying authentication failed"
grep -q "stopped: 0 points sent in 0 requests, [1-9][0-9]* failed requests" <(uplink_summary) ||
	fail "counters: $(uplink_summary)"
grep -q 'wrong\|adm1n' "$EDGE_LOG" && fail "a password was logged"

edge_start IOT_EDGE_UPLINK_USERNAME=admin IOT_EDGE_UPLINK_PASSWORD=adm1n
wait_until 60 buffer_empty || fail "the buffer did not drain with the right password"
edge_stop
grep -q 'created database "iot"' "$EDGE_LOG" || fail "the database was not created"
assert_eq "1000 500500" "$(influx_count_sum)" "count and sum of value in InfluxDB"
grep -q 'adm1n' "$EDGE_LOG" && fail "the password was logged"
say "ok: no password in the log"
