#!/bin/sh
# 40_kobj_args - the kernel object argument types on kprobes, on a stock kernel: bpf_check's
# attr (type: "bpf_attr"), security_bpf_prog (type: "bpf_prog"), security_bpf_map_alloc
# (type: "bpf_map"), security_perf_event_alloc (type: "perf_event"), cap_capable's namespace
# (type: "user_namespace"), tty_write (type: "kiocb", type: "iov_iter" with maxData: a
# 6000-byte write comes out whole), and a module load
# and unload: do_init_module and free_module (type: "module"), find_module_sections
# (type: "load_info"). Each comes out under Tetragon's key with the values kobjs and the
# module gave the kernel.
# vm-modules: crc7
# vm-timeout: 240
. "$(dirname "$0")/lib.sh"

KOBJS=/opt/vigil/tests/vm/kobjs
CRC7=$(grep crc7 /etc/vmtest/modules)
[ -n "$CRC7" ] || fail "crc7 was not shipped"
rmmod crc7 || fail "rmmod crc7"

cat >"$WORK/kobjs.yaml" <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "kobjs"
spec:
  kprobes:
  - call: "bpf_check"
    syscall: false
    args:
    - index: 1
      type: "bpf_attr"
    selectors:
    - matchBinaries: [{operator: "In", values: ["$KOBJS"]}]
  - call: "security_bpf_prog"
    syscall: false
    args:
    - index: 0
      type: "bpf_prog"
    selectors:
    - matchBinaries: [{operator: "In", values: ["$KOBJS"]}]
  - call: "security_bpf_map_alloc"
    syscall: false
    args:
    - index: 0
      type: "bpf_map"
    selectors:
    - matchBinaries: [{operator: "In", values: ["$KOBJS"]}]
  - call: "security_perf_event_alloc"
    syscall: false
    args:
    - index: 0
      type: "perf_event"
    selectors:
    - matchBinaries: [{operator: "In", values: ["$KOBJS"]}]
  - call: "cap_capable"
    syscall: false
    args:
    - index: 1
      type: "user_namespace"
    - index: 2
      type: "capability"
    selectors:
    - matchBinaries: [{operator: "In", values: ["$KOBJS"]}]
  - call: "tty_write"
    syscall: false
    args:
    - index: 0
      type: "kiocb"
    - index: 1
      type: "iov_iter"
      maxData: true
    selectors:
    - matchBinaries: [{operator: "In", values: ["$KOBJS"]}]
YAML

# Tetragon's example hooks find_module_sections, which 6.1's compiler inlined (as it did
# every static function of kernel/module/main.c that takes the load_info): take the first
# that exists here, the loader's functions in other files after it (module_sig_check runs
# before the name is read: too early)
LOADINFO_CALL= LOADINFO_INDEX=
for cand in find_module_sections:1 layout_and_allocate:0 check_modstruct_version:0 layout_symtab:1 \
	add_kallsyms:1 mod_sysfs_setup:1; do
	if grep -q "^${cand%:*}\b" /sys/kernel/tracing/available_filter_functions; then
		LOADINFO_CALL=${cand%:*} LOADINFO_INDEX=${cand#*:}
		break
	fi
done
[ -n "$LOADINFO_CALL" ] || fail "no module loader function takes a load_info on this kernel"
info "load_info read at $LOADINFO_CALL (argument $LOADINFO_INDEX)"

cat >"$WORK/modules.yaml" <<YAML
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: "kobjs-modules"
spec:
  kprobes:
  - call: "do_init_module"
    syscall: false
    args:
    - index: 0
      type: "module"
  - call: "free_module"
    syscall: false
    args:
    - index: 0
      type: "module"
  - call: "$LOADINFO_CALL"
    syscall: false
    args:
    - index: $LOADINFO_INDEX
      type: "load_info"
YAML

start_agent --tracing-policy "$WORK/kobjs.yaml" --tracing-policy "$WORK/modules.yaml"
$KOBJS || fail "kobjs failed"
insmod "$CRC7" || fail "insmod $CRC7"
rmmod crc7 || fail "rmmod crc7 again"

K='.process_kprobe.process.binary == "'$KOBJS'" and .process_kprobe.function_name'
expect_event "$K"' == "bpf_check" and .process_kprobe.args[0].bpf_attr_arg ==
	{"ProgType": "BPF_PROG_TYPE_SOCKET_FILTER", "InsnCnt": 2, "ProgName": "vg_vm_prog"}'
expect_event "$K"' == "security_bpf_prog" and .process_kprobe.args[0].bpf_prog_arg ==
	{"ProgType": "BPF_PROG_TYPE_SOCKET_FILTER", "InsnCnt": 2, "ProgName": "vg_vm_prog"}'
expect_event "$K"' == "security_bpf_map_alloc" and .process_kprobe.args[0].bpf_map_arg ==
	{"MapType": "BPF_MAP_TYPE_ARRAY", "KeySize": 4, "ValueSize": 8, "MaxEntries": 2, "MapName": "vg_vm_map"}'
# the kprobe PMU's type number is dynamic (Tetragon names 0..6, so 6 reads PERF_TYPE_MAX)
expect_event "$K"' == "security_perf_event_alloc"'
info "perf_event: $(echo "$MATCH" | jq -c .process_kprobe.args[0])"
expect_event "$K"' == "security_perf_event_alloc" and .process_kprobe.args[0].perf_event_arg.KprobeFunc == "vfs_read"
	and (.process_kprobe.args[0].perf_event_arg.Type | type == "string")'
expect_event "$K"' == "cap_capable" and .process_kprobe.args[0].user_ns_arg.level == 1
	and .process_kprobe.args[0].user_ns_arg.ns.inum > 0 and (.process_kprobe.args[0].user_ns_arg.ns.is_host | not)'
expect_event "$K"' == "cap_capable" and .process_kprobe.args[0].user_ns_arg.level == 0
	and .process_kprobe.args[0].user_ns_arg.ns.is_host == true'
expect_event "$K"' == "tty_write" and .process_kprobe.args[0].file_arg.path == "/dev/ttyS0"
	and (.process_kprobe.args[1].bytes_arg | @base64d) == "vigil-kobjs-tty\n"'
# maxData: the 6000-byte write whole (a record holds 4095), a..z repeated then a newline
expect_event "$K"' == "tty_write" and (.process_kprobe.args[1].bytes_arg | @base64d | length) == 6000
	and (.process_kprobe.args[1].bytes_arg | @base64d | .[0:30]) == "abcdefghijklmnopqrstuvwxyzabcd"
	and (.process_kprobe.args[1].bytes_arg | @base64d | .[5980:6000]) == "abcdefghijklmnopqrs\n"'
expect_event '.process_kprobe.function_name == "'$LOADINFO_CALL'"'
info "crc7 load_info: $(echo "$MATCH" | jq -c .process_kprobe.args[0])"
expect_event '.process_kprobe.function_name == "'$LOADINFO_CALL'"
	and .process_kprobe.args[0].module_arg.name == "crc7" and .process_kprobe.args[0].module_arg.signature_ok != null'
expect_event '.process_kprobe.function_name == "do_init_module" and .process_kprobe.args[0].module_arg.name == "crc7"'
expect_event '.process_kprobe.function_name == "free_module" and .process_kprobe.args[0].module_arg.name == "crc7"'
stop_agent || fail "vigild exited $AGENT_RC"
pass
