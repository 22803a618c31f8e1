# bench_spill.sh -- run.sh's rows of issue #16: bytes written per reading by buffer.write mode, and POST /data on a slow (fsync-delayed) disk.
# shellcheck shell=bash disable=SC2154
#
# Sourced by run.sh after its drain section (influxd runs at INFLUX_URL); uses
# its row(), times(), le(), col(), count_in(), WRK, e_rps/e_p99 (the POST /data
# figures on the real disk), CMDS and QUICK. SPILL_RATES (QUICK "10 1000",
# else "1 10 100 1000" readings/s, uplink up), SPILL_DOWN_RATE (10, uplink
# down), SPILL_SECS (QUICK 6, else 20 per run), LAT_N (QUICK 100, else 300
# requests at 10/s per latency run), FSYNC_SLOW_MS (10).

if [ "${QUICK:-0}" = 1 ]; then
	SPILL_RATES=${SPILL_RATES:-10 1000} SPILL_SECS=${SPILL_SECS:-6} LAT_N=${LAT_N:-100}
else
	SPILL_RATES=${SPILL_RATES:-1 10 100 1000} SPILL_SECS=${SPILL_SECS:-20} LAT_N=${LAT_N:-300}
fi
SPILL_DOWN_RATE=${SPILL_DOWN_RATE:-10}
FSYNC_SLOW_MS=${FSYNC_SLOW_MS:-10}

# wear_run WRITE DURABILITY RATE [down]: sets WEAR to the bytes written per
# reading, after 3 s of warm-up, over SPILL_SECS. Uplink up (influxd): every
# reading must reach InfluxDB (a database of its own per run); down (a closed
# port, 127.0.0.1:9): every reading must be in the buffer.
wear_run() {
	local write=$1 dur=$2 rate=$3 down=${4:-} db w0 w1 sim n url=$INFLUX_URL
	db=wear_${write}_${dur}_$rate
	[ -z "$down" ] || url=http://127.0.0.1:9
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE \"$db\"" >/dev/null
	rm -f "$BUFFER"*
	bench_edge_start IOT_EDGE_BUFFER_WRITE="$write" IOT_EDGE_BUFFER_DURABILITY="$dur" \
		IOT_EDGE_UPLINK_URL="$url" IOT_EDGE_UPLINK_DATABASE="$db" \
		IOT_EDGE_UPLINK_FLUSH_INTERVAL=1s IOT_EDGE_LOG_LEVEL=warn
	n=$((rate * (SPILL_SECS + 3)))
	"$IOT_SIM" -h 127.0.0.1 -p "$EDGE_PORT" --quiet --rate "$rate" --connections 2 \
		--devices 10 --count "$n" >"$WORK/wear.out" &
	sim=$!
	BENCH_PIDS="$BENCH_PIDS $sim"
	sleep 3
	w0=$(bench_write_bytes "$EDGE_PID")
	sleep "$SPILL_SECS"
	w1=$(bench_write_bytes "$EDGE_PID")
	wait "$sim" || fail "iot-sim failed: $(tail -n 1 "$WORK/wear.out")"
	BENCH_PIDS=${BENCH_PIDS/ $sim/}
	if [ -n "$down" ]; then
		edge_stop
		[ "$(buffer_count)" = "$n" ] ||
			fail "wear $write/$dur at $rate/s, uplink down: $(buffer_count) of $n readings in the buffer"
	else
		# shellcheck disable=SC2016 # expanded by eval, each poll
		wait_until 60 eval '[ "$(count_in '"$db"')" = '"$n"' ]' ||
			fail "wear $write/$dur at $rate/s: $(count_in "$db") of $n readings in InfluxDB"
		edge_stop
	fi
	WEAR=$(awk -v w=$((w1 - w0)) -v n=$((rate * SPILL_SECS)) 'BEGIN { printf "%.0f", w / n }')
}
per_day() { awk -v b="$1" -v r="$2" 'BEGIN { printf "%.1f MB", b * r * 86400 / 1e6 }'; }

for rate in $SPILL_RATES; do
	wear_run always full "$rate"
	full=$WEAR
	wear_run always normal "$rate"
	normal=$WEAR
	wear_run spill full "$rate"
	spill=$WEAR
	row "bytes written per reading, $rate/s, uplink up, always/full (per day)" \
		"$full ($(per_day "$full" "$rate"))" "-" "-" "-" "-"
	row "  always/normal (per day)" "$normal ($(per_day "$normal" "$rate"))" \
		"$full (always/full)" "$(times "$normal" "$full")" "-" "-"
	if [ "$rate" = 10 ]; then
		row "  spill (per day)" "$spill ($(per_day "$spill" "$rate"))" "$full (always/full)" \
			"$(times "$spill" "$full")" "<= 50 B" "$(le "$spill" 50)"
	else
		row "  spill (per day)" "$spill ($(per_day "$spill" "$rate"))" "$full (always/full)" \
			"$(times "$spill" "$full")" "-" "-"
	fi
