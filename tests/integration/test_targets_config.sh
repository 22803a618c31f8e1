#!/usr/bin/env bash
# Targets in the configuration: [uplink] and [uplink.NAME] cannot be mixed
# (from the file or the environment; the key is named); a target removed from
# the file releases the buffer at the next start (logged), and a new target
# starts at the oldest buffered reading. Counted exactly on a real influxd and
# a real VictoriaMetrics.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/targets_lib.sh"

t0=$(date +%s%N)
dead_port=$(free_port)

# Mixing, in the file and from the environment: refused by -n with the key named.
cat >"$WORK/mixed.conf" <<CONF
[uplink]
url = http://127.0.0.1:$dead_port
[uplink.vm]
url = $VM_URL
CONF
rc=0
"$IOT_EDGE" -n -c "$WORK/mixed.conf" >"$WORK/n.out" 2>"$WORK/n.err" || rc=$?
assert_eq 1 "$rc" "exit status of -n with [uplink] and [uplink.vm]"
grep -q '^\[uplink\] url: set, but \[uplink.NAME\] sections exist' "$WORK/n.err" ||
	fail "no message naming [uplink] url: $(cat "$WORK/n.err")"
cat >"$WORK/named.conf" <<CONF
[uplink.vm]
api = v2
url = $VM_URL
bucket = iot
token = hush
CONF
rc=0
env IOT_EDGE_UPLINK_DATABASE=other "$IOT_EDGE" -n -c "$WORK/named.conf" >"$WORK/n.out" 2>"$WORK/n.err" || rc=$?
assert_eq 1 "$rc" "exit status of -n with IOT_EDGE_UPLINK_DATABASE beside [uplink.vm]"
grep -q '^\[uplink\] database: set, but' "$WORK/n.err" || fail "no message naming [uplink] database"
"$IOT_EDGE" -n -c "$WORK/named.conf" >"$WORK/n.out" 2>"$WORK/n.err" || fail "-n refused [uplink.vm] alone"
grep -q '^\[uplink.vm\]$' "$WORK/n.out" || fail "-n does not print [uplink.vm]"
grep -q '^token = \*\*\*$' "$WORK/n.out" || fail "-n does not mask the token"
if grep -q hush "$WORK/n.out"; then fail "-n printed the token"; fi
say "ok: -n refuses mixing, prints [uplink.vm] with the token masked"

# Two targets, b down: a has everything, the buffer keeps b's 50.
influx_start
EDGE_CONF="$WORK/ab.conf"
cat >"$EDGE_CONF" <<CONF
[uplink.a]
url = $INFLUX_URL
$TARGET_TIMING
[uplink.b]
url = http://127.0.0.1:$dead_port
$TARGET_TIMING
CONF
edge_start_targets
sim_run "$WORK/sim1.out" --count 50 --interval 0 --devices 2
wait_until 30 influx_has 50 || fail "InfluxDB has $(influx_count) of 50"
wait_until 30 target_is a backlog_points 0 || fail "a's backlog did not empty"
assert_eq 50 "$(buffer_count)" "points kept for b"
edge_stop

# b removed: its position is dropped at start, the buffer empties at once.
EDGE_CONF="$WORK/a.conf"
cat >"$EDGE_CONF" <<CONF
[uplink.a]
url = $INFLUX_URL
$TARGET_TIMING
CONF
edge_start_targets
grep -q 'target "b" is no longer configured: its position (id 0, 50 points it had not got) is dropped' "$EDGE_LOG" ||
	fail "no log line about the removed target b"
assert_eq 0 "$(buffer_count)" "points in the buffer once b is gone"
assert_eq 0 "$(sqlite3 "$BUFFER" "SELECT count(*) FROM targets WHERE name = 'b'")" "b's row in targets"

# InfluxDB down: 30 readings wait; then a new target c joins and gets exactly those 30.
influx_stop
sim_run "$WORK/sim2.out" --count 30 --interval 0 --devices 3
edge_stop
assert_eq 30 "$(buffer_count)" "points waiting for a"
influx_start
vm_start
EDGE_CONF="$WORK/ac.conf"
cat >"$EDGE_CONF" <<CONF
[uplink.a]
url = $INFLUX_URL
$TARGET_TIMING
[uplink.c]
api = v2
url = $VM_URL
bucket = iot
$TARGET_TIMING
CONF
edge_start_targets
grep -q 'target "c" is new: it starts at the oldest of the 30 buffered points' "$EDGE_LOG" ||
	fail "no log line about the new target c"
wait_until 60 buffer_empty || fail "the buffer did not drain ($(buffer_count) left)"
assert_eq 80 "$(influx_count)" "points in InfluxDB (a: every reading once)"
wait_until 30 vm_has 30 || fail "VictoriaMetrics has $(vm_count) of 30"
assert_eq 30 "$(vm_count)" "points in VictoriaMetrics (c: the backlog it joined)"
sim_points_ms "$WORK/sim2.out" >"$WORK/sent_ms.txt"
vm_points >"$WORK/vm_stored.txt"
diff -q "$WORK/sent_ms.txt" "$WORK/vm_stored.txt" >/dev/null || fail "VictoriaMetrics differs from the 30 buffered readings"
say "ok: c got exactly the 30 buffered readings"
edge_stop
say "took $((($(date +%s%N) - t0) / 1000000)) ms"
