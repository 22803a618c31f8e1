#!/usr/bin/env bash
# Who may write (issue #15, item 4): http.allow closes connections from other sources, udp.allow
# drops their datagrams (both counted), a foreign Origin gets 403 while the status page's
# same-origin GETs work, and http.token with a UDP port others can reach needs udp.allow.
# Loopback only: 127.0.0.1 is allowed, 127.0.0.2 is not.
. "$(dirname "$0")/lib.sh"

CLIENT="$(dirname "$0")/hostile_client.py"
UDP_PORT=$(pick_free_port udp) || fail "no free UDP port"

# Send one datagram from SOURCE: udp_send SOURCE TEXT
udp_send() {
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(sys.argv[2].encode(), ("127.0.0.1", int(sys.argv[3])))' "$1" "$2" "$UDP_PORT"
}

# --- a token with UDP on a non-loopback address needs udp.allow ---
# 192.0.2.1 (TEST-NET-1) is not this machine's: nothing is ever bound outside
# loopback, even by a build without the check (it fails to bind instead).
rc=0
timeout 20 env IOT_EDGE_HTTP_TOKEN=t0ken IOT_EDGE_UDP_LISTEN="192.0.2.1:$UDP_PORT" \
	IOT_EDGE_HTTP_LISTEN="127.0.0.1:$EDGE_PORT" IOT_EDGE_BUFFER_PATH="$BUFFER" \
	"$IOT_EDGE" -c /dev/null >"$WORK/refused.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of a start with http.token, udp.listen 192.0.2.1 and no udp.allow"
grep -q '^\[udp\] allow: must be set when http.token is set and udp.listen (192.0.2.1:[0-9]*) is not a loopback address: UDP has no token' "$WORK/refused.out" ||
	fail "no clear message: $(cat "$WORK/refused.out")"
[ ! -e "$BUFFER" ] || fail "the refused start created the buffer"
rc=0
env IOT_EDGE_HTTP_TOKEN=t0ken IOT_EDGE_UDP_LISTEN="0.0.0.0:$UDP_PORT" "$IOT_EDGE" -n -c /dev/null \
	>"$WORK/n.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of -n with http.token, udp.listen 0.0.0.0 and no udp.allow"
env IOT_EDGE_HTTP_TOKEN=t0ken IOT_EDGE_UDP_LISTEN="0.0.0.0:$UDP_PORT" IOT_EDGE_UDP_ALLOW=192.168.1.0/24 \
	"$IOT_EDGE" -n -c /dev/null >"$WORK/n.out" 2>&1 || fail "-n with udp.allow: $(cat "$WORK/n.out")"
grep -q 'configuration OK' "$WORK/n.out" || fail "-n with udp.allow: $(tail -n 3 "$WORK/n.out")"
env IOT_EDGE_HTTP_TOKEN=t0ken IOT_EDGE_UDP_LISTEN="127.0.0.1:$UDP_PORT" \
	"$IOT_EDGE" -n -c /dev/null >"$WORK/n.out" 2>&1 || fail "-n with a loopback udp.listen: $(cat "$WORK/n.out")"
rc=0
env IOT_EDGE_HTTP_ALLOW="127.0.0.1/33" "$IOT_EDGE" -n -c /dev/null >"$WORK/n.out" 2>&1 || rc=$?
assert_eq 1 "$rc" "exit status of -n with http.allow = 127.0.0.1/33"
grep -q 'IOT_EDGE_HTTP_ALLOW: "127.0.0.1/33": "127.0.0.1/33": an IPv4 prefix length is 0..32' "$WORK/n.out" ||
	fail "bad http.allow message: $(cat "$WORK/n.out")"
say "ok: http.token + UDP on 192.0.2.1 (or 0.0.0.0) refused without udp.allow, with a clear message"

# --- the allow lists and the Origin check on a running daemon ---
influx_start
edge_start IOT_EDGE_HTTP_ALLOW="127.0.0.1/32, ::1/128" IOT_EDGE_UDP_LISTEN="127.0.0.1:$UDP_PORT" \
	IOT_EDGE_UDP_ALLOW=127.0.0.1 IOT_EDGE_HTTP_ALLOW_ORIGINS="http://grafana.lan:3000, http://other.lan"

write() { # write [CURL ARGS...]: one point over /write, prints the status
	curl -s -o "$WORK/last_response" -w '%{http_code}' -XPOST --data-binary "m,src=$1 value=1" \
		"${@:2}" "$EDGE_URL/write?db=iot"
}

