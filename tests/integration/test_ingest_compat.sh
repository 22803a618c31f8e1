#!/usr/bin/env bash
# Real InfluxDB clients nobody here wrote -- node-influx (npm `influx`, the
# original project's client, 1.x /write) and @influxdata/influxdb-client (2.x
# /api/v2/write) -- write through the edge, with its token, into a real InfluxDB:
# exact counts and values at the far end. Needs node and npm (and the npm
# registry, or a warm npm cache, for `npm ci`).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ingest_lib.sh"

command -v node >/dev/null || fail "node is not installed: this test needs Node.js and npm (Debian: apt install nodejs npm)"
command -v npm >/dev/null || fail "npm is not installed: this test needs Node.js and npm (Debian: apt install nodejs npm)"

# The clients, exactly as locked in package-lock.json, in the test's own directory.
COMPAT="$WORK/compat"
mkdir -p "$COMPAT"
cp "$(dirname "$0")/compat/package.json" "$(dirname "$0")/compat/package-lock.json" \
	"$(dirname "$0")/compat/compat.js" "$COMPAT/"
(cd "$COMPAT" && npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error) \
	>"$WORK/npm.log" 2>&1 || fail "npm ci failed (it needs the npm registry or a warm cache): $(tail -n 5 "$WORK/npm.log")"

TOKEN=compat-$RANDOM-token
influx_start
edge_start IOT_EDGE_HTTP_TOKEN="$TOKEN"
node "$COMPAT/compat.js" "$EDGE_URL" "$TOKEN" >"$WORK/node.out" 2>&1 || fail "a client failed: $(cat "$WORK/node.out")"
cat "$WORK/node.out"
grep -q "node-influx: ping version 1.8.10, wrote 250 points" "$WORK/node.out" || fail "node-influx did not report 250 points"
grep -q "influxdb-client: wrote 300 points" "$WORK/node.out" || fail "influxdb-client did not report 300 points"

wait_until 30 buffer_empty || fail "the buffer did not drain"
assert_eq 250 "$(influx_query 'SELECT count("v") FROM "node_influx"' | jq -r '.results[0].series[0].values[0][1]')" \
	"node-influx points in InfluxDB"
assert_eq 300 "$(influx_query 'SELECT count("v") FROM "influxdb_client"' | jq -r '.results[0].series[0].values[0][1]')" \
	"influxdb-client points in InfluxDB"
# sum of n + 0.5 for n = 1..250, and of n/4 and n for n = 1..300
assert_eq "31500 31375" "$(influx_query 'SELECT sum("v"), sum("n") FROM "node_influx"' |
	jq -r '.results[0].series[0].values[0][1:] | join(" ")')" "node-influx sums"
assert_eq "5662.5 22650 150" "$(influx_query 'SELECT sum("v"), sum("n"), count("even") FROM "influxdb_client" WHERE "even" = true' |
	jq -r '.results[0].series[0].values[0][1:] | join(" ")')" "influxdb-client sums (even points)"
assert_eq "11287.5 45150" "$(influx_query 'SELECT sum("v"), sum("n") FROM "influxdb_client"' |
	jq -r '.results[0].series[0].values[0][1:] | join(" ")')" "influxdb-client sums"
got=$(influx_query 'SELECT * FROM "node_influx" WHERE time = 1600000000000000007' ns | grep -o '"columns":.*]]')
assert_eq '"columns":["time","client","n","note","room","v"],"values":[[1600000000000000007,"node-influx",7,"point \"7\"","odd room",7.5]]' \
	"$got" "one node-influx point, escapes and all"
assert_eq "even:boolean,n:integer,v:float" "$(influx_query 'SHOW FIELD KEYS FROM "influxdb_client"' |
	jq -r '[.results[0].series[0].values[] | join(":")] | join(",")')" "influxdb-client field types"
edge_stop
