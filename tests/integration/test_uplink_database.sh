#!/usr/bin/env bash
# Error table, 404 row and a 400 that is not about the lines: "database not found" sends
# CREATE DATABASE once (uplink.create_database on) or keeps the points (off); "retention
# policy not found" keeps them too, and moves nothing to `rejected`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

notfound='{"status": 404, "body": {"error": "database not found: \"iot\""}}'
buffer_init
buffer_fill 100
fake_start "{\"answers\": [$notfound], \"then\": {\"status\": 204}}"
edge_start_fake
wait_until 30 buffer_empty || fail "the buffer did not drain after CREATE DATABASE"
edge_stop
assert_eq "/write,/query,/write" "$(fake_jq '[.[].path] | join(",")')" "requests"
assert_eq 'q=CREATE DATABASE "iot"' "$(fake_jq '.[1].body')" "the statement"
assert_eq 100 "$(fake_stored)" "points stored"
grep -q 'created database "iot"' "$EDGE_LOG" || fail "no log line about the new database"

# create_database off: kept, no CREATE DATABASE, delivered when the database exists.
buffer_fill 100 1000
fake_forget
fake_script "{\"then\": $notfound}"
edge_start_fake IOT_EDGE_UPLINK_CREATE_DATABASE=false IOT_EDGE_UPLINK_RETRY_MAX=200ms
wait_until 30 fake_arrived 3 || fail "fewer than 3 attempts"
assert_eq 100 "$(buffer_count)" "points kept while the database is missing"
assert_eq 0 "$(fake_jq '[.[] | select(.path == "/query")] | length')" "CREATE DATABASE requests"
fake_script '{"then": {"status": 204}}'
wait_until 30 buffer_empty || fail "the buffer did not drain once the database existed"
edge_stop
assert_eq 100 "$(fake_stored)" "points stored"
grep -q 'delivery failing (not_found): HTTP 404: database not found: "iot"' "$EDGE_LOG" ||
	fail "no not_found log line"

# A configuration mistake answered with 400 must not be mistaken for bad lines.
buffer_fill 100 2000
fake_forget
fake_script '{"answers": [{"status": 400, "body": {"error": "retention policy not found: nope"}},
                          {"status": 400, "body": {"error": "retention policy not found: nope"}}],
              "then": {"status": 204}}'
edge_start_fake IOT_EDGE_UPLINK_RETENTION_POLICY=nope IOT_EDGE_UPLINK_RETRY_MAX=200ms
wait_until 30 buffer_empty || fail "the buffer did not drain"
edge_stop
assert_eq "400,400,204" "$(fake_jq '[.[].status] | map(tostring) | join(",")')" "answers"
assert_eq "[100]" "$(fake_jq '[.[].lines] | unique | tostring')" "every request carried all 100 points"
assert_eq "precision=ns&db=iot&rp=nope" "$(fake_jq '.[0].query')" "the v1 query string"
assert_eq 0 "$(rejected_count)" "points in rejected"
assert_eq 100 "$(fake_stored)" "points stored"
grep -q 'delivery failing (other): HTTP 400: retention policy not found: nope' "$EDGE_LOG" ||
	fail "no log line for the 400"
