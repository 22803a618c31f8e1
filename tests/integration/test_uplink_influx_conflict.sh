#!/usr/bin/env bash
# Real influxd 1.6, a real field-type conflict: `value` exists as a float, and a backlog of
# 501 points has one `value="s"` in the middle. That one line moves to `rejected` with
# InfluxDB's message; the 500 others are in InfluxDB; nothing waits in the buffer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

influx_start
influx_post_query 'CREATE DATABASE "iot"' >/dev/null || fail "CREATE DATABASE failed"
curl -sf -XPOST "$INFLUX_URL/write?db=iot&precision=ns" --data-binary 'data,type=t value=1 1600000000000000000' ||
	fail "the first write failed"
buffer_init
buffer_fill 250 1
buffer_add_line 'data,type=t value="s" 1700000000000250500'
buffer_fill 250 251
edge_start
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
edge_stop

assert_eq 1 "$(rejected_count)" "points in rejected"
assert_eq 'data,type=t value="s" 1700000000000250500' "$(sqlite3 "$BUFFER" 'SELECT line FROM rejected')" \
	"the rejected line"
reason=$(sqlite3 "$BUFFER" 'SELECT reason FROM rejected')
case "$reason" in
*'field type conflict: input field "value" on measurement "data" is type string, already exists as type float'*) ;;
*) fail "the reason is not InfluxDB's message: $reason" ;;
esac
say "ok: reason = $reason"
assert_eq "501 125251" "$(influx_count_sum)" "count and sum of value in InfluxDB (1 + 1..500)"
{
	echo 1600000000000000000
	for x in $(seq 1 500); do echo $((1700000000000000000 + x * 1000)); done
} | sort >"$WORK/want_times.txt"
influx_times | diff -q "$WORK/want_times.txt" - >/dev/null || fail "InfluxDB's points differ from the 501 expected"
say "ok: InfluxDB holds exactly the 501 expected points"
grep -q 'stopped: 500 points sent in .* 1 points rejected' <(uplink_summary) || fail "counters: $(uplink_summary)"
