#!/usr/bin/env bash
# InfluxDB is down while readings arrive: each is still acknowledged, waits in
# the buffer, and reaches InfluxDB exactly once when InfluxDB comes up.
. "$(dirname "$0")/lib.sh"

edge_start   # InfluxDB's port is chosen but nothing listens there yet
sim_run "$WORK/sim.out" --count 200 --interval 0 --devices 4
assert_eq "iot-sim: sent 200, 2xx 200, errors 0 (http 0, connection 0)" "$(tail -n 1 "$WORK/sim.out")" "iot-sim summary"
assert_eq 200 "$(buffer_count)" "points in the buffer (sqlite3)"
sleep 2 # several failed deliveries and backoffs
assert_eq 200 "$(buffer_count)" "points still in the buffer after failed deliveries"

influx_start # a fresh InfluxDB: the edge must also create the database
wait_until 60 buffer_empty || fail "the buffer did not drain after InfluxDB came up ($(buffer_count) left)"
assert_eq 200 "$(influx_count)" "points in InfluxDB"
sim_points "$WORK/sim.out" >"$WORK/sent.txt"
influx_points >"$WORK/stored.txt"
diff -q "$WORK/sent.txt" "$WORK/stored.txt" >/dev/null || fail "InfluxDB differs from what was sent"
say "ok: the 200 stored points are exactly the 200 sent"

# InfluxDB killed mid-stream: nothing lost, nothing doubled.
influx_stop KILL
sim_run "$WORK/sim2.out" --count 100 --interval 0 --devices 2
influx_start
wait_until 60 buffer_empty || fail "the buffer did not drain after the restart"
assert_eq 300 "$(influx_count)" "points in InfluxDB after a kill -9 of influxd"
grep -q 'database' "$EDGE_LOG" || fail "no log line about the database"
edge_stop
