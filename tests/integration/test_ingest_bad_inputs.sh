#!/usr/bin/env bash
# Forty bad inputs across /data, /write, /api/v2/write and the token: each gets its
# own status and a message naming the problem, and the buffer holds exactly the
# valid points afterwards (InfluxDB stays down, so nothing leaves the buffer).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ingest_lib.sh"

edge_start IOT_EDGE_HTTP_MAX_BODY=64KiB IOT_EDGE_HTTP_MAX_LINE=256 IOT_EDGE_HTTP_MAX_POINTS=50

JSON=(-H 'Content-Type: application/json')
LP=(-H 'Content-Type: text/plain; charset=utf-8')
WANT="$WORK/want.txt" # the lines the buffer must hold, in order
: >"$WANT"
want() { printf '%s\n' "$@" >>"$WANT"; }
n=0
bad() { # STATUS FRAGMENT METHOD PATH [curl args...]
	n=$((n + 1))
	expect_answer "$@"
}

# --- /data: JSON -------------------------------------------------------------
bad 400 "invalid JSON" POST /data "${JSON[@]}" --data-binary '{"type":"temp","value":'
bad 400 '"value" must be a number' POST /data "${JSON[@]}" --data-binary '{"type":"t","value":"34"}'
bad 400 '"value" is out of range' POST /data "${JSON[@]}" --data-binary '{"type":"t","value":1e400}'
bad 400 '"type" is required' POST /data "${JSON[@]}" --data-binary '{"value":1}'
bad 400 'duplicate key "value"' POST /data "${JSON[@]}" --data-binary '{"type":"t","value":1,"value":2}'
bad 400 'month 13 out of range' POST /data "${JSON[@]}" --data-binary '{"type":"t","value":1,"ts":"2017-13-11T15:00:53Z"}'
bad 400 '\u0000 is not allowed' POST /data "${JSON[@]}" --data-binary '{"type":"te\u0000mp","value":1}'
bad 400 'element 1: "fields" is required' POST /data "${JSON[@]}" \
	--data-binary '[{"measurement":"env","fields":{"t":1}},{"measurement":"env"}]'
bad 400 'field "t" must be a number, true/false or a string' POST /data "${JSON[@]}" \
	--data-binary '{"measurement":"env","fields":{"t":null}}'
bad 400 'tag "room" is not valid UTF-8' POST /data "${JSON[@]}" \
	--data-binary $'{"measurement":"env","tags":{"room":"k\xffche"},"fields":{"t":1}}'
bad 400 'outside InfluxDB' POST /data "${JSON[@]}" \
	--data-binary '{"measurement":"env","fields":{"t":1},"ts":1e12}'
bad 415 'application/json' POST /data -H 'Content-Type: text/plain' --data-binary '{"type":"t","value":1}'
bad 405 'POST only' GET /data
assert_eq POST "$(last_header Allow)" "Allow header of GET /data"

# --- /write: line protocol, InfluxDB 1.x ------------------------------------
bad 400 'database is required' POST /write "${LP[@]}" --data-binary 'cpu v=1 1'
bad 400 'invalid precision "x"' POST '/write?db=iot&precision=x' "${LP[@]}" --data-binary 'cpu v=1 1'
# Partial writes: the valid lines are stored, the answer names the bad ones.
bad 400 'partial write: line 2: field "v": invalid value "NaN"' POST '/write?db=iot' "${LP[@]}" \
	--data-binary $'ok1 v=1 1\nbad v=NaN 2\nok2 v=2i 2'
want 'ok1 v=1 1' 'ok2 v=2i 2'
grep -q 'dropped=1' "$WORK/last_response" || fail "no dropped=1 in $(cat "$WORK/last_response")"
bad 400 'line 1: field "s": unterminated string' POST '/write?db=iot' "${LP[@]}" \
	--data-binary 'esc s="open\" 1'
bad 400 'integer 9223372036854775808i is out of range' POST '/write?db=iot' "${LP[@]}" \
	--data-binary 'big v=9223372036854775808i 1'
bad 400 'duplicate field "v"' POST '/write?db=iot' "${LP[@]}" --data-binary 'dup v=1,v=2 1'
bad 400 'duplicate tag "t"' POST '/write?db=iot' "${LP[@]}" --data-binary 'dup,t=a,t=b v=1 1'
bad 400 'line 3: invalid timestamp "12x"' POST '/write?db=iot' "${LP[@]}" \
	--data-binary $'# comment\n\nts v=1 12x'
bad 400 'timestamp 9999999 is out of range' POST '/write?db=iot&precision=h' "${LP[@]}" \
	--data-binary 'ts v=1 9999999'
bad 400 'missing fields' POST '/write?db=iot' "${LP[@]}" --data-binary 'cpu,host=a'
printf 'nul v=1\0001' >"$WORK/nul.txt"
bad 400 'NUL byte at byte 7' POST '/write?db=iot' "${LP[@]}" --data-binary "@$WORK/nul.txt"
printf 'utf,t=\xc3 v=1 1' >"$WORK/badutf.txt"
bad 400 'invalid UTF-8 at byte 6' POST '/write?db=iot' "${LP[@]}" --data-binary "@$WORK/badutf.txt"
bad 400 'longer than 256 bytes (http.max_line)' POST '/write?db=iot' "${LP[@]}" \
	--data-binary "long s=\"$(head -c 300 /dev/zero | tr '\0' x)\" 1"
for i in $(seq 51); do echo "many v=$i $i"; done >"$WORK/many.txt"
bad 413 'more than 50 points in one request (http.max_points)' POST '/write?db=iot' "${LP[@]}" \
	--data-binary "@$WORK/many.txt"
