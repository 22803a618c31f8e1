# uplink_lib.sh -- helpers for the test_uplink_*.sh scripts: the fake InfluxDB, a prefilled buffer.
#
# Source it after lib.sh. The fake (tests/fake_influx/fake_influx.py) runs on
# 127.0.0.1 at a free port and is stopped by its pid on exit, like the rest.

FAKE_PY="$(cd "$(dirname "${BASH_SOURCE[0]}")/../fake_influx" && pwd)/fake_influx.py"
FAKE_PID=""
FAKE_URL=""
FAKE_LOG="$WORK/fake_requests.jsonl"
FAKE_STORE="$WORK/fake_stored.txt"

fake_cleanup() {
	if [ -n "$FAKE_PID" ]; then
		kill -KILL "$FAKE_PID" 2>/dev/null || true
		wait "$FAKE_PID" 2>/dev/null || true
		FAKE_PID=""
	fi
}
# lib.sh's cleanup reads the exit status from $?: hand it on (errexit off, or
# the failing `(exit N)` would end the trap before cleanup runs).
trap 'uplink_rc=$?; set +e; fake_cleanup; (exit $uplink_rc); cleanup' EXIT

# Start the fake with the JSON script $1; more options for it may follow
# (--tls-cert F --tls-key F: HTTPS, and FAKE_URL says https).
fake_start() {
	local script=$1 scheme=http
	shift
	case " $* " in *" --tls-cert "*) scheme=https ;; esac
	printf '%s\n' "$script" >"$WORK/fake_script.json"
	rm -f "$WORK/fake_port"
	python3 "$FAKE_PY" --script "$WORK/fake_script.json" --log "$FAKE_LOG" \
		--store "$FAKE_STORE" --port-file "$WORK/fake_port" "$@" >>"$WORK/fake.log" 2>&1 &
	FAKE_PID=$!
	wait_until 20 test -s "$WORK/fake_port" || fail "the fake InfluxDB did not start"
	FAKE_URL="$scheme://127.0.0.1:$(cat "$WORK/fake_port")"
}

# Write requests that have arrived at the fake (counted before any delay or hang).
fake_arrivals() { wc -l <"$FAKE_LOG.arrivals" | tr -d ' '; }
fake_arrived() { [ "$(fake_arrivals)" -ge "$1" ]; }

# Empty the fake's request log and store between rounds of a test.
fake_forget() { : >"$FAKE_LOG"; : >"$FAKE_LOG.arrivals"; : >"$FAKE_LOG.pings"; : >"$FAKE_STORE"; }

# GET /ping requests the fake received.
fake_pings() { wc -l <"$FAKE_LOG.pings" | tr -d ' '; }

# Seconds between write request $1 and $2 (1-based, in arrival order), 3 decimals.
fake_gap() { fake_jq "[.[] | select(.path != \"/query\") | .t] | sort | (.[$2 - 1] - .[$1 - 1]) * 1000 | round / 1000"; }

# Replace the fake's script with the JSON $1 (its answer list starts afresh).
fake_script() {
	[ "$(curl -s -o /dev/null -w '%{http_code}' -XPOST --data-binary "$1" \
		"$FAKE_URL/_fake/script")" = 204 ] || fail "the fake did not take the script"
}

# Start iot-edge against the fake; extra VAR=value settings may follow.
edge_start_fake() {
	edge_start IOT_EDGE_UPLINK_URL="$FAKE_URL" "$@"
}

# Run jq over the fake's request log (one object per line, slurped).
fake_jq() { jq -rs "$1" "$FAKE_LOG"; }

# Write requests the fake received.
fake_writes() { fake_jq '[.[] | select(.path != "/query")] | length'; }

# Lines the fake stored, and how many distinct ones.
fake_stored() { wc -l <"$FAKE_STORE" | tr -d ' '; }
fake_stored_unique() { sort -u "$FAKE_STORE" | wc -l | tr -d ' '; }

