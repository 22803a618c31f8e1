#!/usr/bin/env bash
# No secret leaves the process (issue #15, item 4): an exec collector's environment holds
# PATH/LANG/TZ/HOME and its `env` key, no IOT_EDGE_* variable; a failing collector's command
# line and stderr stay in the log, out of /status, /metrics, the page and `iot-edge status`;
# uplink URL credentials (userinfo and query) reach neither the log nor /status.
. "$(dirname "$0")/lib.sh"

SECRET_TOKEN=tok-s3cr3t-4a7
SECRET_PASS=pw-s3cr3t-9b1
URL_PASS=url-s3cr3t-c3d
QUERY_PASS=query-s3cr3t-e5f
CMD_PASS=cmd-s3cr3t-0f2
ERR_PASS=stderr-s3cr3t-77a

cat >"$WORK/env.sh" <<SH
#!/bin/sh
env >"$WORK/child_env.txt"
echo "envm value=1"
SH
chmod +x "$WORK/env.sh"

cat >"$WORK/edge.conf" <<EOF
[collector.envdump]
type = exec
command = $WORK/env.sh
interval = 1s
timeout = 500ms
env = EXTRA=hello world, KEEPME ,MISSING_ONE
[collector.leaky]
type = exec
shell = true
command = echo "login failed for --password=$ERR_PASS" >&2; exit 3 # --password=$CMD_PASS
interval = 1s
timeout = 500ms
EOF

# The secrets reach the daemon the way Docker passes them: in its environment.
# The uplink URL carries credentials in both places; InfluxDB is not started
# (such a URL cannot reach it): the points wait in the buffer.
EDGE_CONF="$WORK/edge.conf" edge_start \
	IOT_EDGE_HTTP_TOKEN="$SECRET_TOKEN" \
	IOT_EDGE_UPLINK_PASSWORD="$SECRET_PASS" \
	IOT_EDGE_UPLINK_USERNAME=someone \
	IOT_EDGE_UPLINK_URL="http://user:$URL_PASS@127.0.0.1:$INFLUX_PORT/base?u=me&p=$QUERY_PASS" \
	KEEPME=kept NOTME=not-listed LANG=C.UTF-8 TZ=UTC HOME="$WORK"

runs_ok() {
	local n
	n=$(curl -sf -H "Authorization: Bearer $SECRET_TOKEN" "$EDGE_URL/status" |
		jq -r '[.collectors[] | select(.name == "leaky" or .name == "envdump") | .runs] | min')
	[ "${n:-0}" -ge 2 ] && [ -s "$WORK/child_env.txt" ]
}
wait_until 30 runs_ok || fail "the collectors did not run twice"

# --- the child's environment ---
sort "$WORK/child_env.txt" | grep -v '^PWD=\|^SHLVL=\|^_=' >"$WORK/env_sorted.txt" || true
cat >"$WORK/env_want.txt" <<EOF
EXTRA=hello world
HOME=$WORK
KEEPME=kept
LANG=C.UTF-8
PATH=$PATH
TZ=UTC
EOF
diff -u "$WORK/env_want.txt" "$WORK/env_sorted.txt" ||
	fail "the collector's environment is not PATH LANG TZ HOME + its env key"
assert_eq 0 "$(grep -c '^IOT_EDGE_' "$WORK/child_env.txt" || true)" "IOT_EDGE_* variables in the collector's environment"
for s in "$SECRET_TOKEN" "$SECRET_PASS" "$URL_PASS" "$QUERY_PASS" not-listed; do
	if grep -q -- "$s" "$WORK/child_env.txt"; then fail "the collector saw $s"; fi
done
say "ok: the collector sees PATH LANG TZ HOME EXTRA KEEPME only"

# --- what the open endpoints show ---
AUTH=(-H "Authorization: Bearer $SECRET_TOKEN")
curl -sf "$EDGE_URL/status" >"$WORK/status.json" || fail "GET /status"
curl -sf "${AUTH[@]}" "$EDGE_URL/metrics" >"$WORK/metrics.txt" || fail "GET /metrics"
curl -sf "$EDGE_URL/" >"$WORK/page.html" || fail "GET /"
"$IOT_EDGE" status --url "$EDGE_URL" >"$WORK/cli.txt" 2>&1 || true
"$IOT_EDGE" status --url "$EDGE_URL" --json >"$WORK/cli.json" 2>&1 || true
assert_eq "exited with status 3" "$(jq -r '.collectors[] | select(.name == "leaky") | .last_error' "$WORK/status.json")" \
	"leaky's last_error in /status (name, exit status, no detail)"
grep -q 'leaky.*exited with status 3' "$WORK/cli.txt" || fail "iot-edge status does not say leaky exited with 3: $(cat "$WORK/cli.txt")"
for f in status.json metrics.txt page.html cli.txt cli.json; do
	for s in "$CMD_PASS" "$ERR_PASS" "$SECRET_TOKEN" "$SECRET_PASS" "$URL_PASS" "$QUERY_PASS" "login failed"; do
		if grep -q -- "$s" "$WORK/$f"; then fail "$f shows $s"; fi
	done
done
assert_eq "http://127.0.0.1:$INFLUX_PORT/base" "$(jq -r .config.uplink.url "$WORK/status.json")" "uplink_url in /status"
say "ok: /status, /metrics, the page and iot-edge status show no command line, stderr or credential"

# --- the log has the detail, never a credential ---
grep -q "leaky: \"echo .*exited with status 3: login failed for --password=$ERR_PASS" "$EDGE_LOG" ||
	fail "the log lacks the failing command's detail"
grep -q "forwarding to http://127.0.0.1:$INFLUX_PORT/base (the URL's credentials or query not shown)" "$EDGE_LOG" ||
	fail "the start-up log does not show the redacted URL"
for s in "$SECRET_TOKEN" "$SECRET_PASS" "$URL_PASS" "$QUERY_PASS"; do
	if grep -q -- "$s" "$EDGE_LOG"; then fail "the log shows $s"; fi
done
say "ok: the log has the collector's detail, no credential"

# Both ends of the collector's data: every run's point is in the buffer.
edge_stop
points=$(jq -r '.collectors[] | select(.name == "envdump") | .points' "$WORK/status.json")
[ "$(buffer_count)" -ge "$points" ] || fail "buffer holds $(buffer_count) points, /status said $points stored"
say PASS
