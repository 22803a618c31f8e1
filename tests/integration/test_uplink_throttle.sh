#!/usr/bin/env bash
# Error table, 429/503 rows: Retry-After in seconds and as an HTTP-date is obeyed even when it
# is longer than retry_max (300 ms here); a 429 without it backs off as usual. The batch is
# kept throughout and delivered once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

buffer_init
buffer_fill 100
fake_start '{"answers": [{"status": 429, "headers": {"Retry-After": "2"}, "body": {"error": "slow down"}},
                         {"status": 503, "retry_after_date": 3},
                         {"status": 429}],
             "then": {"status": 204}}'
edge_start_fake IOT_EDGE_UPLINK_RETRY_INITIAL=50ms IOT_EDGE_UPLINK_RETRY_MAX=300ms
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"

assert_eq 4 "$(fake_writes)" "write requests"
assert_eq "429,503,429,204" "$(fake_jq '[.[].status] | map(tostring) | join(",")')" "answers in order"
gap=$(fake_gap 1 2)
awk -v g="$gap" 'BEGIN { exit !(g >= 2.0) }' || fail "Retry-After: 2 was not obeyed: ${gap}s"
say "ok: the retry after 'Retry-After: 2' came ${gap}s later (>= 2)"
gap=$(fake_gap 2 3)
# An HTTP-date has whole seconds: 3 s ahead of the fake's clock is at least 2 s of waiting.
awk -v g="$gap" 'BEGIN { exit !(g >= 2.0) }' || fail "the Retry-After date was not obeyed: ${gap}s"
say "ok: the retry after a Retry-After date 3 s ahead came ${gap}s later (>= 2)"
assert_eq 100 "$(fake_stored)" "points stored"
assert_eq 0 "$(rejected_count)" "points in rejected"
grep -q 'delivery failing (throttled): HTTP 429: slow down' "$EDGE_LOG" || fail "no throttled log line"
edge_stop
grep -q 'stopped: 100 points sent in 1 requests, 3 failed requests, 3 retries, 0 points rejected' \
	<(uplink_summary) || fail "counters: $(uplink_summary)"
say "ok: counters: $(uplink_summary)"
