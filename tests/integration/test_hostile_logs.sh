#!/usr/bin/env bash
# Logs that stay useful under attack (issue #15, item 5): 3 000 malformed requests of each kind
# give a few log lines, not one (or two) per request, and a %0a or %1b a client puts in a path
# cannot start a forged log line or reach the terminal.
. "$(dirname "$0")/lib.sh"

CLIENT="$(dirname "$0")/hostile_client.py"
N=3000

# Debug level (lib.sh's default): the level that logged every bad request.
edge_start

for kind in garbage badjson badline badpath; do
	before=$(wc -c <"$EDGE_LOG")
	lines_before=$(wc -l <"$EDGE_LOG")
	t0=$(date +%s.%N)
	answers=$(python3 "$CLIENT" "$EDGE_PORT" "$N" "$kind")
	t1=$(date +%s.%N)
	want=400
	[ "$kind" = badpath ] && want=404
	assert_eq "{\"$want\": $N}" "$answers" "answers to $N $kind requests"
	bytes=$(($(wc -c <"$EDGE_LOG") - before))
	lines=$(($(wc -l <"$EDGE_LOG") - lines_before))
	say "$N $kind requests in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s: $lines log lines, $bytes bytes"
	# once, then at most once a minute: a request per line would be 3 000
	[ "$lines" -le 3 ] || fail "$N $kind requests wrote $lines log lines ($bytes bytes)"
done

# Every answer counted, though hardly any was logged (libmicrohttpd answers
# the garbage itself: those are not in the counters).
curl -sf "$EDGE_URL/status" >"$WORK/status.json" || fail "GET /status"
assert_eq $((2 * N)) "$(jq -r '.ingest.answers["400"]' "$WORK/status.json")" "400 answers counted in /status"
assert_eq "$N" "$(jq -r '.ingest.answers["404"]' "$WORK/status.json")" "404 answers counted in /status"

# The forged line: the path's %0a stays inside its own line, escaped.
assert_eq 0 "$(grep -c '^2026-01-01T00:00:00.000Z' "$EDGE_LOG" || true)" "log lines forged by a %0a in a path"
assert_eq 0 "$(grep -c $'\x1b' "$EDGE_LOG" || true)" "ESC bytes in the log"
assert_eq 0 "$(LC_ALL=C grep -c '[[:cntrl:]]' "$EDGE_LOG" || true)" "control bytes in the log"
grep -qF 'no such endpoint: /x\n2026-01-01T00:00:00.000Z error [main] forged\x1b[2J' "$EDGE_LOG" ||
	fail "the bad path is not in the log, escaped"
say "ok: the path is logged on one line as /x\\n2026-01-01...forged\\x1b[2J"

edge_stop
say PASS
