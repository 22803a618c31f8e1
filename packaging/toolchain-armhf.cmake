# toolchain-armhf.cmake -- cross-build for 32-bit Raspberry Pi OS / Debian armhf (best effort): crossbuild-essential-armhf, armhf libraries, tests under qemu.
#
# Two ways to get the armhf libraries:
#  - multiarch, like arm64: dpkg --add-architecture armhf, then the :armhf -dev
#    packages (see toolchain-aarch64.cmake). When last tried, the mirror's
#    bookworm-security armhf index failed its size check, so apt could not
#    install them next to the (security-updated) amd64 ones.
#  - a sysroot: PI_ARMHF_SYSROOT=/path/to/rootfs, a `debootstrap
#    --arch=armhf --include=<the -dev packages>` tree (packaging/build-deb.sh
#    armhf makes one when the multiarch packages are missing).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7l)
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
set(CMAKE_C_FLAGS_INIT "-D_FILE_OFFSET_BITS=64")

# packaging/CPackConfig.cmake: the Debian architecture of the .deb.
set(IOT_EDGE_DEB_ARCH armhf)
