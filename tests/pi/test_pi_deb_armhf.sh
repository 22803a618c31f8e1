#!/usr/bin/env bash
# test_pi_deb_armhf.sh -- cross-build the armhf (32-bit Pi OS) .deb, unit tests under qemu-arm-static, the package checked like the others, and our code in each shipped binary checked to be ARMv6 (Pi Zero/1).
#
# What is checked and what cannot be: docs/RASPBERRY_PI.md, "armhf and the Pi Zero".
. "$(dirname "$0")/lib_pi.sh"
. "$(dirname "$0")/lib_deb.sh"
pi_need arm-linux-gnueabihf-gcc qemu-arm-static dpkg-deb lintian cpack readelf ar
dir=$PI_WORK/armhf
# CMake keeps the flags of a build folder's first configure: one made before
# the ARMv6 flags (packaging/toolchain-armhf.cmake) would keep ARMv7 code.
if [ -f "$dir/CMakeCache.txt" ] && ! grep -q '^CMAKE_C_FLAGS:.*-march=armv6+fp' "$dir/CMakeCache.txt"; then
	pi_say "$dir was configured without the ARMv6 flags: building it anew"
	rm -rf --one-file-system "$dir"
fi
pi_check_deb armhf

# attr FILE TAG: the value readelf -A gives for TAG ("" when absent).
attr() { readelf -A "$1" | sed -n "s/^ *$2: //p" | head -n 1; }

# isa FILE: the three attributes that say which CPU can run FILE's code.
isa() { printf 'Tag_CPU_arch: %s, Tag_THUMB_ISA_use: %s, Tag_FP_arch: %s' \
	"$(attr "$1" Tag_CPU_arch)" "$(attr "$1" Tag_THUMB_ISA_use)" "$(attr "$1" Tag_FP_arch)"; }

# v6_check FILE NAME: our code runs on an ARM1176JZF-S: ARMv6, ARM or
# Thumb-1 (no Thumb-2), VFPv2 (no VFPv3, no NEON), hard-float calls.
v6_check() {
	local f=$1 name=$2
	[ "$(attr "$f" Tag_CPU_arch)" = v6 ] || pi_fail "$name is not ARMv6: $(isa "$f")"
	case "$(attr "$f" Tag_THUMB_ISA_use)" in
	"" | Thumb-1) ;;
	*) pi_fail "$name may use Thumb-2: $(isa "$f")" ;;
	esac
	[ "$(attr "$f" Tag_FP_arch)" = VFPv2 ] || pi_fail "$name is not VFPv2: $(isa "$f")"
	[ -z "$(attr "$f" Tag_Advanced_SIMD_arch)" ] || pi_fail "$name uses NEON"
	[ "$(attr "$f" Tag_ABI_VFP_args)" = "VFP registers" ] || pi_fail "$name is not hard-float"
}