head -c 70000 /dev/zero | tr '\0' '#' >"$WORK/big.txt"
bad 413 'larger than 65536 bytes' POST '/write?db=iot' "${LP[@]}" --data-binary "@$WORK/big.txt"
bad 413 'larger than 65536 bytes' POST '/write?db=iot' "${LP[@]}" -H 'Transfer-Encoding: chunked' \
	--data-binary "@$WORK/big.txt"
head -c 20000000 /dev/zero | gzip -c >"$WORK/bomb.gz"
bad 413 'larger than 65536 bytes' POST '/write?db=iot' "${LP[@]}" -H 'Content-Encoding: gzip' \
	--data-binary "@$WORK/bomb.gz"
bad 400 'invalid gzip body' POST '/write?db=iot' "${LP[@]}" -H 'Content-Encoding: gzip' \
	--data-binary 'cpu v=1 1'
printf 'gz v=1 1\ngz v=2 2\n' | gzip -c | head -c 20 >"$WORK/short.gz"
bad 400 'ends early' POST '/write?db=iot' "${LP[@]}" -H 'Content-Encoding: gzip' \
	--data-binary "@$WORK/short.gz"
bad 415 'Content-Encoding br is not supported' POST '/write?db=iot' "${LP[@]}" \
	-H 'Content-Encoding: br' --data-binary 'cpu v=1 1'
bad 415 'Content-Type must be text/plain' POST '/write?db=iot' "${JSON[@]}" --data-binary 'cpu v=1 1'
bad 405 'POST only' PUT '/write?db=iot' --data-binary 'cpu v=1 1'
assert_eq POST "$(last_header Allow)" "Allow header of PUT /write"
bad 405 'GET and HEAD only' POST /ping --data-binary 'x'
bad 404 'no such endpoint: /query' GET '/query?q=SHOW+DATABASES'

# --- /api/v2/write: InfluxDB 2.x errors are {"code","message"} ----------------
bad 400 'bucket is required' POST '/api/v2/write?org=o' "${LP[@]}" --data-binary 'cpu v=1 1'
jq -e '.code == "invalid"' "$WORK/last_response" >/dev/null || fail "v2 error code: $(cat "$WORK/last_response")"
bad 400 'invalid precision "h" (use ns, us, ms or s)' POST '/api/v2/write?bucket=b&precision=h' \
	"${LP[@]}" --data-binary 'cpu v=1 1'
bad 400 'partial write: line 1: field "f": invalid value "1x"' POST '/api/v2/write?bucket=b&precision=s' \
	"${LP[@]}" --data-binary $'v2 f=1x\nv2 f=2 3'
want 'v2 f=2 3000000000'

assert_eq "$(cat "$WANT")" "$(buffer_lines)" "the buffer after the bad inputs (only the valid lines)"

# --- the token: every way of getting it wrong is a 401 and stores nothing ----
edge_stop
edge_start IOT_EDGE_HTTP_TOKEN=s3cr3t-t0ken
bad 401 'authorization failed' POST '/write?db=iot' "${LP[@]}" --data-binary 'auth v=1 1'
assert_eq 'Basic realm="iot-edge"' "$(last_header WWW-Authenticate)" "WWW-Authenticate"
bad 401 'authorization failed' POST '/write?db=iot&u=me&p=wrong' "${LP[@]}" --data-binary 'auth v=1 1'
bad 401 'authorization failed' POST '/api/v2/write?bucket=b' -H 'Authorization: Token s3cr3t-t0ke' \
	"${LP[@]}" --data-binary 'auth v=1 1'
jq -e '.code == "unauthorized"' "$WORK/last_response" >/dev/null || fail "v2 401 code"
bad 401 'authorization failed' POST /data -H 'Authorization: Bearer s3cr3t-t0ken-' "${JSON[@]}" \
	--data-binary '{"type":"t","value":1}'
bad 401 'authorization failed' POST /data -u me:wrong "${JSON[@]}" --data-binary '{"type":"t","value":1}'
bad 401 'authorization failed' POST /data -H 'Authorization: Basic !!!' "${JSON[@]}" \
	--data-binary '{"type":"t","value":1}'
# The right token in each accepted form stores exactly one point each.
expect_answer 204 "" POST '/write?db=iot&u=me&p=s3cr3t-t0ken' "${LP[@]}" --data-binary 'auth v=1 1'
expect_answer 204 "" POST '/api/v2/write?bucket=b' -H 'Authorization: Token s3cr3t-t0ken' \
	"${LP[@]}" --data-binary 'auth v=2 2'
expect_answer 204 "" POST '/write?db=iot' -H 'Authorization: Bearer s3cr3t-t0ken' \
	"${LP[@]}" --data-binary 'auth v=3 3'
expect_answer 204 "" POST '/write?db=iot' -u anyone:s3cr3t-t0ken "${LP[@]}" --data-binary 'auth v=4 4'
expect_answer 201 "" POST /data -H 'Authorization: Token s3cr3t-t0ken' "${JSON[@]}" \
	--data-binary '{"measurement":"auth","fields":{"v":5},"ts":5e-9}'
want 'auth v=1 1' 'auth v=2 2' 'auth v=3 3' 'auth v=4 4' 'auth v=5 0'
# /ping and /health need no token, like InfluxDB's /ping.
assert_eq 204 "$(send GET /ping)" "GET /ping without a token"
assert_eq 200 "$(send GET /health)" "GET /health without a token"
grep -q 's3cr3t-t0ken' "$EDGE_LOG" && fail "the token appears in the log"

assert_eq "$(cat "$WANT")" "$(buffer_lines)" "the buffer after the token checks"
say "ok: $n bad inputs answered as expected"
[ "$n" -ge 30 ] || fail "only $n bad inputs"
edge_stop
