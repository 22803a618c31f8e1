#!/usr/bin/env bash
# test_pi_deb_amd64.sh -- build the amd64 .deb (hardened release build) and check its contents, Depends, conffile, scripts and lintian.
. "$(dirname "$0")/lib_pi.sh"
. "$(dirname "$0")/lib_deb.sh"
pi_need dpkg-deb dpkg-shlibdeps lintian cpack
pi_check_deb amd64
