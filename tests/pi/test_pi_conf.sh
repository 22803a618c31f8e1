#!/usr/bin/env bash
# test_pi_conf.sh -- packaging/iot-edge.conf and iot-edge.conf.5 list exactly the keys and defaults of `iot-edge --help`, the file is valid, and so is the Pi guide's small-Pi configuration.
. "$(dirname "$0")/lib_pi.sh"
: "${IOT_EDGE:?set IOT_EDGE to the built iot-edge}"
pi_need man

conf=$PI_SRC/packaging/iot-edge.conf
gen=$PI_SRC/packaging/gen-conf.sh
fix="run: packaging/gen-conf.sh BUILD/edge/iot-edge update"

# 1. The committed files are what the key table generates today.
"$gen" "$IOT_EDGE" conf >"$PI_TMP/conf"
diff -u "$conf" "$PI_TMP/conf" || pi_fail "packaging/iot-edge.conf differs from iot-edge --help ($fix)"
"$gen" "$IOT_EDGE" man-page >"$PI_TMP/man"
diff -u "$PI_SRC/packaging/iot-edge.conf.5" "$PI_TMP/man" ||
	pi_fail "the keys in iot-edge.conf.5 differ from iot-edge --help ($fix)"

# 2. Counted independently of the generator: one commented line per key.
help_keys=$("$IOT_EDGE" --help | sed -n 's/^  \[\([a-z_0-9]*\)\] \([a-z_0-9]*\)  (IOT_EDGE_.*/\1.\2/p' | sort)
conf_keys=$(awk '/^\[/ { s = substr($1, 2, length($1) - 2) } /^;[a-z_0-9]+ = / { sub(/^;/, ""); print s "." $1 }' "$conf" | sort)
n=$(printf '%s\n' "$help_keys" | grep -c .)
[ "$n" -ge 30 ] || pi_fail "only $n keys in iot-edge --help?"
[ "$help_keys" = "$conf_keys" ] || {
	diff <(printf '%s\n' "$help_keys") <(printf '%s\n' "$conf_keys") || true
	pi_fail "keys differ between iot-edge --help and iot-edge.conf"
}
pi_ok "iot-edge.conf has all $n keys of iot-edge --help, each once"

# 3. The file as shipped is valid and sets exactly one key (buffer.write =
#    spill, the package's choice: docs/STORAGE.md); every default
#    uncommented gives exactly the built-in configuration.
set_keys=$(grep '^[a-z_0-9]* = ' "$conf")
[ "$set_keys" = 'write = spill' ] ||
	pi_fail "iot-edge.conf should set exactly one key, write = spill; it sets: $set_keys"
"$IOT_EDGE" -n -c /dev/null >"$PI_TMP/builtin" || pi_fail "iot-edge -n -c /dev/null failed"
IOT_EDGE_BUFFER_WRITE=spill "$IOT_EDGE" -n -c /dev/null >"$PI_TMP/builtin_spill" ||
	pi_fail "iot-edge -n -c /dev/null with IOT_EDGE_BUFFER_WRITE=spill failed"
! diff -q "$PI_TMP/builtin" "$PI_TMP/builtin_spill" >/dev/null ||
	pi_fail "iot-edge -n does not show buffer.write"
"$IOT_EDGE" -n -c "$conf" >"$PI_TMP/shipped" || pi_fail "iot-edge -n rejects packaging/iot-edge.conf"
grep -v '^write = spill$' "$conf" | sed 's/^;\([a-z_0-9]* = \)/\1/' >"$PI_TMP/uncommented.conf"
[ "$(grep -c '^[a-z_0-9]* = ' "$PI_TMP/uncommented.conf")" = "$n" ] || pi_fail "uncommenting did not give $n keys"
"$IOT_EDGE" -n -c "$PI_TMP/uncommented.conf" >"$PI_TMP/defaults" ||
	pi_fail "iot-edge -n rejects the uncommented defaults"
diff -u "$PI_TMP/builtin_spill" "$PI_TMP/shipped" ||
	pi_fail "the shipped file changes more than buffer.write"
diff -u "$PI_TMP/builtin" "$PI_TMP/defaults" || pi_fail "a commented default is not the built-in one"
pi_ok "iot-edge -n accepts the file (the built-in configuration with write = spill) and its uncommented defaults (the built-in one)"

# 4. The man pages render without warnings.
for page in iot-edge.8 iot-edge.conf.5 iot-sim.1; do
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$PI_SRC/packaging/$page" 2>&1 >/dev/null)
	[ -z "$warnings" ] || pi_fail "man $page: $warnings"
done
pi_ok "man pages render without warnings"

# 5. The small Pi configuration of docs/RASPBERRY_PI.md: valid, in effect,
#    and shown on that page as it is.
small=$PI_SRC/tests/pi/small-pi.conf
"$IOT_EDGE" -n -c "$small" >"$PI_TMP/small" || pi_fail "iot-edge -n rejects tests/pi/small-pi.conf"
for line in 'max_connections = 32' 'flush_interval = 5000ms'; do
	grep -qx "$line" "$PI_TMP/small" || pi_fail "iot-edge -n -c tests/pi/small-pi.conf does not say $line"
done
awk '/^<!-- tests\/pi\/small-pi.conf -->$/ { on = 1; next }
	on && /^```ini$/ { inside = 1; next }
	inside && /^```$/ { exit }
	inside' "$PI_SRC/docs/RASPBERRY_PI.md" >"$PI_TMP/small-doc"
diff -u "$small" "$PI_TMP/small-doc" || pi_fail "docs/RASPBERRY_PI.md does not show tests/pi/small-pi.conf as it is"
pi_ok "tests/pi/small-pi.conf: accepted by iot-edge -n, and docs/RASPBERRY_PI.md shows it as it is"
