# targets_lib.sh -- several delivery targets: a real VictoriaMetrics beside lib.sh's influxd,
# and iot-edge started with [uplink.NAME] sections. Source it after lib.sh.
# shellcheck shell=bash disable=SC2034 # EDGE_PID, TARGET_TIMING: for lib.sh and the tests

VM_PORT=$(free_port)
VM_URL="http://127.0.0.1:$VM_PORT"
VM_DIR="$WORK/victoria-metrics"
VM_LOG="$WORK/victoria-metrics.log"
VM_PID=""
VM_AUTH=""    # "user:password" once vm_start was given -httpAuth.* flags

# Start VictoriaMetrics on 127.0.0.1:VM_PORT with its data in the test's
# directory (kept across vm_stop/vm_start). retentionPeriod: iot-sim's and
# buffer_fill's times must not fall out of it; no dedup: a point sent twice
# is counted twice. Extra arguments are more flags (e.g. -httpAuth.username=U).
vm_start() {
	mkdir -p "$VM_DIR"
	victoria-metrics -httpListenAddr="127.0.0.1:$VM_PORT" -storageDataPath="$VM_DIR" \
		-retentionPeriod=100y -search.disableCache -loggerLevel=WARN "$@" >>"$VM_LOG" 2>&1 &
	VM_PID=$!
	wait_until 60 vm_healthy || fail "victoria-metrics did not answer /health on port $VM_PORT"
}

vm_healthy() {
	kill -0 "$VM_PID" 2>/dev/null || fail "victoria-metrics exited during start-up"
	[ "$(vm_curl -s -o /dev/null -w '%{http_code}' "$VM_URL/health")" = 200 ]
}

# curl with VM_AUTH's credentials, if any.
vm_curl() { curl ${VM_AUTH:+-u "$VM_AUTH"} "$@"; }

vm_stop() {
	kill -TERM "$VM_PID"
	wait "$VM_PID" 2>/dev/null || true
	VM_PID=""
VM_AUTH=""    # "user:password" once vm_start was given -httpAuth.* flags
}

# Stop VictoriaMetrics on exit too, and uplink_lib.sh's fake if that is
# sourced (this trap replaces its), then lib.sh's cleanup, which reads the
# test's status from $? (errexit off: a failing `(exit N)` would end the trap).
targets_cleanup() {
	local rc=$?
	set +e
	if [ -n "$VM_PID" ]; then
		kill -KILL "$VM_PID" 2>/dev/null
		wait "$VM_PID" 2>/dev/null
	fi
	if declare -F fake_cleanup >/dev/null; then fake_cleanup; fi
	(exit "$rc")
	cleanup
}
trap 'targets_cleanup' EXIT

# "ts_ms value" of every sample of data_value in VictoriaMetrics, sorted. Its
# ingestion is asynchronous: /internal/force_flush makes what it took
# searchable first.
vm_points() {
	vm_curl -sf "$VM_URL/internal/force_flush" >/dev/null || fail "force_flush failed"
	vm_curl -sf "$VM_URL/api/v1/export" -d 'match[]={__name__="data_value"}' -d start=0 |
		jq -r '. as $s | range(0; .values | length) | "\($s.timestamps[.]) \($s.values[.])"' |
		sort
}

vm_count() { vm_points | wc -l; }

# Whether VictoriaMetrics / InfluxDB hold at least N points (for wait_until).
vm_has() { [ "$(vm_count)" -ge "$1" ]; }
influx_has() { [ "$(influx_count)" -ge "$1" ]; }

# iot-sim's readings of OUTFILE... as "ts_ms value", sorted (VictoriaMetrics keeps ms).
sim_points_ms() {
	local f
	for f in "$@"; do sim_points "$f"; done | awk '{ print substr($1, 1, length($1) - 6), $3 }' | sort
}

# Start iot-edge with the configuration file EDGE_CONF (its [uplink.NAME]
# sections), without lib.sh's IOT_EDGE_UPLINK_* settings: they would set
# [uplink], which cannot be mixed with [uplink.NAME].
edge_start_targets() {
	env IOT_EDGE_COLLECTOR_EDGE_ENABLED=false \
		IOT_EDGE_HTTP_LISTEN="127.0.0.1:$EDGE_PORT" \
		IOT_EDGE_BUFFER_PATH="$BUFFER" \
		IOT_EDGE_LOG_LEVEL=debug \
		"$@" "$IOT_EDGE" -c "$EDGE_CONF" >>"$EDGE_LOG" 2>&1 &
	EDGE_PID=$!
	wait_until 30 edge_healthy || fail "iot-edge did not answer /health on port $EDGE_PORT"
}

# The keys every test target shares: quick flushes and retries.
TARGET_TIMING='flush_interval = 100ms
retry_initial = 100ms
retry_max = 1s'

# GET /status, then jq FILTER on it.
status_jq() { curl -sf "$EDGE_URL/status" | jq -r "$1"; }

# FIELD of target NAME in /status: target_field NAME FIELD
target_field() { status_jq ".uplinks[] | select(.name == \"$1\") | .$2"; }

# Whether target NAME's FIELD is VALUE now: target_is NAME FIELD VALUE
target_is() { [ "$(target_field "$1" "$2")" = "$3" ]; }

# Whether /status's uplink state is STATE now (for wait_until).
uplink_state_is() { [ "$(status_jq .uplink.state)" = "$1" ]; }
