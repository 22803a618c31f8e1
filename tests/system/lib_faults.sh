# lib_faults.sh -- system-test helpers over lib.sh: background simulators, exact counts at both ends, the result line, netns, packet drop, the slow proxy.
#
# Source it right after tests/integration/lib.sh. Everything it starts (the
# simulators, the proxy) is stopped by pid and the namespaces it makes are
# deleted on exit, before and after lib.sh's own cleanup. Durations come from
# environment variables with the issue's values as defaults; every scenario
# ends with one line "RESULT <scenario>: sent N, acknowledged N, ...".
# SYSTEM_RESULTS=FILE also appends that line as a Markdown table row to FILE.

export LC_ALL=C
FAULTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCENARIO=$(basename "$0" .sh)
SCENARIO=${SCENARIO#test_}
FAULT_PIDS=""
declare -A SIM_PIDS=()
EDGE_NS=""   # network namespace iot-edge and iot-sim run in ("": this one)
INFLUX_NS="" # network namespace influxd runs in
NS_MADE=""
PROXY_PID=""
PROXY_PORT=""
DRAIN_S="-"

faults_on_exit() {
	local rc=$? pid ns
	set +e
	for pid in $FAULT_PIDS; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	(exit "$rc")
	cleanup # lib.sh: stops iot-edge and influxd by pid, removes or keeps $WORK
	for ns in $NS_MADE; do
		ip netns del "$ns" 2>/dev/null || say "could not delete network namespace $ns"
	done
	exit "$rc"
}
trap faults_on_exit EXIT
trap 'exit 143' TERM INT HUP

now_ns() { date +%s%N; }

# Seconds (one decimal) from START_NS to END_NS (default: now).
seconds_since() {
	local end=${2:-$(now_ns)}
	awk -v a="$1" -v b="$end" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}

# Run a command in iot-edge's or influxd's namespace (or here when there is none).
in_edge_ns() {
	if [ -n "$EDGE_NS" ]; then ip netns exec "$EDGE_NS" "$@"; else "$@"; fi
}
in_influx_ns() {
	if [ -n "$INFLUX_NS" ]; then ip netns exec "$INFLUX_NS" "$@"; else "$@"; fi
}

# lib.sh's probes, made namespace-aware (same behaviour without namespaces).
influx_ping() {
	[ "$(in_influx_ns curl -s -m 5 -o /dev/null -w '%{http_code}' "$INFLUX_URL/ping")" = 204 ]
}
influx_query() {
	in_influx_ns curl -sfG "$INFLUX_URL/query" --data-urlencode "db=iot" \
		${2:+--data-urlencode "epoch=$2"} --data-urlencode "q=$1"
}
edge_healthy() {
	kill -0 "$EDGE_PID" 2>/dev/null || fail "iot-edge exited during start-up"
	[ "$(in_edge_ns curl -s -m 5 -o /dev/null -w '%{http_code}' "$EDGE_URL/health")" = 200 ]
}

# edge_start in iot-edge's namespace; VAR=value settings may follow.
faults_edge_start() {
	if [ -n "$EDGE_NS" ]; then
		edge_start "$@" ip netns exec "$EDGE_NS"
	else
		edge_start "$@"
	fi
}

# --- simulators -------------------------------------------------------------

# sim_bg NAME ARGS...: iot-sim in the background against the edge, quiet, with
# its record in $WORK/NAME.rec ("ts_ns sensor_id value status" per reading).
sim_bg() {
	local name=$1 ns=()
	shift
	# A plain command, not a function, so that $! is iot-sim itself
	# (ip netns exec execs it): SIGTERM must reach iot-sim.
	[ -z "$EDGE_NS" ] || ns=(ip netns exec "$EDGE_NS")
	"${ns[@]}" "$IOT_SIM" -h 127.0.0.1 -p "$EDGE_PORT" --quiet --record "$WORK/$name.rec" \
		"$@" >"$WORK/$name.out" 2>&1 &
	SIM_PIDS[$name]=$!
	FAULT_PIDS="$FAULT_PIDS $!"
	say "iot-sim $name started: $*"
}

sim_running() { kill -0 "${SIM_PIDS[$1]}" 2>/dev/null; }

# sim_wait NAME SECONDS: wait for iot-sim NAME to finish by itself; fails when
# it takes longer or reports that a reading was not acknowledged.
sim_wait() {
	local name=$1 pid=${SIM_PIDS[$1]} rc=0
	wait_until "$2" eval '! sim_running '"$name" ||
		fail "iot-sim $name did not finish within $2 s"
	wait "$pid" || rc=$?
	say "iot-sim $name: $(tail -n 1 "$WORK/$name.out")"
	[ "$rc" -eq 0 ] || fail "iot-sim $name exited with status $rc: $(tail -n 3 "$WORK/$name.out")"
}

# sim_stop NAME: SIGTERM; iot-sim finishes the requests in flight, records
# them and exits; it must report that every reading it sent was acknowledged.
sim_stop() {
	local pid=${SIM_PIDS[$1]} rc=0
	kill -TERM "$pid"
	wait "$pid" || rc=$?
	say "iot-sim $1: $(tail -n 1 "$WORK/$1.out")"
	[ "$rc" -eq 0 ] || fail "iot-sim $1 exited with status $rc: $(tail -n 3 "$WORK/$1.out")"
}

# --- the buffer -------------------------------------------------------------

# Points still buffered that the edge received at or before T_NS.
backlog_since() {
	sqlite3 -cmd '.timeout 5000' "$BUFFER" "SELECT count(*) FROM points WHERE received_ns <= $1;"
}

# wait_drained T_NS LIMIT: wait until nothing received before T_NS is left;
# DRAIN_S = seconds from T_NS until then.
wait_drained() {
	local t=$1 limit=$2
	wait_until "$limit" eval '[ "$(backlog_since '"$t"')" = 0 ]' ||
		fail "the backlog from before $(date -u -d "@${t:0:10}" +%T) did not drain within $limit s ($(backlog_since "$t") points left)"
	DRAIN_S=$(seconds_since "$t")
}

# Points moved to the buffer's dead-letter table, if it has one.
buffer_rejected() {
	local has
	has=$(sqlite3 -cmd '.timeout 5000' "$BUFFER" \
		"SELECT count(*) FROM sqlite_master WHERE name = 'rejected';")
	if [ "$has" = 1 ]; then
		sqlite3 -cmd '.timeout 5000' "$BUFFER" 'SELECT count(*) FROM rejected;'
	else
		echo 0
	fi
}

# sleep_watching SECONDS: sleep, sampling the backlog every second into BACKLOG_MAX.
BACKLOG_MAX=0
sleep_watching() {
	local end=$((SECONDS + $1)) n
	while [ "$SECONDS" -lt "$end" ]; do
		n=$(buffer_count)
		[ "$n" -le "$BACKLOG_MAX" ] || BACKLOG_MAX=$n
		sleep 1
	done
}

# --- counting both ends -----------------------------------------------------

# Every point in InfluxDB as "ts_ns sensor_id value", sorted (CSV keeps the
# nanoseconds exact; chunked so a million rows stay cheap).
influx_rows() {
	in_influx_ns curl -sfG "$INFLUX_URL/query" -H 'Accept: application/csv' \
		--data-urlencode db=iot --data-urlencode epoch=ns --data-urlencode chunked=true \
		--data-urlencode chunk_size=100000 \
		--data-urlencode 'q=SELECT "sensor_id", "value" FROM "data"' |
		awk -F, '$1 == "data" { print $3, $4, $5 }' | sort
}

# Compare what the simulators recorded with InfluxDB, print the RESULT line
# and assert: every reading acknowledged, each acknowledged one in InfluxDB
# exactly once, nothing else there, nothing rejected, the buffer empty.
# Usage: faults_verify "extra words for the result line"
faults_verify() {
	local extra=$1 sent acked stored counted lost dups unacked rejected http4xx
	cat "$WORK"/*.rec >"$WORK/all.rec"
	[ -s "$WORK/all.rec" ] || fail "the simulators recorded no reading"
	[ "$(cut -d' ' -f1 "$WORK/all.rec" | sort | uniq -d | wc -l)" = 0 ] ||
		fail "two readings share a timestamp: the comparison needs unique ones"
	cut -d' ' -f1-3 "$WORK/all.rec" | sort >"$WORK/sent.txt"
	awk '$4 >= 200 && $4 < 300 { print $1, $2, $3 }' "$WORK/all.rec" | sort >"$WORK/acked.txt"
	influx_rows >"$WORK/stored.txt"
	sent=$(wc -l <"$WORK/sent.txt")
	acked=$(wc -l <"$WORK/acked.txt")
	stored=$(wc -l <"$WORK/stored.txt")
	counted=$(influx_count)
	# An acknowledged reading InfluxDB lacks (or holds with other fields) is lost.
	lost=$(comm -23 "$WORK/acked.txt" "$WORK/stored.txt" | wc -l)
	# Every reading has its own timestamp and InfluxDB keeps one point per
	# timestamp, so a reading stored twice shows as a row no simulator sent.
	dups=$(comm -13 "$WORK/sent.txt" "$WORK/stored.txt" | wc -l)
	unacked=$(comm -23 "$WORK/sent.txt" "$WORK/acked.txt" | comm -12 - "$WORK/stored.txt" | wc -l)
	http4xx=$(awk '$4 >= 400 && $4 < 500' "$WORK/all.rec" | wc -l)
	rejected=$((http4xx + $(buffer_rejected)))
	# The fault suite in buffer.write = spill (IOT_EDGE_BUFFER_WRITE=spill in the
	# environment): the running edge says so, and where its points went.
	if [ "${IOT_EDGE_BUFFER_WRITE:-}" = spill ] && [ -n "${EDGE_PID:-}" ]; then
		local w
		w=$(in_edge_ns curl -sf "$EDGE_URL/status" | jq -c '.buffer.write') ||
			fail "GET /status failed"
		[ "$(jq -r .mode <<<"$w")" = spill ] || fail "buffer.write is not spill: $w"
		extra="${extra:+$extra; }spill: $(jq -r '"direct \(.points_direct), spilled \(.points_spilled) (\(.points_spill_late) late, \(.points_spill_error) refused)"' <<<"$w") since the last start"
	fi
	local line="sent $sent, acknowledged $acked, in InfluxDB $stored, duplicates $dups, lost $lost, rejected $rejected, drain $DRAIN_S s"
	say "RESULT $SCENARIO: $line${extra:+ ($extra)}"
	if [ -n "${SYSTEM_RESULTS:-}" ]; then
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$SCENARIO" "$sent" "$acked" \
			"$stored" "$dups" "$lost" "$rejected" "$DRAIN_S" "$extra" >>"$SYSTEM_RESULTS"
	fi
	assert_eq "$stored" "$counted" "InfluxDB rows read = SELECT count(value)"
	assert_eq 0 "$dups" "duplicates (rows in InfluxDB no simulator sent)"
	assert_eq 0 "$lost" "acknowledged readings missing from InfluxDB"
	assert_eq "$acked" "$stored" "points in InfluxDB = acknowledged readings"
	assert_eq "$sent" "$acked" "acknowledged readings = sent readings"
	assert_eq 0 "$unacked" "unacknowledged readings in InfluxDB"
	assert_eq 0 "$rejected" "rejected readings"
	assert_eq 0 "$(buffer_count)" "points left in the buffer"
}

# --- network namespaces -----------------------------------------------------

# Two namespaces joined by a veth pair: iot-edge's (10.201.0.1) and influxd's
# (10.201.0.2), private addresses that exist only inside them. Returns 1 when
# this machine does not allow network namespaces.
EDGE_ADDR=10.201.0.1
INFLUX_ADDR=10.201.0.2
netns_setup() {
	local e="iotsys$$e" i="iotsys$$i"
	VETH_EDGE="iv$$e"
	VETH_INFLUX="iv$$i"
	ip netns add "$e" 2>"$WORK/netns.err" || return 1
	NS_MADE="$e"
	ip netns add "$i" 2>>"$WORK/netns.err" || return 1
	NS_MADE="$NS_MADE $i"
	ip -n "$e" link add "$VETH_EDGE" type veth peer name "$VETH_INFLUX" netns "$i" &&
		ip -n "$e" addr add "$EDGE_ADDR/30" dev "$VETH_EDGE" &&
		ip -n "$i" addr add "$INFLUX_ADDR/30" dev "$VETH_INFLUX" &&
		ip -n "$e" link set lo up && ip -n "$i" link set lo up &&
		ip -n "$e" link set "$VETH_EDGE" up && ip -n "$i" link set "$VETH_INFLUX" up ||
		return 1
	EDGE_NS=$e
	INFLUX_NS=$i
	say "namespaces $e ($EDGE_ADDR) and $i ($INFLUX_ADDR), veth $VETH_EDGE <-> $VETH_INFLUX"
}

link_down() { ip -n "$EDGE_NS" link set "$VETH_EDGE" down; }
link_up() { ip -n "$EDGE_NS" link set "$VETH_EDGE" up; }

# Silently drop every packet arriving at influxd's namespace over the veth
# (iptables, else nft). Fails, saying so, when neither works here.
BLACKHOLE_TOOL=""
blackhole_on() {
	if command -v iptables >/dev/null &&
		ip netns exec "$INFLUX_NS" iptables -w -A INPUT -i "$VETH_INFLUX" -j DROP 2>>"$WORK/netns.err"; then
		BLACKHOLE_TOOL=iptables
	elif command -v nft >/dev/null &&
		ip netns exec "$INFLUX_NS" nft -f - 2>>"$WORK/netns.err" <<-EOF; then
			table inet iotsys {
				chain input { type filter hook input priority 0; iifname "$VETH_INFLUX" drop; }
			}
		EOF
		BLACKHOLE_TOOL=nft
	else
		fail "this machine cannot drop packets in a namespace: neither iptables nor nft works ($(tail -n 2 "$WORK/netns.err" | tr '\n' ' ')); install iptables"
	fi
}
blackhole_off() {
	case $BLACKHOLE_TOOL in
	iptables) ip netns exec "$INFLUX_NS" iptables -w -D INPUT -i "$VETH_INFLUX" -j DROP ;;
	nft) ip netns exec "$INFLUX_NS" nft delete table inet iotsys ;;
	esac
}

# influxd listening on BIND (127.0.0.1, or INFLUX_ADDR inside its namespace).
# Replaces lib.sh's influx_start: a port that another program took between
# free_port and the bind (the machine is shared) is picked again -- the RPC
# port always, the HTTP port only while nothing points at it yet.
faults_influx_start() {
	local bind=$1 dir="$WORK/influxdb" try ns=()
	[ -z "$INFLUX_NS" ] || ns=(ip netns exec "$INFLUX_NS")
	mkdir -p "$dir"
	for try in 1 2 3; do
		INFLUX_URL="http://$bind:$INFLUX_PORT"
		influx_write_conf "$dir/influxd.conf" "$dir" "$bind:$INFLUX_PORT"
		: >"$WORK/influxd.try"
		"${ns[@]}" influxd -config "$dir/influxd.conf" >>"$WORK/influxd.try" 2>&1 &
		INFLUX_PID=$!
		wait_until 60 eval 'influx_ping || ! kill -0 "$INFLUX_PID" 2>/dev/null' || true
		cat "$WORK/influxd.try" >>"$INFLUX_LOG"
		influx_ping && return 0
		kill -KILL "$INFLUX_PID" 2>/dev/null || true
		wait "$INFLUX_PID" 2>/dev/null || true
		INFLUX_PID=""
		grep -q 'address already in use' "$WORK/influxd.try" ||
			fail "influxd did not answer /ping at $INFLUX_URL: $(tail -n 2 "$WORK/influxd.try")"
		say "influxd: a port was taken meanwhile (try $try): $(grep -m 1 -o 'listen tcp [^ ]*' "$WORK/influxd.try")"
		INFLUX_RPC_PORT=$(free_port)
		if [ -z "$EDGE_PID" ] && [ -z "$PROXY_PID" ]; then INFLUX_PORT=$(free_port); fi
	done
	fail "influxd could not bind its ports after 3 tries"
}
influx_start() { faults_influx_start 127.0.0.1; }
ns_influx_start() { faults_influx_start "$INFLUX_ADDR"; }

# --- the slow proxy ---------------------------------------------------------

# proxy_start ARGS...: slow_proxy.py from PROXY_PORT to influxd's port.
proxy_start() {
	command -v python3 >/dev/null || fail "python3 is needed for slow_proxy.py"
	PROXY_PORT=$(free_port)
	python3 "$FAULTS_DIR/slow_proxy.py" --listen "$PROXY_PORT" --target "$INFLUX_PORT" \
		--control "$WORK/proxy.ctl" "$@" >"$WORK/proxy.log" 2>&1 &
	PROXY_PID=$!
	FAULT_PIDS="$FAULT_PIDS $PROXY_PID"
	wait_until 30 eval 'ss -Htln "sport = :$PROXY_PORT" | grep -q .' ||
		fail "slow_proxy.py did not listen: $(cat "$WORK/proxy.log")"
	say "$(head -n 1 "$WORK/proxy.log")"
}

# pass | cut | hole; the proxy polls its control file every 0.2 s.
proxy_mode() {
	echo "$1" >"$WORK/proxy.ctl"
	sleep 0.5
}

# Stop the proxy; PROXY_STATS is its counter line.
proxy_stop() {
	kill -TERM "$PROXY_PID"
	wait "$PROXY_PID" || fail "slow_proxy.py failed: $(tail -n 5 "$WORK/proxy.log")"
	PROXY_STATS=$(grep '^slow_proxy: connections' "$WORK/proxy.log" | tail -n 1)
	[ -n "$PROXY_STATS" ] || fail "slow_proxy.py printed no counters: $(tail -n 5 "$WORK/proxy.log")"
	say "$PROXY_STATS"
}

# proxy_stat NAME: one counter from PROXY_STATS, e.g. "resets after".
proxy_stat() {
	sed -n "s/.*$1 \([0-9]*\).*/\1/p" <<<"$PROXY_STATS"
}

# Points InfluxDB acknowledged more than once and overwrote (iot-edge died
# between the 2xx and the delete, or before its 201 so that the device resent):
# the sum of the uplink's "sent N points" debug lines minus ACKED; "n/a"
# without such lines.
uplink_resent() {
	grep -o '\[uplink\] sent [0-9]* points' "$EDGE_LOG" |
		awk -v acked="$1" '{ n += $3; c++ } END { if (c) print n - acked; else print "n/a" }'
}

# Bytes of the edge log so far, and the log from such an offset on.
log_mark() { stat -c %s "$EDGE_LOG"; }
log_since() { tail -c +"$(($1 + 1))" "$EDGE_LOG"; }
