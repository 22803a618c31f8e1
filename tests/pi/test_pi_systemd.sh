#!/usr/bin/env bash
# test_pi_systemd.sh -- the amd64 .deb under a real systemd (PID 1 in a container): install, ready, 201, restart, reload, watchdog, stop, remove, purge.
#
# The container shares the host's network (--network host), so the service
# listens on a free loopback port (a drop-in sets it) and forwards to a real
# influxd that this script starts on loopback (tests/integration/lib.sh).
. "$(dirname "$0")/../integration/lib.sh"
. "$(dirname "$0")/lib_pi.sh"
pi_need docker curl jq influxd
deb=$(pi_deb amd64)
pi_docker_engine

# --- the image: debian:bookworm-slim + systemd, rebuilt when its Dockerfile changes
context=$PI_SRC/tests/pi/systemd-image
image=iot-edge-pi-systemd:$(sha256sum "$context/Dockerfile" | cut -c1-12)
if ! docker image inspect "$image" >/dev/null 2>&1; then
	pi_say "building $image (log: $PI_WORK/systemd-image.log)"
	DOCKER_BUILDKIT=0 docker build --network host -t "$image" "$context" \
		>"$PI_WORK/systemd-image.log" 2>&1 || {
		tail -n 20 "$PI_WORK/systemd-image.log"
		pi_fail "docker build of the systemd image failed"
	}
fi

# --- systemd as PID 1 (the flags that work on these VMs: DESIGN.md)
box=iot-edge-pi-$$
docker run -d --name "$box" --pull never --cap-add ALL --cap-drop SYS_RESOURCE \
	--security-opt seccomp=unconfined --security-opt apparmor=unconfined \
	--network host --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
	"$image" /sbin/init >/dev/null || pi_fail "docker run of $image failed"
pi_at_exit "docker rm -f '$box' >/dev/null"
in_box() { docker exec "$box" "$@"; }
in_box_stdin() { docker exec -i "$box" "$@"; }
# The unit's journal holds a match for the pattern (no pipe: pipefail and grep -q).
journal_has() {
	in_box journalctl -u iot-edge --no-pager >"$PI_TMP/journal" 2>&1 || return 1
	grep -q -- "$1" "$PI_TMP/journal"
}

sd_fail() {
	in_box systemctl status --no-pager iot-edge 2>&1 | head -n 15 || true
	in_box journalctl -u iot-edge --no-pager 2>&1 | tail -n 40 || true
	pi_fail "$*"
}

booted() {
	local state
	state=$(in_box systemctl is-system-running 2>/dev/null) || true
	[ "$state" = running ] || [ "$state" = degraded ]
}
wait_until 60 booted || pi_fail "systemd in the container did not finish booting"
pi_ok "systemd $(in_box systemctl --version | head -n 1 | cut -d' ' -f2) runs as PID 1 in $box"

# --- install the way a user does: apt-get install ./iot-edge_..._amd64.deb
influx_start
in_box mkdir -p /etc/systemd/system/iot-edge.service.d
cat <<-EOF | in_box_stdin tee /etc/systemd/system/iot-edge.service.d/10-test.conf >/dev/null
	[Service]
	Environment=IOT_EDGE_HTTP_LISTEN=127.0.0.1:$EDGE_PORT
	Environment=IOT_EDGE_UPLINK_URL=$INFLUX_URL
	Environment=IOT_EDGE_UPLINK_FLUSH_INTERVAL=100ms
	Environment=IOT_EDGE_UPLINK_RETRY_INITIAL=100ms
	Environment=IOT_EDGE_UPLINK_RETRY_MAX=1s
	Environment=IOT_EDGE_COLLECTOR_EDGE_ENABLED=false
	WatchdogSec=5s
EOF
docker cp "$deb" "$box:/tmp/" >/dev/null
in_box env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/tmp/$(basename "$deb")" \
	>"$PI_TMP/apt.log" 2>&1 || {
	tail -n 30 "$PI_TMP/apt.log"
	pi_fail "apt-get install ./$(basename "$deb") failed"
}
pi_ok "apt-get install ./$(basename "$deb")"

