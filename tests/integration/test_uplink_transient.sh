#!/usr/bin/env bash
# Error table, transient rows: a reset mid-response, a closed connection, a hang past the
# timeout, 500, 502 and 503 (no Retry-After) keep the batch; it is delivered once InfluxDB
# answers 204, and nothing is lost, rejected or stored twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

buffer_init
buffer_fill 100
fake_start '{"answers": [{"reset": true}, {"close": true}, {"hang": true},
                         {"status": 500, "body": {"error": "engine: boom"}},
                         {"status": 502, "body": "bad gateway"}, {"status": 503}],
             "then": {"status": 204}}'
edge_start_fake IOT_EDGE_UPLINK_TIMEOUT=1s IOT_EDGE_UPLINK_RETRY_INITIAL=50ms \
	IOT_EDGE_UPLINK_RETRY_MAX=300ms
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"

assert_eq 7 "$(fake_writes)" "write requests (6 failures, then 1 success)"
assert_eq "[100]" "$(fake_jq '[.[].lines] | unique | tostring')" "every request carried the same 100 points"
assert_eq "0,0,0,500,502,503,204" "$(fake_jq '[.[].status] | map(tostring) | join(",")')" "answers in order"
assert_eq 100 "$(fake_stored)" "points stored by the fake"
assert_eq 100 "$(fake_stored_unique)" "distinct points stored"
assert_eq 0 "$(rejected_count)" "points in rejected"
grep -q 'delivery failing (network)' "$EDGE_LOG" || fail "no log line for the first failure"
grep -q 'delivered again after 6 failed attempts' "$EDGE_LOG" || fail "no recovery line"
grep -q 'timeout: ' "$EDGE_LOG" || fail "the hang was not reported as a timeout"
edge_stop
raw=$(fake_jq 'map(.len) | add')
wire=$(fake_jq 'map(.raw_len) | add')
assert_eq "[\"gzip\"]" "$(fake_jq '[.[].encoding] | unique | tostring')" "every body was gzipped"
assert_eq "stopped: 100 points sent in 1 requests, 6 failed requests, 6 retries, 0 points rejected, 0 splits, $raw bytes of line protocol sent as $wire bytes" \
	"$(uplink_summary)" "the uplink's counters"
