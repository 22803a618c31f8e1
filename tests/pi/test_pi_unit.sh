#!/usr/bin/env bash
# test_pi_unit.sh -- systemd/iot-edge.service passes `systemd-analyze verify` silently and its exposure is at most 2.0.
. "$(dirname "$0")/lib_pi.sh"
pi_need systemd-analyze

unit=$PI_SRC/systemd/iot-edge.service
: "${IOT_EDGE:?set IOT_EDGE to the built iot-edge}"

# verify checks that ExecStart= exists: point it at the built binary. The
# installed unit, with its man pages, is verified again in test_pi_systemd.
sed "s|^ExecStart=/usr/bin/iot-edge|ExecStart=$IOT_EDGE|" "$unit" >"$PI_TMP/iot-edge.service"
grep -q "^ExecStart=$IOT_EDGE " "$PI_TMP/iot-edge.service" || pi_fail "no ExecStart=/usr/bin/iot-edge line"
out=$(systemd-analyze verify --man=no "$PI_TMP/iot-edge.service" 2>&1) || pi_fail "verify: $out"
[ -z "$out" ] || pi_fail "systemd-analyze verify complains: $out"
pi_ok "systemd-analyze verify: no complaint"

# The parts of the contract the daemon relies on.
# shellcheck disable=SC2016 # $MAINPID is systemd's, literally in the unit
for line in Type=notify NotifyAccess=main WatchdogSec=30s Restart=on-failure User=iot-edge \
	StateDirectory=iot-edge ConfigurationDirectory=iot-edge 'ExecReload=/bin/kill -HUP $MAINPID' \
	NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
	'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' SystemCallFilter=@system-service \
	CapabilityBoundingSet= ProtectKernelTunables=yes; do
	grep -qxF -- "$line" "$unit" || pi_fail "the unit lacks the line $line"
done
pi_ok "Type=notify, watchdog, restart, user, directories and hardening lines present"

security=$(systemd-analyze security --offline=true --no-pager "$unit" 2>&1) || true
score=$(printf '%s\n' "$security" | sed -n 's/.*Overall exposure level for iot-edge.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || {
	printf '%s\n' "$security" | tail -n 20
	pi_fail "no exposure level in the output of systemd-analyze security"
}
printf '%s\n' "$security" | grep '✗' || true
pi_say "systemd-analyze security --offline=true: exposure $score (at most 2.0 wanted)"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || pi_fail "exposure $score is above 2.0"
pi_ok "exposure $score <= 2.0"
