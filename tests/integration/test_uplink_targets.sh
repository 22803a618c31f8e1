#!/usr/bin/env bash
# What goes on the wire: the v1 and v2 write URLs (escaped), gzip only above 1 KiB and never
# with gzip off, one kept-alive connection for a whole backlog, batches of batch_points in
# order, and a partial batch sent after flush_interval.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

buffer_init
buffer_fill 1000
fake_start '{"then": {"status": 204}}'
edge_start_fake IOT_EDGE_UPLINK_API=v2 IOT_EDGE_UPLINK_ORG="my org" IOT_EDGE_UPLINK_BUCKET=b/1 \
	IOT_EDGE_UPLINK_TOKEN=abc IOT_EDGE_UPLINK_BATCH_POINTS=100
wait_until 30 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
assert_eq "/api/v2/write?precision=ns&org=my%20org&bucket=b%2F1" \
	"$(fake_jq '[.[] | "\(.path)?\(.query)"] | unique | .[]')" "the v2 URL"
assert_eq '["Token abc"]' "$(fake_jq '[.[].auth] | unique | tostring')" "the Authorization header"
assert_eq 10 "$(fake_writes)" "requests for 1000 points in batches of 100"
assert_eq 1 "$(fake_jq '[.[].port] | unique | length')" "TCP connections used (keep-alive)"
assert_eq '["gzip"]' "$(fake_jq '[.[].encoding] | unique | tostring')" "Content-Encoding (bodies > 1 KiB)"
cut -d' ' -f2 "$FAKE_STORE" | cut -d= -f2 >"$WORK/order.txt"
seq 1 1000 | diff -q - "$WORK/order.txt" >/dev/null || fail "points were not sent oldest first"
say "ok: 1000 points arrived in order, each once"

# Points posted one by one go out after flush_interval, uncompressed when small.
fake_forget
for i in 1 2 3 4 5; do
	assert_eq 201 "$(post /data "{\"type\":\"t\",\"value\":$i,\"ts\":\"2024-01-01T00:00:0${i}Z\"}")" "POST $i"
done
wait_until 30 buffer_empty || fail "the buffer did not drain"
assert_eq 5 "$(fake_stored)" "points stored"
assert_eq '[""]' "$(fake_jq '[.[].encoding] | unique | tostring')" "Content-Encoding of a small body"
edge_stop

# gzip off: never compressed; v1 URL with the database escaped.
buffer_fill 1000 5000
fake_forget
edge_start_fake IOT_EDGE_UPLINK_GZIP=false IOT_EDGE_UPLINK_DATABASE="my db" IOT_EDGE_UPLINK_BATCH_POINTS=500
wait_until 30 buffer_empty || fail "the buffer did not drain"
edge_stop
assert_eq "/write?precision=ns&db=my%20db" "$(fake_jq '[.[] | "\(.path)?\(.query)"] | unique | .[]')" "the v1 URL"
assert_eq '[""]' "$(fake_jq '[.[].encoding] | unique | tostring')" "Content-Encoding with gzip off"
assert_eq "500,500" "$(fake_jq '[.[].lines] | map(tostring) | join(",")')" "points per request"
assert_eq "$(fake_jq 'map(.len) | add')" "$(fake_jq 'map(.raw_len) | add')" "bytes on the wire = line protocol bytes"
