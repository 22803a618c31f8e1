#!/usr/bin/env bash
# stop-engine.sh -- stop the dockerd that docker/setup-engine.sh started, by its pid, and nothing else.
#
# Usage: docker/stop-engine.sh
# An engine that setup-engine.sh did not start (a system service, say) is left
# running. dockerd stops its containers and its own containerd as it exits.
# Exit status: 0 stopped or nothing to stop, 1 it did not exit within 60 s.
set -euo pipefail

STATE=${EDGE_DOCKER_STATE:-/var/tmp/iot-edge-docker}
say() { printf 'stop-engine: %s\n' "$*" >&2; }

pid=""
[ -s "$STATE/dockerd.pid" ] && pid=$(cat "$STATE/dockerd.pid")
case "$pid" in
'' | *[!0-9]*)
	say "no dockerd started by setup-engine.sh ($STATE/dockerd.pid is missing)"
	exit 0
	;;
esac
if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
	say "pid $pid from $STATE/dockerd.pid is no dockerd any more; nothing to stop"
	rm -f "$STATE/dockerd.pid"
	exit 0
fi

say "stopping dockerd $pid"
kill -TERM "$pid"
for _ in $(seq 600); do
	if [ ! -e "/proc/$pid" ] || [ "$(cat "/proc/$pid/comm" 2>/dev/null)" != dockerd ]; then
		rm -f "$STATE/dockerd.pid"
		say "dockerd $pid stopped"
		exit 0
	fi
	sleep 0.1
done
say "dockerd $pid did not exit within 60 s (log: $STATE/dockerd.log)"
exit 1
