#!/usr/bin/env bash
# measure_small_pi.sh -- the daemon's memory and CPU under tests/pi/small-pi.conf at 10 readings/s, on this machine (a figure to compare, not a Pi's).
#
# Usage: IOT_EDGE=build/edge/iot-edge IOT_SIM=build/simulator/iot-sim \
#            tests/pi/measure_small_pi.sh [SECONDS [CONF]]
# SECONDS defaults to 60, CONF to tests/pi/small-pi.conf (/dev/null: the defaults).
# A real influxd and iot-edge on 127.0.0.1 (tests/integration/lib.sh); iot-sim
# sends 10 readings/s from 10 devices for 10 s of warm-up plus SECONDS. The
# CPU is iot-edge's utime+stime (/proc/PID/stat) over those SECONDS, the
# memory its VmHWM (peak RSS) and VmRSS (/proc/PID/status) at the end. Then
# every reading sent must be in InfluxDB, counted at both ends.
. "$(dirname "$0")/../integration/lib.sh"
seconds=${1:-60}
rate=10
warmup=10
conf=${2:-$(dirname "$0")/small-pi.conf}

influx_start
# The configuration as it is, but on 127.0.0.1 and in the test's folder.
IOT_EDGE_HTTP_LISTEN="127.0.0.1:$EDGE_PORT" IOT_EDGE_BUFFER_PATH="$BUFFER" \
	IOT_EDGE_UPLINK_URL="$INFLUX_URL" "$IOT_EDGE" -c "$conf" >>"$EDGE_LOG" 2>&1 &
EDGE_PID=$!
wait_until 30 edge_healthy || fail "iot-edge did not answer /health on port $EDGE_PORT"

total=$((rate * (warmup + seconds)))
"$IOT_SIM" -h 127.0.0.1 -p "$EDGE_PORT" --rate "$rate" --devices 10 --count "$total" --quiet \
	>"$WORK/sim.out" 2>&1 &
sim_pid=$!

# ticks PID: utime + stime in clock ticks (fields 14 and 15 of /proc/PID/stat,
# counted after the ")" that ends the command name).
ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

sleep "$warmup"
t0=$(ticks "$EDGE_PID")
s0=$(date +%s%N)
sleep "$seconds"
t1=$(ticks "$EDGE_PID")
s1=$(date +%s%N)
hwm=$(status_kib "$EDGE_PID" VmHWM)
rss=$(status_kib "$EDGE_PID" VmRSS)
threads=$(status_kib "$EDGE_PID" Threads)
wait "$sim_pid" || fail "iot-sim failed: $(tail -n 2 "$WORK/sim.out")"

hz=$(getconf CLK_TCK)
cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v ns=$((s1 - s0)) 'BEGIN { printf "%.2f", 100 * t / hz / (ns / 1e9) }')
cpu_s=$(awk -v t=$((t1 - t0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }')
say "iot-sim: $(tail -n 1 "$WORK/sim.out")"
say "iot-edge -c $conf over ${seconds} s at $rate readings/s: CPU ${cpu_s} s (${cpu}% of one core), VmHWM ${hwm} kB, VmRSS ${rss} kB, $threads threads"

# Both ends: every reading iot-sim sent is in InfluxDB (after one flush_interval or more).
acked=$(sed -n 's/.*sent [0-9]*, 2xx \([0-9]*\),.*/\1/p' "$WORK/sim.out" | tail -n 1)
[ "$acked" = "$total" ] || fail "iot-sim got ${acked:-?} 2xx answers, not $total: $(tail -n 1 "$WORK/sim.out")"
drained() { [ "$(influx_count)" = "$total" ]; }
wait_until 60 drained || fail "InfluxDB has $(influx_count) of the $total readings"
say "ok: $total readings acknowledged (2xx), $total in InfluxDB"
