#!/usr/bin/env bash
# armv6_scan.sh -- list every instruction in an ARM ELF file's code that an ARM1176JZF-S (Pi Zero/1: ARMv6, ARM and Thumb-1, VFPv2) cannot run; exit 1 if there is one.
#
# Usage: tests/pi/armv6_scan.sh FILE   (a program or an object file, not stripped)
# Reads the code itself (arm-linux-gnueabihf-objdump -d: .init, .plt, .text,
# .fini, every executable section), not the ELF attributes, which only say
# what the compiler was asked for. Needs the mapping symbols ($a, $t, $d) that
# strip removes: they tell code from literal pools, and ARM from Thumb.
# Rejects, each line naming the address, the encoding and the reason:
#  - Thumb code of any kind ($t mapping symbols, 16-bit or 32-bit encodings):
#    ARMv6 has Thumb-1, but nothing of ours or of the start-up files is Thumb,
#    so any Thumb means a Thumb-2 (ARMv7) toolchain object came in;
#  - ARM-mode instructions of ARMv6T2, ARMv6K, ARMv7 and later: movw/movt,
#    bit fields, rbit, mls, sdiv/udiv, dmb/dsb/isb, clrex, byte/halfword/
#    doubleword exclusives, the hints (nop/yield/wfe/wfi/sev encodings), pli,
#    dbg, smc, the unprivileged ldrht/strht/ldrsbt/ldrsht;
#  - VFP/NEON beyond VFPv2: NEON data types and q registers, d16-d31,
#    immediate vmov and fixed-point vcvt (VFPv3), half-precision and fused
#    multiply-add (VFPv3-FP16, VFPv4), any vector mnemonic VFPv2 lacks.
# Prints "N instructions, M rejected" last; the rejected ones before it.
set -euo pipefail

f=${1:?usage: armv6_scan.sh FILE}
objdump=${OBJDUMP:-arm-linux-gnueabihf-objdump}
[ -r "$f" ] || {
	echo "armv6_scan: cannot read $f" >&2
	exit 2
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/armv6_scan.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
readelf -sW "$f" | awk '$8 ~ /^\$t/ { print "0x" $2 ": Thumb code (mapping symbol " $8 ")" }' >"$tmp/thumb"
rc=0
"$objdump" -d "$f" | awk -F'\t' -v thumb="$(wc -l <"$tmp/thumb")" '
BEGIN {
	cond = "(eq|ne|cs|hs|cc|lo|mi|pl|vs|vc|hi|ls|ge|lt|gt|le|al)?"
	newer = "^(movw|movt|ubfx|sbfx|bfi|bfc|rbit|mls|sdiv|udiv|dmb|dsb|isb|clrex|ldrexb|ldrexh|ldrexd|strexb|strexh|strexd|yield|wfe|wfi|sev|sevl|pli|dbg|smc|ldrht|strht|ldrsbt|ldrsht|cbz|cbnz)" cond "$"
	vfp2 = "^(vadd|vsub|vmul|vnmul|vmla|vmls|vnmla|vnmls|vdiv|vsqrt|vabs|vneg|vcmp|vcmpe|vcvt|vcvtr|vmov|vmrs|vmsr|vldr|vstr|vldm|vldmia|vldmdb|vstm|vstmia|vstmdb|vpush|vpop)" cond "$"
	n = 0; bad = 0
}
function reject(why) { print addr ": " raw "  " mnem " " ops "  <- " why; bad++ }
/^ *[0-9a-f]+:\t/ {
	addr = $1; sub(/^ */, "", addr); sub(/:$/, "", addr); addr = "0x" addr
	raw = $2; gsub(/ +$/, "", raw)
	mnem = $3; ops = $4; note = ops; sub(/[ \t]*[;@].*$/, "", ops)
	if (mnem ~ /^\.(word|short|byte)$/) next   # a literal pool ($d)
	n++
	if (mnem ~ /UNDEFINED|UNPREDICTABLE/ || note ~ /UNPREDICTABLE/) { reject("undefined or unpredictable here"); next }
	if (length(raw) != 8 || raw !~ /^[0-9a-f]+$/) { reject("not a 32-bit ARM-mode encoding (Thumb)"); next }
	if (mnem ~ /\.[wn]$/) { reject("Thumb-2 width suffix"); next }
	if (mnem ~ /^it[te]*$/) { reject("Thumb-2 IT block"); next }
	if (mnem ~ newer) { reject("newer than ARMv6 (ARMv6T2/ARMv6K/ARMv7)"); next }
	if (raw ~ /^[0-9a-e]320f0/) { reject("hint instruction (ARMv6K)"); next }
	if (mnem ~ /^v/) {
		base = mnem; sub(/\..*$/, "", base)
		types = (index(mnem, ".") ? substr(mnem, index(mnem, ".")) : "")
		if (base !~ vfp2) { reject("not a VFPv2 instruction"); next }
		if (types != "" && types !~ /^(\.(f32|f64|s32|u32))+$/) { reject("NEON or half-precision data type"); next }
		if (ops ~ /(^|[^a-z0-9_])(q[0-9]+|d(1[6-9]|2[0-9]|3[01]))([^0-9]|$)/) { reject("q or d16-d31 register (NEON/VFPv3-D32)"); next }
		plain = ops; gsub(/\[[^]]*\]/, "", plain)
		if (plain ~ /#/ && base !~ /^vcmpe?/) { reject("immediate operand (VFPv3 vmov/vcvt)"); next }
	}
}
END {
	printf "%d instructions, %d rejected (%d Thumb mapping symbols)\n", n, bad + thumb, thumb
	exit (bad + thumb > 0)
}' >"$tmp/scan" || rc=$?
cat "$tmp/thumb" "$tmp/scan"
exit "$rc"
