# collect_lib.sh -- helpers of the collector tests; source it after lib.sh.
# shellcheck shell=bash

# Start iot-edge with the configuration file CONF and the edge collector on.
collect_edge_start() {
	local conf=$1
	shift
	EDGE_CONF=$conf edge_start IOT_EDGE_COLLECTOR_EDGE_ENABLED=true "$@"
}

# A DS18B20 w1_slave file: collect_w1_file DIR CRC(YES|NO) MILLIDEGREES
collect_w1_file() {
	mkdir -p "$1"
	printf '72 01 4b 46 7f ff 0e 10 57 : crc=57 %s\n72 01 4b 46 7f ff 0e 10 57 t=%s\n' \
		"$2" "$3" >"$1/w1_slave"
}

# Wall clock in whole seconds (the grid of 1 s collectors).
collect_now_s() { date +%s; }

# Sleep until the wall clock reaches second S (plus a fraction).
collect_sleep_until() {
	local s=$1
	while [ "$(collect_now_s)" -lt "$s" ]; do sleep 0.1; done
}

# /status figure of one collector: collect_status NAME FIELD
collect_status() {
	curl -sf "$EDGE_URL/status" | jq -r --arg n "$1" ".collectors[] | select(.name == \$n) | .$2"
}

# "measurement tagset... count" for every series of a measurement within
# [FROM_S, TO_S] (seconds): collect_series MEASUREMENT FIELD FROM_S TO_S
collect_series() {
	influx_query "SELECT count(\"$2\") FROM \"$1\" WHERE time >= ${3}s AND time <= ${4}s GROUP BY *" |
		jq -r '.results[0].series[]? | "\((.tags // {}) | to_entries | map("\(.key)=\(.value)") | join(",")) \(.values[0][1])"' |
		sort
}

# Every timestamp (ns, as text: jq would round them) of a measurement.
collect_times() {
	influx_query "SELECT * FROM \"$1\"" ns | grep -oE '\[[0-9]{19}' | tr -d '['
}
