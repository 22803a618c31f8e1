#!/usr/bin/env bash
# Real influxd killed (-9) and restarted in the middle of draining a 100 000-point backlog:
# afterwards InfluxDB holds each of the 100 000 points exactly once (count, sum and the
# timestamps), the buffer is empty, nothing was rejected.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

influx_start
buffer_init
buffer_fill 100000
edge_start IOT_EDGE_UPLINK_BATCH_POINTS=1000
buffer_at_most() { [ "$(buffer_count)" -le "$1" ]; }
wait_until 120 buffer_at_most 90000 || fail "the drain did not start"
influx_stop KILL
# Requests already answered are acknowledged after the next one fails, before
# the retry: once a second attempt failed, the buffer holds still.
failed_twice() { [ "$(grep -c 'points not delivered' "$EDGE_LOG")" -ge 2 ]; }
wait_until 30 failed_twice || fail "the edge did not notice the outage"
left=$(buffer_count)
say "influxd killed with $left points still buffered"
[ "$left" -gt 0 ] || fail "the backlog drained before influxd was killed: the test proves nothing"
sleep 1
assert_eq "$left" "$(buffer_count)" "points kept while influxd is down"
influx_start
wait_until 300 buffer_empty || fail "the buffer did not drain after the restart ($(buffer_count) left)"
edge_stop
assert_eq "100000 5000050000" "$(influx_count_sum)" "count and sum of value in InfluxDB (1..100000)"
for x in $(seq 1 100000); do echo $((1700000000000000000 + x * 1000)); done | sort >"$WORK/want_times.txt"
influx_times | diff -q "$WORK/want_times.txt" - >/dev/null || fail "InfluxDB's points differ from the 100000 expected"
say "ok: InfluxDB holds each of the 100000 points exactly once"
assert_eq 0 "$(rejected_count)" "points in rejected"
grep -q 'stopped: 100000 points sent in [0-9]* requests, [1-9][0-9]* failed requests' <(uplink_summary) ||
	fail "counters: $(uplink_summary)"
say "ok: $(uplink_summary)"