active() { [ "$(in_box systemctl is-active iot-edge 2>/dev/null)" = active ]; }
wait_until 30 active || sd_fail "iot-edge.service did not become active"
[ "$(in_box systemctl is-enabled iot-edge)" = enabled ] || sd_fail "postinst did not enable the unit"
# Type=notify: active means READY=1 arrived, which is sent after the port listens.
health=$(curl -s -o /dev/null -w '%{http_code}' "$EDGE_URL/health" || true)
[ "$health" = 200 ] || sd_fail "active, but /health answered $health"
journal_has 'Started iot-edge.service' ||
	sd_fail "the journal does not say the unit started"
pid=$(in_box systemctl show -p MainPID --value iot-edge)
[ "$(in_box ps -o user= -p "$pid")" = iot-edge ] || sd_fail "the daemon does not run as iot-edge"
[ "$(in_box stat -c '%U:%G %a' /etc/iot-edge/iot-edge.conf)" = "root:iot-edge 640" ] ||
	sd_fail "the configuration is not root:iot-edge 0640"
pi_ok "active and enabled after install, READY=1 with the port listening, running as iot-edge"

# --- the live unit: verify (with its man pages) and its exposure
out=$(in_box systemd-analyze verify iot-edge.service 2>&1) || sd_fail "verify: $out"
[ -z "$out" ] || sd_fail "systemd-analyze verify in the container: $out"
score=$(in_box systemd-analyze security --no-pager iot-edge.service 2>/dev/null |
	sed -n 's/.*Overall exposure level for iot-edge.service: \([0-9.]*\).*/\1/p')
pi_say "exposure of the running service: $score"
awk -v s="$score" 'BEGIN { exit !(s != "" && s <= 2.0) }' || sd_fail "exposure \"$score\" is above 2.0"
pi_ok "systemd-analyze verify is silent; exposure $score"

# --- a reading goes through
buffer() { in_box sqlite3 -cmd '.timeout 5000' /var/lib/iot-edge/buffer.db 'SELECT count(*) FROM points'; }
seed='{"ts":"2017-03-11T15:00:53Z","type":"temp","value":34,"sensor_id":123}'
code=$(post /data "$seed" || true)
[ "$code" = 201 ] || sd_fail "POST /data answered $code, not 201"
influx_one() { [ "$(influx_count)" = 1 ]; }
wait_until 30 influx_one || sd_fail "the reading did not reach InfluxDB"
pi_ok "POST /data -> 201, and the reading is in InfluxDB"

# --- InfluxDB down: readings wait in the buffer, STATUS= shows the backlog
influx_stop
for i in 1 2 3 4 5; do
	code=$(post /data "{\"ts\":\"2024-05-01T12:00:0${i}Z\",\"type\":\"temp\",\"value\":$i,\"sensor_id\":$i}" || true)
	[ "$code" = 201 ] || sd_fail "POST $i answered $code"
done
[ "$(buffer)" = 5 ] || sd_fail "the buffer holds $(buffer) points, not 5"
status_text() { in_box systemctl show -p StatusText --value iot-edge; }
status_shows_backlog() { [[ "$(status_text)" == "backlog 5 points"* ]]; }
wait_until 15 status_shows_backlog || sd_fail "STATUS= does not show the backlog: $(status_text)"
pi_ok "systemctl status shows: $(status_text)"

# --- restart keeps the buffer
in_box systemctl restart iot-edge || sd_fail "systemctl restart failed"
wait_until 30 active || sd_fail "not active after restart"
[ "$(buffer)" = 5 ] || sd_fail "after restart the buffer holds $(buffer) points, not 5"
journal_has 'stopped cleanly' || sd_fail "the stop before the restart was not clean"
pi_ok "systemctl restart: clean stop, active again, 5 points still buffered"

# --- SIGHUP (systemctl reload): the log level applies at once, the rest is named
pid=$(in_box systemctl show -p MainPID --value iot-edge)
in_box sed -i 's/^;level = info$/level = debug/; s/^;durability = full$/durability = normal/' /etc/iot-edge/iot-edge.conf
in_box systemctl reload iot-edge || sd_fail "systemctl reload failed"
reloaded() { journal_has 'log.level info -> debug: applied'; }
wait_until 10 reloaded || sd_fail "the reload did not apply the log level"
journal_has 'only take effect after a restart.*buffer.durability' ||
	sd_fail "the reload did not name buffer.durability as needing a restart"
