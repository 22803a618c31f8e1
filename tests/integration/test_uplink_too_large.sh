#!/usr/bin/env bash
# Error table, 413 row: InfluxDB takes at most 2000 bytes of line protocol. A 100-point batch
# (4092 bytes) is halved twice, the smaller size is remembered for the rest of the backlog,
# nothing is lost; a single point larger than the limit moves to `rejected`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

buffer_init
buffer_fill 100
fake_start '{"max_body": 2000, "then": {"status": 204}}'
edge_start_fake
wait_until 30 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
# 100 points/4092 B -> 413; 50/2041 B -> 413; then at most 25 points and 1020 bytes:
# 25 (1016 B), 24, 24, 24, 3.
assert_eq "413,413,204,204,204,204,204" "$(fake_jq '[.[].status] | map(tostring) | join(",")')" "answers"
assert_eq "100,50,25,24,24,24,3" "$(fake_jq '[.[].lines] | map(tostring) | join(",")')" "points per request"
assert_eq 100 "$(fake_stored)" "points stored"
assert_eq 100 "$(fake_stored_unique)" "distinct points stored"
grep -q 'batches are now at most 25 points and 1020 bytes' "$EDGE_LOG" || fail "no split log line"
edge_stop
grep -q 'stopped: 100 points sent in 5 requests, 2 failed requests, 0 retries, 0 points rejected, 2 splits' \
	<(uplink_summary) || fail "counters: $(uplink_summary)"
say "ok: counters: $(uplink_summary)"

# One point over the limit on its own: InfluxDB will never take it.
big=$(head -c 3000 /dev/zero | tr '\0' x)
buffer_fill 10 1000
buffer_add_line "data,type=big value=1,note=\"$big\" 1700000000999999000"
buffer_fill 10 2000
fake_forget
edge_start_fake
wait_until 30 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
edge_stop
assert_eq 1 "$(rejected_count)" "points in rejected"
assert_eq "big" "$(sqlite3 "$BUFFER" "SELECT substr(line, 11, 3) FROM rejected")" "the rejected point"
sqlite3 "$BUFFER" "SELECT reason FROM rejected" | grep -q '^HTTP 413: Request Entity Too Large' ||
	fail "reason: $(sqlite3 "$BUFFER" "SELECT reason FROM rejected")"
say "ok: the reason is InfluxDB's 413"
assert_eq 20 "$(fake_stored)" "the 20 other points stored"
