#!/usr/bin/env bash
# What GET /status reads from other threads -- the UDP listener main starts and
# the log level SIGHUP changes -- is published to the HTTP thread without a
# data race: run against an IOT_EDGE_TSAN build, ThreadSanitizer makes iot-edge
# exit non-zero on any race it sees (edge_stop fails), and the figures are exact
# in every build.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/status_lib.sh"

udp_send() {
	python3 -c 'import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[1].encode(), ("127.0.0.1", int(sys.argv[2])))' "$1" "$UDP_PORT"
}

UDP_PORT=$(free_port)
CONF="$WORK/edge.conf"
status_conf "$CONF" '[log]' 'level = info'
export TSAN_OPTIONS="${TSAN_OPTIONS:-} halt_on_error=1"
# As edge_start, but the log level comes from the file only (the environment
# would override what SIGHUP reads).
env IOT_EDGE_COLLECTOR_EDGE_ENABLED=false IOT_EDGE_HTTP_LISTEN="127.0.0.1:$EDGE_PORT" \
	IOT_EDGE_BUFFER_PATH="$BUFFER" IOT_EDGE_UPLINK_URL="$INFLUX_URL" \
	IOT_EDGE_UDP_LISTEN="127.0.0.1:$UDP_PORT" "$IOT_EDGE" -c "$CONF" >>"$EDGE_LOG" 2>&1 &
EDGE_PID=$!
wait_until 30 edge_healthy || fail "iot-edge did not answer /health on port $EDGE_PORT"

# The first /status after start-up reads the UDP listener main published.
snap
assert_eq 0 "$(snap_get .ingest.endpoints.udp.requests)" "UDP datagrams before any"
assert_eq info "$(snap_get .config.log.level)" "config.log.level at start"
udp_send 'shared v=1 1700000000000000001'
udp_stored() { [ "$(curl -sf "$EDGE_URL/status" | jq .ingest.endpoints.udp.points)" = 1 ]; }
wait_until 20 udp_stored || fail "the UDP point was not stored"

# SIGHUP changes the log level on the main thread; /status reads it on the HTTP thread.
status_conf "$CONF" '[log]' 'level = warn'
kill -HUP "$EDGE_PID"
level_is() { [ "$(curl -sf "$EDGE_URL/status" | jq -r .config.log.level)" = "$1" ]; }
wait_until 20 level_is warn || fail "/status does not show the reloaded log level"
status_conf "$CONF" '[log]' 'level = error'
kill -HUP "$EDGE_PID"
wait_until 20 level_is error || fail "/status does not show the second reloaded log level"
snap
assert_eq 1 "$(snap_get .ingest.endpoints.udp.points)" "UDP points after the reloads"
edge_stop
if grep -q 'ThreadSanitizer' "$EDGE_LOG"; then
	grep -A12 'ThreadSanitizer' "$EDGE_LOG" | head -40
	fail "ThreadSanitizer reported a data race"
fi
say "ok: /status reads the UDP listener and the log level without a race"
