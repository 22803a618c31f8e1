#!/usr/bin/env bash
# The recent readings: known readings posted as seed JSON (POST /data) and line protocol
# (POST /write) are, once stored, exactly what GET /readings, `iot-edge status --readings` and
# the status page's Readings rows (headless Chromium) show, and exactly what InfluxDB received;
# a refused request shows nothing. The screenshot goes to the build tree's artifacts/
# directory as readings_page.png. Needs node, npm and /usr/bin/chromium (./dev deps test).
. "$(dirname "$0")/lib.sh"

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
ARTIFACTS=${IOT_EDGE_ARTIFACTS:-$(cd "$(dirname "$IOT_EDGE")/.." && pwd)/artifacts}
export CHROMIUM CHROMIUM_PROFILE="$WORK/chromium-profile"
command -v node >/dev/null || fail "node is not installed (Debian: apt install nodejs npm; ./dev deps test)"
command -v npm >/dev/null || fail "npm is not installed (Debian: apt install nodejs npm; ./dev deps test)"
[ -x "$CHROMIUM" ] || fail "$CHROMIUM is missing (Debian: apt install chromium; ./dev deps test)"

PAGE="$WORK/page"
mkdir -p "$PAGE"
cp "$(dirname "$0")/page/package.json" "$(dirname "$0")/page/package-lock.json" \
	"$(dirname "$0")/page/readings_test.mjs" "$PAGE/"
(cd "$PAGE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund \
	--prefer-offline --loglevel=error) >"$WORK/npm.log" 2>&1 ||
	fail "npm ci failed (it needs the npm registry or a warm cache): $(tail -n 5 "$WORK/npm.log")"

influx_start
edge_start

readings() { curl -sf "$EDGE_URL/readings"; }
assert_eq 0 "$(readings | jq '.series | length')" "series before any reading"

# Seed JSON: two temp readings of sensor 1 (the later one is the last value), one hum.
assert_eq 201 "$(post /data '[{"ts":"2026-12-07T00:00:00Z","type":"temp","value":21.5,"sensor_id":1},
{"ts":"2026-12-07T00:00:01Z","type":"temp","value":22.25,"sensor_id":1},
{"ts":"2026-12-07T00:00:02Z","type":"hum","value":40,"sensor_id":2}]')" "POST /data status"
# Line protocol: two series of another measurement, every field type, escapes.
LP='climate,room=kitchen temp=19.5,ok=true,note="door \"open\"" 1796601600000000000
climate,room=big\ hall level=18i 1796601600000000001
climate,room=kitchen temp=20.125 1796601600000000002'
CONTENT_TYPE=text/plain assert_eq 204 "$(CONTENT_TYPE=text/plain post "/write?db=iot" "$LP")" "POST /write status"
# Refused whole: nothing of it may show.
assert_eq 400 "$(CONTENT_TYPE=application/json post /data '{"type":"temp","value":"x"}')" "bad POST /data status"

# Stored and sent: both ends count 6 points.
points_are() { [ "$(readings | jq '.points')" = "$1" ]; }
wait_until 20 points_are 6 || fail "GET /readings counts $(readings | jq .points) points, not 6"
influx_all() {
	[ "$(influx_query 'SELECT * FROM "climate"' | jq -r '.results[0].series[0].values | length')" = 3 ] &&
		[ "$(influx_count)" = 3 ]
}
wait_until 30 influx_all || fail "InfluxDB did not get the 3 + 3 points"
say "ok: InfluxDB has the 3 points of data and the 3 of climate"

# GET /readings, exactly (age aside): sorted by series name.
readings | jq -c '[.points, .points_not_shown, .fields_not_shown, .series_evicted]' >"$WORK/counts.json"
assert_eq '[6,0,0,0]' "$(cat "$WORK/counts.json")" "points, not shown, fields not shown, evicted"
readings | jq -c '.series[] | [.measurement, .tags, .points, [.fields[] | [.key, .value]]]' \
	>"$WORK/series.json"
cat >"$WORK/want_series.json" <<-'EOF2'
	["climate",{"room":"big hall"},1,[["level",18]]]
	["climate",{"room":"kitchen"},2,[["temp",20.125],["ok",true],["note","door \"open\""]]]
	["data",{"type":"hum"},1,[["sensor_id",2],["value",40]]]
	["data",{"type":"temp"},2,[["sensor_id",1],["value",22.25]]]
EOF2
diff -u "$WORK/want_series.json" "$WORK/series.json" || fail "GET /readings is not what was sent"
# The last points' timestamps as text (jq would round them to doubles).
assert_eq "1796601600000000001 1796601600000000002 1796601602000000000 1796601601000000000" \
	"$(readings | grep -oE '"ts":[0-9]+' | cut -d: -f2 | tr '\n' ' ' | sed 's/ $//')" "last timestamps"
say "ok: GET /readings shows the last value of every field of the 4 series sent"
# The chart's newest sample is the last value (in the current 10 s step, or the one before
# when a step began since).
assert_eq 20.125 "$(readings | jq '[.series[1].fields[0].history[] | select(. != null)] | last')" \
	"kitchen temp's newest sample"
assert_eq 60 "$(readings | jq '.series[1].fields[0].history | length')" "samples per field"

# iot-edge status --readings, exactly (the age aside).
"$IOT_EDGE" status --url "$EDGE_URL" --readings >"$WORK/cli.txt" || fail "iot-edge status --readings failed"
sed -E 's/\([^,]+ ago, /(AGE, /' "$WORK/cli.txt" >"$WORK/cli_noage.txt"
cat >"$WORK/want_cli.txt" <<-'EOF2'
	Readings: 4 series (at most 64), 6 points; 0 points of further series
	climate,room=big hall  level=18  (AGE, 1 points)
	climate,room=kitchen  temp=20.125 ok=true note="door \"open\""  (AGE, 2 points)
	data,type=hum  sensor_id=2 value=40  (AGE, 1 points)
	data,type=temp  sensor_id=1 value=22.25  (AGE, 2 points)
EOF2
diff -u "$WORK/want_cli.txt" "$WORK/cli_noage.txt" || fail "iot-edge status --readings is not what was sent"
say "ok: iot-edge status --readings prints the 4 series and their last values"
"$IOT_EDGE" status --url "$EDGE_URL" --readings --json | jq -e '.series | length == 4' >/dev/null ||
	fail "iot-edge status --readings --json is not the document"

# The status page's Readings rows, in headless Chromium.
mkdir -p "$ARTIFACTS"
cat >"$WORK/want_rows.txt" <<-'EOF2'
	climate,room=big hall|level=18
	climate,room=kitchen|temp=20.125 ok=true note=door "open"
	data,type=hum|sensor_id=2 value=40
	data,type=temp|sensor_id=1 value=22.25
EOF2
node "$PAGE/readings_test.mjs" "$EDGE_URL" "$ARTIFACTS/readings_page.png" "$WORK/want_rows.txt" ||
	fail "the status page's Readings rows are not what was sent"
[ -s "$ARTIFACTS/readings_page.png" ] || fail "no screenshot $ARTIFACTS/readings_page.png"
say "screenshot: $ARTIFACTS/readings_page.png"
