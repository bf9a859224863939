# Project functions the folder CMakeLists call.

# vigil_core_sources(<file>...): add sources to the one object library behind libvigil.so.
function(vigil_core_sources)
  foreach(f ${ARGN})
    target_sources(vigil_core PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/${f})
  endforeach()
endfunction()

# vigil_unit_test(<name> SOURCES <files...> [LIBS <libs...>] [WRAP <symbols...>])
# One cmocka executable per module, linked against the core object files so tests reach
# internals the .so hides. WRAP symbols are interposed at link time (-Wl,--wrap).
function(vigil_unit_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS;WRAP" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE vigil_core_static PkgConfig::CMOCKA ${ARG_LIBS})
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/core ${CMAKE_SOURCE_DIR}/tests/unit)
  foreach(sym ${ARG_WRAP})
    target_link_options(${name} PRIVATE -Wl,--wrap=${sym})
  endforeach()
  add_test(NAME unit.${name} COMMAND ${name})
  set_tests_properties(unit.${name} PROPERTIES LABELS "unit" ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=stdout")
endfunction()
