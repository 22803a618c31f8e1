#!/usr/bin/env bash
# buffer.write = spill: a line InfluxDB refuses for good (a field type conflict) is answered to the device as a 400 partial write; the good line of the request is stored, the bad one lands in `rejected`.
export TMPDIR=${IOT_SYSTEM_TMPDIR:-/var/tmp/iot-edge-system}
mkdir -p "$TMPDIR"
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_faults.sh"

influx_start
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE "iot"' >/dev/null ||
	fail "CREATE DATABASE failed"
edge_start IOT_EDGE_BUFFER_WRITE=spill IOT_EDGE_BUFFER_SPILL_AFTER=2s
export CONTENT_TYPE=text/plain # post()'s
assert_eq 204 "$(post '/write?db=iot' 'conflict,src=t v=1 1000000000')" "the first write (direct)"
# v is a float in InfluxDB now: "text" conflicts there, w=3 does not (the
# edge itself refuses a conflict inside one request, so the good line uses
# another field).
code=$(post '/write?db=iot' $'conflict,src=t v="text" 2000000000\nconflict,src=t w=3 3000000000')
answer=$(cat "$WORK/last_response")
say "answer: $code $answer"
assert_eq 400 "$code" "a request with a line InfluxDB refuses"
grep -q 'conflict' <<<"$answer" || fail "the 400 does not carry InfluxDB's reason: $answer"
wait_until 30 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
assert_eq 1 "$(buffer_rejected)" "lines in rejected"
n=$(influx_query 'SELECT count("v") FROM "conflict"' | jq -r '.results[0].series[0].values[0][1] // 0')
assert_eq 1 "$n" "points with v in InfluxDB (v=1)"
n=$(influx_query 'SELECT count("w") FROM "conflict"' | jq -r '.results[0].series[0].values[0][1] // 0')
assert_eq 1 "$n" "points with w in InfluxDB (w=3)"
w=$(curl -sf "$EDGE_URL/status" | jq -c '.buffer.write')
say "buffer.write: $w"
assert_eq 1 "$(jq -r .points_direct <<<"$w")" "points direct"
assert_eq 2 "$(jq -r .points_spill_error <<<"$w")" "points spilled after InfluxDB's 400"
edge_stop
