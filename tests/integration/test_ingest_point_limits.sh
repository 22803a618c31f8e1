#!/usr/bin/env bash
# Points InfluxDB refuses or chokes on are refused at ingest with a 400 naming the limit and
# the line, through every door (/write, /api/v2/write, /data, UDP): more tags than
# http.max_tags, more fields than http.max_fields, a series key over 65 535 bytes, a field
# type conflict inside one request (partial write naming both lines). The good lines of the
# same request are stored; IOT_EDGE_HTTP_MAX_TAGS=1000 lets the 200-tag point in.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ingest_lib.sh"

tags() { # N: ",t0=v,...,t<N-1>=v"
	local i out=""
	for ((i = 0; i < $1; i++)); do out+=",t$i=v"; done
	printf '%s' "$out"
}
json_tags() { # N: "t0":"v",...
	local i out=""
	for ((i = 0; i < $1; i++)); do out+="${out:+,}\"t$i\":\"v\""; done
	printf '%s' "$out"
}

UDP_PORT=$(free_udp_port)
edge_start IOT_EDGE_HTTP_MAX_FIELDS=3 IOT_EDGE_HTTP_MAX_LINE=1MiB IOT_EDGE_UDP_LISTEN="127.0.0.1:$UDP_PORT"

# /write: line 2 has 65 tags, line 3 four fields; lines 1 and 4 are stored.
printf 'ok v=1 1\nwide%s v=1 2\nok a=1,b=2,c=3,d=4 3\nok v=2 4\n' "$(tags 65)" >"$WORK/limits.txt"
expect_answer 400 "partial write: line 2: more than 64 tags in one point (http.max_tags); line 3: more than 3 fields in one point (http.max_fields) dropped=2" \
	POST '/write?db=iot' --data-binary @"$WORK/limits.txt"
assert_eq 2 "$(buffer_count)" "points stored beside the refused lines"

# A series key of 65 536 bytes.
printf 'k%s v=1 5\n' "$(head -c 65535 /dev/zero | tr '\0' k)" >"$WORK/key.txt"
expect_answer 400 "line 1: series key (measurement and tags) is 65536 bytes, more than 65535 (InfluxDB's limit)" \
	POST '/write?db=iot' --data-binary @"$WORK/key.txt"

# A type conflict inside one request, /api/v2/write (its error format): line 3 is refused
# naming line 1, lines 1, 2 and 4 are stored.
printf 'c v=1 1\nc,t=x v="s" 2\nc v="s" 3\nc w=1i 4\n' >"$WORK/conflict.txt"
expect_answer 400 'line 3: field "v" is a string here but a float in line 1 of this request' \
	POST '/api/v2/write?org=o&bucket=b' --data-binary @"$WORK/conflict.txt"
assert_eq invalid "$(jq -r .code "$WORK/last_response")" "the v2 error code"
assert_eq 5 "$(buffer_count)" "points stored beside the conflicting line"

# /data: the whole body is refused (JSON answers are all or nothing), nothing stored.
expect_answer 400 "element 1: 65 tags in one point, more than 64 (http.max_tags)" POST /data \
	-H 'Content-Type: application/json' \
	--data-binary "[{\"type\":\"t\",\"value\":1},{\"measurement\":\"m\",\"tags\":{$(json_tags 65)},\"fields\":{\"v\":1}}]"
expect_answer 400 'element 1: field "v" is a boolean here but a float in element 0 of this request' \
	POST /data -H 'Content-Type: application/json' \
	--data-binary '[{"measurement":"m","fields":{"v":1}},{"measurement":"m","fields":{"v":true}}]'
assert_eq 5 "$(buffer_count)" "points stored after the refused JSON bodies"

# UDP: the same limits; the good line of the datagram is stored.
udp_send "$UDP_PORT" "$(printf 'udp v=1 1\nudp%s v=1 2\n' "$(tags 65)")"
six_stored() { [ "$(buffer_count)" = 6 ]; }
wait_until 10 six_stored || fail "the UDP datagram's good line was not stored"
assert_eq 6 "$(buffer_count)" "points stored after the UDP datagram"
edge_stop

# The 200-tag point InfluxDB 1.6 answers 500 to, let in on purpose.
rm -f "$BUFFER"
edge_start IOT_EDGE_HTTP_MAX_TAGS=1000
expect_answer 204 "" POST '/write?db=iot' --data-binary "poison$(tags 200) v=1 1"
assert_eq 1 "$(buffer_count)" "the 200-tag point with http.max_tags = 1000"
edge_stop
