# mqtt_lib.sh -- for the MQTT tests: a real mosquitto broker on 127.0.0.1 with its own config
# and persistence directory, stopped by pid; sourced after lib.sh.
# shellcheck shell=bash

MQTT_PORT=$(free_port)
MOSQ_PID=""
MOSQ_DIR="$WORK/mosquitto"
MOSQ_LOG="$WORK/mosquitto.log"
# shellcheck disable=SC2034 # used by the tests that source this file
MQTT_PUB="$(dirname "${BASH_SOURCE[0]}")/mqtt_pub.py"

# Where mosquitto listens, and the command prefix that runs it there (a
# system test sets MOSQ_IN="ip netns exec NS" and MOSQ_BIND to the namespace's
# address); MQTT_CHAIN is the exit handler to call after stopping it.
MOSQ_BIND=${MOSQ_BIND:-127.0.0.1}
MOSQ_IN=${MOSQ_IN:-}
mqtt_cleanup() {
	local rc=$?
	set +e # (exit "$rc") below must not end the handler under set -e
	if [ -n "$MOSQ_PID" ]; then
		kill -KILL "$MOSQ_PID" 2>/dev/null || true
		wait "$MOSQ_PID" 2>/dev/null || true
	fi
	(exit "$rc")
	${MQTT_CHAIN:-cleanup}
}
trap mqtt_cleanup EXIT

# Start mosquitto (persistence on: a restart keeps the edge's session and its queue).
mosq_start() {
	mkdir -p "$MOSQ_DIR"
	cat >"$MOSQ_DIR/mosquitto.conf" <<-EOF
		listener $MQTT_PORT $MOSQ_BIND
		user $(id -un)
		allow_anonymous true
		persistence true
		persistence_location $MOSQ_DIR/
		autosave_interval 1
		max_queued_messages 0
		log_dest stderr
		log_type error
		log_type warning
		log_type notice
	EOF
	# MOSQ_EXTRA: more configuration lines (a TLS listener)
	[ -z "${MOSQ_EXTRA:-}" ] || printf '%s\n' "$MOSQ_EXTRA" >>"$MOSQ_DIR/mosquitto.conf"
	# shellcheck disable=SC2086 # MOSQ_IN is a command prefix, split on purpose
	$MOSQ_IN /usr/sbin/mosquitto -c "$MOSQ_DIR/mosquitto.conf" >>"$MOSQ_LOG" 2>&1 &
	MOSQ_PID=$!
	wait_until 20 mosq_listening || fail "mosquitto did not listen on port $MQTT_PORT"
}

mosq_listening() {
	kill -0 "$MOSQ_PID" 2>/dev/null || fail "mosquitto exited: $(tail -n 5 "$MOSQ_LOG")"
	# shellcheck disable=SC2086
	$MOSQ_IN ss -Htln "sport = :$MQTT_PORT" | grep -q .
}

# SIGTERM (mosquitto saves its persistence file) and wait.
mosq_stop() {
	kill -TERM "$MOSQ_PID"
	wait "$MOSQ_PID" 2>/dev/null || true
	MOSQ_PID=""
}

# The edge's [mqtt.test] section: mqtt_conf TOPICS [KEY = VALUE lines...] > FILE
mqtt_conf() {
	local topics=$1
	shift
	printf '[mqtt.test]\nurl = mqtt://%s:%s\ntopics = %s\nreconnect_min = 100ms\nreconnect_max = 1s\n' \
		"$MOSQ_BIND" "$MQTT_PORT" "$topics"
	local line
	for line in "$@"; do printf '%s\n' "$line"; done
}

# A field of /status's mqtt entry: mqtt_status FIELD [BROKER NUMBER, default 0]
mqtt_status() {
	curl -sf "$EDGE_URL/status" | jq -r ".mqtt[${2:-0}].$1"
}

edge_subscribed() { [ "$(mqtt_status connected)" = true ]; }

# Points of measurement M in InfluxDB: influx_count_of M FIELD
influx_count_of() {
	influx_query "SELECT count(\"$2\") FROM \"$1\"" | jq -r '.results[0].series[0].values[0][1] // 0'
}

# Every point of measurement M as "RFC3339-time col=value col=value ..." (nulls left out), sorted.
influx_rows() {
	influx_query "SELECT * FROM \"$1\"" |
		jq -r '.results[0].series[0] as $s | $s.values[]? |
			[.[0]] + [range(1; length) as $i | select(.[$i] != null) |
			"\($s.columns[$i])=\(.[$i])"] | join(" ")' | sort
}
