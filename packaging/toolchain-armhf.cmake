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
# The programs are ARMv6 throughout: our objects are compiled for it, and the
# link takes neither Debian armhf's ARMv7/Thumb-2 start-up files nor its static
# libgcc (see the end of this file and docs/RASPBERRY_PI.md, "armhf and the Pi
# Zero"). Needs crossbuild-essential-armel too.
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
# How a program is linked, so that it holds no ARMv7 code:
#  - the start-up files (_start, _init/_fini, crtbegin/crtend) are Debian
#    armel's (crossbuild-essential-armel: ARMv5TE, ARM mode, no floating
#    point), not armhf's (ARMv7, Thumb-2). Their .ARM.attributes section is
#    dropped in a copy: it says "soft-float calls", which ld refuses next to
#    hard-float objects ("uses VFP register arguments, ... does not"), though
#    no function in them takes or returns a float (docs/RASPBERRY_PI.md says
#    why the mix is sound; tests/pi/test_pi_deb_armhf.sh scans their code);
#  - libgcc's helpers (division, double <-> 64-bit integer, ...) come from the
#    shared libgcc_s.so.1, the Pi's own ARMv6 build at run time, and never
#    from the static libgcc.a (ARMv7, Thumb-2): -nostdlib, then the driver's
#    libraries with -lgcc_s in place of -lgcc. (libgcc_s.so is a linker
#    script, libgcc_s.so.1 then libgcc.a for what only the static library
#    has: none of our programs needs such a function today, and the test
#    fails if a libgcc.a member ever goes in);
#  - each program's link map (<program>.map beside it) names every object that
#    went in; tests/pi/test_pi_deb_armhf.sh checks each is ARMv6.
foreach(f Scrt1.o crti.o crtn.o crtbeginS.o crtendS.o)
  execute_process(COMMAND arm-linux-gnueabi-gcc -print-file-name=${f}
                  OUTPUT_VARIABLE armel_${f} OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0 OR NOT IS_ABSOLUTE "${armel_${f}}" OR NOT EXISTS "${armel_${f}}")
    message(FATAL_ERROR "no armel ${f} (arm-linux-gnueabi-gcc): install crossbuild-essential-armel")
  endif()
  set(start_dir ${CMAKE_BINARY_DIR}/armv6-startfiles)
  file(MAKE_DIRECTORY ${start_dir})
  execute_process(COMMAND arm-linux-gnueabihf-objcopy --remove-section=.ARM.attributes
                          "${armel_${f}}" ${start_dir}/${f} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "arm-linux-gnueabihf-objcopy of ${armel_${f}} failed")
  endif()
endforeach()
# CMake's default rule for C programs, with those start-up files and libraries
# in the order gcc uses (arm-linux-gnueabihf-gcc -###), and -Map.
set(gcc_s "-Wl,--push-state,--as-needed -lgcc_s -Wl,--pop-state")
set(CMAKE_C_LINK_EXECUTABLE
    "<CMAKE_C_COMPILER> <FLAGS> <CMAKE_C_LINK_FLAGS> <LINK_FLAGS> -nostdlib ${start_dir}/Scrt1.o ${start_dir}/crti.o ${start_dir}/crtbeginS.o <OBJECTS> -o <TARGET> -Wl,-Map=<TARGET>.map <LINK_LIBRARIES> ${gcc_s} -lc ${gcc_s} ${start_dir}/crtendS.o ${start_dir}/crtn.o")

# packaging/CPackConfig.cmake: the Debian architecture of the .deb.
set(IOT_EDGE_DEB_ARCH armhf)
