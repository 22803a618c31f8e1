# bench_mqtt.sh -- sourced by run.sh: MQTT QoS 1 messages/s from a real mosquitto to the buffer
# (durability full), beside mosquitto_sub receiving the same queued stream in the same round.
# shellcheck shell=bash

MQTT_MSGS=$([ "${QUICK:-0}" = 1 ] && echo 5000 || echo 20000)
mqtt_round() { # appends "edge_msgs_per_s sub_msgs_per_s" to $WORK/mqtt.r
	local port dir t0 t1 t2 t3 pid
	port=$(free_port)
	dir=$WORK/mosquitto
	rm -rf "$dir"
	mkdir -p "$dir"
	printf 'listener %s 127.0.0.1\nuser %s\nallow_anonymous true\npersistence false\nmax_queued_messages 0\n' \
		"$port" "$(id -un)" >"$dir/mosquitto.conf"
	/usr/sbin/mosquitto -c "$dir/mosquitto.conf" >"$dir/log" 2>&1 &
	pid=$!
	BENCH_PIDS="$BENCH_PIDS $pid"
	wait_until 20 ss_listening "$port" || fail "mosquitto did not start"
	BENCH_CONF=$WORK/mqtt.conf
	printf '[mqtt.bench]\nurl = mqtt://127.0.0.1:%s\ntopics = bench/#\nformat = line\n' "$port" >"$BENCH_CONF"
	# Both persistent sessions subscribe once, then go away: the broker queues for both.
	rm -f "$BUFFER"*
	bench_edge_start
	wait_until 20 mqtt_subscribed || fail "iot-edge did not subscribe"
	edge_stop
	mosquitto_sub -p "$port" -c -i bench-sub -q 1 -t 'bench/#' -E
	python3 "$BENCH_TOP/tests/integration/mqtt_pub.py" "$port" bench/a "$MQTT_MSGS" \
		'bench,src=mqtt v={i}i {ts}' >"$WORK/mqtt_pub.out" || fail "publisher: $(cat "$WORK/mqtt_pub.out")"
	t0=$EPOCHREALTIME
	mosquitto_sub -p "$port" -c -i bench-sub -q 1 -t 'bench/#' -C "$MQTT_MSGS" >/dev/null
	t1=$EPOCHREALTIME
	t2=$EPOCHREALTIME # from exec, as mosquitto_sub's: the MQTT thread starts before HTTP is ready
	bench_edge_start
	# polled every 10 ms (wait_until's 100 ms would be a large part of a QUICK round)
	until mqtt_all_stored; do
		[ "$(awk -v a="$t2" -v b="$EPOCHREALTIME" 'BEGIN { print (b - a < 300) }')" = 1 ] ||
			fail "iot-edge stored $(mqtt_points) of $MQTT_MSGS"
		sleep 0.01
	done
	t3=$EPOCHREALTIME
	edge_stop
	[ "$(buffer_count)" = "$MQTT_MSGS" ] || fail "the buffer holds $(buffer_count) of $MQTT_MSGS points"
	BENCH_CONF=""
	kill -TERM "$pid"
	wait "$pid" 2>/dev/null || true
	BENCH_PIDS=${BENCH_PIDS/ $pid/}
	awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v n="$MQTT_MSGS" \
		'BEGIN { printf "%.0f %.0f\n", n / (d - c), n / (b - a) }' >>"$WORK/mqtt.r"
}
ss_listening() { ss -Htln "sport = :$1" | grep -q .; }
mqtt_points() { curl -sf "$EDGE_URL/status" | jq -r '.mqtt[0].points'; }
mqtt_subscribed() { [ "$(curl -sf "$EDGE_URL/status" | jq -r '.mqtt[0].connected')" = true ]; }
mqtt_all_stored() { [ "$(mqtt_points)" = "$MQTT_MSGS" ]; }

: >"$WORK/mqtt.r"
for _ in $(seq "$ROUNDS"); do mqtt_round; done
m_edge=$(col 1 "$WORK/mqtt.r")
m_sub=$(col 2 "$WORK/mqtt.r")
row "MQTT QoS 1, broker -> buffer, full: messages/s" "$m_edge" "$m_sub (mosquitto_sub)" \
	"$(pct "$m_edge" "$m_sub")" "-" "-"
mosq_version=$({ /usr/sbin/mosquitto -h 2>&1 || true; } | awk 'NR == 1 { print $3 }')
CMDS+=("mqtt:   $MQTT_MSGS QoS 1 line-protocol messages queued by mosquitto $mosq_version (max_inflight_messages 20, the default) for two persistent sessions, then drained by each")
CMDS+=("  sub:  mosquitto_sub -c -i bench-sub -q 1 -t 'bench/#' -C $MQTT_MSGS >/dev/null")
CMDS+=("  edge: [mqtt.bench] url = mqtt://127.0.0.1:PORT, topics = bench/#, format = line; timed from exec to /status mqtt[0].points = $MQTT_MSGS")
