#!/usr/bin/env bash
# test_pi_deb_armhf.sh -- best effort: cross-build for armhf (32-bit Pi OS), unit tests under qemu-arm-static, the armhf .deb checked like the others.
. "$(dirname "$0")/lib_pi.sh"
. "$(dirname "$0")/lib_deb.sh"
pi_need arm-linux-gnueabihf-gcc qemu-arm-static debootstrap dpkg-deb lintian cpack
pi_check_deb armhf
