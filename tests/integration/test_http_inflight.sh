#!/usr/bin/env bash
# Memory has a ceiling: 150 clients from 150 addresses send ~1 MiB bodies at once;
# http.max_inflight (4 MiB here) lets a few in, the others get 503 + Retry-After. The
# daemon's peak RSS (VmHWM) stays under its start-up peak + the budget + a fixed overhead
# (parse buffers of the 4 HTTP threads, SQLite), and the buffer holds exactly the points
# of the 204 answers.
. "$(dirname "$0")/lib.sh"

HOSTILE="$(dirname "$0")/http_hostile.py"
N=150
OVERHEAD_KIB=$((48 * 1024))
edge_start IOT_EDGE_HTTP_MAX_INFLIGHT=4MiB
echo "$EDGE_PID" >"$WORK/pid"
base=$(awk '/^VmHWM:/ { print $2 }' "/proc/$EDGE_PID/status")
python3 "$HOSTILE" bodies "$EDGE_PORT" "$N" 1048000 "$WORK/pid" |
	tee "$WORK/bodies.txt" || fail "hostile bodies"
want=$(awk '$1 == "points" { print $2 }' "$WORK/bodies.txt")
hwm=$(awk '$1 == "hwm_kib" { print $2 }' "$WORK/bodies.txt")
say "VmHWM: $base KiB at start, $hwm KiB after $N bodies at once (budget 4096 KiB, overhead bound $OVERHEAD_KIB KiB)"
if ldd "$IOT_EDGE" | grep -Eq 'lib(a|t)san'; then
	say "a sanitizer build (its allocator keeps freed memory and shadows all): RSS not asserted"
else
	[ "$hwm" -le $((base + 4096 + OVERHEAD_KIB)) ] || fail "peak RSS $hwm KiB passed $base + 4096 + $OVERHEAD_KIB KiB"
fi
[ "$want" -gt 0 ] || fail "no body was accepted at all"
assert_eq "$want" "$(buffer_count)" "points stored (those of the 204 answers)"
edge_stop
