#!/usr/bin/env bash
# Real influxd takes the backlog gzipped (uplink.gzip = true, the default) and plain
# (false): every point arrives both ways, and the counters show what went on the wire.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/uplink_lib.sh"

influx_start
buffer_init
buffer_fill 20000
edge_start IOT_EDGE_UPLINK_GZIP=true
wait_until 60 buffer_empty || fail "the buffer did not drain with gzip"
edge_stop
assert_eq "20000 200010000" "$(influx_count_sum)" "count and sum in InfluxDB after the gzip run"
summary=$(uplink_summary)
raw=$(sed -n 's/.* \([0-9]*\) bytes of line protocol sent as \([0-9]*\) bytes/\1/p' <<<"$summary")
wire=$(sed -n 's/.* \([0-9]*\) bytes of line protocol sent as \([0-9]*\) bytes/\2/p' <<<"$summary")
[ "$wire" -gt 0 ] && [ $((wire * 4)) -lt "$raw" ] || fail "gzip did not shrink the bodies: $summary"
say "ok: gzip: $raw bytes of line protocol went out as $wire bytes"
grep -q 'on the wire gzipped' "$EDGE_LOG" || fail "no gzipped request in the log"

buffer_fill 20000 20001
: >"$EDGE_LOG"
edge_start IOT_EDGE_UPLINK_GZIP=false
wait_until 60 buffer_empty || fail "the buffer did not drain without gzip"
edge_stop
assert_eq "40000 800020000" "$(influx_count_sum)" "count and sum in InfluxDB after the plain run"
grep -q 'on the wire gzipped' "$EDGE_LOG" && fail "a request was gzipped with gzip = false"
grep -q 'stopped: 20000 points sent in [0-9]* requests, 0 failed requests, 0 retries, 0 points rejected, 0 splits, \([0-9]*\) bytes of line protocol sent as \1 bytes' \
	<(uplink_summary) || fail "counters: $(uplink_summary)"
say "ok: plain: $(uplink_summary)"
