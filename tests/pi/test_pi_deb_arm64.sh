#!/usr/bin/env bash
# test_pi_deb_arm64.sh -- cross-build for arm64, run the unit tests under qemu-aarch64-static, then build and check the arm64 .deb.
. "$(dirname "$0")/lib_pi.sh"
. "$(dirname "$0")/lib_deb.sh"
pi_need aarch64-linux-gnu-gcc qemu-aarch64-static dpkg-deb dpkg-shlibdeps lintian cpack
pi_check_deb arm64
