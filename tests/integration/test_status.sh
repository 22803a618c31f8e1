#!/usr/bin/env bash
# GET /status tells a person whether data flows: counts follow exactly what was
# sent, and the uplink's state follows InfluxDB going away and coming back.
. "$(dirname "$0")/lib.sh"

status() { curl -sf "$EDGE_URL/status" | jq -r "$1"; }
failing() { [ "$(status .uplink.consecutive_failures)" -gt 0 ]; }
uplink_ok() { [ "$(status .uplink.state)" = ok ]; }

edge_start # InfluxDB not started yet: its port refuses connections
sim_run "$WORK/sim.out" --count 30 --interval 0 --devices 3 --quiet
wait_until 20 failing || fail "no failure counted"
assert_eq 30 "$(status .ingest.points)" "ingest.points"
assert_eq 30 "$(status .buffer.points)" "buffer.points while InfluxDB is down"
assert_eq failing "$(status .uplink.state)" "uplink.state while InfluxDB is down"
assert_eq network "$(status .uplink.last_error_class)" "uplink.last_error_class"
assert_eq 0 "$(status .uplink.points_sent)" "uplink.points_sent while InfluxDB is down"
assert_eq false "$(status .buffer.quarantined)" "buffer.quarantined"
status '.buffer.oldest_age_s > 0' | grep -qx true || fail "oldest_age_s should be above 0"

influx_start
wait_until 60 buffer_empty || fail "the buffer did not drain"
wait_until 10 uplink_ok || fail "uplink.state did not return to ok"
assert_eq 30 "$(status .uplink.points_sent)" "uplink.points_sent"
assert_eq 0 "$(status .buffer.points)" "buffer.points after the drain"
assert_eq 30 "$(status .buffer.acked)" "buffer.acked"
assert_eq 30 "$(influx_count)" "points in InfluxDB"
assert_eq 0 "$(status .uplink.consecutive_failures)" "consecutive failures after recovery"
edge_stop
