# The i386 (compat) syscall table mapped onto the x86-64 one, for the raw_syscalls dispatcher
# (bpf/dispatch.h): a 32-bit syscall (int 0x80, or any syscall of a 32-bit task) carries its
# number from unistd_32.h, and the dispatcher hands it to the hooks of its x86-64 twin, with its
# arguments rewritten to the x86-64 form (bpf/lib/dispatch_maps.h vg_compat_args).
#
# The rule, per i386 syscall:
#  - an x86-64 syscall of the same name takes the same arguments in the same order: mapped
#    (VG_COMPAT_PLAIN), unless the name is listed below with its decode;
#  - a name ending in 32 (chown32, setuid32: the 32-bit id calls) is its x86-64 name without
#    the 32; one ending in _time64 (futex_time64) its name without _time64; a few renames are
#    listed (vigil_compat_renames: stat64 is stat, _newselect is select...);
#  - a same-name call whose i386 ABI differs is decoded (vigil_compat_decodes): old_mmap and
#    old_select take one pointer to their arguments (STRUCT), the 16-bit id calls (setuid is
#    setuid16 there) take ids of 16 bits, 0xffff being -1 (UID16), 64-bit offsets come as two
#    registers, low half first (SPLIT64), mmap2's offset is in pages (MMAP2), clone swaps tls
#    and child_tid (CLONE), socketcall multiplexes the socket calls (SOCKETCALL: its call
#    number picks an x86-64 syscall from the second table, its arguments are an array),
#    ipc multiplexes System V IPC the same way (IPC: the third table), a call whose arguments
#    are the x86-64 twin's picked, dropped or reordered lists them (ORDER: the digits name the
#    i386 argument each twin argument is: waitpid=ORDER:012 is wait4 without its rusage),
#    _llseek's offset is two registers, high half first (LLSEEK);
#  - anything else (no twin, or an ABI vigil does not decode: vigil_compat_unmapped) maps to
#    nothing: such a call reaches no hook. The generator lists them in the .inc's comment.
#
# vigil_compat_syscalls(OUT unistd_32.h unistd_64.h out.inc) writes
#   VG_COMPAT_ENTRY(i386_nr, "i386 name", x86_64_nr, kind, mask)   one line per mapped call
#   VG_SOCKETCALL_ENTRY(call, "name", x86_64_nr, nargs)            socketcall's calls
#   VG_IPC_ENTRY(call, "name", x86_64_nr, order)                   ipc's calls
# The calls left unmapped have no x86-64 twin a policy could name that takes what they take:
# the kernel implements none of ulimit ftime gtty stty profil idle break lock prof mpx bdflush
# vm86 vm86old for 32-bit tasks on x86-64 (ENOSYS); nice, ssetmask and sgetmask pass values
# where setpriority and rt_sigprocmask take other values or pointers (README.md says so).

# i386 name -> x86-64 name, where the names differ (besides the 32 / _time64 suffixes)
set(vigil_compat_renames
  "_newselect=select" "mmap2=mmap" "fcntl64=fcntl" "ugetrlimit=getrlimit" "sendfile64=sendfile"
  "stat64=stat" "lstat64=lstat" "fstat64=fstat" "fstatat64=newfstatat" "truncate64=truncate"
  "ftruncate64=ftruncate" "fadvise64_64=fadvise64" "clock_gettime64=clock_gettime"
  "clock_settime64=clock_settime" "clock_adjtime64=clock_adjtime" "timer_gettime64=timer_gettime"
  "timer_settime64=timer_settime" "timerfd_gettime64=timerfd_gettime" "timerfd_settime64=timerfd_settime"
  "oldstat=stat" "oldlstat=lstat" "oldfstat=fstat" "olduname=uname" "oldolduname=uname"
  "umount=umount2" "waitpid=wait4" "statfs64=statfs" "fstatfs64=fstatfs" "readdir=getdents"
  "_llseek=lseek" "stime=settimeofday" "signal=rt_sigaction" "sigaction=rt_sigaction"
  "sigprocmask=rt_sigprocmask" "sigpending=rt_sigpending" "sigsuspend=rt_sigsuspend"
  "sigreturn=rt_sigreturn")
