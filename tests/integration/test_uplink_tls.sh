#!/usr/bin/env bash
# HTTPS: verified by default (a self-signed certificate is refused and the points kept),
# accepted with uplink.ca_file naming it, and with insecure_skip_verify (which warns).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null || fail "openssl req failed"
buffer_init
buffer_fill 100
fake_start '{"then": {"status": 204}}' --tls-cert "$WORK/cert.pem" --tls-key "$WORK/key.pem"
case "$FAKE_URL" in https://*) ;; *) fail "the fake is not on https: $FAKE_URL" ;; esac

edge_start_fake IOT_EDGE_UPLINK_RETRY_MAX=200ms
wait_until 30 grep -q 'delivery failing (network).*certificate' "$EDGE_LOG" ||
	fail "an unverifiable certificate was not refused"
edge_stop
assert_eq 100 "$(buffer_count)" "points kept while the certificate is not trusted"
assert_eq 0 "$(fake_writes)" "requests that reached the fake"

edge_start_fake IOT_EDGE_UPLINK_CA_FILE="$WORK/cert.pem"
wait_until 30 buffer_empty || fail "the buffer did not drain with ca_file"
edge_stop
assert_eq 100 "$(fake_stored)" "points stored over verified https"

buffer_fill 100 1000
edge_start_fake IOT_EDGE_UPLINK_INSECURE_SKIP_VERIFY=true
wait_until 30 buffer_empty || fail "the buffer did not drain with insecure_skip_verify"
edge_stop
assert_eq 200 "$(fake_stored)" "points stored over unverified https"
grep -q 'warn \[uplink\] insecure_skip_verify is on' "$EDGE_LOG" || fail "no warning about insecure_skip_verify"
