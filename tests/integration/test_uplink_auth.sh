#!/usr/bin/env bash
# Error table, 401/403 rows: wrong credentials keep every point, retry at retry_max (1 s
# here), log "authentication failed" once (at most once a minute), then the right
# credentials deliver everything. v2 sends "Authorization: Token ...", v1 basic auth.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

buffer_init
buffer_fill 100
fake_start '{"auth": "Token s3cret", "then": {"status": 204}}'
edge_start_fake IOT_EDGE_UPLINK_API=v2 IOT_EDGE_UPLINK_ORG=o IOT_EDGE_UPLINK_BUCKET=b \
	IOT_EDGE_UPLINK_TOKEN=wrong IOT_EDGE_UPLINK_RETRY_MAX=1s
wait_until 30 fake_arrived 3 || fail "fewer than 3 attempts"
edge_stop
assert_eq 100 "$(buffer_count)" "points kept after 401s"
assert_eq 0 "$(fake_stored)" "points stored"
assert_eq "[401]" "$(fake_jq '[.[].status] | unique | tostring')" "every answer was 401"
assert_eq '["Token wrong"]' "$(fake_jq '[.[].auth] | unique | tostring')" "the token sent"
gap=$(fake_gap 1 2)
awk -v g="$gap" 'BEGIN { exit !(g >= 1.0) }' || fail "401 was retried before retry_max: ${gap}s"
say "ok: 401 retried at the cap (${gap}s >= 1 s later)"
assert_eq 1 "$(grep -c 'authentication failed (HTTP 401: authorization failed): check \[uplink\] token' "$EDGE_LOG")" \
	"error lines saying authentication failed"
grep -q 'wrong\|s3cret' "$EDGE_LOG" && fail "a token was logged"

# 403 (a user without write permission) is the same row.
fake_forget
fake_script '{"answers": [{"status": 403, "body": {"error": "user is not authorized to write"}}],
              "then": {"status": 204}}'
edge_start_fake IOT_EDGE_UPLINK_USERNAME=writer IOT_EDGE_UPLINK_PASSWORD=pw IOT_EDGE_UPLINK_RETRY_MAX=1s
wait_until 30 buffer_empty || fail "the buffer did not drain after the 403"
edge_stop
assert_eq "403,204" "$(fake_jq '[.[].status] | map(tostring) | join(",")')" "answers"
assert_eq "[\"Basic $(printf writer:pw | base64)\"]" "$(fake_jq '[.[].auth] | unique | tostring')" \
	"v1 basic auth header"
assert_eq 100 "$(fake_stored)" "points stored after the 403"
grep -q 'authentication failed (HTTP 403: user is not authorized to write): check \[uplink\] username and password' \
	"$EDGE_LOG" || fail "no 403 error line"
grep -q 'InfluxDB accepts the credentials again' "$EDGE_LOG" || fail "no recovery line"

# The right token delivers.
buffer_fill 50 1000
fake_forget
fake_script '{"auth": "Token s3cret", "then": {"status": 204}}'
edge_start_fake IOT_EDGE_UPLINK_API=v2 IOT_EDGE_UPLINK_ORG=o IOT_EDGE_UPLINK_BUCKET=b \
	IOT_EDGE_UPLINK_TOKEN=s3cret
wait_until 30 buffer_empty || fail "the buffer did not drain with the right token"
edge_stop
assert_eq 50 "$(fake_stored_unique)" "points stored with the right token"
assert_eq 0 "$(rejected_count)" "points in rejected"
grep -q 's3cret' "$EDGE_LOG" && fail "the token was logged"
say "ok: no secret in the log"