# i386 name -> kind:mask (mask: STRUCT the argument count; UID16 the 16-bit id arguments;
# SPLIT64 the i386 arguments that start a low/high pair)
set(vigil_compat_decodes
  "mmap=STRUCT:6" "select=STRUCT:5" "socketcall=SOCKETCALL:0" "mmap2=MMAP2:0" "clone=CLONE:0"
  "lchown=UID16:6" "chown=UID16:6" "fchown=UID16:6" "setuid=UID16:1" "setgid=UID16:1"
  "setreuid=UID16:3" "setregid=UID16:3" "setresuid=UID16:7" "setresgid=UID16:7"
  "setfsuid=UID16:1" "setfsgid=UID16:1"
  "pread64=SPLIT64:8" "pwrite64=SPLIT64:8" "truncate64=SPLIT64:2" "ftruncate64=SPLIT64:2"
  "readahead=SPLIT64:2" "fadvise64=SPLIT64:2" "fadvise64_64=SPLIT64:10" "fallocate=SPLIT64:20"
  "sync_file_range=SPLIT64:10" "lookup_dcookie=SPLIT64:1"
  "umount=ORDER:0" "waitpid=ORDER:012" "statfs64=ORDER:02" "fstatfs64=ORDER:02" "stime=ORDER:0"
  "signal=ORDER:0" "sigaction=ORDER:012" "sigprocmask=ORDER:012" "sigpending=ORDER:0"
  "sigsuspend=ORDER:" "_llseek=LLSEEK:0" "ipc=IPC:0")
# same-name calls whose i386 arguments differ in a way not decoded (none left: getgroups,
# setgroups, getresuid and getresgid map, their arrays and results being of 16-bit ids)
set(vigil_compat_unmapped "")
# socketcall's call numbers (linux/net.h SYS_*), the x86-64 syscall each is, its argument count
set(vigil_socketcalls
  "1=socket:3" "2=bind:3" "3=connect:3" "4=listen:2" "5=accept:3" "6=getsockname:3"
  "7=getpeername:3" "8=socketpair:4" "9=sendto:4" "10=recvfrom:4" "11=sendto:6" "12=recvfrom:6"
  "13=shutdown:2" "14=setsockopt:5" "15=getsockopt:5" "16=sendmsg:3" "17=recvmsg:3" "18=accept4:4"
  "19=recvmmsg:5" "20=sendmmsg:4")
# ipc's call numbers (linux/ipc.h), the x86-64 syscall each is, the ORDER of its arguments in
# ipc's (call 0, first 1, second 2, third 3, ptr 4, fifth 5): semop(first, ptr, second)...
set(vigil_ipc_calls
  "1=semop:142" "2=semget:123" "3=semctl:1234" "4=semtimedop:1425" "11=msgsnd:1423"
  "12=msgrcv:14253" "13=msgget:12" "14=msgctl:124" "21=shmat:142" "22=shmdt:4" "23=shmget:123"
  "24=shmctl:124")

# ORDER digits -> the entry's order: nibble j the i386 argument of twin argument j, 15 none
function(vigil_compat_order digits out)
  set(order 0)
  foreach(j RANGE 5)
    set(k 15)
    string(LENGTH "${digits}" len)
    if(j LESS len)
      string(SUBSTRING "${digits}" ${j} 1 k)
    endif()
    math(EXPR order "${order} | (${k} << (4 * ${j}))")
  endforeach()
  set(${out} ${order} PARENT_SCOPE)
endfunction()

# name -> number of one unistd header, as the preprocessor sees it: vigil_nr_<prefix>_<name>
function(vigil_read_unistd header prefix names_var)
  execute_process(COMMAND ${CMAKE_C_COMPILER} -E -dM -include ${header} -x c /dev/null
                  OUTPUT_VARIABLE defs RESULT_VARIABLE rc ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "compat syscalls: cannot preprocess ${header}: ${err}")
  endif()
  string(REGEX MATCHALL "#define __NR_[a-z0-9_]+ [0-9]+" lines "${defs}")
  set(names "")
  foreach(line ${lines})
    string(REGEX REPLACE "^#define __NR_([a-z0-9_]+) ([0-9]+)$" "\\1;\\2" def "${line}")
    list(GET def 0 name)
    list(GET def 1 nr)
    set(vigil_nr_${prefix}_${name} ${nr} PARENT_SCOPE)
    list(APPEND names ${name})
  endforeach()
  set(${names_var} ${names} PARENT_SCOPE)
endfunction()

