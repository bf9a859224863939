# install() rules: what `cmake --install` and the .deb (cmake/VigilPackage.cmake) put where.
#
#   /usr/sbin/vigild, /usr/bin/vigil
#   /usr/lib/<multiarch>/libvigil.so.0 (+ .so and vigil.pc for builders), /usr/include/vigil/
#   /usr/lib/vigil/           plugins: libvigil_falco*.so, vigil.ext, vigil-forward
#   /etc/vigil/policies/      shipped TracingPolicies   (conffiles)
#   /etc/vigil/rules/         shipped Lua rules         (conffiles)
#   /usr/share/vigil/lua/     the Lua library rules use (also compiled into libvigil)
#   /usr/share/vigil/falco/   Falco rules for the plugin source
#   /usr/share/vigil/integrations/  Falco, osquery and Fluent Bit configurations to copy
#   /lib/systemd/system/      vigild, vigil-forward and vigil-osquery units
#   /usr/share/man/man8/      vigild(8), vigil(8)
#
# BPF objects are not files: bpftool skeletons compile them into libvigil.so, so the agent
# needs no object directory. The shipped files name the /usr paths; another prefix rewrites
# them as they are installed (vigil_install_rewritten).
include(GNUInstallDirs)

set(VIGIL_PLUGIN_DIR "${CMAKE_INSTALL_PREFIX}/lib/vigil")
set(VIGIL_DATA_DIR "${CMAKE_INSTALL_FULL_DATADIR}/vigil")
set(VIGIL_SYSCONF_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/vigil")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  pkg_get_variable(VIGIL_UNIT_DIR systemd systemdsystemunitdir)
endif()
if(NOT VIGIL_UNIT_DIR)
  set(VIGIL_UNIT_DIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()

# RUNPATH of what is installed: none when libvigil lands in a directory the dynamic linker
# searches anyway (/usr/lib/<multiarch> for the package), else $ORIGIN-relative, so a tree
# installed under any prefix (or moved whole) finds its own libvigil. The build tree keeps
# CMake's build RUNPATH into the build directory.
function(vigil_install_runpath target dir)
  list(FIND CMAKE_C_IMPLICIT_LINK_DIRECTORIES "${CMAKE_INSTALL_FULL_LIBDIR}" implicit)
  if(implicit GREATER -1)
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "")
  else()
    file(RELATIVE_PATH rel "${dir}" "${CMAKE_INSTALL_FULL_LIBDIR}")
    set_target_properties(${target} PROPERTIES INSTALL_RPATH "$ORIGIN/${rel}")
  endif()
endfunction()

# A text file whose /usr paths follow the prefix when it is not /usr.
function(vigil_install_rewritten src destdir)
  cmake_parse_arguments(ARG "" "RENAME;PERMISSIONS" "" ${ARGN})
  get_filename_component(name "${src}" NAME)
  if(ARG_RENAME)
    set(name "${ARG_RENAME}")
  endif()
  file(READ "${src}" text)
  if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
    string(REPLACE "/usr/sbin/" "${CMAKE_INSTALL_FULL_SBINDIR}/" text "${text}")
    string(REPLACE "/usr/bin/vigil" "${CMAKE_INSTALL_FULL_BINDIR}/vigil" text "${text}")
    string(REPLACE "/usr/lib/vigil/" "${VIGIL_PLUGIN_DIR}/" text "${text}")
    string(REPLACE "/usr/share/vigil/" "${VIGIL_DATA_DIR}/" text "${text}")
    string(REPLACE "/etc/vigil/" "${VIGIL_SYSCONF_DIR}/" text "${text}")
  endif()
  set(out "${CMAKE_BINARY_DIR}/install-files/${destdir}/${name}")
  file(WRITE "${out}" "${text}")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${src}")
  install(FILES "${out}" DESTINATION "${destdir}" ${ARG_UNPARSED_ARGUMENTS})
endfunction()

# ---- programs and the library ----
install(TARGETS vigild RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(TARGETS vigil_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
vigil_install_runpath(vigild "${CMAKE_INSTALL_FULL_SBINDIR}")
vigil_install_runpath(vigil_cli "${CMAKE_INSTALL_FULL_BINDIR}")
install(TARGETS vigil
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_SKIP)
install(TARGETS vigil
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_ONLY COMPONENT dev)

# ---- plugins: under lib/vigil, each finding the installed libvigil ----
foreach(t vigil_falco vigil_falco_legacy vigil.ext vigil-forward vigil-oci-hook)
  if(TARGET ${t})
    install(TARGETS ${t} RUNTIME DESTINATION ${VIGIL_PLUGIN_DIR} LIBRARY DESTINATION ${VIGIL_PLUGIN_DIR})
    vigil_install_runpath(${t} "${VIGIL_PLUGIN_DIR}")
  endif()
endforeach()

# ---- headers: each core folder's public face only (no *_internal.h), and vigil.pc ----
# every core/<dir>/<dir>.h of the library (cli/ is the programs'): a new folder's face is
# installed without a list to forget
file(GLOB vigil_core_dirs LIST_DIRECTORIES true RELATIVE ${CMAKE_SOURCE_DIR}/core ${CMAKE_SOURCE_DIR}/core/*)
foreach(dir ${vigil_core_dirs})
  if(NOT dir STREQUAL "cli" AND EXISTS ${CMAKE_SOURCE_DIR}/core/${dir}/${dir}.h)
    install(FILES ${CMAKE_SOURCE_DIR}/core/${dir}/${dir}.h
            DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/vigil/${dir} COMPONENT dev)
  endif()
endforeach()
configure_file(${CMAKE_SOURCE_DIR}/cmake/vigil.pc.in ${CMAKE_BINARY_DIR}/vigil.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/vigil.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig COMPONENT dev)

# ---- configuration: the shipped policies and rules (conffiles in the .deb) ----
file(GLOB VIGIL_SHIPPED_POLICIES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/rules/policies/*.yaml)
file(GLOB VIGIL_SHIPPED_RULES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/rules/lua/*.lua)
install(FILES ${VIGIL_SHIPPED_POLICIES} DESTINATION ${VIGIL_SYSCONF_DIR}/policies)
install(FILES ${VIGIL_SHIPPED_RULES} DESTINATION ${VIGIL_SYSCONF_DIR}/rules)

# ---- data: the Lua library, Falco rules, integration examples ----
install(DIRECTORY ${CMAKE_SOURCE_DIR}/lua/ DESTINATION ${VIGIL_DATA_DIR}/lua)
install(FILES ${CMAKE_SOURCE_DIR}/rules/falco/vigil_rules.yaml DESTINATION ${VIGIL_DATA_DIR}/falco)
# `vigil policytest`'s tests of the shipped policies: data, not configuration
install(FILES ${CMAKE_SOURCE_DIR}/rules/policytests/shipped.yaml DESTINATION ${VIGIL_DATA_DIR}/policytests)
file(GLOB VIGIL_INTEGRATION_FILES CONFIGURE_DEPENDS
  RELATIVE ${CMAKE_SOURCE_DIR}/integrations
  ${CMAKE_SOURCE_DIR}/integrations/falco/*
  ${CMAKE_SOURCE_DIR}/integrations/osquery/*
  ${CMAKE_SOURCE_DIR}/integrations/fluentbit/*
  ${CMAKE_SOURCE_DIR}/integrations/oci-hook/*.json)
foreach(f ${VIGIL_INTEGRATION_FILES})
  get_filename_component(sub "${f}" DIRECTORY)
  vigil_install_rewritten(${CMAKE_SOURCE_DIR}/integrations/${f} ${VIGIL_DATA_DIR}/integrations/${sub})
endforeach()

# ---- systemd units and man pages ----
foreach(unit vigild.service vigil-forward.service vigil-osquery.service)
  vigil_install_rewritten(${CMAKE_SOURCE_DIR}/integrations/systemd/${unit} ${VIGIL_UNIT_DIR})
endforeach()
# man pages gzipped as Debian installs them (-n: no name or time inside, reproducible)
set(pages "")
foreach(page vigild.8 vigil.8)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/man/${page}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND sh -c "gzip -9nc '${CMAKE_SOURCE_DIR}/man/${page}' > '${CMAKE_BINARY_DIR}/man/${page}.gz'"
    DEPENDS ${CMAKE_SOURCE_DIR}/man/${page} VERBATIM)
  list(APPEND pages ${CMAKE_BINARY_DIR}/man/${page}.gz)
endforeach()
add_custom_target(vigil_man ALL DEPENDS ${pages})
install(FILES ${pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
