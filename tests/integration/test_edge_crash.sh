#!/usr/bin/env bash
# kill -9 of iot-edge right after it acknowledged readings loses none of them.
. "$(dirname "$0")/lib.sh"

# 1. InfluxDB down: the acknowledged points are only in the buffer when the edge dies.
edge_start
sim_run "$WORK/sim1.out" --count 300 --interval 0 --devices 3
edge_kill9
assert_eq 300 "$(buffer_count)" "points in the buffer after kill -9 (sqlite3)"
influx_start
edge_start
wait_until 60 buffer_empty || fail "the buffer did not drain after the restart"
assert_eq 300 "$(influx_count)" "points in InfluxDB"

# 2. InfluxDB up: the edge dies while points are being forwarded.
sim_run "$WORK/sim2.out" --count 400 --interval 0 --devices 4
edge_kill9
edge_start
wait_until 60 buffer_empty || fail "the buffer did not drain after the second restart"
assert_eq 700 "$(influx_count)" "points in InfluxDB (every acknowledged one, once)"
cat "$WORK/sim1.out" "$WORK/sim2.out" >"$WORK/all.out"
sim_points "$WORK/all.out" >"$WORK/sent.txt"
influx_points >"$WORK/stored.txt"
diff -q "$WORK/sent.txt" "$WORK/stored.txt" >/dev/null || fail "InfluxDB differs from what was sent"
say "ok: the 700 stored points are exactly the 700 acknowledged"
edge_stop
