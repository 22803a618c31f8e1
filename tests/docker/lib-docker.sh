# lib-docker.sh -- shared by the docker tests: the engine, a clean build context, the images built once per run, compose.
# shellcheck shell=bash
#
# Source it from a test script (after tests/integration/lib.sh when the test
# also needs influxd or iot-edge on loopback). Environment (ctest sets them):
#   DOCKER_TEST_TAG  tag of the images this build directory builds (default ctest)
# Containers, volumes and compose projects a test registers with
# docker_track_* are removed when the test exits.

DOCKER_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DOCKER_TAG=${DOCKER_TEST_TAG:-ctest}
EDGE_IMAGE="iot-edge:$DOCKER_TAG"
TESTS_IMAGE="iot-edge-tests:$DOCKER_TAG"
INFLUX_STANDIN_IMAGE="iot-edge/influxdb-standin:1.6"
DOCKER_CONTAINERS=""
DOCKER_VOLUMES=""
DOCKER_PROJECTS=""

dsay() { printf '%s: %s\n' "$(basename "$0" .sh)" "$*"; }

dfail() {
	dsay "FAIL: $*"
	exit 1
}

# Start the engine if none answers and make the base image (docker/setup-engine.sh).
docker_engine() {
	"$DOCKER_TOP/docker/setup-engine.sh" || dfail "docker/setup-engine.sh failed (exit $?)"
}

# The source tree as a tar on stdout: the files git knows or would add
# (so no build folders), or, outside a git clone, everything but build*/ and .git.
docker_context() {
	if git -C "$DOCKER_TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		(cd "$DOCKER_TOP" && git ls-files -z --cached --others --exclude-standard |
			while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
			tar --null -T - -cf -)
	else
		tar -C "$DOCKER_TOP" --exclude='./build*' --exclude=./.git --exclude=./.demo -cf - .
	fi
}

# docker_build IMAGE DOCKERFILE [docker build options...]: build from the clean
# context with the host's network; the build log goes to $DOCKER_LOG_DIR.
docker_build() {
	local image=$1 dockerfile=$2
	shift 2
	local log="${DOCKER_LOG_DIR:-/tmp}/build-${image//[\/:]/_}.log" old new
	old=$(docker image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
	dsay "docker build -f $dockerfile -t $image (log: $log)"
	if ! docker_context | docker build --network host --force-rm -f "$dockerfile" -t "$image" "$@" - >"$log" 2>&1; then
		tail -n 40 "$log"
		dfail "docker build of $image failed (log: $log)"
	fi
	new=$(docker image inspect -f '{{.Id}}' "$image")
	# The previous build of this tag, unless something else still uses it.
	if [ -n "$old" ] && [ "$old" != "$new" ]; then
		docker rmi "$old" >/dev/null 2>&1 || true
	fi
}

# The images every docker test uses; the fixture docker_images builds them once per run.
docker_images_present() {
	docker image inspect "$EDGE_IMAGE" "$TESTS_IMAGE" "$INFLUX_STANDIN_IMAGE" >/dev/null 2>&1
}

docker_track_container() { DOCKER_CONTAINERS="$DOCKER_CONTAINERS $1"; }
docker_track_volume() { DOCKER_VOLUMES="$DOCKER_VOLUMES $1"; }
docker_track_project() { DOCKER_PROJECTS="$DOCKER_PROJECTS $1"; }

# docker_cleanup [RC]: remove what the test made; with a non-zero RC first show the containers' last log lines.
docker_cleanup() {
	local rc=${1:-0} c v p
	if [ "$rc" -ne 0 ]; then
		for c in $DOCKER_CONTAINERS; do
			echo "--- last lines of container $c ---"
			docker logs --tail 30 "$c" 2>&1 || true
		done
		for p in $DOCKER_PROJECTS; do
			echo "--- last lines of compose project ($p) ---"
			eval "$p" logs --no-color --tail 30 2>&1 || true
		done
	fi
	for p in $DOCKER_PROJECTS; do
		eval "$p" down -v --remove-orphans >/dev/null 2>&1 || true
	done
	for c in $DOCKER_CONTAINERS; do docker rm -f -v "$c" >/dev/null 2>&1 || true; done
	for v in $DOCKER_VOLUMES; do docker volume rm -f "$v" >/dev/null 2>&1 || true; done
}

# shellcheck source=tests/poll.sh
. "$(dirname "${BASH_SOURCE[0]}")/../poll.sh"

# A loopback TCP port nobody listens on (used when lib.sh is not sourced).
docker_free_port() { pick_free_port tcp || dfail "no free port found"; }

# health CONTAINER: healthy | starting | unhealthy | (none)
docker_health() { docker inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{else}}(none){{end}}' "$1" 2>/dev/null; }
docker_is_healthy() { [ "$(docker_health "$1")" = healthy ]; }

# With tests/integration/lib.sh: run docker_cleanup, then lib.sh's cleanup, keeping the exit status.
docker_trap_with_lib() {
	trap 'rc=$?; docker_cleanup "$rc"; (exit "$rc"); cleanup' EXIT
}

# Without lib.sh.
docker_trap() {
	trap 'rc=$?; docker_cleanup "$rc"; exit "$rc"' EXIT
}
