#!/usr/bin/env bash
# docker/compose-test.yml runs through unchanged: the tests service (unit and integration tests under ASan+UBSan
# in the test image, then readings through the edge service) passes against the InfluxDB service. The official
# InfluxDB image cannot be pulled here: a stand-in built from Debian's influxdb package takes its place.
# TEST_LABELS (default "unit|integration") chooses the ctest labels run inside the tests container.
set -euo pipefail
. "$(dirname "$0")/lib-docker.sh"
docker_engine >/dev/null 2>&1 || dfail "no Docker engine (run docker/setup-engine.sh)"
docker_images_present || dfail "the images are missing: the fixture docker_images builds them"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/iot-edge-compose-test.XXXXXX")
# shellcheck disable=SC2154 # rc is set inside the trap
trap 'rc=$?; docker_cleanup "$rc"; [ "$rc" -ne 0 ] || rm -rf "$WORK"; exit "$rc"' EXIT
PROJECT="iotcomposetest$$"
cat >"$WORK/env" <<-EOF2
	INFLUXDB_IMAGE=$INFLUX_STANDIN_IMAGE
	IOT_EDGE_IMAGE=$EDGE_IMAGE
	IOT_EDGE_TESTS_IMAGE=$TESTS_IMAGE
	TEST_INFLUX_PORT=$(docker_free_port)
	TEST_INFLUX_RPC_PORT=$(docker_free_port)
	TEST_INFLUX_INIT_PORT=$(docker_free_port)
	TEST_EDGE_PORT=$(docker_free_port)
	TEST_LABELS=${TEST_LABELS:-unit|integration}
EOF2
ct() { docker-compose --env-file "$WORK/env" -p "$PROJECT" -f "$DOCKER_TOP/docker/compose-test.yml" "$@"; }
docker_track_project ct
dsay "InfluxDB service: $INFLUX_STANDIN_IMAGE stands in for the official influxdb image (no registry here)"
dsay "docker-compose -f docker/compose-test.yml up --abort-on-container-exit --exit-code-from tests"
rc=0
ct up --no-build --no-color --abort-on-container-exit --exit-code-from tests >"$WORK/up.log" 2>&1 || rc=$?
grep -E '^tests_1 +[|] (test-in-container:|[0-9]+% tests passed|Total Test time|.*Test +#[0-9]+:)' "$WORK/up.log" |
	sed -E 's/^tests_1 +[|] /  tests | /' || true
[ "$rc" -eq 0 ] || {
	tail -n 60 "$WORK/up.log"
	dfail "compose-test.yml: the tests service exited with $rc"
}
grep -q 'test-in-container: ok: all tests passed' "$WORK/up.log" || dfail "the tests service did not report success"
if [ -n "${TEST_LABELS:-unit|integration}" ]; then
	grep -q '100% tests passed' "$WORK/up.log" || dfail "ctest inside the tests container did not pass every test"
fi
ct down -v >/dev/null 2>&1
dsay "ok: compose-test.yml ran through"
