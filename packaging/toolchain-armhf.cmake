# toolchain-armhf.cmake -- cross-build for 32-bit Raspberry Pi OS / Debian armhf, ARMv6 code for the Pi Zero/1: crossbuild-essential-armhf, armhf libraries, tests under qemu.
#
# Two ways to get the armhf libraries:
#  - multiarch, like arm64 (what ./dev deps test installs and CI uses):
#    dpkg --add-architecture armhf, then the :armhf -dev packages and
#    libatomic1:armhf (see toolchain-aarch64.cmake). Once, the mirror's
#    bookworm-security armhf index failed its size check, so apt could not
#    install them next to the (security-updated) amd64 ones.
#  - a sysroot: PI_ARMHF_SYSROOT=/path/to/rootfs, a `debootstrap
#    --arch=armhf --include=<the -dev packages>` tree (packaging/build-deb.sh
#    armhf makes one when the multiarch packages are missing).
#
# Our objects are ARMv6; the programs are not all ARMv6: the link adds
# Debian's ARMv7/Thumb-2 startup files and libgcc helpers (docs/RASPBERRY_PI.md,
# "armhf and the Pi Zero").
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv6l)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE arm-linux-gnueabihf)

if(DEFINED ENV{PI_ARMHF_SYSROOT} AND NOT "$ENV{PI_ARMHF_SYSROOT}" STREQUAL "")
  set(PI_ARMHF_SYSROOT "$ENV{PI_ARMHF_SYSROOT}")
endif()
if(PI_ARMHF_SYSROOT)
  set(CMAKE_SYSROOT ${PI_ARMHF_SYSROOT})
  set(CMAKE_FIND_ROOT_PATH ${PI_ARMHF_SYSROOT})
  set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
  set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
  set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
  set(ENV{PKG_CONFIG_SYSROOT_DIR} "${PI_ARMHF_SYSROOT}")
  set(ENV{PKG_CONFIG_LIBDIR}
      "${PI_ARMHF_SYSROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig:${PI_ARMHF_SYSROOT}/usr/share/pkgconfig")
  set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-arm-static;-L;${PI_ARMHF_SYSROOT}")
else()
  set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/arm-linux-gnueabihf/pkgconfig:/usr/share/pkgconfig")
  # No -L: libc6:armhf provides a loader that matches its libc (see toolchain-aarch64.cmake).
  set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-arm-static")
endif()
set(ENV{PKG_CONFIG_PATH} "")

# 64-bit off_t on 32-bit ARM: readdir() works under qemu-arm on a 64-bit host
# (ext4's 64-bit directory cookies, else EOVERFLOW). Not _TIME_BITS=64:
# bookworm's armhf libraries use a 32-bit time_t, and libcurl's
# curl_getdate() returns one (64-bit time_t came with Debian 13's t64
# transition). So on armhf bookworm time_t ends in 2038, and
# tests/unit/test_rfc3339.c's walk to 2261 does not end there.
#
# Raspberry Pi OS's armhf ABI, which the Pi Zero / Zero W / 1 (ARM1176JZF-S)
# can run: ARMv6 in ARM mode with VFPv2, hard-float calls. Debian's armhf
# default (-march=armv7-a+fp -mthumb) would emit Thumb-2 and ARMv7
# instructions, which those CPUs cannot execute (SIGILL). The same flags link
# against Debian's and Raspberry Pi OS's libraries (same hard-float EABI).
set(IOT_EDGE_ARMHF_CPU_FLAGS "-marm -march=armv6+fp -mfpu=vfp -mfloat-abi=hard")
set(CMAKE_C_FLAGS_INIT "${IOT_EDGE_ARMHF_CPU_FLAGS} -D_FILE_OFFSET_BITS=64")
# ARMv6 has no 64-bit LDREXD/STREXD (those came with ARMv6K), so gcc calls
# libatomic for the 64-bit atomics (edge/common/clock.c and the counters);
# the shared library, so that the Pi's own libatomic1 runs them.
set(CMAKE_C_STANDARD_LIBRARIES_INIT "-latomic")
# Each program's link map (<program>.map beside it): which objects went into
# it. Debian's startup files and libgcc are ARMv7/Thumb-2, and the link pulls
# some in; tests/pi/test_pi_deb_armhf.sh reads the map to tell our objects
# (checked to be ARMv6) from the toolchain's (see docs/RASPBERRY_PI.md).
# CMake's default rule for C programs, plus -Map.
set(CMAKE_C_LINK_EXECUTABLE
    "<CMAKE_C_COMPILER> <FLAGS> <CMAKE_C_LINK_FLAGS> <LINK_FLAGS> <OBJECTS> -o <TARGET> -Wl,-Map=<TARGET>.map <LINK_LIBRARIES>")

# packaging/CPackConfig.cmake: the Debian architecture of the .deb.
set(IOT_EDGE_DEB_ARCH armhf)
