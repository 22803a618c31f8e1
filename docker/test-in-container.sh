#!/usr/bin/env bash
# test-in-container.sh -- the tests service of compose-test.yml: ctest in the image, then readings through the edge service into the InfluxDB service.
#
# Environment: INFLUX_URL and EDGE_URL (the services), TEST_LABELS (ctest
# labels to run first, e.g. "unit|integration"; empty: none), TEST_EXCLUDE
# (ctest -E regex of tests to leave out), TEST_READINGS
# (how many iot-sim readings to send through the edge service, default 300).
# Exit status 0 when every test passed and every reading arrived exactly once.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${INFLUX_URL:?set INFLUX_URL to the InfluxDB service}"
: "${EDGE_URL:?set EDGE_URL to the iot-edge service}"
READINGS=${TEST_READINGS:-300}
say() { printf 'test-in-container: %s\n' "$*"; }
fail() {
	say "FAIL: $*"
	exit 1
}

if [ -n "${TEST_LABELS:-}" ]; then
	say "ctest -L '$TEST_LABELS'${TEST_EXCLUDE:+ -E '$TEST_EXCLUDE'} in build-asan (ASan+UBSan)"
	(cd build-asan && ctest --output-on-failure -L "$TEST_LABELS" ${TEST_EXCLUDE:+-E "$TEST_EXCLUDE"})
fi

query() {
	curl -sfG "$INFLUX_URL/query" --data-urlencode db=iot ${2:+--data-urlencode "epoch=$2"} --data-urlencode "q=$1"
}
count() { query 'SELECT count("value") FROM "data"' | jq -r '.results[0].series[0].values[0][1] // 0'; }
wait_for() { # seconds command...
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}
answers() { curl -sf -o /dev/null "$1"; }

say "services: InfluxDB $INFLUX_URL, iot-edge $EDGE_URL"
wait_for 60 answers "$INFLUX_URL/ping" || fail "the InfluxDB service does not answer /ping"
wait_for 60 answers "$EDGE_URL/health" || fail "the edge service does not answer /health"
databases=$(curl -sfG "$INFLUX_URL/query" --data-urlencode 'q=SHOW DATABASES' | jq -r '[.results[0].series[0].values[][0]]|join(",")')
case ",$databases," in
*,iot,*) say "ok: database iot exists before any write ($databases)" ;;
*) fail "database iot was not created at start (databases: $databases)" ;;
esac
before=$(count)
[ "$before" = 0 ] || fail "the InfluxDB service is not empty: $before points"

status=$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H 'Content-Type: application/json' \
	--data-binary '{"ts":"2017-03-11T15:00:53Z", "type": "temp", "value": 34, "sensor_id": 123 }' "$EDGE_URL/data")
[ "$status" = 201 ] || fail "seed POST /data answered $status, expected 201"
edge_host=${EDGE_URL#http://}
build-asan/simulator/iot-sim -h "${edge_host%:*}" -p "${edge_host##*:}" --count "$READINGS" --interval 0 --devices 5 --quiet >/tmp/sim.out ||
	fail "iot-sim: $(tail -n 1 /tmp/sim.out)"
expected=$((READINGS + 1))
have_all() { [ "$(count)" = "$expected" ]; }
wait_for 60 have_all || fail "InfluxDB holds $(count) points, expected $expected"
seed=$(query 'SELECT * FROM "data" WHERE time = 1489244453000000000' ns | grep -o '"values":.*]]')
[ "$seed" = '"values":[[1489244453000000000,123,"temp",34]]' ] || fail "seed point stored as $seed"
say "ok: the seed reading and $READINGS iot-sim readings arrived, each once: $expected points"
say "ok: all tests passed"
