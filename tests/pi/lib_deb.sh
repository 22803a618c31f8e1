# lib_deb.sh -- build one architecture's .deb with packaging/build-deb.sh and check what is in it (sourced by test_pi_deb_*.sh).
# shellcheck shell=bash

# pi_check_deb ARCH: build (for a cross architecture the unit tests run
# first, under qemu; amd64's run in the sanitizer build), then check the package.
pi_check_deb() {
	local arch=$1 dir=$PI_WORK/$1 deb log=$PI_TMP/build-deb.log test=""
	[ "$arch" = amd64 ] || test=--test
	pi_say "building the $arch package in $dir"
	if ! deb=$("$PI_SRC/packaging/build-deb.sh" "$arch" "$dir" $test 2>"$log"); then
		tail -n 60 "$log"
		pi_fail "packaging/build-deb.sh $arch failed"
	fi
	if [ -n "$test" ]; then
		grep -E 'tests passed|Test +#' "$log" || true
		grep -q '100% tests passed' "$log" || pi_fail "the $arch unit tests did not all pass"
		pi_ok "$arch unit tests pass under qemu-$(pi_qemu_arch "$arch")-static"
	fi

	local name
	name=$(basename "$deb")
	[[ "$name" =~ ^iot-edge_[0-9]+\.[0-9]+\.[0-9]+-1_${arch}\.deb$ ]] || pi_fail "unexpected file name $name"
	pi_ok "file name $name"
	[ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || pi_fail "Architecture is not $arch"

	# The binaries are for the right machine and hardened.
	dpkg-deb -x "$deb" "$PI_TMP/root"
	local want
	want=$(pi_elf_machine "$arch")
	for bin in iot-edge iot-sim; do
		local f=$PI_TMP/root/usr/bin/$bin
		[ -x "$f" ] || pi_fail "/usr/bin/$bin missing"
		file -b "$f" | grep -q "$want" || pi_fail "$bin is not $want: $(file -b "$f")"
		file -b "$f" | grep -q 'pie executable' || pi_fail "$bin is not PIE"
		case "$(file -b "$f")" in
		*"not stripped"*) pi_fail "$bin is not stripped" ;;
		*stripped*) ;;
		*) pi_fail "file does not say whether $bin is stripped" ;;
		esac
		readelf -d "$f" | grep -q 'BIND_NOW' || pi_fail "$bin is not linked with -z now"
		readelf -lW "$f" | grep -q 'GNU_RELRO' || pi_fail "$bin has no RELRO"
	done
	pi_ok "iot-edge and iot-sim: $want, PIE, RELRO, BIND_NOW, stripped"

	# Every file it should hold.
	local path
	for path in usr/bin/iot-edge usr/bin/iot-sim lib/systemd/system/iot-edge.service \
		usr/lib/sysusers.d/iot-edge.conf usr/lib/tmpfiles.d/iot-edge.conf \
		etc/iot-edge/iot-edge.conf usr/share/man/man8/iot-edge.8.gz \
		usr/share/man/man5/iot-edge.conf.5.gz usr/share/man/man1/iot-sim.1.gz \
		usr/share/doc/iot-edge/copyright usr/share/doc/iot-edge/changelog.Debian.gz \
		usr/share/lintian/overrides/iot-edge; do
		[ -f "$PI_TMP/root/$path" ] || pi_fail "/$path is not in the package"
	done
	cmp "$PI_TMP/root/etc/iot-edge/iot-edge.conf" "$PI_SRC/packaging/iot-edge.conf" ||
		pi_fail "the packaged iot-edge.conf is not packaging/iot-edge.conf"
	cmp "$PI_TMP/root/lib/systemd/system/iot-edge.service" "$PI_SRC/systemd/iot-edge.service" ||
		pi_fail "the packaged unit is not systemd/iot-edge.service"
	pi_ok "binaries, unit, sysusers, tmpfiles, conffile, 3 man pages, copyright, changelog"

	# Control: the conffile, the maintainer scripts, Depends from the libraries.
	dpkg-deb -e "$deb" "$PI_TMP/control"
	[ "$(cat "$PI_TMP/control/conffiles")" = /etc/iot-edge/iot-edge.conf ] ||
		pi_fail "conffiles is not exactly /etc/iot-edge/iot-edge.conf"
	for script in postinst prerm postrm; do
		[ -x "$PI_TMP/control/$script" ] || pi_fail "no executable $script"
		sh -n "$PI_TMP/control/$script" || pi_fail "$script is not valid sh"
	done
	grep -q 'deb-systemd-helper enable' "$PI_TMP/control/postinst" || pi_fail "postinst does not enable the unit"
	local depends
	depends=$(dpkg-deb -f "$deb" Depends)
	pi_say "Depends: $depends"
	local libs=(libc6 libsqlite3-0 libcurl4 libmicrohttpd12 libcjson1 libinih1 zlib1g libsystemd0 adduser)
	# ARMv6 has no 64-bit atomic instructions: libatomic; libgcc's helpers
	# come from libgcc_s.so.1 (toolchain-armhf.cmake)
	[ "$arch" != armhf ] || libs+=(libatomic1 libgcc-s1)
	for lib in "${libs[@]}"; do
		[[ ", $depends," == *", $lib"[\ ,]* ]] || pi_fail "Depends lacks $lib"
	done
	pi_ok "conffile, maintainer scripts, Depends"

	pi_lintian "$deb"
}

pi_qemu_arch() {
	case "$1" in
	arm64) echo aarch64 ;;
	armhf) echo arm ;;
	*) echo "$1" ;;
	esac
}

pi_elf_machine() {
	case "$1" in
	amd64) echo x86-64 ;;
	arm64) echo 'ARM aarch64' ;;
	armhf) echo 'ARM, EABI5' ;;
	esac
}
