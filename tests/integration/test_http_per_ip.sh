#!/usr/bin/env bash
# One host must not lock out the others: 127.0.0.1 opens as many idle connections as
# http.max_connections allows (each would hold its slot until connection_timeout); http.max_connections_per_ip keeps most of them out, so
# a reading from 127.0.0.2 still gets its 201 and is stored.
. "$(dirname "$0")/lib.sh"

HOSTILE="$(dirname "$0")/http_hostile.py"
edge_start IOT_EDGE_HTTP_MAX_CONNECTIONS=20 IOT_EDGE_HTTP_MAX_CONNECTIONS_PER_IP=8 \
	IOT_EDGE_HTTP_CONNECTION_TIMEOUT=60s
python3 "$HOSTILE" hog "$EDGE_PORT" 20 4 >"$WORK/hog.txt" &
hog=$!
wait_until 10 grep -q '^hog:' "$WORK/hog.txt" || fail "the hog did not connect"
cat "$WORK/hog.txt"
assert_eq "hog: 8 held, 12 closed" "$(cat "$WORK/hog.txt")" "127.0.0.1's connections (8 per address)"
status=$(curl -s -o "$WORK/answer" -w '%{http_code}' -m 5 --interface 127.0.0.2 -XPOST \
	-H 'Content-Type: application/json' --data-binary '{"type":"temp","value":21,"ts":"2026-01-01T00:00:00Z"}' \
	"$EDGE_URL/data" || true)
assert_eq 201 "$status" "a reading from 127.0.0.2 while 127.0.0.1 holds its connections"
assert_eq 1 "$(buffer_count)" "points stored"
wait "$hog"
edge_stop
