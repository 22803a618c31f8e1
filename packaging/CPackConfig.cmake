# CPackConfig.cmake -- what `cpack` puts in iot-edge_<version>-<release>_<arch>.deb (included from the top-level CMakeLists.txt).
#
# Build a package with packaging/build-deb.sh (amd64, arm64 or armhf); it sets
# Debian's hardening flags and, for arm64/armhf, the cross toolchain file.
include(GNUInstallDirs)

set(IOT_EDGE_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})
set(IOT_EDGE_PKG_OUT ${CMAKE_BINARY_DIR}/packaging)
set(IOT_EDGE_DOCDIR ${CMAKE_INSTALL_DATADIR}/doc/iot-edge)

# Debian wants man pages and the Debian changelog gzipped with -9n (no timestamp).
find_program(IOT_EDGE_GZIP gzip REQUIRED)
set(iot_edge_gz_sources
    ${IOT_EDGE_PKG_DIR}/iot-edge.8 ${IOT_EDGE_PKG_DIR}/iot-edge.conf.5
    ${IOT_EDGE_PKG_DIR}/iot-sim.1 ${IOT_EDGE_PKG_DIR}/changelog.Debian)
set(iot_edge_gz_outputs "")
foreach(src IN LISTS iot_edge_gz_sources)
  get_filename_component(name ${src} NAME)
  set(out ${IOT_EDGE_PKG_OUT}/${name}.gz)
  add_custom_command(OUTPUT ${out}
                     COMMAND ${CMAKE_COMMAND} -E make_directory ${IOT_EDGE_PKG_OUT}
                     COMMAND ${IOT_EDGE_GZIP} -9n -c ${src} > ${out}
                     DEPENDS ${src} VERBATIM)
  list(APPEND iot_edge_gz_outputs ${out})
endforeach()
add_custom_target(iot_edge_package_docs ALL DEPENDS ${iot_edge_gz_outputs})

install(FILES ${IOT_EDGE_PKG_OUT}/iot-edge.8.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man8
        COMPONENT daemon)
install(FILES ${IOT_EDGE_PKG_OUT}/iot-edge.conf.5.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man5
        COMPONENT daemon)
install(FILES ${IOT_EDGE_PKG_OUT}/iot-sim.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1
        COMPONENT daemon)
install(FILES ${IOT_EDGE_PKG_OUT}/changelog.Debian.gz ${IOT_EDGE_PKG_DIR}/copyright
        DESTINATION ${IOT_EDGE_DOCDIR} COMPONENT daemon)
install(FILES ${PROJECT_SOURCE_DIR}/docs/RASPBERRY_PI.md DESTINATION ${IOT_EDGE_DOCDIR}
        COMPONENT daemon)
install(FILES ${IOT_EDGE_PKG_DIR}/lintian-overrides DESTINATION ${CMAKE_INSTALL_DATADIR}/lintian/overrides
        RENAME iot-edge COMPONENT daemon)
# The default configuration: a conffile (packaging/conffiles), every key commented.
install(FILES ${IOT_EDGE_PKG_DIR}/iot-edge.conf
        DESTINATION ${CMAKE_INSTALL_FULL_SYSCONFDIR}/iot-edge COMPONENT daemon)

# --- the .deb ----------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME iot-edge)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "iot-edge developers")
set(CPACK_PACKAGE_CONTACT "iot-edge developers <iot-edge@users.noreply.github.com>")
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR}/deb)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "store-and-forward edge aggregator for IoT readings
iot-edge takes readings from devices on the local network (a JSON POST,
the InfluxDB 1.x and 2.x write APIs, UDP line protocol), makes each one
durable in a SQLite buffer before it acknowledges it, and forwards the
buffer to InfluxDB with retries, so no reading is lost while the network,
the cloud or the power is unreliable.
.
The package runs it as the systemd service iot-edge (Type=notify, watchdog,
hardened) under the system user iot-edge, with its configuration in
/etc/iot-edge/iot-edge.conf and its buffer in /var/lib/iot-edge. It also
ships iot-sim, a device simulator and load generator.")
# Depends from the shared libraries the binaries link (dpkg-shlibdeps), plus
# adduser: the maintainer scripts create the user with systemd-sysusers when
# present, else adduser (lintian wants the Depends either way), and enable the
# unit with deb-systemd-helper, the Debian way. A build against a sysroot
# (armhf, see toolchain-armhf.cmake) cannot run dpkg-shlibdeps: it states the
# list that shlibdeps gives for the multiarch armhf build.
option(IOT_EDGE_DEB_SHLIBDEPS "compute the .deb's Depends with dpkg-shlibdeps" ON)
if(IOT_EDGE_DEB_SHLIBDEPS)
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
else()
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "adduser, libatomic1 (>= 4.8), libc6 (>= 2.34), libcjson1 (>= 1.7.13), libcurl4 (>= 7.16.2), libgcc-s1 (>= 3.5), libinih1 (>= 41), libmicrohttpd12 (>= 0.9.50), libsqlite3-0 (>= 3.20.0), libsystemd0, zlib1g (>= 1:1.2.0)")
endif()
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "sqlite3")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${IOT_EDGE_PKG_DIR}/postinst ${IOT_EDGE_PKG_DIR}/prerm ${IOT_EDGE_PKG_DIR}/postrm
    ${IOT_EDGE_PKG_DIR}/conffiles)
# Cross builds name the Debian architecture in their toolchain file.
if(IOT_EDGE_DEB_ARCH)
  set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE ${IOT_EDGE_DEB_ARCH})
endif()
include(CPack)