# socketcall's and ipc's calls: the lines after the i386 table's
function(vigil_compat_multiplexed unistd64 body_var)
  set(body "${${body_var}}")
  foreach(table "socketcall;SOCKETCALL;vigil_socketcalls" "ipc;IPC;vigil_ipc_calls")
    list(GET table 0 mux)
    list(GET table 1 macro)
    list(GET table 2 list)
    foreach(entry ${${list}})
      string(REGEX REPLACE "^([0-9]+)=([a-z0-9_]+):([0-9]+)$" "\\1;\\2;\\3" p "${entry}")
      list(GET p 0 call)
      list(GET p 1 name)
      list(GET p 2 value)   # socketcall: the argument count; ipc: the ORDER digits
      if(NOT DEFINED vigil_nr_x64_${name})
        message(FATAL_ERROR "compat syscalls: ${mux}'s ${name} is not in ${unistd64}")
      endif()
      if(mux STREQUAL "ipc")
        vigil_compat_order("${value}" value)
      endif()
      string(APPEND body "VG_${macro}_ENTRY(${call}, \"${name}\", ${vigil_nr_x64_${name}}, ${value})\n")
    endforeach()
  endforeach()
  set(${body_var} "${body}" PARENT_SCOPE)
endfunction()

function(vigil_compat_syscalls unistd32 unistd64 out)
  foreach(h ${unistd32} ${unistd64})
    if(NOT EXISTS ${h})
      message(FATAL_ERROR "compat syscalls: ${h} does not exist (Debian: linux-libc-dev)")
    endif()
  endforeach()
  vigil_read_unistd(${unistd32} i386 names32)
  vigil_read_unistd(${unistd64} x64 names64)
  foreach(pair ${vigil_compat_renames})
    string(REPLACE "=" ";" p "${pair}")
    list(GET p 0 from)
    list(GET p 1 to)
    set(rename_${from} ${to})
  endforeach()
  foreach(pair ${vigil_compat_decodes})
    string(REGEX REPLACE "^([a-z0-9_]+)=([A-Z0-9]+):([0-9]*)$" "\\1;\\2;\\3" p "${pair}")
    list(GET p 0 name)
    list(GET p 1 kind)
    list(LENGTH p plen)
    set(mask "")
    if(plen GREATER 2)
      list(GET p 2 mask)
    endif()
    if(kind STREQUAL "ORDER")
      vigil_compat_order("${mask}" mask)
    endif()
    set(kind_${name} ${kind})
    set(mask_${name} ${mask})
  endforeach()
  set(body "")
  set(unmapped "")
  set(nmapped 0)
  foreach(name ${names32})
    set(nr32 ${vigil_nr_i386_${name}})
    if(DEFINED rename_${name})
      set(twin ${rename_${name}})
    elseif(name MATCHES "^(.+)32$" AND NOT DEFINED vigil_nr_x64_${name})
      set(twin ${CMAKE_MATCH_1})
    elseif(name MATCHES "^(.+)_time64$")
      set(twin ${CMAKE_MATCH_1})
    else()
      set(twin ${name})
    endif()
    set(kind PLAIN)
    set(mask 0)
    if(DEFINED kind_${name})
      set(kind ${kind_${name}})
      set(mask ${mask_${name}})
    endif()
    if(kind STREQUAL "SOCKETCALL" OR kind STREQUAL "IPC")
      set(nr64 -1)
    elseif(DEFINED vigil_nr_x64_${twin} AND NOT name IN_LIST vigil_compat_unmapped)
      set(nr64 ${vigil_nr_x64_${twin}})
    else()
      list(APPEND unmapped ${name})
      continue()
    endif()
    string(APPEND body "VG_COMPAT_ENTRY(${nr32}, \"${name}\", ${nr64}, VG_COMPAT_${kind}, ${mask})\n")
    math(EXPR nmapped "${nmapped} + 1")
  endforeach()
  vigil_compat_multiplexed(${unistd64} body)
  list(LENGTH unmapped nunmapped)
  string(REPLACE ";" " " unmapped_text "${unmapped}")
  set(text "/* generated by cmake/CompatSyscalls.cmake from ${unistd32} and ${unistd64}:\n")
  string(APPEND text " * ${nmapped} i386 syscalls mapped; ${nunmapped} reach no hook:\n * ${unmapped_text}\n */\n${body}")
  set(old "")
  if(EXISTS ${out})
    file(READ ${out} old)
  endif()
  if(NOT old STREQUAL text)
    file(WRITE ${out} "${text}")
  endif()
endfunction()
