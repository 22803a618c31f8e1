#!/usr/bin/env bash
# Every bad request gets a clear JSON error and stores nothing; /health answers;
# SIGTERM stops the daemon cleanly with the WAL checkpointed.
. "$(dirname "$0")/lib.sh"

influx_start
edge_start

expect() { # [CONTENT_TYPE=...] expect STATUS "error text fragment" PATH BODY
	local want=$1 fragment=$2 path=$3 body=$4
	local got
	got=$(post "$path" "$body")
	[ "$got" = "$want" ] || fail "POST $path $body: expected $want, got $got: $(cat "$WORK/last_response")"
	if [ -n "$fragment" ]; then
		jq -e --arg f "$fragment" '.error | contains($f)' "$WORK/last_response" >/dev/null ||
			fail "POST $path $body: error should mention '$fragment': $(cat "$WORK/last_response")"
	fi
	say "ok: $want $(cat "$WORK/last_response")"
}

expect 400 "invalid JSON" /data '{"type":"temp","value":'
expect 400 '"value"' /data '{"type":"temp"}'
expect 400 '"value"' /data '{"type":"temp","value":"34"}'
expect 400 '"type"' /data '{"value":34}'
expect 400 '"ts"' /data '{"type":"temp","value":34,"ts":"2017-13-11T15:00:53Z"}'
expect 400 'element 1' /data '[{"type":"temp","value":1},{"type":"temp","value":true}]'
expect 400 'unknown key' /data '{"type":"temp","value":1,"humidity":40}'
CONTENT_TYPE=text/plain expect 415 'application/json' /data '{"type":"temp","value":1}'
expect 404 'no such endpoint' /nope '{}'
head -c 1100000 /dev/zero | tr '\0' ' ' >"$WORK/big.json"
expect 413 'larger than' /data "@$WORK/big.json" # curl reads @FILE
status=$(curl -s -o "$WORK/last_response" -w '%{http_code}' "$EDGE_URL/data")
assert_eq 405 "$status" "GET /data"

sleep 0.5
assert_eq 0 "$(buffer_count)" "points stored from bad requests"
assert_eq 0 "$(influx_count)" "points in InfluxDB from bad requests"

health=$(curl -sf "$EDGE_URL/health" | jq -r .status)
assert_eq ok "$health" "/health status"

# A valid array is all-or-nothing and answered only once committed.
expect 201 "" /data '[{"type":"temp","value":20.5,"sensor_id":1},{"type":"hum","value":40}]'
wait_until 20 buffer_empty || fail "the buffer did not drain"
assert_eq 2 "$(influx_count)" "points in InfluxDB from one array"

# Graceful stop: exit 0 and the WAL folded into the database file.
influx_stop
expect 201 "" /data '{"type":"temp","value":21}'
edge_stop
wal_size=$(stat -c %s "$BUFFER-wal" 2>/dev/null || echo 0)
assert_eq 0 "$wal_size" "WAL bytes left after SIGTERM"
assert_eq 1 "$(buffer_count)" "unsent point kept across the stop"
grep -q "stopped cleanly" "$EDGE_LOG" || fail "no 'stopped cleanly' in the log"
