#!/usr/bin/env bash
# test_pi_arm64_rootfs.sh -- the arm64 .deb installs with apt into a debootstrapped arm64 Debian 12 (chroot, qemu via binfmt) and the daemon runs there.
. "$(dirname "$0")/lib_pi.sh"
pi_need chroot curl ss qemu-aarch64-static update-binfmts
deb=$(pi_deb arm64)
pi_binfmt aarch64
pristine=$(pi_arm64_rootfs)

# Work on a copy: the cached rootfs stays without the package.
root=$PI_TMP/root
cp -a "$pristine" "$root"
mount -t proc proc "$root/proc" || pi_fail "cannot mount /proc in the chroot"
pi_at_exit "umount '$root/proc'"
in_root() { chroot "$root" "$@"; }

[ "$(in_root uname -m)" = aarch64 ] || pi_fail "the chroot does not run arm64 code"
[ "$(in_root dpkg --print-architecture)" = arm64 ] || pi_fail "the rootfs is not arm64"
pi_ok "arm64 Debian $(cat "$root/etc/debian_version") rootfs, running under qemu-aarch64-static"

cp "$deb" "$root/tmp/"
if ! in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/tmp/$(basename "$deb")" >"$PI_TMP/apt.log" 2>&1; then
	cat "$PI_TMP/apt.log"
	pi_fail "apt-get install ./$(basename "$deb") failed in the arm64 rootfs"
fi
pi_ok "apt-get install ./$(basename "$deb") in the arm64 rootfs"

version=$(in_root iot-edge --version) || pi_fail "iot-edge --version failed under emulation"
[[ "$version" =~ ^iot-edge\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || pi_fail "unexpected version line: $version"
pi_ok "iot-edge --version runs on arm64: $version"
in_root iot-edge -n >/dev/null || pi_fail "iot-edge -n rejects the packaged configuration"
in_root getent passwd iot-edge >/dev/null || pi_fail "postinst made no user iot-edge"
[ "$(in_root stat -c '%U:%G %a' /etc/iot-edge/iot-edge.conf)" = "root:iot-edge 640" ] ||
	pi_fail "the configuration is not root:iot-edge 0640"
[ "$(in_root stat -c '%U:%G %a' /var/lib/iot-edge)" = "iot-edge:iot-edge 750" ] ||
	pi_fail "/var/lib/iot-edge is not iot-edge:iot-edge 0750"
pi_ok "user iot-edge, /etc/iot-edge/iot-edge.conf root:iot-edge 0640, /var/lib/iot-edge 0750"

# The arm64 daemon takes a reading and keeps it across a clean stop.
port=$(pick_free_port tcp) || pi_fail "no free port"
chroot "$root" env IOT_EDGE_HTTP_LISTEN="127.0.0.1:$port" IOT_EDGE_BUFFER_PATH=/tmp/buffer.db \
	IOT_EDGE_UPLINK_URL=http://127.0.0.1:9 iot-edge >"$PI_TMP/edge.log" 2>&1 &
edge=$!
pi_at_exit "kill -KILL $edge 2>/dev/null; wait $edge 2>/dev/null"
healthy() { [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ]; }
wait_until 60 healthy || {
	cat "$PI_TMP/edge.log"
	pi_fail "the arm64 iot-edge did not answer /health"
}
code=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	-d '{"ts":"2017-03-11T15:00:53Z","type":"temp","value":34,"sensor_id":123}' "http://127.0.0.1:$port/data")
[ "$code" = 201 ] || pi_fail "POST /data answered $code, not 201"
kill -TERM "$edge"
rc=0
wait "$edge" || rc=$?
[ "$rc" = 0 ] || {
	cat "$PI_TMP/edge.log"
	pi_fail "the arm64 iot-edge exited with $rc after SIGTERM"
}
line=$(in_root sqlite3 /tmp/buffer.db 'SELECT line FROM points')
[ "$line" = "data,type=temp sensor_id=123,value=34 1489244453000000000" ] ||
	pi_fail "the buffer holds \"$line\""
pi_ok "the arm64 daemon answered 201 and its buffer holds the reading after a clean stop"

if ! in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q iot-edge >"$PI_TMP/purge.log" 2>&1; then
	cat "$PI_TMP/purge.log"
	pi_fail "apt-get purge iot-edge failed"
fi
[ ! -e "$root/etc/iot-edge" ] || pi_fail "purge left /etc/iot-edge"
[ ! -e "$root/var/lib/iot-edge" ] || pi_fail "purge left /var/lib/iot-edge"
in_root getent passwd iot-edge >/dev/null || pi_fail "purge removed the system user (Debian keeps it)"
pi_ok "purge removed /etc/iot-edge and /var/lib/iot-edge, kept the system user"
