# poll.sh -- shared by the test libraries (integration, docker, pi): wait for a condition, pick a
# free loopback port. Source it; it defines functions only.
# shellcheck shell=bash

# Run "$@" every 0.1 s until it succeeds (0) or `seconds` pass (1).
wait_until() {
	local seconds=$1
	shift
	local deadline=$((SECONDS + seconds))
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# Print a port (TCP, or UDP with `udp`) nobody listens on now, below the
# kernel's ephemeral range (32768+) so that no outgoing connection takes it
# before our server binds it. Returns 1 when none is found.
pick_free_port() {
	local ss_flags=-Htln port
	[ "${1:-tcp}" = udp ] && ss_flags=-Hauln
	for _ in $(seq 200); do
		port=$((20000 + RANDOM % 12000))
		if ! ss "$ss_flags" "sport = :$port" | grep -q .; then
			echo "$port"
			return 0
		fi
	done
	return 1
}
