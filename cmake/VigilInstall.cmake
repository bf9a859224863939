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
#
# Every destination follows the prefix the files are installed under, which `cmake --install
# --prefix DIR` chooses after configuration: the others are relative to it, and the two that
# leave /usr for the .deb (sysconfdir /etc, as GNUInstallDirs has it for /usr, and systemd's
# unit directory) are decided when installing (VIGIL_INSTALL_ETC, VIGIL_INSTALL_UNITS below).
# The *_DIR variables are where the configured prefix puts them: the paths compiled into the
# programs and written into the shipped files.
include(GNUInstallDirs)

set(VIGIL_PLUGIN_DEST "lib/vigil")
set(VIGIL_DATA_DEST "${CMAKE_INSTALL_DATADIR}/vigil")
set(VIGIL_PLUGIN_DIR "${CMAKE_INSTALL_PREFIX}/${VIGIL_PLUGIN_DEST}")
set(VIGIL_DATA_DIR "${CMAKE_INSTALL_FULL_DATADIR}/vigil")
set(VIGIL_SYSCONF_DIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/vigil")
set(VIGIL_USR_UNIT_DIR "")
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  pkg_get_variable(VIGIL_USR_UNIT_DIR systemd systemdsystemunitdir)
endif()
if(NOT VIGIL_USR_UNIT_DIR)
  set(VIGIL_USR_UNIT_DIR "/lib/systemd/system")
endif()
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(VIGIL_UNIT_DIR "${VIGIL_USR_UNIT_DIR}")
else()
  set(VIGIL_UNIT_DIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()

# At install time (the first rule of the script): under /usr, /etc and the unit directory;
# under any other prefix, inside it. Both without their leading '/', which the destinations
# that name them carry: a destination that does not start with '/' is taken relative to the
# prefix, and a destination "/${VAR}/x" is read when installing, DESTDIR still in front.
install(CODE "
  string(REGEX REPLACE \"^/+|/+$\" \"\" vigil_prefix \"\${CMAKE_INSTALL_PREFIX}\")
  if(vigil_prefix STREQUAL \"usr\")
    set(VIGIL_INSTALL_ETC etc)
    string(REGEX REPLACE \"^/+\" \"\" VIGIL_INSTALL_UNITS \"${VIGIL_USR_UNIT_DIR}\")
  else()
    set(VIGIL_INSTALL_ETC \"\${vigil_prefix}/etc\")
    set(VIGIL_INSTALL_UNITS \"\${vigil_prefix}/lib/systemd/system\")
  endif()" ALL_COMPONENTS)
set(VIGIL_ETC_DEST "/\${VIGIL_INSTALL_ETC}/vigil")
set(VIGIL_UNIT_DEST "/\${VIGIL_INSTALL_UNITS}")

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

# A text file whose /usr paths follow the (configured) prefix when it is not /usr.
function(vigil_install_rewritten src destdir)
  cmake_parse_arguments(ARG "" "RENAME;PERMISSIONS;STAGE" "" ${ARGN})
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
  # STAGE: the folder under install-files/ when destdir is read at install time
  if(NOT ARG_STAGE)
    set(ARG_STAGE "${destdir}")
  endif()
  set(out "${CMAKE_BINARY_DIR}/install-files/${ARG_STAGE}/${name}")
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
    install(TARGETS ${t} RUNTIME DESTINATION ${VIGIL_PLUGIN_DEST} LIBRARY DESTINATION ${VIGIL_PLUGIN_DEST})
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
install(FILES ${VIGIL_SHIPPED_POLICIES} DESTINATION "${VIGIL_ETC_DEST}/policies")
install(FILES ${VIGIL_SHIPPED_RULES} DESTINATION "${VIGIL_ETC_DEST}/rules")

# ---- data: the Lua library, Falco rules, integration examples ----
install(DIRECTORY ${CMAKE_SOURCE_DIR}/lua/ DESTINATION ${VIGIL_DATA_DEST}/lua)
install(FILES ${CMAKE_SOURCE_DIR}/rules/falco/vigil_rules.yaml DESTINATION ${VIGIL_DATA_DEST}/falco)
# `vigil policytest`'s tests of the shipped policies: data, not configuration
install(FILES ${CMAKE_SOURCE_DIR}/rules/policytests/shipped.yaml DESTINATION ${VIGIL_DATA_DEST}/policytests)
file(GLOB VIGIL_INTEGRATION_FILES CONFIGURE_DEPENDS
  RELATIVE ${CMAKE_SOURCE_DIR}/integrations
  ${CMAKE_SOURCE_DIR}/integrations/falco/*
  ${CMAKE_SOURCE_DIR}/integrations/osquery/*
  ${CMAKE_SOURCE_DIR}/integrations/fluentbit/*
  ${CMAKE_SOURCE_DIR}/integrations/oci-hook/*.json)
foreach(f ${VIGIL_INTEGRATION_FILES})
  get_filename_component(sub "${f}" DIRECTORY)
  vigil_install_rewritten(${CMAKE_SOURCE_DIR}/integrations/${f} ${VIGIL_DATA_DEST}/integrations/${sub})
endforeach()

# ---- systemd units and man pages ----
foreach(unit vigild.service vigil-forward.service vigil-osquery.service)
  vigil_install_rewritten(${CMAKE_SOURCE_DIR}/integrations/systemd/${unit} "${VIGIL_UNIT_DEST}" STAGE systemd)
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