done
wear_run always full "$SPILL_DOWN_RATE" down
full=$WEAR
wear_run always normal "$SPILL_DOWN_RATE" down
normal=$WEAR
wear_run spill full "$SPILL_DOWN_RATE" down
spill=$WEAR
row "bytes written per reading, $SPILL_DOWN_RATE/s, uplink DOWN, always/full (per day)" \
	"$full ($(per_day "$full" "$SPILL_DOWN_RATE"))" "-" "-" "-" "-"
row "  always/normal (per day)" "$normal ($(per_day "$normal" "$SPILL_DOWN_RATE"))" \
	"$full (always/full)" "$(times "$normal" "$full")" "-" "-"
row "  spill (per day)" "$spill ($(per_day "$spill" "$SPILL_DOWN_RATE"))" "$full (always/full)" \
	"$(times "$spill" "$full")" "-" "-"
CMDS+=("wear:   $IOT_SIM --rate R --connections 2 --devices 10 into IOT_EDGE_BUFFER_WRITE=always|spill IOT_EDGE_BUFFER_DURABILITY=full|normal, influxd up; write_bytes of /proc/PID/io over ${SPILL_SECS}s after 3 s of warm-up / (R * ${SPILL_SECS}); every reading counted in InfluxDB; uplink DOWN: IOT_EDGE_UPLINK_URL=http://127.0.0.1:9 (closed), every reading counted in the buffer")

# POST /data answer latency at 10/s, spill, influxd healthy, beside one point
# written straight to InfluxDB's /write by the same client (curl, a new
# connection per request, %{time_total}), alternating, LAT_N of each.
lat_p99() { sort -g "$1" | awk '{ v[NR] = $1 } END { i = int(NR * 0.99 + 0.999); printf "%.2f", v[i] * 1000 }'; }
lat_p50() { sort -g "$1" | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] * 1000 }'; }
: >"$WORK/lat-edge.t"
: >"$WORK/lat-influx.t"
rm -f "$BUFFER"*
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE "lat_edge"' >/dev/null
curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode 'q=CREATE DATABASE "lat_influx"' >/dev/null
bench_edge_start IOT_EDGE_BUFFER_WRITE=spill IOT_EDGE_BUFFER_DURABILITY=full \
	IOT_EDGE_UPLINK_URL="$INFLUX_URL" IOT_EDGE_UPLINK_DATABASE=lat_edge IOT_EDGE_LOG_LEVEL=warn
w0=$(bench_write_bytes "$EDGE_PID")
for _ in $(seq "$LAT_N"); do
	read -r code t < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -XPOST \
		-H 'Content-Type: application/json' --data '{"type":"temp","value":21.5,"sensor_id":7}' \
		"$EDGE_URL/data")
	[ "$code" = 201 ] || fail "latency: POST /data answered $code"
	echo "$t" >>"$WORK/lat-edge.t"
	read -r code t < <(curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -XPOST \
		-H 'Content-Type: text/plain' --data-binary 'data,sensor_id=7,type=temp value=21.5' \
		"$INFLUX_URL/write?db=lat_influx")
	[ "$code" = 204 ] || fail "latency: InfluxDB /write answered $code"
	echo "$t" >>"$WORK/lat-influx.t"
	sleep 0.05 # with the two requests, about 10 of each per second
done
w1=$(bench_write_bytes "$EDGE_PID")
lat_direct=$(curl -sf "$EDGE_URL/status" | jq -r '.buffer.write.points_direct')
edge_stop
[ "$(count_in lat_edge)" = "$LAT_N" ] || fail "latency: $(count_in lat_edge) of $LAT_N readings in InfluxDB"
[ "$(count_in lat_influx)" = "$LAT_N" ] || fail "latency: $(count_in lat_influx) of $LAT_N curl points in InfluxDB"
l_edge=$(lat_p99 "$WORK/lat-edge.t") l_influx=$(lat_p99 "$WORK/lat-influx.t")
l_target=$(awk -v b="$l_influx" 'BEGIN { printf "%.2f", b + 20 }')
row "POST /data p50 ms, 10/s, spill (influxd healthy)" "$(lat_p50 "$WORK/lat-edge.t")" \
	"$(lat_p50 "$WORK/lat-influx.t") (curl /write to influxd)" \
	"$(times "$(lat_p50 "$WORK/lat-edge.t")" "$(lat_p50 "$WORK/lat-influx.t")")" "-" "-"
