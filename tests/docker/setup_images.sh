#!/usr/bin/env bash
# Fixture for the docker tests: a Docker engine (started if none answers) with the base image, and the three
# images built once for this run: iot-edge, the test image of compose-test.yml and the stand-in InfluxDB.
set -euo pipefail
. "$(dirname "$0")/lib-docker.sh"

RUN_DIR=${DOCKER_TEST_RUN_DIR:-/tmp}
mkdir -p "$RUN_DIR"
export DOCKER_LOG_DIR=$RUN_DIR
if ! docker info >/dev/null 2>&1; then
	# This run starts the engine, so docker_engine_stop stops it at the end.
	touch "$RUN_DIR/engine-started-by-ctest"
fi
start=$SECONDS
docker_engine
dsay "engine and base image ready in $((SECONDS - start)) s"

start=$SECONDS
dsay "building the stand-in for the official InfluxDB image from Debian's influxdb package" \
	"(no registry here: the official influxdb image cannot be pulled)"
log="$RUN_DIR/build-influxdb-standin.log"
docker build --network host --force-rm -t "$INFLUX_STANDIN_IMAGE" "$DOCKER_TOP/docker/influxdb" >"$log" 2>&1 ||
	{
		tail -n 40 "$log"
		dfail "docker build of $INFLUX_STANDIN_IMAGE failed (log: $log)"
	}
revision=$(git -C "$DOCKER_TOP" rev-parse -q --verify HEAD 2>/dev/null || echo unknown)
docker_build "$EDGE_IMAGE" docker/Dockerfile --build-arg REVISION="$revision" \
	--build-arg CREATED="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
docker_build "$TESTS_IMAGE" docker/Dockerfile.test
dsay "images built in $((SECONDS - start)) s:"
docker image ls --format '  {{.Repository}}:{{.Tag}}  {{.Size}}' |
	grep -F -e "$EDGE_IMAGE" -e "$TESTS_IMAGE" -e "$INFLUX_STANDIN_IMAGE" -e debian:bookworm-slim
docker_images_present || dfail "an image is missing after the builds"
