#!/usr/bin/env bash
# An idle edge does not poll: over 5 s without load the uplink, the writer, the HTTP sweeper and
# the UDP listener are not woken at all (context switches from /proc, a count, not a speed: a
# loaded machine does not wake a sleeping thread). Then a point posted waits out flush_interval
# (5 s) with the uplink asleep too, it and a datagram reach InfluxDB, and SIGTERM stops the
# sleeping threads at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ingest_lib.sh"

IDLE_MAX=3 # wake-ups a thread may have in the idle window (0 measured; 100 for a 50 ms poll)
UDP_PORT=$(free_udp_port)

# Context switches (voluntary + nonvoluntary) of the edge's thread named $1.
switches() {
	local t
	for t in /proc/"$EDGE_PID"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = "$1" ] || continue
		awk '/^(non)?voluntary_ctxt_switches:/ { n += $2 } END { print n + 0 }' "$t/status"
		return 0
	done
	fail "no thread named $1"
}

influx_start
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE iot" >/dev/null ||
	fail "CREATE DATABASE failed"
edge_start IOT_EDGE_UDP_LISTEN="127.0.0.1:$UDP_PORT" IOT_EDGE_UPLINK_FLUSH_INTERVAL=5s
sleep 1 # the /health request of edge_start is over
threads=(uplink writer http-sweep udp)
declare -A before
for t in "${threads[@]}"; do before[$t]=$(switches "$t"); done
sleep 5
polling=""
for t in "${threads[@]}"; do
	n=$(($(switches "$t") - before[$t]))
	[ "$n" -le "$IDLE_MAX" ] || polling="$polling $t ($n)"
	say "thread $t woke $n times in 5 s of idle"
done
[ -z "$polling" ] || fail "threads woken more than $IDLE_MAX times in 5 s of idle:$polling"
say "ok: no thread woke more than $IDLE_MAX times"

# A partial batch waits out flush_interval (5 s) asleep: no wake-up in [0.5 s, 2.5 s] after its
# commit (the commit itself wakes the uplink once, before). Then both points reach InfluxDB.
assert_eq 204 "$(CONTENT_TYPE=text/plain post "/write?db=iot" "data,sensor_id=idle value=1 1700000000000000001")" \
	"POST /write"
buffer_has_one() { [ "$(buffer_count)" = 1 ]; }
wait_until 10 buffer_has_one || fail "the point was not committed"
sleep 0.5
up0=$(switches uplink)
sleep 2
n=$(($(switches uplink) - up0))
[ "$n" -le "$IDLE_MAX" ] || fail "the uplink woke $n times in 2 s of a flush wait (at most $IDLE_MAX)"
say "ok: the uplink woke $n times in 2 s of a flush wait"
udp_send "$UDP_PORT" "data,sensor_id=udp value=2 1700000000000000002"
influx_has_both() { [ "$(influx_count)" = 2 ]; }
wait_until 30 influx_has_both || fail "InfluxDB has $(influx_count) of the 2 points"
say "ok: InfluxDB has both points"
wait_until 10 buffer_empty || fail "the buffer kept $(buffer_count) points"

start=$EPOCHREALTIME
edge_stop
took=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }')
[ "$took" -lt 10000 ] || fail "SIGTERM took $took ms"
say "ok: stopped $took ms after SIGTERM"
grep -q 'udp\] stopped: received 1 datagrams, stored 1 points' "$EDGE_LOG" ||
	fail "UDP totals: $(grep 'udp\]' "$EDGE_LOG" | tail -n 2)"
grep -q 'uplink\] stopped: 2 points sent in [12] requests' "$EDGE_LOG" ||
	fail "uplink totals: $(grep 'uplink\] stopped' "$EDGE_LOG")"
say "ok: the totals count both points once"