row "POST /data p99 ms, 10/s, spill (influxd healthy; $((w1 - w0)) B written, direct ${lat_direct:-?})" \
	"$l_edge" "$l_influx (curl /write to influxd)" "$(times "$l_edge" "$l_influx")" \
	"<= baseline + 20 ms ($l_target)" "$(le "$l_edge" "$l_target")"
CMDS+=("latency: $LAT_N x (curl -w %{time_total} POST /data one reading to iot-edge (spill, influxd up); curl POST /write one point to influxd; sleep 0.05), p50/p99 of each; both counted in InfluxDB")

# POST /data (wrk, as the first section) with every fsync FSYNC_SLOW_MS slower.
SLOW_RUN=0
slow_post() { # WRITE: appends "rps p99" to $WORK/slow-WRITE.r
	local bad n err rps p99 db stored
	SLOW_RUN=$((SLOW_RUN + 1))
	db=slowpost_$SLOW_RUN
	rm -f "$BUFFER"*
	curl -sf -XPOST "$INFLUX_URL/query" --data-urlencode "q=CREATE DATABASE \"$db\"" >/dev/null
	bench_edge_start LD_PRELOAD="$FSYNC_DELAY_SO" IOT_BENCH_FSYNC_DELAY_MS="$FSYNC_SLOW_MS" \
		IOT_EDGE_BUFFER_DURABILITY=full IOT_EDGE_BUFFER_WRITE="$1" \
		IOT_EDGE_UPLINK_URL="$INFLUX_URL" IOT_EDGE_UPLINK_DATABASE="$db"
	$WRK "$EDGE_URL/data" >"$WORK/slow.wrk"
	edge_stop
	read -r rps _ p99 bad n err < <(bench_wrk_numbers "$WORK/slow.wrk")
	[ "$bad" = 0 ] && [ "$err" = 0 ] && [ "$n" -gt 0 ] ||
		fail "POST /data, fsync +$FSYNC_SLOW_MS ms, $1: $bad non-2xx answers, $err socket errors, $n requests"
	# every 201 is in InfluxDB or still in the buffer (a point in both is rare: delivered, not yet deleted)
	stored=$(($(count_in "$db") + $(buffer_count)))
	[ "$stored" -ge "$n" ] || fail "POST /data, fsync +$FSYNC_SLOW_MS ms, $1: $n answered 201, $stored stored"
	echo "$rps $p99" >>"$WORK/slow-$1.r"
}
: >"$WORK/slow-always.r"
: >"$WORK/slow-spill.r"
for _ in $(seq "$ROUNDS"); do
	slow_post always
	slow_post spill
done
s_rps=$(col 1 "$WORK/slow-always.r") s_p99=$(col 2 "$WORK/slow-always.r")
p_rps=$(col 1 "$WORK/slow-spill.r") p_p99=$(col 2 "$WORK/slow-spill.r")
row "POST /data requests/s, fsync +$FSYNC_SLOW_MS ms, always/full" "$s_rps" "$e_rps (same, real disk)" \
	"$(times "$s_rps" "$e_rps")" "-" "-"
row "POST /data p99 ms, fsync +$FSYNC_SLOW_MS ms, always/full" "$s_p99" "$e_p99 (same, real disk)" \
	"$(times "$s_p99" "$e_p99")" "-" "-"
row "POST /data requests/s, fsync +$FSYNC_SLOW_MS ms, spill (influxd up)" "$p_rps" \
	"$s_rps (always/full, same disk)" "$(times "$p_rps" "$s_rps")" "-" "-"
row "POST /data p99 ms, fsync +$FSYNC_SLOW_MS ms, spill (influxd up)" "$p_p99" \
	"$s_p99 (always/full, same disk)" "$(times "$p_p99" "$s_p99")" "-" "-"
CMDS+=("slow:   LD_PRELOAD=$FSYNC_DELAY_SO IOT_BENCH_FSYNC_DELAY_MS=$FSYNC_SLOW_MS (tests/bench/fsync_delay.c: every fsync/fdatasync that much slower), then the POST /data load above; uplink to influxd")