assert_eq 204 "$(write allowed)" "a write from 127.0.0.1"
rc=0
curl -s -o /dev/null --interface 127.0.0.2 -XPOST --data-binary 'm,src=refused value=1' \
	"$EDGE_URL/write?db=iot" || rc=$?
[ "$rc" -ne 0 ] || fail "a write from 127.0.0.2 was answered"
say "ok: a write from 127.0.0.2 is not answered (curl exit $rc)"
answers=$(python3 "$CLIENT" "$EDGE_PORT" 50 badjson 127.0.0.2)
case $answers in *'"400"'*) fail "127.0.0.2 was answered: $answers" ;; esac
say "ok: 50 requests from 127.0.0.2: $answers"

# Origin: absent (curl, devices) or listed is fine; a foreign one gets 403.
assert_eq 204 "$(write listed -H 'Origin: http://grafana.lan:3000')" "a write with a listed Origin"
assert_eq 403 "$(write foreign -H 'Origin: http://evil.example')" "a write with a foreign Origin"
grep -q 'origin \\"http://evil.example\\" are refused (add it to http.allow_origins' "$WORK/last_response" ||
	fail "403 message: $(cat "$WORK/last_response")"
assert_eq 403 "$(write same -H "Origin: $EDGE_URL")" "a write whose Origin is the edge itself"
assert_eq 403 "$(curl -s -o "$WORK/last_response" -w '%{http_code}' -XPOST -H 'Origin: http://evil.example' \
	-H 'Content-Type: text/plain' --data-binary '{"type":"t","value":1}' "$EDGE_URL/data")" \
	"a cross-site text/plain POST /data"
get() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
assert_eq 200 "$(get -H "Origin: $EDGE_URL" "$EDGE_URL/status")" "the status page's same-origin GET /status"
assert_eq 200 "$(get -H "Origin: $EDGE_URL" "$EDGE_URL/")" "the status page's same-origin GET /"
assert_eq 200 "$(get "$EDGE_URL/status")" "GET /status without Origin"
assert_eq 403 "$(get -H 'Origin: http://evil.example' "$EDGE_URL/status")" "GET /status with a foreign Origin"

# UDP: the datagram from 127.0.0.2 is dropped, counted.
udp_send 127.0.0.1 'm,src=udp_allowed value=1'
udp_send 127.0.0.2 'm,src=udp_refused value=1'
udp_refused() { [ "$(curl -sf "$EDGE_URL/status" | jq -r .ingest.endpoints.udp.refused)" = 1 ]; }
wait_until 10 udp_refused || fail "the datagram from 127.0.0.2 was not counted as refused"

# Both ends, exactly: the three allowed points arrive, nothing else.
allowed_count() {
	influx_query 'SELECT count("value") FROM "m" GROUP BY "src"' |
		jq -r '[.results[0].series[]? | "\(.tags.src)=\(.values[0][1])"] | join(" ")'
}
arrived() { [ "$(allowed_count)" = "allowed=1 listed=1 udp_allowed=1" ]; }
wait_until 20 arrived || fail "points in InfluxDB: $(allowed_count)"
sleep 0.5
assert_eq "allowed=1 listed=1 udp_allowed=1" "$(allowed_count)" "points in InfluxDB by source"
curl -sf "$EDGE_URL/status" >"$WORK/status.json" || fail "GET /status"
assert_eq 51 "$(jq -r .ingest.refused_connections "$WORK/status.json")" "HTTP connections refused"
assert_eq 1 "$(jq -r .ingest.endpoints.udp.refused "$WORK/status.json")" "UDP datagrams refused"
assert_eq 1 "$(jq -r .ingest.endpoints.udp.points "$WORK/status.json")" "UDP points stored"
curl -sf "$EDGE_URL/metrics" >"$WORK/metrics.txt" || fail "GET /metrics"
grep -q '^iot_edge_ingest_refused_total{listener="http"} 51$' "$WORK/metrics.txt" || fail "/metrics http refused"
grep -q '^iot_edge_ingest_refused_total{listener="udp"} 1$' "$WORK/metrics.txt" || fail "/metrics udp refused"
assert_eq 1 "$(grep -c 'connection from 127.0.0.2 refused: not in http.allow' "$EDGE_LOG")" \
	"log lines for 51 refused connections"
grep -q 'datagram from 127.0.0.2 dropped: not in udp.allow' "$EDGE_LOG" || fail "no log line for the refused datagram"
edge_stop
say PASS
