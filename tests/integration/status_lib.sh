# status_lib.sh -- helpers of the /status, /metrics and `iot-edge status` tests; source it after lib.sh.
# shellcheck shell=bash

# A configuration without the default edge collector, whose points would
# otherwise join the exact counts (also for the `iot-edge status` command,
# which reads the file): status_conf FILE [LINES...] (more INI lines).
status_conf() {
	local file=$1
	shift
	{
		printf '[collector.edge]\nenabled = false\n'
		local line
		for line in "$@"; do printf '%s\n' "$line"; done
	} >"$file"
}

# Start iot-edge with the configuration file CONF; VAR=value settings may
# follow, as for edge_start.
status_edge_start() {
	local conf=$1
	shift
	EDGE_CONF=$conf edge_start "$@"
}

# Keep one /status answer in $WORK/status.json, so that several figures come
# from the same moment; `snap_get JQ` reads it.
snap() { curl -sf "$EDGE_URL/status" >"$WORK/status.json" || fail "GET /status failed"; }
snap_get() { jq -r "$1" "$WORK/status.json"; }

# Keep one /metrics answer in $WORK/metrics.txt; `metric 'NAME{LABELS}'` prints
# the value of that exact sample ("" when absent).
snap_metrics() {
	curl -sf -D "$WORK/metrics.head" "$EDGE_URL/metrics" >"$WORK/metrics.txt" ||
		fail "GET /metrics failed"
}
metric() {
	awk -v want="$1" 'substr($0, 1, 1) != "#" {
		v = $NF; $NF = ""; sub(/ $/, "");
		if ($0 == want) { print v; exit }
	}' "$WORK/metrics.txt"
}

# Line-protocol bytes in the buffer, counted by sqlite3.
buffer_bytes() {
	sqlite3 -cmd '.timeout 5000' "$BUFFER" 'SELECT coalesce(sum(length(CAST(line AS BLOB))), 0) FROM points;'
}

uplink_failing() { [ "$(curl -sf "$EDGE_URL/status" | jq -r .uplink.state)" = failing ]; }
uplink_ok() { [ "$(curl -sf "$EDGE_URL/status" | jq -r .uplink.state)" = ok ]; }
