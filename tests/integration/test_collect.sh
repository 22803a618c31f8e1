#!/usr/bin/env bash
# Collectors against a fake sysfs tree and a real InfluxDB: every kind at 1 s, exact counts per
# series over a window, timestamps on the grid, exec timeouts, a failing sensor, ingest unharmed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/collect_lib.sh"

ROOT="$WORK/root"
mkdir -p "$ROOT/sys/class/thermal/thermal_zone0" "$ROOT/sys/class/thermal/thermal_zone1" \
	"$ROOT/sys/class/hwmon/hwmon0" "$ROOT/sys/bus/iio/devices/iio:device0"
echo 45000 >"$ROOT/sys/class/thermal/thermal_zone0/temp"
echo cpu-thermal >"$ROOT/sys/class/thermal/thermal_zone0/type"
echo 38500 >"$ROOT/sys/class/thermal/thermal_zone1/temp"
echo gpu-thermal >"$ROOT/sys/class/thermal/thermal_zone1/type"
W1="$ROOT/sys/bus/w1/devices"
collect_w1_file "$W1/28-00000000000a" NO 21000     # bad CRC: skipped
collect_w1_file "$W1/28-00000000000b" YES 85000    # power-on value: skipped
collect_w1_file "$W1/28-00000000000c" YES -10250   # a frosty -10.25 C: stored
mkdir -p "$W1/w1_bus_master1"
: >"$W1/w1_bus_master1/therm_bulk_read"            # the bus's bulk conversion
echo 42000 >"$ROOT/sys/class/hwmon/hwmon0/temp1_input"
echo 1234 >"$ROOT/sys/bus/iio/devices/iio:device0/in_voltage0_raw"

# lib.sh kills iot-edge with SIGKILL when a test fails, which would orphan a
# hung command in its own process group: kill those first.
HANG_PIDS="$WORK/hang.pids"
collect_cleanup() {
	local rc=$? pid
	if [ -f "$HANG_PIDS" ]; then
		while read -r pid; do # only if the pid is still our `sleep 1000`
			if [ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" = "sleep 1000 " ]; then
				kill -KILL "$pid" 2>/dev/null || true
			fi
		done <"$HANG_PIDS"
	fi
	set +e # `(exit 1)` would end this trap under errexit, before cleanup
	(exit "$rc")
	cleanup
}
trap collect_cleanup EXIT

cat >"$WORK/script.sh" <<'SH'
#!/bin/sh
echo "exec_m,src=a value=1.5"
echo "exec_m,src=b,host=meter value=2.5"
SH
chmod +x "$WORK/script.sh"

# The edge's name is a tag of every collector point (a point's own host stays).
cat >"$WORK/edge.conf" <<EOF
[edge]
name = pi-test
[collect]
sysfs_root = $ROOT
[collector.cpu_temp]
interval = 1s
[collector.w1]
interval = 1s
tags = site=lab
[collector.hwmon]
type = file
path = /sys/class/hwmon/hwmon*/temp1_input
scale = 0.001
offset = -1
field = celsius
interval = 1s
[collector.adc]
type = file
path = /sys/bus/iio/devices/iio:device0/in_voltage0_raw
interval = 1s
[collector.script]
type = exec
command = $WORK/script.sh
tags = site=lab
interval = 1s
timeout = 800ms
[collector.failing]
type = exec
shell = true
command = printf 'exec_fail,src=f v=1i\\nnot line protocol\\n' && exit 1
interval = 1s
timeout = 800ms
[collector.hang]
type = exec
shell = true
command = echo \$\$ >>$HANG_PIDS && exec sleep 1000
interval = 1s
timeout = 500ms
[collector.edge]
interval = 1s
EOF

"$IOT_EDGE" -c "$WORK/edge.conf" -n >"$WORK/check.out" || fail "iot-edge -n refused the configuration"
grep -q '^\[collector.hang\]$' "$WORK/check.out" || fail "iot-edge -n does not print the collectors"

influx_start
collect_edge_start "$WORK/edge.conf"

# The window: six grid seconds, starting when everything runs.
T1=$(($(collect_now_s) + 3))
T2=$((T1 + 5))
collect_sleep_until "$T1"
sim_run "$WORK/sim.out" --count 300 --interval 0 --devices 3 --quiet
collect_sleep_until $((T2 + 1))

# A sensor disappears: counted, logged once, the daemon runs on.
rm "$ROOT/sys/bus/iio/devices/iio:device0/in_voltage0_raw"
sleep 3.5
kill -0 "$EDGE_PID" || fail "iot-edge died"
[ "$(collect_status adc errors)" -ge 3 ] || fail "adc errors: $(collect_status adc errors)"
collect_status adc last_error | grep -q 'in_voltage0_raw' ||
	fail "adc last_error: $(collect_status adc last_error)"
assert_eq 1 "$(grep -c 'warn \[collect\] adc: ' "$EDGE_LOG")" "adc problems logged (an identical one again only after an hour)"

expected() {
	cat <<-EOF
		cpu_temp host=pi-test,type=cpu-thermal,zone=thermal_zone0 6
		cpu_temp host=pi-test,type=gpu-thermal,zone=thermal_zone1 6
		w1_temp device=28-00000000000c,host=pi-test,site=lab 6
		hwmon host=pi-test,path=/sys/class/hwmon/hwmon0/temp1_input 6
		adc host=pi-test,path=/sys/bus/iio/devices/iio:device0/in_voltage0_raw 6
		exec_m host=meter,site=lab,src=b 6
		exec_m host=pi-test,site=lab,src=a 6
		exec_fail host=pi-test,src=f 6
		iot_edge host=pi-test 6
	EOF
}
actual() {
	local m f
	while read -r m f; do
		collect_series "$m" "$f" "$T1" "$T2" | sed "s/^/$m /"
	done <<-EOF
		cpu_temp celsius
		w1_temp celsius
		hwmon celsius
		adc value
		exec_m value
		exec_fail v
		iot_edge buffer_points
	EOF
}
same_series() { [ "$(actual)" = "$(expected)" ]; }
wait_until 30 same_series || fail "series in the window:
$(actual)
expected:
$(expected)"
say "ok: every series has exactly 6 points in the window, the right tags, none from the bad w1 devices"

value() { influx_query "SELECT last(\"$2\") FROM \"$1\" ${3:-}" | jq -r '.results[0].series[0].values[0][1]'; }
assert_eq -10.25 "$(value w1_temp celsius)" "negative w1 temperature"
assert_eq 41 "$(value hwmon celsius)" "hwmon 42000 * 0.001 - 1"
assert_eq 38.5 "$(value cpu_temp celsius "WHERE zone = 'thermal_zone1'")" "thermal_zone1"
assert_eq 300 "$(influx_count)" "readings ingested over HTTP while the collectors ran"

# Every collector point sits on the 1 s grid: no drift, no jitter.
for m in cpu_temp w1_temp hwmon adc exec_m exec_fail iot_edge; do
	collect_times "$m" >"$WORK/times.txt"
	[ -s "$WORK/times.txt" ] || fail "no timestamps of $m"
	off=$(grep -vc '000000000$' "$WORK/times.txt" || true)
	assert_eq 0 "$off" "$m timestamps off the 1 s grid (of $(wc -l <"$WORK/times.txt"))"
done

# The edge collector's own figures.
cols=$(influx_query 'SELECT * FROM iot_edge LIMIT 1' | jq -r '.results[0].series[0].columns | join(",")')
for f in buffer_points buffer_bytes buffer_oldest_age_s points_received points_stored points_sent \
	points_rejected points_dropped uplink_ok uplink_consecutive_failures uplink_state rss_bytes \
	load1 disk_free_bytes disk_write_bytes collector_errors; do
	case ",$cols," in *",$f,"*) ;; *) fail "iot_edge has no field $f ($cols)" ;; esac
