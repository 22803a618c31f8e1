# lib.sh -- shared by the integration tests: a real influxd and a real iot-edge on 127.0.0.1.
#
# Source it from a test script. It makes a temporary directory, picks free
# loopback ports, and on exit stops every process it started (by pid only)
# and removes the directory. IOT_EDGE and IOT_SIM name the binaries (ctest
# sets them).

set -euo pipefail

: "${IOT_EDGE:?set IOT_EDGE to the iot-edge binary}"
: "${IOT_SIM:?set IOT_SIM to the iot-sim binary}"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/iot-edge-test.XXXXXX")
BUFFER="$WORK/buffer.db"
EDGE_LOG="$WORK/edge.log"
INFLUX_LOG="$WORK/influxd.log"
INFLUX_PID=""
EDGE_PID=""

say() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*"; }

fail() {
	say "FAIL: $*"
	if [ -s "$EDGE_LOG" ]; then
		echo "--- last lines of iot-edge's log ---"
		tail -n 30 "$EDGE_LOG"
	fi
	exit 1
}

cleanup() {
	local rc=$?
	local pid
	for pid in $EDGE_PID $INFLUX_PID; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ "$rc" -eq 0 ]; then
		rm -rf "$WORK"
	else
		say "kept $WORK for inspection"
	fi
	return "$rc"
}
trap cleanup EXIT

# shellcheck source=tests/poll.sh
. "$(dirname "${BASH_SOURCE[0]}")/../poll.sh"

free_port() { pick_free_port tcp || fail "no free port found"; }

assert_eq() {
	[ "$1" = "$2" ] || fail "$3: expected $1, got $2"
	say "ok: $3 = $2"
}

# --- InfluxDB ---------------------------------------------------------------

INFLUX_PORT=$(free_port)
INFLUX_RPC_PORT=$(free_port)
INFLUX_URL="http://127.0.0.1:$INFLUX_PORT"

# Write influxd's configuration: influx_write_conf FILE DIR HTTP_ADDRESS [LINE...];
# each LINE is added to the [http] section (e.g. "auth-enabled = true").
influx_write_conf() {
	local file=$1 dir=$2 http=$3
	shift 3
	{
		cat <<-EOF
			reporting-disabled = true
			bind-address = "127.0.0.1:$INFLUX_RPC_PORT"
			[meta]
			  dir = "$dir/meta"
			[data]
			  dir = "$dir/data"
			  wal-dir = "$dir/wal"
			  query-log-enabled = false
			[http]
			  bind-address = "$http"
			  log-enabled = false
		EOF
		local line
		for line in "$@"; do printf '  %s\n' "$line"; done
		cat <<-EOF
			[monitor]
			  store-enabled = false
			[continuous_queries]
			  enabled = false
		EOF
	} >"$file"
}

# Start influxd on 127.0.0.1:INFLUX_PORT; arguments are extra [http] lines.
influx_start() {
	local dir="$WORK/influxdb"
	mkdir -p "$dir"
	influx_write_conf "$dir/influxd.conf" "$dir" "127.0.0.1:$INFLUX_PORT" "$@"
	influxd -config "$dir/influxd.conf" >>"$INFLUX_LOG" 2>&1 &
	INFLUX_PID=$!
	wait_until 60 influx_ping || fail "influxd did not answer /ping on port $INFLUX_PORT"
}

influx_ping() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$INFLUX_URL/ping")" = 204 ]
}

# Stop influxd: `influx_stop` (SIGTERM) or `influx_stop KILL`.
influx_stop() {
	kill -"${1:-TERM}" "$INFLUX_PID"
	wait "$INFLUX_PID" 2>/dev/null || true
	INFLUX_PID=""
}

# Run an InfluxQL query against database iot; prints InfluxDB's JSON with RFC 3339
# times, or with `influx_query Q ns` integer ns times (read those as text: jq
# would round them to doubles).
influx_query() {
	curl -sfG "$INFLUX_URL/query" --data-urlencode "db=iot" \
		${2:+--data-urlencode "epoch=$2"} --data-urlencode "q=$1"
}

# Points stored in measurement `data` (0 when the database or series is missing).
influx_count() {
	influx_query 'SELECT count("value") FROM "data"' |
		jq -r '.results[0].series[0].values[0][1] // 0'
}

