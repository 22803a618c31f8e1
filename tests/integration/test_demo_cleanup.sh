#!/usr/bin/env bash
# `./dev demo` stops everything it started whatever ends it: SIGTERM to ./dev, SIGHUP and
# SIGINT to its whole process group (a closed terminal, Ctrl-C) and `timeout` (SIGTERM to
# ./dev, then to its group), each after InfluxDB went through one stop and restart of the
# demo's outage cycle. The demo runs on private ports and a private directory with this build
# tree's binaries, in a session of its own; its pid file and that session name every process
# it started, and none may survive. Needs what `./dev deps` installs (it returns at once).
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$(cd "$(dirname "$IOT_EDGE")/.." && pwd)
[ -x "$BUILD/simulator/iot-sim" ] || fail "no $BUILD/simulator/iot-sim beside $IOT_EDGE"
DEMO_PID=""
DEMO_DIR=""

# The pid of every listed process still running as what the demo started: the session
# leader of its own session (setsid), so a recycled pid is never taken for it.
survivors() {
	local name pid sid
	while read -r name pid; do
		[ -r "/proc/$pid/stat" ] || continue
		sid=$(awk '{ print $6 }' "/proc/$pid/stat" 2>/dev/null) || continue
		[ "$sid" = "$pid" ] && echo "$name:$pid"
	done <"$DEMO_DIR/pids"
	# And anything left in the demo's own session (the seds, a sleep).
	ps -eo pid=,sid= | awk -v s="$DEMO_PID" '$2 == s { print "session:" $1 }'
}
no_survivors() { [ -z "$(survivors)" ]; }

# On a failure: stop what this test's demo left (by its pids and session only).
demo_kill() {
	local entry
	[ -n "$DEMO_PID" ] && [ -n "$DEMO_DIR" ] && [ -f "$DEMO_DIR/pids" ] || return 0
	for entry in $(survivors); do
		kill -KILL "${entry#*:}" 2>/dev/null || true
	done
}
# shellcheck disable=SC2154 # rc is set inside the trap
trap 'rc=$?; set +e; demo_kill; (exit "$rc"); cleanup' EXIT

restarted() { [ "$(grep -c '^influxd ' "$DEMO_DIR/pids" 2>/dev/null)" = 2 ]; }
demo_gone() { ! kill -0 "$DEMO_PID" 2>/dev/null; }

# run_case HOW: start the demo, wait for InfluxDB's restart, end it HOW, check nothing is left.
run_case() {
	local how=$1 started=$SECONDS
	local edge_port influx_port rpc_port
	edge_port=$(free_port)
	influx_port=$(free_port)
	rpc_port=$(free_port)
	DEMO_DIR="$WORK/demo-$how"
	local out="$WORK/demo-$how.out"
	# A background job of a script starts with SIGINT ignored, and bash cannot trap a signal
	# ignored at its start: env gives ./dev the default back, as a terminal's shell does.
	local -a cmd=("$SRC/dev" demo)
	[ "$how" = timeout ] && cmd=(timeout 12 "$SRC/dev" demo)
	IOT_DEMO_DIR=$DEMO_DIR IOT_DEMO_PORT=$edge_port \
		IOT_DEMO_INFLUX_PORT=$influx_port IOT_DEMO_INFLUX_RPC_PORT=$rpc_port \
		IOT_DEMO_BUILD=$BUILD IOT_DEMO_TICK=1 \
		setsid env --default-signal=INT,QUIT "${cmd[@]}" </dev/null >"$out" 2>&1 &
	DEMO_PID=$!
	wait_until 40 restarted || fail "$how: InfluxDB was not restarted by the outage cycle: $(tail -n 5 "$out")"
	# Data flowed: the edge took the simulator's readings.
	wait_until 20 grep -q -- '-> 201' "$out" || fail "$how: no reading was accepted: $(tail -n 5 "$out")"
	case $how in
	TERM) kill -TERM "$DEMO_PID" ;;		 # kill PID of ./dev
	HUP | INT) kill "-$how" -- "-$DEMO_PID" ;; # the terminal: its whole foreground group
	timeout) ;;				 # timeout 12 ends it
	esac
	wait_until 60 demo_gone || fail "$how: ./dev demo did not end"
	wait "$DEMO_PID" 2>/dev/null || true
	# The seds end once their writer has; give them a moment.
	wait_until 10 no_survivors || fail "$how: left running: $(survivors | tr '\n' ' ')"
	grep -q 'kept: the buffer' "$out" || fail "$how: the demo did not finish its stop: $(tail -n 5 "$out")"
	say "ok: $how: ./dev demo stopped all of $(tr '\n' ' ' <"$DEMO_DIR/pids")and its session" \
		"($((SECONDS - started)) s)"
	DEMO_PID=""
}

for how in TERM HUP INT timeout; do
	run_case "$how"
done
