# lib_pi.sh -- shared by tests/pi/test_pi_*.sh: messages, a temp dir, the package paths, the arm64 rootfs and the Docker engine.
# shellcheck shell=bash
#
# ctest sets PI_SRC (the source tree), PI_WORK (this build's tests/pi
# folder: the package builds live there) and IOT_EDGE (the built daemon).
# Cached between runs (made on first use): $PI_CACHE_DIR, default
# /var/cache/iot-edge-pi (the debootstrapped arm64 rootfs).

set -euo pipefail

: "${PI_SRC:?set PI_SRC to the source tree}"
: "${PI_WORK:?set PI_WORK to a work folder (ctest sets it)}"
PI_CACHE=${PI_CACHE_DIR:-/var/cache/iot-edge-pi}
PI_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PI_NAME=$(basename "$0" .sh)
PI_TMP=$(mktemp -d "${TMPDIR:-/tmp}/$PI_NAME.XXXXXX")
PI_CLEANUPS=()

pi_say() { printf '%s: %s\n' "$PI_NAME" "$*"; }

# To stderr: a failure inside $(...) must still be seen.
pi_fail() {
	pi_say "FAIL: $*" >&2
	exit 1
}

pi_ok() { pi_say "ok: $*"; }

# Run "$@" at exit, last registered first (after a failure too).
pi_at_exit() { PI_CLEANUPS+=("$*"); }

# The EXIT trap: our cleanups, then tests/integration/lib.sh's when a test
# sourced it too (its influxd, its temp dir), with the test's exit status.
pi_exit() {
	local rc=$? i
	set +e
	for ((i = ${#PI_CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${PI_CLEANUPS[$i]}"
	done
	rm -rf --one-file-system "$PI_TMP"
	if declare -F cleanup >/dev/null; then
		(exit "$rc")
		cleanup
	fi
	exit "$rc"
}
trap pi_exit EXIT

# shellcheck source=tests/poll.sh
. "$(dirname "${BASH_SOURCE[0]}")/../poll.sh"

pi_need() {
	local tool
	for tool in "$@"; do
		command -v "$tool" >/dev/null 2>&1 ||
			pi_fail "$tool is missing (./dev deps installs it; see docs/RASPBERRY_PI.md)"
	done
}

# The .deb that test_pi_deb_<arch>.sh built (the ctest fixture), or fail.
pi_deb() {
	local deb
	deb=$(find "$PI_WORK/$1/deb" -maxdepth 1 -name "iot-edge_*_$1.deb" 2>/dev/null | head -n 1)
	[ -n "$deb" ] || pi_fail "no $1 package in $PI_WORK/$1/deb: run test_pi_deb_$1 first"
	echo "$deb"
}

# lintian on a .deb, pedantic and with info tags: no tag may remain that
# packaging/lintian-overrides does not override (each there with its reason).
pi_lintian() {
	local out=$PI_TMP/lintian.txt tags
	if ! lintian --fail-on error,warning --display-info --pedantic "$1" >"$out" 2>&1; then
		grep -v 'root privileges' "$out" || true
		pi_fail "lintian finds errors or warnings in $(basename "$1")"
	fi
	tags=$(grep -E '^[EWIPX]: ' "$out" || true)
	if [ -n "$tags" ]; then
		printf '%s\n' "$tags"
		pi_fail "lintian tags left unjustified in $(basename "$1")"
	fi
	lintian --display-info --pedantic --show-overrides "$1" 2>/dev/null | grep '^O: ' || true
	pi_ok "lintian --pedantic: nothing but the overridden tags above"
}

# An arm64 Debian 12 rootfs with the .deb's run-time libraries, made by
# debootstrap once (about two minutes under emulation) and kept in the cache.
PI_ROOTFS_PACKAGES=adduser,libsqlite3-0,libcurl4,libmicrohttpd12,libcjson1,libinih1,zlib1g,libsystemd0,sqlite3,curl
pi_arm64_rootfs() {
	local root=$PI_CACHE/rootfs-arm64-v1
	if [ ! -e "$root/.complete" ]; then
		pi_need debootstrap qemu-aarch64-static
		pi_binfmt aarch64
		mkdir -p "$PI_CACHE"
		rm -rf "$root.tmp"
		pi_say "debootstrap --arch=arm64 bookworm into $root (log: $PI_CACHE/debootstrap-arm64.log)" >&2
		debootstrap --arch=arm64 --variant=minbase --include="$PI_ROOTFS_PACKAGES" \
			bookworm "$root.tmp" "$PI_MIRROR" >"$PI_CACHE/debootstrap-arm64.log" 2>&1 ||
			pi_fail "debootstrap failed: $(tail -n 3 "$PI_CACHE/debootstrap-arm64.log")"
		touch "$root.tmp/.complete"
		mv "$root.tmp" "$root"
	fi
	echo "$root"
}

# binfmt_misc runs foreign binaries (in a chroot) through qemu-<arch>-static.
pi_binfmt() {
	local arch=$1
	if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
		mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
			pi_fail "cannot mount binfmt_misc"
	fi
	if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$arch" ]; then
		update-binfmts --enable "qemu-$arch" ||
			pi_fail "update-binfmts --enable qemu-$arch failed (is qemu-user-static installed?)"
	fi
	grep -qx enabled "/proc/sys/fs/binfmt_misc/qemu-$arch" ||
		pi_fail "binfmt qemu-$arch is registered but disabled"
}

# A Docker engine (docker/setup-engine.sh, which also imports the
# debian:bookworm-slim base image). An engine this test started is stopped
# again at exit, by docker/stop-engine.sh (by its pid).
pi_docker_engine() {
	local setup=$PI_SRC/docker/setup-engine.sh
	[ -x "$setup" ] || pi_fail "$setup is missing: it starts dockerd and imports the base image"
	if ! docker info >/dev/null 2>&1; then
		pi_at_exit "'$PI_SRC/docker/stop-engine.sh'"
	fi
	"$setup" || pi_fail "docker/setup-engine.sh failed"
}