# Points moved to the `rejected` table.
rejected_count() {
	sqlite3 -cmd '.timeout 5000' "$BUFFER" 'SELECT count(*) FROM rejected;'
}

# Create the buffer's schema by starting and stopping iot-edge once, with its
# uplink pointed at a port where nothing listens.
buffer_init() {
	local port
	port=$(free_port)
	edge_start IOT_EDGE_UPLINK_URL="http://127.0.0.1:$port"
	edge_stop
}

# Append N points to the (stopped) edge's buffer with sqlite3, fast:
#   data,type=TYPE value=I  T0+I   for I = FROM .. FROM+N-1
# Usage: buffer_fill N [FROM [TYPE]]. The timestamps are distinct per I; ids
# follow the largest id in points, rejected and the targets' positions, as
# storage's own do.
buffer_fill() {
	local n=$1 from=${2:-1} type=${3:-t}
	[ -z "$EDGE_PID" ] || fail "buffer_fill needs the edge stopped"
	sqlite3 -cmd '.timeout 5000' "$BUFFER" "
		WITH RECURSIVE i(x) AS (SELECT $from UNION ALL SELECT x + 1 FROM i WHERE x < $from + $n - 1),
		top(id) AS (SELECT max(coalesce((SELECT max(id) FROM points), 0),
		                       coalesce((SELECT max(id) FROM rejected), 0),
		                       coalesce((SELECT max(acked_id) FROM targets), 0)))
		INSERT INTO points(id, received_ns, line)
		SELECT top.id + x - $from + 1, 1700000000000000000 + x,
		       printf('data,type=%s value=%d %d', '$type', x, 1700000000000000000 + x * 1000)
		FROM i, top;"
}

# Append one raw line of line protocol to the (stopped) edge's buffer.
buffer_add_line() {
	[ -z "$EDGE_PID" ] || fail "buffer_add_line needs the edge stopped"
	sqlite3 -cmd '.timeout 5000' "$BUFFER" \
		"INSERT INTO points(id, received_ns, line) SELECT 1 + max(
		   coalesce((SELECT max(id) FROM points), 0), coalesce((SELECT max(id) FROM rejected), 0),
		   coalesce((SELECT max(acked_id) FROM targets), 0)),
		   1700000000000000000, '$1';"
}

# The uplink's closing counters line, e.g. "stopped: 10 points sent in ...".
uplink_summary() { grep -o 'stopped: [0-9]* points sent.*' "$EDGE_LOG" | tail -n 1; }

# --- real influxd extras ------------------------------------------------------

# Start influxd like lib.sh's influx_start, with `[http] auth-enabled = true`.
influx_start_auth() { influx_start "auth-enabled = true"; }

# POST an InfluxQL statement (as INFLUX_USER:INFLUX_PASS when set); prints the JSON.
influx_post_query() {
	curl -sf -XPOST ${INFLUX_USER:+-u "$INFLUX_USER:$INFLUX_PASS"} "$INFLUX_URL/query" \
		--data-urlencode "db=iot" --data-urlencode "q=$1"
}

# "count sum" of the float field value in measurement data (as INFLUX_USER when set).
influx_count_sum() {
	curl -sfG ${INFLUX_USER:+-u "$INFLUX_USER:$INFLUX_PASS"} "$INFLUX_URL/query" \
		--data-urlencode "db=iot" --data-urlencode 'q=SELECT count("value"), sum("value") FROM "data"' |
		jq -r '.results[0].series[0].values[0] // [0, 0, 0] | "\(.[1]) \(.[2])"'
}

# Timestamps (ns) of every point in measurement data, sorted, one per line.
influx_times() {
	curl -sfG ${INFLUX_USER:+-u "$INFLUX_USER:$INFLUX_PASS"} "$INFLUX_URL/query" \
		--data-urlencode "db=iot" --data-urlencode "epoch=ns" \
		--data-urlencode 'q=SELECT "value" FROM "data"' |
		grep -o '\[[0-9]*,' | tr -d '[,' | sort # not jq: it rounds ns to doubles
}
