# CPack: vigil_<version>_amd64.deb from the install() rules (cmake/VigilInstall.cmake).
#   cmake --build build --target package      (or: cd build && cpack -G DEB)
# Depends is computed by dpkg-shlibdeps from the libraries the binaries link; the files
# under /etc are conffiles; the maintainer scripts (packaging/debian/) enable vigild but
# never start it, and purge leaves nothing behind.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vigil)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "vigil maintainers <vigil@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "eBPF runtime security engine (Tetragon TracingPolicy compatible)")
# the long description; CPack puts the summary line above it
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "vigild loads eBPF programs that observe process, file, network and syscall
activity, matches TracingPolicy selectors in the kernel and enforces there.
Events go out on a nanomsg bus, as Tetragon-compatible JSON, through Lua
correlation rules, and to Falco, osquery and Fluent Bit through the plugins in
/usr/lib/vigil. Installed observe-only: the unit runs vigild with
--default-policy-mode monitor, and the package enables it without starting it.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# libcurl is loaded with dlopen on the first https GetUrl (core/canary/canary_https.c), so
# dpkg-shlibdeps cannot see it: named here, as the version Debian 12 ships
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libcurl4 (>= 7.88.1)")
# libvigil.so.0 is in the package itself: dpkg-shlibdeps finds it in the staging tree
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS "${CMAKE_BINARY_DIR}/core")
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# stripped like any Debian binary package (the build tree keeps its debug info)
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/build.*/;/\\\\.git/")

# conffiles: every file installed under /etc/vigil
set(conffiles "")
foreach(f ${VIGIL_SHIPPED_POLICIES})
  get_filename_component(n "${f}" NAME)
  string(APPEND conffiles "${VIGIL_SYSCONF_DIR}/policies/${n}\n")
endforeach()
foreach(f ${VIGIL_SHIPPED_RULES})
  get_filename_component(n "${f}" NAME)
  string(APPEND conffiles "${VIGIL_SYSCONF_DIR}/rules/${n}\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/packaging/conffiles "${conffiles}")
foreach(s postinst prerm postrm)
  configure_file(${CMAKE_SOURCE_DIR}/packaging/debian/${s} ${CMAKE_BINARY_DIR}/packaging/${s}
    @ONLY FILE_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
endforeach()
# libvigil.so.0 is a shared library: dpkg runs ldconfig once after the installation
file(WRITE ${CMAKE_BINARY_DIR}/packaging/triggers "activate-noawait ldconfig\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_BINARY_DIR}/packaging/conffiles
  ${CMAKE_BINARY_DIR}/packaging/triggers
  ${CMAKE_BINARY_DIR}/packaging/postinst
  ${CMAKE_BINARY_DIR}/packaging/prerm
  ${CMAKE_BINARY_DIR}/packaging/postrm)
include(CPack)