# "ts_ns sensor_id value" per point, sorted.
influx_points() {
	influx_query 'SELECT "sensor_id", "value" FROM "data"' |
		jq -r '.results[0].series[0].values[]? | "\(.[0]) \(.[1]) \(.[2])"' >"$WORK/influx.txt"
	ns_times "$WORK/influx.txt"
}

# Lines "RFC3339 rest..." -> "ns rest...", sorted.
ns_times() {
	[ -s "$1" ] || return 0
	paste -d' ' <(cut -d' ' -f1 "$1" | date -u -f - +%s%N) <(cut -d' ' -f2- "$1") | sort
}

# --- iot-edge ---------------------------------------------------------------

EDGE_PORT=$(free_port)
EDGE_URL="http://127.0.0.1:$EDGE_PORT"

# Start iot-edge against INFLUX_URL with the configuration file EDGE_CONF
# (default: none); extra VAR=value settings may follow. The built-in `edge`
# collector is off, so the tests' counts are exact
# (IOT_EDGE_COLLECTOR_EDGE_ENABLED=true among the settings turns it on).
edge_start() {
	env IOT_EDGE_COLLECTOR_EDGE_ENABLED=false \
		IOT_EDGE_HTTP_LISTEN="127.0.0.1:$EDGE_PORT" \
		IOT_EDGE_BUFFER_PATH="$BUFFER" \
		IOT_EDGE_UPLINK_URL="$INFLUX_URL" \
		IOT_EDGE_UPLINK_FLUSH_INTERVAL=100ms \
		IOT_EDGE_UPLINK_RETRY_INITIAL=100ms \
		IOT_EDGE_UPLINK_RETRY_MAX=1s \
		IOT_EDGE_LOG_LEVEL=debug \
		"$@" "$IOT_EDGE" -c "${EDGE_CONF:-/dev/null}" >>"$EDGE_LOG" 2>&1 &
	EDGE_PID=$!
	wait_until 30 edge_healthy || fail "iot-edge did not answer /health on port $EDGE_PORT"
}

edge_healthy() {
	kill -0 "$EDGE_PID" 2>/dev/null || fail "iot-edge exited during start-up"
	[ "$(curl -s -o /dev/null -w '%{http_code}' "$EDGE_URL/health")" = 200 ]
}

# SIGTERM and wait; the exit status must be 0 (ASan/LSan findings make it not).
edge_stop() {
	kill -TERM "$EDGE_PID"
	local rc=0
	wait "$EDGE_PID" || rc=$?
	EDGE_PID=""
	[ "$rc" -eq 0 ] || fail "iot-edge exited with status $rc after SIGTERM"
}

edge_kill9() {
	kill -KILL "$EDGE_PID"
	wait "$EDGE_PID" 2>/dev/null || true
	EDGE_PID=""
}

# Points waiting in the buffer, read the way a user would: with sqlite3.
buffer_count() {
	sqlite3 -cmd '.timeout 5000' "$BUFFER" 'SELECT count(*) FROM points;'
}

buffer_empty() { [ "$(buffer_count)" = 0 ]; }

# POST a body to the edge; prints the HTTP status, keeps the answer in
# $WORK/last_response. Usage: [CONTENT_TYPE=...] post PATH BODY
post() {
	curl -s -o "$WORK/last_response" -w '%{http_code}' -XPOST \
		-H "Content-Type: ${CONTENT_TYPE:-application/json}" --data-binary "$2" "$EDGE_URL$1"
}

# Run iot-sim against the edge; its summary line must say every reading got 2xx.
# Usage: sim_run OUTFILE ARGS...; the per-reading lines go to OUTFILE.
sim_run() {
	local out=$1
	shift
	"$IOT_SIM" -h 127.0.0.1 -p "$EDGE_PORT" "$@" >"$out" || fail "iot-sim reported errors: $(tail -n 1 "$out")"
}

# "ts_ns sensor_id value" for every reading iot-sim printed, sorted.
sim_points() {
	local out=$1
	grep -o '{[^}]*}' "$out" | jq -r '"\(.ts) \(.sensor_id) \(.value)"' >"$WORK/sim.txt"
	ns_times "$WORK/sim.txt"
}
