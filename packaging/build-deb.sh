#!/usr/bin/env bash
# build-deb.sh -- build iot-edge_<version>-1_<arch>.deb for amd64, or cross for arm64/armhf, with Debian's hardening flags.
#
# Usage: packaging/build-deb.sh ARCH BUILD_DIR [--test]
#   ARCH       this machine's (native: amd64, or arm64 on a 64-bit Pi), or arm64/armhf
#              cross from amd64 (see packaging/toolchain-*.cmake)
#   BUILD_DIR  a fresh or earlier build directory of this script
#   --test     run the unit tests (under qemu for arm64/armhf) before packaging
# Prints the path of the .deb on its last line. armhf is built for ARMv6 (Pi
# Zero/1, see packaging/toolchain-armhf.cmake: our code, Debian armel's
# start-up files from crossbuild-essential-armel, libgcc's helpers from the
# shared libgcc_s) against the :armhf -dev packages (./dev deps test); without
# them, against a debootstrapped armhf sysroot ($PI_CACHE_DIR/sysroot-armhf,
# made on first use).
set -euo pipefail

arch=${1:?usage: build-deb.sh amd64|arm64|armhf BUILD_DIR [--test]}
dir=${2:?usage: build-deb.sh amd64|arm64|armhf BUILD_DIR [--test]}
run_tests=${3:-}
src=$(cd "$(dirname "$0")/.." && pwd)
cache=${PI_CACHE_DIR:-/var/cache/iot-edge-pi}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { printf 'build-deb: %s\n' "$*" >&2; }

# The armhf -dev packages in a sysroot, when multiarch could not install them.
armhf_sysroot()
{
	local root=$cache/sysroot-armhf
	if [ -e "$root/.complete" ]; then
		echo "$root"
		return 0
	fi
	mkdir -p "$cache"
	rm -rf "$root.tmp"
	# debootstrap's second stage runs armhf programs in a chroot: through
	# qemu-arm-static by binfmt_misc, else "Exec format error".
	if [ "$(head -n 1 /proc/sys/fs/binfmt_misc/qemu-arm 2>/dev/null)" != enabled ]; then
		update-binfmts --enable qemu-arm || {
			say "cannot enable the qemu-arm binfmt (update-binfmts --enable qemu-arm)"
			return 1
		}
	fi
	say "debootstrap --arch=armhf sysroot with the -dev packages (a few minutes; log: $cache/sysroot-armhf.log)"
	if ! debootstrap --arch=armhf --variant=minbase \
		--include=libc6-dev,libsqlite3-dev,libcurl4-openssl-dev,libmicrohttpd-dev,libcjson-dev,libinih-dev,libcmocka-dev,zlib1g-dev,libsystemd-dev \
		bookworm "$root.tmp" "$mirror" >"$cache/sysroot-armhf.log" 2>&1; then
		tail -n 5 "$cache/sysroot-armhf.log" >&2
		say "debootstrap of the armhf sysroot failed"
		return 1
	fi
	touch "$root.tmp/.complete"
	mv "$root.tmp" "$root"
	echo "$root"
}

cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=/usr
	-DIOT_EDGE_SANITIZE=OFF -DIOT_EDGE_SYSTEMD=ON)
case "$arch" in
"$(dpkg --print-architecture)")
	say "native build for $arch"
	if [ "$arch" = armhf ]; then
		# On the Pi itself (Raspberry Pi OS, 32-bit): the flags and libatomic
		# of packaging/toolchain-armhf.cmake, with the system's own startup
		# files and libgcc, which are ARMv6 there, so the cross link's armel
		# start-up files are not needed (not tried here: no Pi).
		native_cflags="-marm -march=armv6+fp -mfpu=vfp -mfloat-abi=hard -D_FILE_OFFSET_BITS=64"
		cmake_args+=(-DCMAKE_C_STANDARD_LIBRARIES=-latomic)
	fi
	;;
amd64)
	say "amd64 packages are built on amd64 machines"
	exit 2
	;;
arm64)
	cmake_args+=(-DCMAKE_TOOLCHAIN_FILE="$src/packaging/toolchain-aarch64.cmake")
	;;
armhf)
	cmake_args+=(-DCMAKE_TOOLCHAIN_FILE="$src/packaging/toolchain-armhf.cmake")
	if ! dpkg-query -W -f='${Status}' libsqlite3-dev:armhf 2>/dev/null | grep -q 'ok installed'; then
		sysroot=$(armhf_sysroot)
		export PI_ARMHF_SYSROOT=$sysroot
		cmake_args+=(-DIOT_EDGE_DEB_SHLIBDEPS=OFF)
		say "using the armhf sysroot $sysroot (Depends: a fixed list, not dpkg-shlibdeps)"
	fi
	;;
*)
	say "unknown architecture $arch (amd64, arm64 or armhf)"
	exit 2
	;;
esac

# Debian's build flags for the target: -O2, fortify, stack protector, relro, bindnow, PIE.
export DEB_HOST_ARCH=$arch
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
cflags="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS) ${native_cflags:-}"
ldflags=$(dpkg-buildflags --get LDFLAGS)

mkdir -p "$dir"
say "configuring $arch in $dir"
CFLAGS=$cflags LDFLAGS=$ldflags cmake -S "$src" -B "$dir" "${cmake_args[@]}" >"$dir/configure.log" 2>&1 || {
	cat "$dir/configure.log" >&2
	exit 1
}
say "building"
cmake --build "$dir" -j"$(nproc)" >"$dir/build.log" 2>&1 || {
	tail -n 40 "$dir/build.log" >&2
	exit 1
}
if [ "$run_tests" = --test ]; then
	say "unit tests$([ "$arch" = amd64 ] || echo " under qemu ($arch)")"
	# Under qemu-arm, test_log's test_limit_across_threads (4 threads on one
	# lock-free log_limit) dies with SIGSEGV in about 1 run of 6; natively and
	# under ThreadSanitizer it always passes. Not understood yet (qemu-user's
	# threads, or the ARMv6 build's 64-bit atomics through libatomic): until it
	# is, a test under qemu gets up to 3 runs, and one that fails every time
	# still fails the build. docs/RASPBERRY_PI.md says so.
	repeat=()
	[ "$arch" = amd64 ] || repeat=(--repeat until-pass:3)
	(cd "$dir" && ctest -L unit --output-on-failure --timeout 600 "${repeat[@]}") >&2
fi
say "packaging"
rm -rf "$dir/deb"
(cd "$dir" && cpack -G DEB) >"$dir/cpack.log" 2>&1 || {
	cat "$dir/cpack.log" >&2
	exit 1
}
deb=$(find "$dir/deb" -maxdepth 1 -name "iot-edge_*_${arch}.deb" | head -n 1)
[ -n "$deb" ] || {
	cat "$dir/cpack.log" >&2
	say "cpack made no iot-edge_*_${arch}.deb"
	exit 1
}
echo "$deb"
