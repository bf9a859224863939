# One function builds every BPF object: clang -target bpf with BTF, CO-RE against a
# vmlinux.h generated from the running kernel, then a bpftool skeleton header.
find_program(BPFTOOL_EXE NAMES bpftool PATHS /usr/sbin /sbin REQUIRED)
find_program(BPF_CLANG_EXE NAMES clang clang-14 REQUIRED)
find_program(BPF_STRIP_EXE NAMES llvm-strip llvm-strip-14 REQUIRED)
find_program(BPF_OBJCOPY_EXE NAMES llvm-objcopy llvm-objcopy-14 REQUIRED)
find_program(VIGIL_PYTHON3_EXE NAMES python3 REQUIRED)

set(VIGIL_VMLINUX_BTF "/sys/kernel/btf/vmlinux" CACHE FILEPATH "BTF used to generate vmlinux.h")
# The architecture the BPF objects read registers and syscall arguments for (libbpf's
# bpf_tracing.h __TARGET_ARCH_<arch>): the target's by default. Another architecture also
# needs that architecture's BTF in VIGIL_VMLINUX_BTF and its syscall table
# (VIGIL_UNISTD_H, core/sensors).
if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(vigil_default_bpf_arch arm64)
else()
  set(vigil_default_bpf_arch x86)
endif()
set(VIGIL_BPF_ARCH ${vigil_default_bpf_arch} CACHE STRING "__TARGET_ARCH of the BPF objects: x86 or arm64")
set_property(CACHE VIGIL_BPF_ARCH PROPERTY STRINGS x86 arm64)
set(VIGIL_BPF_GEN ${CMAKE_BINARY_DIR}/bpf-gen)
# Another build tree's bpf-gen directory, of the same source and kernel BTF: its objects are
# copied rather than compiled again. A BPF object does not depend on the build type or the
# sanitizers, and compiling them is most of a build (generic.bpf.c whole: ~50 s of CPU).
# scripts/test.sh builds the plain tree first and points the ASan and fuzz trees at it; the
# other tree must be built first, and a missing object stops the build naming it.
set(VIGIL_BPF_PREBUILT "" CACHE PATH "bpf-gen directory of a built tree whose BPF objects to reuse")
set(VIGIL_VMLINUX_H ${VIGIL_BPF_GEN}/vmlinux.h)

# vigil_vmlinux_h(): generate vmlinux.h. Call it in the directory that builds the BPF
# objects: a custom command's output is only visible to rules in its own directory.
function(vigil_vmlinux_h)
  add_custom_command(
    OUTPUT ${VIGIL_VMLINUX_H}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${VIGIL_BPF_GEN}
    COMMAND ${BPFTOOL_EXE} btf dump file ${VIGIL_VMLINUX_BTF} format c > ${VIGIL_VMLINUX_H}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${VIGIL_VMLINUX_H}.tmp ${VIGIL_VMLINUX_H}
    COMMENT "Generating vmlinux.h from ${VIGIL_VMLINUX_BTF}"
    VERBATIM)
  add_custom_target(vmlinux_h DEPENDS ${VIGIL_VMLINUX_H})
endfunction()

# vigil_bpf_object(<name> <source.bpf.c> [DEFINES -DX=Y...] [DEPENDS headers...])
# Produces ${VIGIL_BPF_GEN}/<name>.bpf.o, ${VIGIL_BPF_GEN}/<name>.skel.h and target <name>_skel
# (an INTERFACE library whose include path finds the skeleton). The skeleton embeds the object
# without its DWARF and the relocations of its BTF (<name>.min.bpf.o): libbpf reads neither,
# and the embedded bytes are part of libvigil.so's resident pages once touched. Nor its line
# info (cmake/btf_ext_drop_lines.py): libbpf keeps copies of it in the agent's heap for as
# long as the object is open; the .bpf.o keeps it for debugging.
function(vigil_bpf_object name source)
  cmake_parse_arguments(ARG "" "" "DEFINES;DEPENDS" ${ARGN})
  set(obj ${VIGIL_BPF_GEN}/${name}.bpf.o)
  set(min ${VIGIL_BPF_GEN}/${name}.min.bpf.o)
  set(skel ${VIGIL_BPF_GEN}/${name}.skel.h)
  if(VIGIL_BPF_PREBUILT)
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${CMAKE_COMMAND} -E copy ${VIGIL_BPF_PREBUILT}/${name}.bpf.o ${obj}
      DEPENDS ${VIGIL_BPF_PREBUILT}/${name}.bpf.o
      COMMENT "BPF ${name} (from ${VIGIL_BPF_PREBUILT})"
      VERBATIM)
  else()
    add_custom_command(
      OUTPUT ${obj}
      COMMAND ${BPF_CLANG_EXE} -g -O2 -target bpf -D__TARGET_ARCH_${VIGIL_BPF_ARCH} ${ARG_DEFINES} -Wall -Werror
              -Wno-unused-function -Wno-compare-distinct-pointer-types
              -I${VIGIL_BPF_GEN} -I${CMAKE_SOURCE_DIR}/bpf -I${CMAKE_SOURCE_DIR}/bpf/include
              -c ${source} -o ${obj}
      DEPENDS ${source} ${VIGIL_VMLINUX_H} ${ARG_DEPENDS}
      IMPLICIT_DEPENDS C ${source}
      COMMENT "BPF ${name}"
      VERBATIM)
  endif()
  add_custom_command(
    OUTPUT ${skel}
    COMMAND ${BPF_STRIP_EXE} --strip-debug --remove-section=.rel.BTF --remove-section=.rel.BTF.ext ${obj} -o ${min}
    COMMAND ${VIGIL_PYTHON3_EXE} ${CMAKE_SOURCE_DIR}/cmake/btf_ext_drop_lines.py ${BPF_OBJCOPY_EXE} ${min}
    COMMAND ${BPFTOOL_EXE} gen skeleton ${min} name ${name}_bpf > ${skel}.tmp
    COMMAND ${CMAKE_COMMAND} -E rename ${skel}.tmp ${skel}
    DEPENDS ${obj} ${CMAKE_SOURCE_DIR}/cmake/btf_ext_drop_lines.py
    COMMENT "BPF skeleton ${name}"
    VERBATIM)
  add_custom_target(${name}_skel_gen DEPENDS ${skel})
  add_dependencies(${name}_skel_gen vmlinux_h)
  add_library(${name}_skel INTERFACE)
  add_dependencies(${name}_skel ${name}_skel_gen)
  target_include_directories(${name}_skel INTERFACE ${VIGIL_BPF_GEN} ${CMAKE_SOURCE_DIR}/bpf)
endfunction()