[ "$(in_box systemctl show -p MainPID --value iot-edge)" = "$pid" ] || sd_fail "reload restarted the daemon"
wait_until 10 active || sd_fail "not active after reload"
in_box sed -i 's/^level = debug$/;level = info/; s/^durability = normal$/;durability = full/' /etc/iot-edge/iot-edge.conf
pi_ok "systemctl reload: log level applied in place (same pid), buffer.durability named for a restart"

# --- a frozen daemon misses its watchdog pings and is restarted
restarts=$(in_box systemctl show -p NRestarts --value iot-edge)
in_box kill -STOP "$pid"
restarted() {
	local now
	now=$(in_box systemctl show -p MainPID --value iot-edge)
	[ "$now" != "$pid" ] && [ "$now" != 0 ] && active
}
wait_until 60 restarted || sd_fail "the frozen daemon was not restarted by the watchdog"
journal_has 'Watchdog timeout' || sd_fail "no watchdog timeout in the journal"
[ "$(in_box systemctl show -p NRestarts --value iot-edge)" -gt "$restarts" ] || sd_fail "NRestarts did not grow"
[ "$(buffer)" = 5 ] || sd_fail "after the watchdog restart the buffer holds $(buffer) points, not 5"
pi_ok "SIGSTOP -> watchdog timeout -> restarted (Restart=on-failure), 5 points still buffered"

# --- InfluxDB back: everything arrives, nothing twice
influx_start
influx_six() { [ "$(influx_count)" = 6 ]; }
wait_until 60 influx_six || sd_fail "InfluxDB holds $(influx_count) points, not 6"
drained() { [ "$(buffer)" = 0 ]; }
wait_until 30 drained || sd_fail "the buffer did not drain"
pi_ok "InfluxDB back: all 6 readings arrived, the buffer is empty"

# --- stop is clean
in_box systemctl stop iot-edge || sd_fail "systemctl stop failed"
[ "$(in_box systemctl is-active iot-edge)" = inactive ] || sd_fail "not inactive after stop"
[ "$(in_box systemctl show -p Result --value iot-edge)" = success ] || sd_fail "stop result is not success"
[ "$(in_box systemctl show -p ExecMainStatus --value iot-edge)" = 0 ] || sd_fail "exit status is not 0"
pi_ok "systemctl stop: inactive, result success, exit status 0"

# --- remove keeps configuration and buffer; purge deletes them, keeps the user
in_box env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q iot-edge >"$PI_TMP/remove.log" 2>&1 ||
	pi_fail "apt-get remove failed: $(tail -n 5 "$PI_TMP/remove.log")"
in_box test -f /etc/iot-edge/iot-edge.conf || pi_fail "remove deleted the conffile"
in_box test -f /var/lib/iot-edge/buffer.db || pi_fail "remove deleted the buffer"
in_box test ! -e /lib/systemd/system/iot-edge.service || pi_fail "remove left the unit file"
pi_ok "apt-get remove: unit gone, configuration and buffer kept"
in_box env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q iot-edge >"$PI_TMP/purge.log" 2>&1 ||
	pi_fail "apt-get purge failed: $(tail -n 5 "$PI_TMP/purge.log")"
in_box test ! -e /etc/iot-edge || pi_fail "purge left /etc/iot-edge"
in_box test ! -e /var/lib/iot-edge || pi_fail "purge left /var/lib/iot-edge"
in_box test ! -e /etc/systemd/system/multi-user.target.wants/iot-edge.service || pi_fail "purge left the enable link"
! in_box dpkg-statoverride --list /etc/iot-edge/iot-edge.conf >/dev/null || pi_fail "purge left the statoverride"
in_box getent passwd iot-edge >/dev/null || pi_fail "purge removed the system user (Debian keeps it)"
# shellcheck disable=SC2016 # dpkg-query's own ${...} format
[ "$(in_box dpkg-query -W -f='${db:Status-Abbrev}' iot-edge 2>/dev/null || true)" != "ii " ] ||
	pi_fail "dpkg still lists iot-edge as installed"
pi_ok "apt-get purge: configuration, buffer, enable link and statoverride gone; system user kept"
