# toolchain-aarch64.cmake -- cross-build for 64-bit Raspberry Pi OS / Debian arm64: crossbuild-essential-arm64, the :arm64 -dev packages, unit tests under qemu.
#
#   dpkg --add-architecture arm64 && apt-get update
#   apt-get install crossbuild-essential-arm64 qemu-user-static \
#       libsqlite3-dev:arm64 libcurl4-openssl-dev:arm64 libmicrohttpd-dev:arm64 \
#       libcjson-dev:arm64 libinih-dev:arm64 libcmocka-dev:arm64 zlib1g-dev:arm64 \
#       libsystemd-dev:arm64
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=packaging/toolchain-aarch64.cmake
#   cmake --build build-arm64 && (cd build-arm64 && ctest -L unit)   # runs under qemu
#
# Debian's multiarch layout: the arm64 libraries sit in /usr/lib/aarch64-linux-gnu
# next to the amd64 ones, so no sysroot is needed.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

# Only arm64 .pc files: pkg-config must not hand out the build machine's.
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")

# ctest (and CMake itself) run arm64 programs through user-mode emulation.
# No "-L /usr/aarch64-linux-gnu": the :arm64 -dev packages bring libc6:arm64,
# whose /lib/ld-linux-aarch64.so.1 matches its libc.so.6. With -L, qemu takes
# the loader from libc6-arm64-cross (2.36-8cross1) but libc.so.6 from
# libc6:arm64 (2.36-9+deb12u*), and the first pthread_create() spins forever.
set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-aarch64-static")

# packaging/CPackConfig.cmake: the Debian architecture of the .deb.
set(IOT_EDGE_DEB_ARCH arm64)
