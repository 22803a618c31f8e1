#!/usr/bin/env bash
# The status page at GET / with two targets, one down, as headless Chromium
# renders it (Debian's chromium, --dump-dom after the page's first /status):
# a Targets box with one row each, the down one marked and named as holding
# the buffer. With one target the box stays hidden.
# Needs /usr/bin/chromium (./dev deps test installs it): without it it fails.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/targets_lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing (Debian: apt install chromium; ./dev deps test)"
t0=$(date +%s%N)

# The page's DOM once its scripts ran (virtual time: the first poll of /status).
page_dom() {
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$WORK/chromium-profile" --virtual-time-budget=3000 \
		--dump-dom "$EDGE_URL/" 2>>"$WORK/chromium.log"
}

influx_start
dead_port=$(free_port)
EDGE_CONF="$WORK/two.conf"
cat >"$EDGE_CONF" <<CONF
[uplink.influx]
url = $INFLUX_URL
$TARGET_TIMING
[uplink.vm]
url = http://127.0.0.1:$dead_port
$TARGET_TIMING
CONF
edge_start_targets
sim_run "$WORK/sim.out" --count 20 --interval 0 --devices 2 --quiet
wait_until 30 influx_has 20 || fail "InfluxDB has $(influx_count) of 20"
wait_until 30 target_is vm state failing || fail "vm is not failing"
page_dom >"$WORK/dom.html" || fail "chromium could not render the page"
grep -q '<section class="card" id="targets-box"><h2>Targets</h2>' "$WORK/dom.html" ||
	fail "the Targets box is missing or hidden: $(grep -o '<section[^>]*id="targets-box"[^>]*>' "$WORK/dom.html")"
grep -q '<tr><td>influx</td><td>ok, backlog 0, sent 20</td></tr>' "$WORK/dom.html" ||
	fail "no row for influx: $(grep -o '<tbody id="targets">.*</tbody>' "$WORK/dom.html" | head -c 400)"
grep -Eq '<tr><td>vm</td><td class="err">failing, backlog 20 \(oldest [^)]*\), sent 0 - holds the buffer</td></tr>' "$WORK/dom.html" ||
	fail "no row for vm holding the buffer: $(grep -o '<tbody id="targets">.*</tbody>' "$WORK/dom.html" | head -c 400)"
say "ok: the Targets box shows influx ok and vm failing, holding the buffer"
edge_stop

# One target: no Targets box.
EDGE_CONF="$WORK/one.conf"
cat >"$EDGE_CONF" <<CONF
[uplink.influx]
url = $INFLUX_URL
$TARGET_TIMING
CONF
edge_start_targets
wait_until 30 buffer_empty || fail "the buffer did not empty without vm"
page_dom >"$WORK/dom1.html" || fail "chromium could not render the page"
grep -q '<section class="card" id="targets-box" hidden="">' "$WORK/dom1.html" ||
	fail "the Targets box shows with one target: $(grep -o '<section[^>]*id="targets-box"[^>]*>' "$WORK/dom1.html")"
grep -q '<div id="state">OK</div>' "$WORK/dom1.html" || fail "the page does not say OK"
say "ok: one target: the Targets box is hidden"
edge_stop
say "took $((($(date +%s%N) - t0) / 1000000)) ms"
