#!/usr/bin/env bash
# Error table, 400 rows: InfluxDB refuses two lines of a 100-point backlog, answering in the
# style of 1.x (field type conflict, no line named: bisection; "unable to parse '<line>'":
# the quoted lines), 2.x ({"line": N}: the first refused line) and 3.x ("line_number" for
# each). Exactly the two lines move to `rejected` with InfluxDB's message, the 98 others are
# delivered, and the request count is exactly what the strategy needs.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

buffer_init
fake_start '{"then": {"status": 204}}'

# style, write requests expected, a phrase of the message stored as the reason
rounds=(
	"v1_conflict 23 field type conflict"
	"v1_parse 2 unable to parse 'data,type=bad value="
	"v2_line 3 error parsing line"
	"v3_lines 2 partial write of line protocol occurred"
)
round=0
for r in "${rounds[@]}"; do
	read -r style requests phrase <<<"$r"
	base=$((round * 1000))
	# ids in order: 36 good, 1 bad (the 37th), 43 good, 1 bad (the 81st), 19 good
	buffer_fill 36 $((base + 1))
	buffer_fill 1 $((base + 37)) bad
	buffer_fill 43 $((base + 38))
	buffer_fill 1 $((base + 81)) bad
	buffer_fill 19 $((base + 82))
	fake_forget
	fake_script "{\"then\": {\"status\": 204}, \"bad\": \"type=bad\", \"bad_style\": \"$style\"}"
	edge_start_fake
	wait_until 60 buffer_empty || fail "$style: the buffer did not drain ($(buffer_count) left)"
	edge_stop

	assert_eq "$requests" "$(fake_writes)" "$style: write requests"
	assert_eq 98 "$(fake_stored_unique)" "$style: distinct points stored"
	assert_eq 0 "$(grep -c 'type=bad' "$FAKE_STORE" || true)" "$style: refused points stored"
	for x in $(seq $((base + 1)) $((base + 100))); do
		[ $x -eq $((base + 37)) ] || [ $x -eq $((base + 81)) ] ||
			echo "data,type=t value=$x $((1700000000000000000 + x * 1000))"
	done | sort >"$WORK/want.txt"
	sort -u "$FAKE_STORE" | diff -q "$WORK/want.txt" - >/dev/null ||
		fail "$style: the stored points are not exactly the 98 good ones"
	say "ok: $style: the stored points are exactly the 98 good ones"
	assert_eq $(((round + 1) * 2)) "$(rejected_count)" "$style: points in rejected (all rounds)"
	want="data,type=bad value=$((base + 37)) $((1700000000000000000 + (base + 37) * 1000))"
	want="$want|data,type=bad value=$((base + 81)) $((1700000000000000000 + (base + 81) * 1000))"
	assert_eq "$want" "$(sqlite3 "$BUFFER" "SELECT group_concat(line, '|') FROM
		(SELECT line FROM rejected ORDER BY rejected_ns, id LIMIT 2 OFFSET $((round * 2)))")" \
		"$style: the rejected lines"
	reasons=$(sqlite3 "$BUFFER" "SELECT reason FROM rejected ORDER BY rejected_ns, id
		LIMIT 2 OFFSET $((round * 2))")
	[ "$(grep -cF -- "$phrase" <<<"$reasons")" = 2 ] || fail "$style: reasons lack '$phrase': $reasons"
	say "ok: $style: both reasons quote InfluxDB ($phrase)"
	grep -q "stopped: .* 2 points rejected" <(uplink_summary) || fail "$style: counters: $(uplink_summary)"
	round=$((round + 1))
done
grep -q 'InfluxDB refuses 2 point(s) for good: see the `rejected` table' "$EDGE_LOG" ||
	fail "no log line about rejected points"
