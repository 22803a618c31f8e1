#!/usr/bin/env bash
# test_pi_deb_armhf.sh -- cross-build the armhf (32-bit Pi OS) .deb, unit tests under qemu-arm-static, the package checked like the others, and each shipped binary checked to be ARMv6 (Pi Zero/1): every object in it, its attributes, every instruction of its code.
#
# What is checked and what cannot be: docs/RASPBERRY_PI.md, "armhf and the Pi Zero".
. "$(dirname "$0")/lib_pi.sh"
. "$(dirname "$0")/lib_deb.sh"
pi_need arm-linux-gnueabihf-gcc arm-linux-gnueabi-gcc arm-linux-gnueabihf-objdump qemu-arm-static dpkg-deb lintian cpack readelf ar
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

scan=$PI_SRC/tests/pi/armv6_scan.sh

# The scan can fail: code built for ARMv7 (ARM mode, then Thumb-2) is rejected
# for the instructions an ARM1176 lacks.
cat >"$PI_TMP/probe.c" <<'EOF'
unsigned probe_div(unsigned a, unsigned b) { return a / b; }
int probe_flag;
void probe_store(void) { __atomic_store_n(&probe_flag, 0x12345, __ATOMIC_SEQ_CST); }
unsigned probe_bits(unsigned x) { return (x >> 3) & 0x1f; }
EOF
arm-linux-gnueabihf-gcc -c -O2 -fno-pic -marm -march=armv7ve+fp "$PI_TMP/probe.c" -o "$PI_TMP/probe-arm.o"
arm-linux-gnueabihf-gcc -c -O2 -mthumb -march=armv7-a+fp "$PI_TMP/probe.c" -o "$PI_TMP/probe-thumb.o"
"$scan" "$PI_TMP/probe-arm.o" >"$PI_TMP/probe-arm.scan" && pi_fail "armv6_scan.sh accepts ARMv7 code"
for insn in udiv movw movt dmb ubfx; do
	grep -q "  $insn .*<- newer than ARMv6" "$PI_TMP/probe-arm.scan" ||
		pi_fail "armv6_scan.sh misses $insn: $(cat "$PI_TMP/probe-arm.scan")"
done
"$scan" "$PI_TMP/probe-thumb.o" >"$PI_TMP/probe-thumb.scan" && pi_fail "armv6_scan.sh accepts Thumb-2 code"
grep -q 'Thumb code' "$PI_TMP/probe-thumb.scan" || pi_fail "armv6_scan.sh misses Thumb-2 code"
pi_ok "armv6_scan.sh rejects ARMv7 code (udiv, movw, movt, dmb, ubfx) and Thumb-2"

start_files="Scrt1.o crti.o crtbeginS.o crtendS.o crtn.o"
for bin in iot-edge iot-sim; do
	case $bin in
	iot-edge) built=$dir/edge/iot-edge ;;
	iot-sim) built=$dir/simulator/iot-sim ;;
	esac
	shipped=$PI_TMP/root/usr/bin/$bin
	map=$built.map
	[ -f "$map" ] || pi_fail "no link map $map (packaging/toolchain-armhf.cmake writes one)"
	# The map and the scan describe the shipped program: cpack strips a copy
	# of this link (the scan needs the mapping symbols that strip removes).
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
	ours=0 starts=""
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
		# The only other static objects allowed: the start-up files, Debian
		# armel's less their attributes (packaging/toolchain-armhf.cmake).
		# Debian armhf's start-up files, libgcc.a and libc_nonshared.a are
		# ARMv7/Thumb-2.
		name=$(basename "$member")
		if [ -n "$archive" ] || [ "$member" != "$dir/armv6-startfiles/$name" ] ||
			[[ " $start_files " != *" $name "* ]]; then
			if [ -n "$archive" ]; then ar p "$archive" "$member" >"$obj"; else cp "$member" "$obj"; fi
			pi_fail "$bin links $input ($(isa "$obj")): only our objects and the ARMv6 start-up files may go in"
		fi
		armel=$(arm-linux-gnueabi-gcc -print-file-name="$name")
		# The copy is the armel file, code and all, less .ARM.attributes.
		arm-linux-gnueabihf-objcopy --remove-section=.ARM.attributes "$armel" "$obj"
		cmp -s "$obj" "$member" || pi_fail "$member is not $armel less its attributes"
		[ "$(attr "$armel" Tag_CPU_arch)" = v5TE ] || pi_fail "$armel is not ARMv5TE: $(isa "$armel")"
		# Sound in a hard-float program: no floating-point code, so the
		# soft- and hard-float calling conventions (which differ only for
		# float and double arguments and results) do not meet in them.
		if arm-linux-gnueabihf-objdump -d "$member" | grep -qP '^ +[0-9a-f]+:\t[0-9a-f ]+\tv'; then
			pi_fail "$armel has floating-point instructions"
		fi
		"$scan" "$member" >"$PI_TMP/start.scan" || pi_fail "$member: $(cat "$PI_TMP/start.scan")"
		starts="$starts $name"
	done <"$inputs"
	[ "$ours" -gt 0 ] || pi_fail "the map of $bin names none of our objects"
	[ "$(wc -w <<<"$starts")" -eq 5 ] || pi_fail "$bin has the start-up files$starts, not $start_files"
	pi_ok "$bin: all $ours objects of ours are ARMv6, ARM/Thumb-1, VFPv2, hard-float; the start-up files$starts are armel's (ARMv5TE, ARM mode, no floating point); no libgcc.a, libc_nonshared.a or other static object"

	# The program itself: its attributes and ELF header.
	pi_say "readelf -A /usr/bin/$bin:"
	readelf -A "$shipped" | grep -E 'Tag_CPU_arch:|Tag_THUMB_ISA_use|Tag_FP_arch|Tag_Advanced_SIMD_arch|Tag_ABI_VFP_args' |
		sed 's/^/    /'
	v6_check "$shipped" "/usr/bin/$bin"
	readelf -h "$shipped" | grep -q 'Flags:.*hard-float ABI' ||
		pi_fail "/usr/bin/$bin: the ELF header does not say hard-float ABI"
	readelf -lW "$shipped" | grep -q 'interpreter: /lib/ld-linux-armhf.so.3' ||
		pi_fail "/usr/bin/$bin does not use the armhf loader"
	pi_ok "/usr/bin/$bin: Tag_CPU_arch v6, no Thumb-2, VFPv2, no NEON, hard-float, /lib/ld-linux-armhf.so.3"

	# Its code, instruction by instruction (the unstripped link, same build ID).
	"$scan" "$built" >"$PI_TMP/$bin.scan" || {
		head -n 20 "$PI_TMP/$bin.scan" >&2
		pi_fail "/usr/bin/$bin has code an ARM1176 cannot run: $(tail -n 1 "$PI_TMP/$bin.scan")"
	}
	pi_ok "/usr/bin/$bin: armv6_scan.sh: $(tail -n 1 "$PI_TMP/$bin.scan")"
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
