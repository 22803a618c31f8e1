#!/usr/bin/env bash
# Fixture cleanup for the docker tests: stop the Docker engine if docker_images started it in this run (never another one).
set -euo pipefail
. "$(dirname "$0")/lib-docker.sh"

RUN_DIR=${DOCKER_TEST_RUN_DIR:-/tmp}
if [ ! -e "$RUN_DIR/engine-started-by-ctest" ]; then
	dsay "the engine was running before this run: left running"
	exit 0
fi
rm -f "$RUN_DIR/engine-started-by-ctest"
"$DOCKER_TOP/docker/stop-engine.sh"
