#!/usr/bin/env bash
# `iot-edge status`: finds the daemon from the configuration (0.0.0.0 ->
# 127.0.0.1), prints the state first and exits 0 while forwarding works, 1
# with the FAILING line while InfluxDB is down, 2 when iot-edge is not there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/status_lib.sh"

# Run `iot-edge status ARGS...`: stdout in $WORK/cli.out, stderr in
# $WORK/cli.err, the exit status in $CLI_RC.
cli() {
	CLI_RC=0
	"$IOT_EDGE" status "$@" >"$WORK/cli.out" 2>"$WORK/cli.err" || CLI_RC=$?
}
first_line() { head -n 1 "$WORK/cli.out"; }

CONF="$WORK/edge.conf"
status_conf "$CONF"
# What the command reads: the daemon listens on 127.0.0.1 (its variable wins
# over this file); the file says all interfaces, which the command asks on loopback.
CLI_CONF="$WORK/cli.conf"
status_conf "$CLI_CONF" '[http]' "listen = 0.0.0.0:$EDGE_PORT" 'token = cli-token'

influx_start
status_edge_start "$CONF"
sim_run "$WORK/sim.out" --count 5 --interval 0 --quiet
wait_until 30 buffer_empty || fail "the buffer did not drain"
wait_until 10 uplink_ok || fail "the uplink is not ok"

cli -c "$CLI_CONF"
assert_eq 0 "$CLI_RC" "exit status while forwarding"
assert_eq "OK: forwarding, backlog 0 points" "$(first_line)" "first line"
sed -n 2p "$WORK/cli.out" | grep -qx 'buffer:     0 points (0 B), file [0-9.]* [kM]\?B; dropped 0, rejected 0' ||
	fail "buffer line: $(sed -n 2p "$WORK/cli.out")"
grep -qx 'ingest: .* data 5/5 write 0/0 api_v2_write 0/0 (requests/points)' <(tr -s ' ' <"$WORK/cli.out") ||
	fail "ingest line: $(sed -n 3p "$WORK/cli.out")"
grep -q '^ *answers: .*201 x5' "$WORK/cli.out" || fail "answers line: $(sed -n 4p "$WORK/cli.out")"
grep -q '^uplink:     ok; 5 points sent in [1-9][0-9]* requests\?' "$WORK/cli.out" ||
	fail "uplink line: $(grep '^uplink' "$WORK/cli.out")"
grep -qx 'collectors: none' "$WORK/cli.out" || fail "collectors line"
assert_eq "" "$(cat "$WORK/cli.err")" "nothing on stderr"

cli --url "$EDGE_URL/" --json
assert_eq 0 "$CLI_RC" "--url --json: exit status"
assert_eq "ok 5 0" "$(jq -r '"\(.uplink.state) \(.uplink.points_sent) \(.buffer.points)"' "$WORK/cli.out")" "--json prints the document"
IOT_EDGE_HTTP_LISTEN="127.0.0.1:$EDGE_PORT" cli -c /dev/null
assert_eq "0 OK: forwarding, backlog 0 points" "$CLI_RC $(first_line)" "the environment, as the daemon reads it"

# InfluxDB goes away: new readings wait, the command says so and exits 1.
influx_stop
sim_run "$WORK/sim2.out" --count 3 --interval 0 --quiet
wait_until 20 uplink_failing || fail "no failure counted"
cli -c "$CLI_CONF"
assert_eq 1 "$CLI_RC" "exit status while InfluxDB is down"
first_line | grep -qE '^FAILING: InfluxDB unreachable for [0-9]+(s|m|h[0-9]+m), backlog 3 points \(oldest [0-9]+s\)$' ||
	fail "failing line: $(first_line)"
say "ok: $(first_line)"
grep -qE '^ +last error [0-9]+s ago \(network, [0-9]+ in a row now\): .*onnect' "$WORK/cli.out" ||
	fail "last error line: $(cat "$WORK/cli.out")"
cli --url "$EDGE_URL" --json
assert_eq "1 failing" "$CLI_RC $(jq -r .uplink.state "$WORK/cli.out")" "--json while failing"

# iot-edge stopped: exit 2, naming the URL and curl's error.
edge_stop
cli -c "$CLI_CONF"
assert_eq 2 "$CLI_RC" "exit status without iot-edge"
grep -q "^iot-edge status: cannot reach iot-edge at http://127.0.0.1:$EDGE_PORT/status: .*onnect" "$WORK/cli.err" ||
	fail "unreachable message: $(cat "$WORK/cli.err")"
assert_eq "" "$(cat "$WORK/cli.out")" "nothing on stdout"

# Usage and configuration mistakes also exit 2, with a word why.
cli --bogus
assert_eq 2 "$CLI_RC" "unknown option"
cli -c "$WORK/missing.conf"
assert_eq 2 "$CLI_RC" "missing configuration file"
grep -q "problem" "$WORK/cli.err" || fail "config problem not reported: $(cat "$WORK/cli.err")"
cli --help
assert_eq 0 "$CLI_RC" "--help"
grep -q '^Usage: iot-edge status' "$WORK/cli.out" || fail "--help text"
"$IOT_EDGE" --help >"$WORK/help.out"
grep -q '^ *iot-edge status \[-c FILE\] \[--url URL\] \[--json\]' "$WORK/help.out" ||
	fail "iot-edge --help does not mention status"
say "ok: iot-edge --help mentions the status command"
