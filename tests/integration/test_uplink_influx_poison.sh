#!/usr/bin/env bash
# Real influxd 1.6: a point with 200 tags, which the edge accepts and InfluxDB answers 500 to
# every time, followed by normal readings (and a second such point among them). Both poison
# points end up in `rejected` with the reason, every one of the 1000 normal readings arrives
# exactly once (count, sum and timestamps), and nothing else is rejected.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

# h15http's http.max_tags (default 64) would refuse the point at ingest: raise it where the
# edge knows the key (unknown IOT_EDGE_* variables are an error).
extra=()
if env IOT_EDGE_HTTP_MAX_TAGS=1000 "$IOT_EDGE" -n -c /dev/null >/dev/null 2>&1; then
	extra=(IOT_EDGE_HTTP_MAX_TAGS=1000)
fi

poison() { # N: a point of measurement poison with 200 tags, timestamp 1700000000000000000 + N
	local t
	t=$(for i in $(seq 200); do printf ',t%d=v%d' "$i" "$i"; done)
	printf 'poison%s value=%d %d' "$t" "$1" $((1700000000000000000 + $1))
}
readings() { # FROM TO: data,type=t value=I at 1700000000000000000 + I * 1000, one a line
	local x
	for x in $(seq "$1" "$2"); do
		printf 'data,type=t value=%d %d\n' "$x" $((1700000000000000000 + x * 1000))
	done
}
write() { # BODY: POST /write, which must answer 204
	assert_eq 204 "$(CONTENT_TYPE=text/plain post '/write?db=iot' "$1")" "POST /write ($2)"
}

influx_start
edge_start "${extra[@]}"
begin=$SECONDS
write "$(poison 1)" "a point with 200 tags"
for k in 0 1 2 3 4; do
	write "$(readings $((k * 100 + 1)) $((k * 100 + 100)))" "100 readings"
done
write "$(poison 2)" "a second point with 200 tags"
for k in 5 6 7 8 9; do
	write "$(readings $((k * 100 + 1)) $((k * 100 + 100)))" "100 readings"
done
wait_until 120 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
say "delivered past both poison points in $((SECONDS - begin)) s"

assert_eq "1000 500500" "$(influx_count_sum)" "count and sum of value in InfluxDB (1..1000)"
for x in $(seq 1 1000); do echo $((1700000000000000000 + x * 1000)); done | sort >"$WORK/want_times.txt"
influx_times | diff -q "$WORK/want_times.txt" - >/dev/null || fail "InfluxDB's points differ from the 1000 expected"
say "ok: InfluxDB holds each of the 1000 readings exactly once"
assert_eq 0 "$(influx_query 'SELECT count("value") FROM "poison"' | jq -r '.results[0].series | length')" \
	"series of measurement poison in InfluxDB"
assert_eq 2 "$(rejected_count)" "points in rejected"
assert_eq "1|2" "$(sqlite3 "$BUFFER" "SELECT group_concat(v, '|') FROM (SELECT
	substr(line, instr(line, ' value=') + 7, 1) AS v FROM rejected WHERE line LIKE 'poison,t1=v1,%' ORDER BY id)")" \
	"the rejected points are the two with 200 tags"
reasons=$(sqlite3 "$BUFFER" "SELECT DISTINCT reason FROM rejected")
assert_eq "InfluxDB answered 500 to this line alone 5 times: Internal Server Error" "$reasons" \
	"the reason of both"
assert_eq "2 2" "$(curl -sf "$EDGE_URL/status" | jq -r '"\(.uplink.server_isolations) \(.uplink.points_rejected_server)"')" \
	"/status: server_isolations, points_rejected_server"
edge_stop
grep -q 'stopped: 1000 points sent in [0-9]* requests, [0-9]* failed requests, [0-9]* retries, 2 points rejected' <(uplink_summary) ||
	fail "counters: $(uplink_summary)"
say "ok: $(uplink_summary)"
