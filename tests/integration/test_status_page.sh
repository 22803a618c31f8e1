#!/usr/bin/env bash
# The status page at GET /, in headless Chromium (playwright-core, Debian's chromium): it loads
# without console errors, page errors or failed requests, shows OK and exactly /status's counts
# while data flows, FAILING and the backlog growing when InfluxDB stops, and "iot-edge
# unreachable" when iot-edge stops. Screenshots go to the build tree's artifacts/ directory.
# Needs node, npm and /usr/bin/chromium (./dev test installs them): without them it fails.
. "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
FIRST=37  # readings while InfluxDB is up
SECOND=23 # readings while it is down
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ARTIFACTS=${IOT_EDGE_ARTIFACTS:-$(cd "$(dirname "$IOT_EDGE")/.." && pwd)/artifacts}
export CHROMIUM CHROMIUM_PROFILE="$WORK/chromium-profile"

command -v node >/dev/null || fail "node is not installed (Debian: apt install nodejs npm; ./dev deps test)"
command -v npm >/dev/null || fail "npm is not installed (Debian: apt install nodejs npm; ./dev deps test)"
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing (Debian: apt install chromium; ./dev deps test)"

# The page must never put data from /status into markup.
if grep -nE 'innerHTML|outerHTML|insertAdjacentHTML|document\.write' "$SRC/edge/status/status_page.html"; then
	fail "status_page.html builds markup from strings: use textContent"
fi

# playwright-core exactly as locked; it never downloads a browser (we give it Debian's).
PAGE="$WORK/page"
mkdir -p "$PAGE"
cp "$(dirname "$0")/page/package.json" "$(dirname "$0")/page/package-lock.json" \
	"$(dirname "$0")/page/page_test.mjs" "$PAGE/"
(cd "$PAGE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund \
	--prefer-offline --loglevel=error) >"$WORK/npm.log" 2>&1 ||
	fail "npm ci failed (it needs the npm registry or a warm cache): $(tail -n 5 "$WORK/npm.log")"

influx_start
# The edge's own collector would add points of its own: off, so every count is exact.
edge_start

# The page as served: byte for byte the source file, GET and HEAD only.
curl -sf -o "$WORK/page.html" "$EDGE_URL/" || fail "GET / failed"
cmp -s "$WORK/page.html" "$SRC/edge/status/status_page.html" || fail "GET / is not edge/status/status_page.html"
curl -sf -o "$WORK/index.html" "$EDGE_URL/index.html" || fail "GET /index.html failed"
cmp -s "$WORK/index.html" "$SRC/edge/status/status_page.html" || fail "GET /index.html is not the page"
say "ok: GET / and /index.html serve edge/status/status_page.html ($(wc -c <"$WORK/page.html") bytes)"
assert_eq 200 "$(curl -s -o /dev/null -I -w '%{http_code}' "$EDGE_URL/")" "HEAD / status"
assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -XPOST -d x "$EDGE_URL/")" "POST / status"
assert_eq 404 "$(curl -s -o /dev/null -w '%{http_code}' "$EDGE_URL/index.htm")" "GET /index.htm status"

# Chromium runs under node; the two talk in lines (page_test.mjs says how).
PAGE_PID=""
page_stop() {
	[ -n "$PAGE_PID" ] || return 0
	kill -TERM "$PAGE_PID" 2>/dev/null || true
	wait_until 20 eval '! kill -0 "$PAGE_PID" 2>/dev/null' || kill -KILL "$PAGE_PID" 2>/dev/null || true
	wait "$PAGE_PID" 2>/dev/null || true
}
# Stop node (and so Chromium), then lib.sh's cleanup with the script's exit status
# (set -e would end the trap at the first non-zero status: it is off in here).
# shellcheck disable=SC2154 # rc is set inside the trap
trap 'rc=$?; set +e; page_stop; (exit "$rc"); cleanup' EXIT

coproc PAGE_IO { exec node "$PAGE/page_test.mjs" "$EDGE_URL" "$ARTIFACTS" "$FIRST" "$SECOND"; }
PAGE_PID=$PAGE_IO_PID
PAGE_IN=${PAGE_IO[1]}
PAGE_OUT=${PAGE_IO[0]}

# Wait for page_test.mjs to say `word` (it says FAIL and exits on a failed check).
page_expect() {
	local line=""
	IFS= read -r -t 120 line <&"$PAGE_OUT" || true
	[ "$line" = "$1" ] || fail "page_test.mjs said \"$line\" where it should say $1"
}
# Answer page_test.mjs (checked first: a write to a closed pipe would kill the script).
page_tell() {
	kill -0 "$PAGE_PID" 2>/dev/null || fail "page_test.mjs is gone"
	echo "$1" >&"$PAGE_IN"
}
status() { curl -sf "$EDGE_URL/status" | jq -r "$1"; }
all_sent() { [ "$(status .uplink.points_sent)" = "$1" ] && buffer_empty; }
backlog_is() { [ "$(status .buffer.points)" = "$1" ] && [ "$(status .uplink.state)" = failing ]; }

page_expect READY
sim_run "$WORK/sim1.out" --count "$FIRST" --interval 0 --devices 3 --quiet
wait_until 60 all_sent "$FIRST" || fail "the first $FIRST readings were not sent"
assert_eq "$FIRST" "$(influx_count)" "points in InfluxDB"
page_tell sent

page_expect STOP_INFLUX
influx_stop
sim_run "$WORK/sim2.out" --count "$SECOND" --interval 0 --devices 3 --quiet
wait_until 60 backlog_is "$SECOND" || fail "the backlog did not reach $SECOND with the uplink failing"
page_tell influx-stopped

page_expect STOP_EDGE
edge_stop
page_tell edge-stopped

page_expect PASS
page_tell bye
wait "$PAGE_PID" || fail "page_test.mjs exited with an error"
PAGE_PID=""
for f in status_page_ok.png status_page.png status_page_unreachable.png; do
	[ -s "$ARTIFACTS/$f" ] || fail "no screenshot $ARTIFACTS/$f"
done
say "screenshots: $ARTIFACTS/status_page.png (InfluxDB down), status_page_ok.png, status_page_unreachable.png"