done
assert_eq 300 "$(value iot_edge points_received)" "iot_edge points_received"
assert_eq 1 "$(value iot_edge uplink_ok)" "iot_edge uplink_ok"
assert_eq 0 "$(value iot_edge uplink_state)" "iot_edge uplink_state (0: ok)"

# Counters in /status: skipped w1 readings, the failing and the hung commands.
read -r runs skipped < <(curl -sf "$EDGE_URL/status" |
	jq -r '.collectors[] | select(.name == "w1") | "\(.runs) \(.skipped)"')
[ "$runs" -ge 10 ] || fail "w1 runs: $runs"
assert_eq $((2 * runs)) "$skipped" "w1 readings skipped (CRC NO and 85000 in each of $runs runs)"
assert_eq 0 "$(collect_status w1 errors)" "w1 errors"
assert_eq trigger "$(cat "$W1/w1_bus_master1/therm_bulk_read")" "the w1 collector triggers the bus's bulk conversion"
[ "$(collect_status failing errors)" -ge 10 ] || fail "failing errors: $(collect_status failing errors)"
assert_eq 1 "$(grep -c 'failing: "printf .*exited with status 1' "$EDGE_LOG")" \
	"exit status 1 logged with the command (then once an hour)"
grep -q 'failing: "printf .*1 bad line' "$EDGE_LOG" || fail "the bad line not logged with the command"
collect_status hang last_error | grep -q 'killed after its timeout of 500 ms' ||
	fail "hang last_error: $(collect_status hang last_error)"
[ "$(collect_status hang errors)" -ge 8 ] || fail "hang errors: $(collect_status hang errors)"
assert_eq 0 "$(collect_status hang points)" "points of the hung command"
alive=0
while read -r pid; do
	if kill -0 "$pid" 2>/dev/null; then alive=$((alive + 1)); fi
done <"$HANG_PIDS"
[ "$alive" -le 1 ] || fail "$alive hung commands alive at once"
say "ok: $(wc -l <"$HANG_PIDS") hung runs started, each killed at its timeout"

edge_stop
while read -r pid; do
	if kill -0 "$pid" 2>/dev/null; then fail "hung command $pid outlived the daemon"; fi
done <"$HANG_PIDS"
grep -q 'stopped cleanly' "$EDGE_LOG" || fail "no clean stop"
say "ok: no command left behind"
say PASS
