#!/usr/bin/env bash
# mqtts://: the broker's certificate is verified (a self-signed one is refused and nothing is
# received), accepted with ca_file naming it, and with insecure_skip_verify (which warns); the
# messages published meanwhile arrive exactly once.
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/mqtt_lib.sh
. "$(dirname "$0")/mqtt_lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null || fail "openssl req failed"
TLS_PORT=$(free_port)
MOSQ_EXTRA="listener $TLS_PORT 127.0.0.1
certfile $WORK/cert.pem
keyfile $WORK/key.pem"
influx_start
mosq_start # the plain listener (MQTT_PORT) for the publisher, the TLS one for the edge
tls_listening() { ss -Htln "sport = :$TLS_PORT" >"$WORK/ss.txt" && [ -s "$WORK/ss.txt" ]; }
wait_until 20 tls_listening || fail "mosquitto has no TLS listener on $TLS_PORT: $(tail -n 3 "$MOSQ_LOG")"
conf() { # extra lines...
	printf '[mqtt.test]\nurl = mqtts://127.0.0.1:%s\ntopics = tls/#\nformat = line\nreconnect_min = 100ms\nreconnect_max = 500ms\n' "$TLS_PORT"
	printf '%s\n' "$@"
}
pub() { python3 "$MQTT_PUB" "$MQTT_PORT" tls/a "$1" 'tls,run=t seq={i}i {ts}' --start "$2" --acked "$WORK/acked" >/dev/null || fail "publisher"; }

# 1. Not trusted: refused, never subscribed.
EDGE_CONF="$WORK/edge1.conf"
conf >"$EDGE_CONF"
edge_start
refused() { grep -q 'over TLS: .*certificate' "$EDGE_LOG"; }
wait_until 20 refused || fail "an unverifiable certificate was not refused"
assert_eq false "$(mqtt_status connected)" "connected with an untrusted certificate"
edge_stop
say "ok: a self-signed certificate is refused: $(grep -m1 -o 'over TLS: .*' "$EDGE_LOG")"

# 2. ca_file names it: subscribed over TLS, 200 messages exactly.
EDGE_CONF="$WORK/edge2.conf"
conf "ca_file = $WORK/cert.pem" >"$EDGE_CONF"
edge_start
wait_until 20 edge_subscribed || fail "not subscribed with ca_file: $(mqtt_status last_error)"
pub 200 0
three() { [ "$(influx_count_of tls seq)" = 200 ]; }
wait_until 30 three || fail "InfluxDB holds $(influx_count_of tls seq) of 200 points"
say "ok: with ca_file, 200 messages over TLS in InfluxDB"
edge_stop

# 3. insecure_skip_verify: a warning, then messages flow; those published while the edge was
# away (its persistent session) arrive too.
pub 100 200
EDGE_CONF="$WORK/edge3.conf"
conf "insecure_skip_verify = true" >"$EDGE_CONF"
edge_start
grep -q "insecure_skip_verify: the broker's certificate is not checked" "$EDGE_LOG" ||
	fail "no warning for insecure_skip_verify"
wait_until 20 edge_subscribed || fail "not subscribed with insecure_skip_verify"
pub 100 300
four() { [ "$(influx_count_of tls seq)" = 400 ]; }
wait_until 30 four || fail "InfluxDB holds $(influx_count_of tls seq) of 400 points"
assert_eq 400 "$(wc -l <"$WORK/acked")" "messages the broker acknowledged"
assert_eq 400 "$(influx_count_of tls seq)" "points in InfluxDB (each message once)"
say "ok: insecure_skip_verify warns and connects; the 100 queued meanwhile arrived"
edge_stop