for bin in iot-edge iot-sim; do
	case $bin in
	iot-edge) built=$dir/edge/iot-edge ;;
	iot-sim) built=$dir/simulator/iot-sim ;;
	esac
	shipped=$PI_TMP/root/usr/bin/$bin
	map=$built.map
	[ -f "$map" ] || pi_fail "no link map $map (packaging/toolchain-armhf.cmake writes one)"
	# The map describes the shipped program: cpack strips a copy of this link.
	id_built=$(readelf -n "$built" | sed -n 's/^ *Build ID: //p')
	id_shipped=$(readelf -n "$shipped" | sed -n 's/^ *Build ID: //p')
	if [ -z "$id_built" ] || [ "$id_built" != "$id_shipped" ]; then
		pi_fail "/usr/bin/$bin (build ID $id_shipped) is not $built ($id_built)"
	fi

	# Every static object the link put into the program: the plain objects
	# (LOAD lines) and the archive members. Shared libraries are the Pi's own
	# at run time and not looked at.
	inputs=$PI_TMP/$bin.inputs
	{
		sed -n 's/^LOAD \(.*\.o\)$/\1/p' "$map"
		sed -n '/^Archive member included/,/^Discarded input sections/p' "$map" |
			grep -oE '^[^ ]+\.a\([^)]+\)' || true
	} >"$inputs"
	ours=0 theirs=0 v7=0
	while IFS= read -r input; do
		obj=$PI_TMP/obj.o
		case "$input" in
		*.a\(*\))
			archive=${input%%(*} member=${input#*(}
			member=${member%)}
			;;
		*) archive="" member=$input ;;
		esac
		if [[ "$input" != /* ]]; then
			# Ours: a path in this build, relative to the program's folder.
			if [ -n "$archive" ]; then
				ar p "$(dirname "$built")/$archive" "$member" >"$obj"
			else
				cp "$(dirname "$built")/$member" "$obj"
			fi
			v6_check "$obj" "$input"
			ours=$((ours + 1))
			continue
		fi
		# The toolchain's: the startup files, libgcc's helpers, libc_nonshared.
		case "$(basename "${archive:-$member}")" in
		Scrt1.o | crti.o | crtn.o | crtbeginS.o | crtendS.o | libgcc.a | libc_nonshared.a) ;;
		*) pi_fail "$bin links a static object that is neither ours nor the toolchain's: $input" ;;
		esac
		if [ -n "$archive" ]; then ar p "$archive" "$member" >"$obj"; else cp "$member" "$obj"; fi
		pi_say "  toolchain's $(basename "${archive:-$member}")${archive:+($member)}: $(isa "$obj")"
		[ "$(attr "$obj" Tag_CPU_arch)" = v6 ] || v7=$((v7 + 1))
		theirs=$((theirs + 1))
	done <"$inputs"
	[ "$ours" -gt 0 ] || pi_fail "the map of $bin names none of our objects"
	pi_ok "$bin: all $ours objects of ours are ARMv6, ARM/Thumb-1, VFPv2, hard-float; $theirs of the toolchain's, $v7 of them newer than ARMv6 (listed above)"

	# The program's attributes are the highest of its inputs': v6 if all
	# were, else what the toolchain's objects brought (never newer than v7).
	pi_say "readelf -A /usr/bin/$bin:"
	readelf -A "$shipped" | grep -E 'Tag_CPU_arch:|Tag_THUMB_ISA_use|Tag_FP_arch|Tag_Advanced_SIMD_arch|Tag_ABI_VFP_args' |
		sed 's/^/    /'
	want=v6
	[ "$v7" -eq 0 ] || want=v7
	[ "$(attr "$shipped" Tag_CPU_arch)" = "$want" ] ||
		pi_fail "/usr/bin/$bin is $(attr "$shipped" Tag_CPU_arch), its inputs make it $want"
	[ -z "$(attr "$shipped" Tag_Advanced_SIMD_arch)" ] || pi_fail "/usr/bin/$bin uses NEON"
	[ "$(attr "$shipped" Tag_ABI_VFP_args)" = "VFP registers" ] || pi_fail "/usr/bin/$bin is not hard-float"
	readelf -lW "$shipped" | grep -q 'interpreter: /lib/ld-linux-armhf.so.3' ||
		pi_fail "/usr/bin/$bin does not use the armhf loader"
	pi_ok "/usr/bin/$bin: $want as its inputs make it, no NEON, hard-float, /lib/ld-linux-armhf.so.3"
done

# An emulated ARM1176 (the Pi Zero's CPU) runs no Thumb-2 and no ARMv7
# instruction. Debian's armhf loader and libc are ARMv7/Thumb-2, so there it
# stops with SIGILL before any of our code runs: reported, not a failure.
rc=0
QEMU_CPU=arm1176 qemu-arm-static "$dir/tests/unit/test_answer" >"$PI_TMP/arm1176.log" 2>&1 || rc=$?
case $rc in
0) pi_ok "test_answer passes on an emulated ARM1176 (qemu-arm -cpu arm1176)" ;;
132) pi_say "qemu-arm -cpu arm1176: SIGILL (Debian's ARMv7 loader/libc; see docs/RASPBERRY_PI.md)" ;;
*) pi_fail "test_answer under qemu-arm -cpu arm1176 exited $rc: $(tail -n 5 "$PI_TMP/arm1176.log")" ;;
esac
