#!/usr/bin/env bash
# Against a fake broker that sends what mosquitto never would: a topic that is not UTF-8 is
# refused but acknowledged (and kept in `refused`), and the PUBACKs leave in the order the messages came (a refused
# message, answered at once, waits for the good one before it, answered by its commit).
. "$(dirname "$0")/lib.sh"

influx_start
PORT=$(free_port)
# a good message, then an invalid UTF-8 topic, a good one, a QoS 0 one, a bad payload
cat >"$WORK/messages" <<EOF2
1 $(printf 'ok/a' | od -An -tx1 | tr -d ' \n') ok,n=1 v=1 1700000000000000000
1 $(printf 'bad\377/x' | od -An -tx1 | tr -d ' \n') ok v=2 1700000000000000001
1 $(printf 'ok/b' | od -An -tx1 | tr -d ' \n') ok,n=3 v=3 1700000000000000002
0 $(printf 'ok/c' | od -An -tx1 | tr -d ' \n') ok,n=4 v=4 1700000000000000003
1 $(printf 'ok/d' | od -An -tx1 | tr -d ' \n') {"v":
EOF2
python3 "$(dirname "$0")/mqtt_fake_broker.py" "$PORT" "$WORK/messages" >"$WORK/acks" 2>"$WORK/fake.err" &
FAKE_PID=$!
fake_cleanup() {
	local rc=$?
	set +e
	kill -KILL "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
	(exit "$rc")
	cleanup
}
trap fake_cleanup EXIT
EDGE_CONF="$WORK/edge.conf"
printf '[mqtt.fake]\nurl = mqtt://127.0.0.1:%s\ntopics = #\n' "$PORT" >"$EDGE_CONF"
edge_start
wait "$FAKE_PID" || fail "the fake broker: $(cat "$WORK/fake.err")"
assert_eq "PUBACK 1 PUBACK 2 PUBACK 3 PUBACK 5" "$(tr '\n' ' ' <"$WORK/acks" | sed 's/ $//')" \
	"the acknowledgements, in order (the QoS 0 message, id 4, gets none)"
stored() { [ "$(influx_query 'SELECT count("v") FROM "ok"' | jq -r '.results[0].series[0].values[0][1] // 0')" = 3 ]; }
wait_until 30 stored || fail "InfluxDB does not hold the 3 good points"
curl -sf "$EDGE_URL/status" >"$WORK/status.json" || fail "GET /status"
assert_eq 2 "$(jq -r '.mqtt[0].refused' "$WORK/status.json")" "messages refused"
assert_eq '{"bad":1,"ok/d":1}' "$(jq -c '.mqtt[0].refused_topics' "$WORK/status.json")" \
	"refused per topic (the invalid topic cut at its first bad byte)"
grep -q 'refused: topic is not valid UTF-8' "$EDGE_LOG" || fail "no log line for the invalid topic"
say "ok: the invalid UTF-8 topic and the bad JSON refused and acknowledged in order; 3 points stored"
# both kept in `refused`; the topic that is not UTF-8 as a BLOB (x'hex' in the view)
refused_rows() {
	sqlite3 -cmd '.timeout 5000' "$BUFFER" \
		"SELECT source, topic, typeof(payload), reason, payload FROM refused_readable ORDER BY id;"
}
two_kept() { [ "$(refused_rows | wc -l)" = 2 ]; }
wait_until 10 two_kept || fail "refused rows: $(refused_rows)"
assert_eq "mqtt.fake|x'626164FF2F78'|text|topic is not valid UTF-8|ok v=2 1700000000000000001
mqtt.fake|ok/d|text|invalid JSON at byte 4|{\"v\":" "$(refused_rows)" "the refused table"
edge_stop
