/* test_policy_schema.c - every field of Tetragon's TracingPolicy spec, honoured or refused.
 *
 * The table below is the CRD (pkg/k8s/apis/cilium.io/v1alpha1 at Tetragon 4fbfe2d7, plus the
 * older v1.x fields argFd/argName and the FollowFD family), written out by hand: each field,
 * a minimal policy that uses it, and the verdict.
 *  - refused: the real parser must refuse the policy, the reason must name the field and
 *    say why, and the position must be the one the table points at (a `^` in `at` marks the
 *    column inside the first occurrence of that text), formatted as file:line:col.
 *  - honoured: the policy must parse, and `covered` names the test that shows the field at
 *    work ("path::needle", the needle being a test name, found in that file), so the table
 *    cannot point at a test that does not exist.
 * Each row runs as its own cmocka test, named after the field.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy/policy.h"

#define FILE_NAME "schema.yaml"
#define HDR "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: schema\nspec:\n"

struct row {
	const char *field;	/* the CRD path */
	const char *spec;	/* the policy's spec body */
	const char *at;		/* refused: where the error points; NULL for honoured */
	const char *reason;	/* refused: text the reason must contain (it names the field) */
	const char *covered;	/* honoured: "file::needle" */
};

#define REFUSED(f, s, a, r) { (f), (s), (a), (r), NULL }
#define HONOURED(f, s, c) { (f), (s), NULL, NULL, (c) }

/* ---- tests that show honoured fields at work ---- */

#define T_POLICY "tests/unit/test_policy.c::"
#define T_SENSORS "tests/unit/test_sensors.c::"
#define T_ENGINE "tests/host/test_policy_engine.py::"
#define T_FIELDS "tests/host/test_policy_fields.py::"
#define T_ENFORCE "tests/host/test_enforcement.py::"
#define T_SHIPPED "tests/host/test_shipped_policies.py::"
#define T_VM "tests/vm/cases/"
#define T_SELECTORS "tests/unit/test_selectors_bpf.c::"
#define T_ENCODE "tests/unit/test_encode.c::"
#define T_CONTAINERS "tests/host/test_containers.py::"
#define T_STACKS "tests/host/test_stack_traces.py::"
#define T_URET "tests/host/test_uprobe_fields.py::"
#define T_RETCOPY "tests/host/test_return_copy.py::"
#define T_NET "tests/host/test_net_args.py::"
#define T_ARGTYPES "tests/host/test_arg_types.py::"
#define T_CANARY "tests/host/test_canary.py::"
#define T_ENFORCER "tests/host/test_enforcer.py::"
#define T_USDT "tests/host/test_usdt.py::"
#define T_LOADER "tests/host/test_loader.py::"
#define T_GENLISTS "tests/host/test_generated_lists.py::"

/* ---- minimal hooks ---- */

#define KP(body) "  kprobes:\n  - call: sys_openat\n" body
#define KP_ARGS(body) KP("    args: [{index: 1, type: string}]\n" body)
#define SEL(sel) KP_ARGS("    selectors:\n    - " sel "\n")
#define RET(body) KP("    return: true\n    returnArg: {index: 0, type: int}\n" body)
#define ACT(fields) SEL("matchActions: [{" fields "}]")
#define TP(body) "  tracepoints:\n  - subsystem: syscalls\n    event: sys_enter_openat\n" body
#define UP(body) "  uprobes:\n  - path: /bin/true\n    symbols: [main]\n" body
#define LSM(body) "  lsmhooks:\n  - hook: file_open\n" body
#define TYPE(t) KP("    args: [{index: 1, type: " t "}]\n")
#define OP(type, op, values) \
	KP("    args: [{index: 1, type: " type "}]\n    selectors:\n    - matchArgs: [{index: 1, operator: " op values "}]\n")

static const struct row rows[] = {
	/* ================================ spec */
	HONOURED("spec.kprobes", KP(""), T_ENGINE "test_syscall_kprobe_lands_in_the_dispatcher_with_args"),
	HONOURED("spec.fentries", "  fentries:\n  - call: sys_openat\n", T_POLICY "test_full_policy_fentry_is_a_kprobe"),
	HONOURED("spec.tracepoints", TP(""), T_ENGINE "test_tracepoint_prefix_matches_only_etc_opens_of_the_opener"),
	HONOURED("spec.uprobes", UP(""), T_ENGINE "test_uprobe_reports_user_function_arguments"),
	HONOURED("spec.lsmhooks", LSM(""), T_VM "11_lsm_override.sh::lsmhooks:"),
	HONOURED("spec.usdts", "  usdts:\n  - {path: /bin/true, provider: p, name: n}\n",
		 T_USDT "test_probe_fires_events_with_its_arguments_filtered_in_the_kernel"),
	HONOURED("usdts[].path, provider, name, args, selectors",
		 "  usdts:\n  - {path: /bin/true, provider: p, name: n, args: [{index: 0, type: int}],"
		 " selectors: [{matchArgs: [{index: 0, operator: Equal, values: [\"1\"]}]}]}\n",
		 T_USDT "test_probe_fires_events_with_its_arguments_filtered_in_the_kernel"),
	HONOURED("usdts[].message, tags", "  usdts:\n  - {path: /bin/true, provider: p, name: n, message: hello,"
		 " tags: [one]}\n", T_USDT "test_probe_fires_events_with_its_arguments_filtered_in_the_kernel"),
	REFUSED("usdts[].btfPath", "  usdts:\n  - {path: /bin/true, provider: p, name: n, btfPath: /x}\n", "btfPath",
		"not supported by vigil: btfPath (USDT arguments are read where the probe's ELF note"),
	HONOURED("spec.enforcers", "  enforcers:\n  - calls: [sys_openat]\n",
		 T_ENFORCER "test_notify_enforcer_kills_the_shell_at_its_dup2"),
	HONOURED("spec.enforcers[].calls", "  enforcers: [{calls: [sys_openat, sys_read]}]\n",
		 T_ENFORCER "test_notify_enforcer_kills_the_shell_at_its_dup2"),
	HONOURED("spec.lists", "  lists: [{name: l, type: syscalls, values: [sys_openat]}]\n",
		 T_SENSORS "test_generated_and_x64_syscall_lists_expand_to_numbers"),
	HONOURED("spec.lists[].name", "  lists: [{name: l, type: syscalls, values: [sys_openat]}]\n",
		 T_FIELDS "test_in_map_over_a_syscall_list_on_raw_syscalls"),
	HONOURED("spec.lists[].type: syscalls", "  lists: [{name: l, type: syscalls, values: [sys_openat]}]\n",
		 T_FIELDS "test_in_map_over_a_syscall_list_on_raw_syscalls"),
	HONOURED("spec.lists[].type: generated_syscalls", "  lists: [{name: l, type: generated_syscalls}]\n",
		 T_SENSORS "test_generated_and_x64_syscall_lists_expand_to_numbers"),
	/* a generated_ftrace list only serves call: "list:NAME", refused there */
	HONOURED("spec.lists[].type: generated_ftrace", "  lists: [{name: l, type: generated_ftrace, pattern: \"^vfs_\"}]\n",
		 T_POLICY "test_full_policy_keeps_options_and_lists"),
	HONOURED("spec.lists[].values", "  lists: [{name: l, type: syscalls, values: [x64/sys_openat]}]\n",
		 T_SENSORS "test_generated_and_x64_syscall_lists_expand_to_numbers"),
	HONOURED("spec.lists[].pattern", "  lists: [{name: l, type: generated_ftrace, pattern: \"^vfs_\"}]\n",
		 T_POLICY "test_refuses_generated_list_with_values"),
	/* Tetragon's own bookkeeping: vigil validates every list whatever it says */
	HONOURED("spec.lists[].validated", "  lists: [{name: l, type: syscalls, values: [sys_openat], validated: true}]\n",
		 T_POLICY "test_refuses_bad_syscall_name_in_list"),
	HONOURED("spec.options[].name: policy-mode", "  options: [{name: policy-mode, value: monitor}]\n",
		 T_FIELDS "test_policy_mode_option_reports_the_kill_without_killing"),
	HONOURED("spec.options[].value", "  options: [{name: policy-mode, value: enforce}]\n",
		 T_FIELDS "test_policy_mode_option_reports_the_kill_without_killing"),
	/* vigil never attaches multi links: either value asks for what it does */
	HONOURED("spec.options[].name: disable-kprobe-multi", "  options: [{name: disable-kprobe-multi, value: \"true\"}]\n",
		 T_POLICY "test_full_policy_keeps_options_and_lists"),
	HONOURED("spec.options[].name: disable-uprobe-multi", "  options: [{name: disable-uprobe-multi, value: \"1\"}]\n",
		 T_POLICY "test_full_policy_keeps_options_and_lists"),
	HONOURED("spec.options[].name: override-method fmod-ret", "  options: [{name: override-method, value: fmod-ret}]\n",
		 T_SENSORS "test_override_method_fmod_ret_keeps_connect_off_cgroup_programs"),
	REFUSED("spec.options[].name: override-method override-return",
		"  options: [{name: override-method, value: override-return}]\n", "value: ^override-return",
		"override-method override-return is not supported"),
	REFUSED("spec.options[].name: file-watch", "  options: [{name: file-watch, value: inotify}]\n",
		"value: ^inotify", "file-watch must be syscall, auto or fanotify"),
	REFUSED("spec.options[].name: sleepable-preload-size", "  options: [{name: sleepable-preload-size, value: \"4\"}]\n",
		"value: ^\"4\"", "sleepable-preload-size is not supported yet"),
	HONOURED("spec.podSelector", "  podSelector: {matchLabels: {app: x}}\n",
		 T_CONTAINERS "test_pod_selector_follows_a_pod_created_after_the_policy"),
	HONOURED("spec.containerSelector", "  containerSelector: {matchLabels: {name: x}}\n",
		 T_CONTAINERS "test_container_selector_picks_the_named_container"),
	REFUSED("spec.nodeSelector", "  nodeSelector: {matchLabels: {a: b}}\n", "nodeSelector",
		"not supported by vigil: nodeSelector (vigil runs without Kubernetes"),
	REFUSED("spec.hostSelector", "  hostSelector: {}\n", "hostSelector", "hostSelector is not supported yet"),
	HONOURED("spec.selectorsMacros",
		 "  selectorsMacros:\n    m: {matchBinaries: [{operator: In, values: [/bin/cat]}]}\n" SEL("macros: [m]"),
		 T_FIELDS "test_macro_selector_filters_like_an_inline_one"),
	HONOURED("spec.loader", "  loader: true\n", T_LOADER "test_binary_and_libc_are_reported_with_their_build_ids"),
	HONOURED("spec.loader: false", "  loader: false\n", T_POLICY "test_loader_false_is_accepted"),

	/* ================================ kprobes[] (and fentries[]) */
	HONOURED("kprobes[].call", KP(""), T_ENGINE "test_syscall_kprobe_lands_in_the_dispatcher_with_args"),
	HONOURED("kprobes[].call: list:NAME (syscalls)", "  lists: [{name: l, type: syscalls, values: [sys_openat]}]\n"
		 "  kprobes:\n  - call: \"list:l\"\n", T_FIELDS "test_call_list_hooks_each_syscall_of_the_list"),
	HONOURED("kprobes[].call: list:NAME (generated_syscalls)", "  lists: [{name: l, type: generated_syscalls}]\n"
		 "  kprobes:\n  - call: \"list:l\"\n",
		 T_GENLISTS "test_every_syscall_of_the_binary_is_an_event_naming_its_syscall"),
	/* the functions come from tracefs; main() hands the parser a kernel's list of two */
	HONOURED("kprobes[].call: list:NAME (generated_ftrace)", "  lists: [{name: l, type: generated_ftrace, pattern: \"^vfs_\"}]\n"
		 "  kprobes:\n  - call: \"list:l\"\n", T_VM "51_generated_ftrace.sh::list:ksys"),
	HONOURED("kprobes[].syscall", KP("    syscall: true\n"), T_ENGINE "test_syscall_kprobe_lands_in_the_dispatcher_with_args"),
	HONOURED("kprobes[].return", RET(""), T_ENGINE "test_return_probe_reports_only_failed_calls_with_their_return_value"),
	HONOURED("kprobes[].returnArg", RET(""), T_ENGINE "test_return_probe_reports_only_failed_calls_with_their_return_value"),
	HONOURED("kprobes[].returnArgAction",
		 KP("    return: true\n    returnArg: {index: 0, type: sock}\n    returnArgAction: TrackSock\n"),
		 T_VM "32_sock_tracking.sh::returnArgAction: \"TrackSock\""),
	REFUSED("kprobes[].returnArgAction on an int", RET("    returnArgAction: TrackSock\n"), "^TrackSock",
		"returnArgAction acts on a returned sock"),
	HONOURED("kprobes[].args", KP_ARGS(""), T_ENGINE "test_syscall_kprobe_lands_in_the_dispatcher_with_args"),
	HONOURED("kprobes[].data", KP("    data: [{index: 0, type: string, source: current_task, resolve: comm}]\n"),
		 T_FIELDS "test_data_from_the_current_task_is_reported_and_filtered"),
	HONOURED("data[].source: current_task", KP("    data: [{index: 0, type: int, source: current_task, resolve: pid}]\n"),
		 T_FIELDS "test_data_from_the_current_task_is_reported_and_filtered"),
	HONOURED("data[].resolve", KP("    data: [{index: 0, type: int, source: current_task, resolve: real_parent.tgid}]\n"),
		 T_FIELDS "test_data_from_the_current_task_is_reported_and_filtered"),
	REFUSED("data[].source: pt_regs", KP("    data: [{index: 0, type: int, source: pt_regs, resolve: ax}]\n"), "source: pt_regs",
		"source pt_regs is not supported yet"),
	HONOURED("kprobes[].selectors", SEL("matchActions: [{action: Post}]"),
		 T_ENGINE "test_first_matching_selector_wins_and_nopost_suppresses"),
	HONOURED("kprobes[].message", KP("    message: \"an open\"\n"), T_FIELDS "test_message_and_tags_are_in_the_event"),
	HONOURED("kprobes[].tags", KP("    tags: [t1, t2]\n"), T_FIELDS "test_message_and_tags_are_in_the_event"),
	HONOURED("kprobes[].ignore.callNotFound", KP("    ignore: {callNotFound: true}\n"),
		 T_FIELDS "test_call_not_found_is_left_out_and_the_rest_of_the_policy_runs"),

	/* ================================ tracepoints[] */
	HONOURED("tracepoints[].subsystem", TP(""), T_ENGINE "test_tracepoint_event_has_tetragon_shape"),
	HONOURED("tracepoints[].event", TP(""), T_ENGINE "test_tracepoint_event_has_tetragon_shape"),
	HONOURED("tracepoints[].raw", "  tracepoints:\n  - {subsystem: sched, event: sched_process_exec, raw: true}\n",
		 T_ENFORCE "test_cryptominer_is_killed_before_running_one_instruction"),
	HONOURED("tracepoints[].args", TP("    args: [{index: 6, type: string}]\n"),
		 T_ENGINE "test_tracepoint_prefix_matches_only_etc_opens_of_the_opener"),
	HONOURED("tracepoints[].selectors", TP("    selectors: [{matchActions: [{action: Post}]}]\n"),
		 T_ENGINE "test_tracepoint_prefix_matches_only_etc_opens_of_the_opener"),
	HONOURED("tracepoints[].message", TP("    message: \"an open\"\n"), T_FIELDS "test_message_and_tags_are_in_the_event"),
	HONOURED("tracepoints[].tags", TP("    tags: [t1]\n"), T_FIELDS "test_message_and_tags_are_in_the_event"),

	/* ================================ uprobes[] */
	HONOURED("uprobes[].path", UP(""), T_ENGINE "test_uprobe_reports_user_function_arguments"),
	HONOURED("uprobes[].symbols", UP(""), T_ENGINE "test_uprobe_reports_user_function_arguments"),
	HONOURED("uprobes[].symbols (several)", "  uprobes:\n  - path: /bin/true\n    symbols: [main, exit]\n",
		 T_FIELDS "test_uprobe_with_two_symbols_reports_each"),
	HONOURED("uprobes[].offsets", "  uprobes:\n  - path: /bin/true\n    offsets: [16]\n",
		 T_FIELDS "test_uprobe_at_a_file_offset_reports_the_call"),
	HONOURED("uprobes[].addrs", "  uprobes:\n  - path: /bin/true\n    addrs: [4096]\n",
		 T_URET "test_uprobe_at_a_virtual_address_reports_the_call"),
	REFUSED("uprobes[].addrs with offsets", "  uprobes:\n  - path: /bin/true\n    offsets: [16]\n    addrs: [4096]\n",
		"addrs", "an uprobe takes one of offsets and addrs, not both"),
	HONOURED("uprobes[].refCtrOffsets", UP("    refCtrOffsets: [8]\n"),
		 T_URET "test_ref_ctr_offset_raises_the_semaphore_while_attached"),
	REFUSED("uprobes[].refCtrOffsets (count)", UP("    refCtrOffsets: [8, 16]\n"), "^[8, 16]",
		"refCtrOffsets has 2 entries for 1 symbols: one each"),
	HONOURED("uprobes[].btfPath", UP("    btfPath: /sys/kernel/btf/vmlinux\n"),
		 T_URET "test_btf_path_resolves_fields_of_a_user_struct"),
	REFUSED("uprobes[].binaryDigests", UP("    binaryDigests: [\"sha256:00\"]\n"), "binaryDigests",
		"not supported by vigil: binaryDigests (digest verification"),
	REFUSED("uprobes[].ignore.digestVerificationFailure", UP("    ignore: {digestVerificationFailure: true}\n"), "ignore",
		"not supported by vigil: ignore (digest verification"),
	HONOURED("uprobes[].return", UP("    return: true\n    returnArg: {index: 0, type: int}\n"),
		 T_URET "test_return_value_is_reported_with_the_entry_arguments"),
	HONOURED("uprobes[].returnArg", UP("    return: true\n    returnArg: {index: 0, type: int}\n"),
		 T_URET "test_return_value_is_reported_with_the_entry_arguments"),
	HONOURED("uprobes[].args", UP("    args: [{index: 0, type: int}]\n"), T_ENGINE "test_uprobe_reports_user_function_arguments"),
	HONOURED("uprobes[].data", UP("    data: [{index: 0, type: int, source: current_task, resolve: pid}]\n"),
		 T_FIELDS "test_data_from_the_current_task_is_reported_and_filtered"),
	HONOURED("uprobes[].selectors", UP("    selectors: [{matchActions: [{action: Post}]}]\n"),
		 T_ENGINE "test_uprobe_reports_user_function_arguments"),
	HONOURED("uprobes[].message", UP("    message: \"main ran\"\n"), T_FIELDS "test_message_and_tags_are_in_the_event"),
	HONOURED("uprobes[].tags", UP("    tags: [t1]\n"), T_FIELDS "test_message_and_tags_are_in_the_event"),

	/* ================================ lsmhooks[] (BPF LSM: the vm lane's stock kernel) */
	HONOURED("lsmhooks[].hook", LSM(""), T_VM "11_lsm_override.sh::hook: "),
	HONOURED("lsmhooks[].args", LSM("    args: [{index: 0, type: file}]\n"), T_VM "11_lsm_override.sh::args:"),
	HONOURED("lsmhooks[].selectors", LSM("    selectors: [{matchActions: [{action: Post}]}]\n"),
		 T_VM "11_lsm_override.sh::selectors:"),
	HONOURED("lsmhooks[].message", LSM("    message: \"an open\"\n"), T_FIELDS "test_message_and_tags_are_in_the_event"),
	HONOURED("lsmhooks[].tags", LSM("    tags: [t1]\n"), T_FIELDS "test_message_and_tags_are_in_the_event"),

	/* ================================ args[], data[], returnArg (KProbeArg) */
	HONOURED("args[].index", KP_ARGS(""), T_ENGINE "test_syscall_kprobe_lands_in_the_dispatcher_with_args"),
	HONOURED("args[].type", KP_ARGS(""), T_ENGINE "test_syscall_kprobe_lands_in_the_dispatcher_with_args"),
	HONOURED("args[].label", KP("    args: [{index: 1, type: string, label: path}]\n"),
		 T_ENGINE "test_syscall_kprobe_lands_in_the_dispatcher_with_args"),
	HONOURED("args[].sizeArgIndex", KP("    args: [{index: 1, type: char_buf, sizeArgIndex: 3}, {index: 2, type: size_t}]\n"),
		 T_ENGINE "test_char_buf_with_size_argument_and_fd_resolved_to_its_file"),
	HONOURED("args[].returnCopy", RET("    args: [{index: 1, type: char_buf, returnCopy: true}]\n"),
		 T_RETCOPY "test_buffer_is_read_when_the_call_returns"),
	HONOURED("args[].maxData", KP("    args: [{index: 1, type: char_buf, maxData: true}]\n"),
		 T_ARGTYPES "test_max_data_carries_100_kb_whole"),
	HONOURED("args[].maxData (char_iovec)", KP("    args: [{index: 1, type: char_iovec, maxData: true}]\n"),
		 T_ARGTYPES "test_max_data_on_char_iovec_carries_every_segment_whole"),
	HONOURED("args[].maxData (return probe)", RET("    args: [{index: 1, type: char_buf, maxData: true}]\n"),
		 T_ARGTYPES "test_max_data_on_a_return_probe_reads_the_buffer_at_the_return"),
	HONOURED("args[].resolve", "  kprobes:\n  - {call: security_file_open, syscall: false, "
		 "args: [{index: 0, type: uint64, resolve: f_inode.i_ino}]}\n", T_VM "10_kprobe_file_open.sh::resolve:"),
	HONOURED("args[].resolve (syscall)", KP("    args: [{index: 2, type: int, resolve: rlim_cur}]\n"),
		 T_URET "test_resolve_on_a_syscall_argument_reads_the_user_struct"),
	HONOURED("args[].resolve (tracepoint)", TP("    args: [{index: 6, type: int, resolve: f_inode}]\n"),
		 T_URET "test_resolve_on_a_tracepoint_argument_reads_the_user_struct"),
	HONOURED("args[].resolve (raw tracepoint)", "  tracepoints:\n  - {subsystem: sched, event: sched_process_exec, raw: true,"
		 " args: [{index: 2, type: string, resolve: filename}]}\n",
		 T_URET "test_resolve_on_a_raw_tracepoint_argument_reads_the_kernel_struct"),
	HONOURED("args[].resolve (uprobe, with btfPath)", UP("    btfPath: /x.btf\n    args: [{index: 0, type: int, resolve: a.b}]\n"),
		 T_URET "test_btf_path_resolves_fields_of_a_user_struct"),
	REFUSED("args[].resolve (usdt)", "  usdts:\n  - {path: /bin/true, provider: p, name: n, args: [{index: 0, type: int, resolve: a}]}\n",
		"{index: 0, type: int, r", "resolve on args is not supported on usdts"),
	REFUSED("args[].source", KP("    args: [{index: 1, type: int, source: pt_regs}]\n"), "source: pt",
		"source is only valid for data entries"),
	REFUSED("args[].btfType", KP("    args: [{index: 1, type: int, btfType: file}]\n"), "btfType",
		"btfType is not supported yet"),
	REFUSED("args[].btfTypeModule", KP("    args: [{index: 1, type: int, btfTypeModule: m}]\n"), "btfTypeModule",
		"btfTypeModule is not supported yet"),

	/* ================================ argument types (the CRD's enum) */
	HONOURED("type: auto", TP("    args: [{index: 6}]\n"), T_POLICY "test_full_policy_tracepoint_args_default_to_auto"),
	HONOURED("type: int", TYPE("int"), T_ENGINE "test_syscall_kprobe_lands_in_the_dispatcher_with_args"),
	HONOURED("type: sint32", TYPE("sint32"), T_ENCODE "test_int_args_are_int_arg"),
	HONOURED("type: int32", TYPE("int32"), T_ENCODE "test_int_args_are_int_arg"),
	HONOURED("type: sint8", TYPE("sint8"), T_ENCODE "test_int_args_are_int_arg"),
	HONOURED("type: int8", TYPE("int8"), T_ENCODE "test_int_args_are_int_arg"),
	HONOURED("type: uint8", TYPE("uint8"), T_POLICY "test_refuses_uint8_value_300"),
	HONOURED("type: sint16", TYPE("sint16"), T_ENCODE "test_int_args_are_int_arg"),
	HONOURED("type: int16", TYPE("int16"), T_ENCODE "test_int_args_are_int_arg"),
	HONOURED("type: uint16", TYPE("uint16"), T_ENCODE "test_uint_args_are_uint_arg"),
	HONOURED("type: uint32", TYPE("uint32"), T_POLICY "test_refuses_negative_value_for_unsigned"),
	HONOURED("type: long", TYPE("long"), T_SHIPPED "test_ptrace_attach_reported_peek_not"),
	HONOURED("type: sint64", TYPE("sint64"), T_ENCODE "test_64_bit_args_are_decimal_strings"),
	HONOURED("type: int64", TYPE("int64"), T_ENCODE "test_64_bit_args_are_decimal_strings"),
	HONOURED("type: ulong", TYPE("ulong"), T_ENCODE "test_64_bit_args_are_decimal_strings"),
	HONOURED("type: uint64", TYPE("uint64"), T_ENCODE "test_64_bit_args_are_decimal_strings"),
	HONOURED("type: size_t", TYPE("size_t"), T_ENGINE "test_char_buf_with_size_argument_and_fd_resolved_to_its_file"),
	HONOURED("type: string", TYPE("string"), T_ENGINE "test_tracepoint_prefix_matches_only_etc_opens_of_the_opener"),
	HONOURED("type: char_buf", TYPE("char_buf"), T_ENGINE "test_char_buf_with_size_argument_and_fd_resolved_to_its_file"),
	HONOURED("type: char_iovec", TYPE("char_iovec"), T_ARGTYPES "test_char_iovec_concatenates_the_segments"),
	HONOURED("type: fd", TYPE("fd"), T_ENGINE "test_char_buf_with_size_argument_and_fd_resolved_to_its_file"),
	HONOURED("type: file", LSM("    args: [{index: 0, type: file}]\n"), T_VM "10_kprobe_file_open.sh::type: \"file\""),
	HONOURED("type: path", TYPE("path"), T_SHIPPED "test_write_under_etc_reported_read_not"),
	HONOURED("type: dentry", TYPE("dentry"), T_ENCODE "test_path_types_are_path_arg"),
	HONOURED("type: filename", TYPE("filename"), T_ENCODE "test_string_types_are_string_arg"),
	HONOURED("type: linux_binprm", TYPE("linux_binprm"), T_ENFORCE "test_cryptominer_is_killed_before_running_one_instruction"),
	HONOURED("type: nop", TYPE("nop"), T_ENCODE "test_args_without_spelling_are_skipped"),
	HONOURED("type: sock", TYPE("sock"), T_VM "10_kprobe_file_open.sh::type: \"sock\""),
	HONOURED("type: socket", TYPE("socket"), T_VM "15_socket_arg.sh::type: \"socket\""),
	HONOURED("type: skb", TYPE("skb"), T_NET "test_skb_fields_and_filters"),
	HONOURED("type: sockaddr", TYPE("sockaddr"), T_SHIPPED "test_connect_to_denied_network_fails_with_eperm_others_untouched"),
	HONOURED("type: sockaddr_un", TYPE("sockaddr_un"), T_ARGTYPES "test_sockaddr_un_path_and_abstract_name"),
	HONOURED("type: cred", TYPE("cred"), T_VM "10_kprobe_file_open.sh::cred"),
	HONOURED("type: capability", TYPE("capability"), T_SHIPPED "test_capability_raised_after_exec_reported_plain_binary_not"),
	HONOURED("type: kernel_cap_t", TYPE("kernel_cap_t"), T_SENSORS "test_capability_set_values_become_masks"),
	HONOURED("type: cap_inheritable", TYPE("cap_inheritable"), T_VM "14_cap_args.sh::cap_inheritable"),
	HONOURED("type: cap_permitted", TYPE("cap_permitted"), T_VM "14_cap_args.sh::cap_permitted"),
	HONOURED("type: cap_effective", TYPE("cap_effective"), T_VM "14_cap_args.sh::cap_effective"),
	HONOURED("type: syscall64", "  tracepoints:\n  - {subsystem: raw_syscalls, event: sys_enter, args: [{index: 1, type: syscall64}]}\n",
		 T_FIELDS "test_in_map_over_a_syscall_list_on_raw_syscalls"),
	HONOURED("type: data_loc", TP("    args: [{index: 6, type: data_loc}]\n"), T_ENCODE "test_string_types_are_string_arg"),
	HONOURED("type: bpf_attr", TYPE("bpf_attr"), T_ARGTYPES "test_bpf_cmd_and_bpf_attr"),
	HONOURED("type: bpf_prog", TYPE("bpf_prog"), T_VM "40_kobj_args.sh::type: \"bpf_prog\""),
	HONOURED("type: bpf_map", TYPE("bpf_map"), T_VM "40_kobj_args.sh::type: \"bpf_map\""),
	HONOURED("type: bpf_cmd", TYPE("bpf_cmd"), T_ARGTYPES "test_bpf_cmd_and_bpf_attr"),
	HONOURED("type: perf_event", TYPE("perf_event"), T_VM "40_kobj_args.sh::type: \"perf_event\""),
	HONOURED("type: user_namespace", TYPE("user_namespace"), T_VM "40_kobj_args.sh::type: \"user_namespace\""),
	HONOURED("type: kiocb", TYPE("kiocb"), T_VM "40_kobj_args.sh::type: \"kiocb\""),
	HONOURED("type: iov_iter", TYPE("iov_iter"), T_VM "40_kobj_args.sh::type: \"iov_iter\""),
	HONOURED("type: const_buf", TYPE("const_buf"), T_ARGTYPES "test_const_buf_reads_as_many_bytes_as_its_size_argument"),
	HONOURED("type: load_info", TYPE("load_info"), T_VM "40_kobj_args.sh::type: \"load_info\""),
	HONOURED("type: module", TYPE("module"), T_VM "40_kobj_args.sh::type: \"module\""),
	HONOURED("type: net_device", TYPE("net_device"), T_NET "test_net_device_name"),

	/* ================================ selectors[] (KProbeSelector) */
	HONOURED("selectors[].matchPIDs", SEL("matchPIDs: [{operator: In, values: [1]}]"),
		 T_FIELDS "test_match_pids_follow_forks_matches_the_children_of_the_pid"),
	HONOURED("selectors[].matchPIDs[].operator", SEL("matchPIDs: [{operator: NotIn, values: [1]}]"),
		 T_FIELDS "test_match_pids_not_in_leaves_out_the_named_pid"),
	HONOURED("selectors[].matchPIDs[].values", SEL("matchPIDs: [{operator: In, values: [1, 2]}]"),
		 T_FIELDS "test_match_pids_follow_forks_matches_the_children_of_the_pid"),
	HONOURED("selectors[].matchPIDs[].isNamespacePID", SEL("matchPIDs: [{operator: In, values: [1], isNamespacePID: true}]"),
		 T_FIELDS "test_match_pids_namespace_pid_matches_pid_1_of_a_new_pid_namespace"),
	HONOURED("selectors[].matchPIDs[].followForks", SEL("matchPIDs: [{operator: In, values: [1], followForks: true}]"),
		 T_FIELDS "test_match_pids_follow_forks_matches_the_children_of_the_pid"),
	HONOURED("selectors[].matchArgs", SEL("matchArgs: [{index: 1, operator: Prefix, values: [/etc]}]"),
		 T_ENGINE "test_tracepoint_prefix_matches_only_etc_opens_of_the_opener"),
	HONOURED("selectors[].matchArgs[].index", SEL("matchArgs: [{index: 1, operator: Equal, values: [/etc]}]"),
		 T_ENGINE "test_tracepoint_prefix_matches_only_etc_opens_of_the_opener"),
	HONOURED("selectors[].matchArgs[].args", SEL("matchArgs: [{args: [0], operator: Equal, values: [/etc]}]"),
		 T_POLICY "test_full_policy_match_args_resolve_slots"),
	HONOURED("selectors[].matchArgs[].operator", SEL("matchArgs: [{index: 1, operator: Postfix, values: [.so]}]"),
		 T_ENGINE "test_tracepoint_prefix_matches_only_etc_opens_of_the_opener"),
	HONOURED("selectors[].matchArgs[].values", SEL("matchArgs: [{index: 1, operator: Equal, values: [a, b]}]"),
		 T_ENGINE "test_tracepoint_prefix_matches_only_etc_opens_of_the_opener"),
	HONOURED("selectors[].matchData",
		 KP("    data: [{index: 0, type: string, source: current_task, resolve: comm}]\n"
		    "    selectors: [{matchData: [{index: 0, operator: Equal, values: [cat]}]}]\n"),
		 T_FIELDS "test_data_from_the_current_task_is_reported_and_filtered"),
	HONOURED("selectors[].matchReturnArgs",
		 RET("    selectors: [{matchReturnArgs: [{index: 0, operator: LT, values: [\"0\"]}]}]\n"),
		 T_ENGINE "test_return_probe_reports_only_failed_calls_with_their_return_value"),
	HONOURED("selectors[].matchReturnActions", RET("    selectors: [{matchReturnActions: [{action: Post}]}]\n"),
		 T_SENSORS "test_return_probe_keeps_the_record_for_the_exit_and_filters_the_value"),
	HONOURED("selectors[].matchBinaries", SEL("matchBinaries: [{operator: In, values: [/bin/cat]}]"),
		 T_ENGINE "test_tracepoint_prefix_matches_only_etc_opens_of_the_opener"),
	HONOURED("selectors[].matchBinaries[].operator", SEL("matchBinaries: [{operator: NotIn, values: [/bin/cat]}]"),
		 T_ENGINE "test_notin_binaries_excludes_only_the_named_binary"),
	HONOURED("selectors[].matchBinaries[].values", SEL("matchBinaries: [{operator: In, values: [/bin/cat, /bin/ls]}]"),
		 T_ENGINE "test_notin_binaries_excludes_only_the_named_binary"),
	HONOURED("selectors[].matchBinaries[].followChildren",
		 SEL("matchBinaries: [{operator: In, values: [/bin/sh], followChildren: true}]"),
		 T_ENGINE "test_follow_children_matches_descendants_of_the_binary_only"),
	HONOURED("selectors[].matchParentBinaries", SEL("matchParentBinaries: [{operator: In, values: [/bin/sh]}]"),
		 T_FIELDS "test_match_parent_binaries_matches_only_children_of_the_spawner"),
	HONOURED("selectors[].matchNamespaces", SEL("matchNamespaces: [{namespace: Pid, operator: In, values: [host_ns]}]"),
		 T_ENGINE "test_host_ns_selector_ignores_new_pid_namespace"),
	HONOURED("selectors[].matchNamespaces[].namespace", SEL("matchNamespaces: [{namespace: Mnt, operator: NotIn, values: [host_ns]}]"),
		 T_SHIPPED "test_mount_in_new_mount_namespace_reported_host_mount_not"),
	HONOURED("selectors[].matchNamespaces[].operator", SEL("matchNamespaces: [{namespace: Mnt, operator: NotIn, values: [host_ns]}]"),
		 T_SHIPPED "test_mount_in_new_mount_namespace_reported_host_mount_not"),
	HONOURED("selectors[].matchNamespaces[].values", SEL("matchNamespaces: [{namespace: Net, operator: In, values: [\"4026531840\"]}]"),
		 T_ENGINE "test_host_ns_selector_ignores_new_pid_namespace"),
	HONOURED("selectors[].matchNamespaceChanges", SEL("matchNamespaceChanges: [{operator: In, values: [Mnt]}]"),
		 T_FIELDS "test_match_namespace_changes_reports_the_open_after_unshare"),
	HONOURED("selectors[].matchNamespaceChanges[].operator", SEL("matchNamespaceChanges: [{operator: In, values: [Mnt]}]"),
		 T_FIELDS "test_match_namespace_changes_reports_the_open_after_unshare"),
	HONOURED("selectors[].matchNamespaceChanges[].values", SEL("matchNamespaceChanges: [{operator: In, values: [Mnt, Uts]}]"),
		 T_FIELDS "test_match_namespace_changes_reports_the_open_after_unshare"),
	HONOURED("selectors[].matchCapabilities", SEL("matchCapabilities: [{operator: NotIn, values: [CAP_SYS_ADMIN]}]"),
		 T_SHIPPED "test_bpf_load_without_caps_reported_root_not"),
	HONOURED("selectors[].matchCapabilities[].type", SEL("matchCapabilities: [{type: Permitted, operator: In, values: [CAP_SYS_ADMIN]}]"),
		 T_FIELDS "test_match_capabilities_permitted_differs_from_effective"),
	HONOURED("selectors[].matchCapabilities[].operator", SEL("matchCapabilities: [{operator: In, values: [CAP_SYS_ADMIN]}]"),
		 T_SHIPPED "test_bpf_load_without_caps_reported_root_not"),
	HONOURED("selectors[].matchCapabilities[].isNamespaceCapability",
		 SEL("matchCapabilities: [{operator: In, isNamespaceCapability: true, values: [CAP_SYS_ADMIN]}]"),
		 T_FIELDS "test_namespace_capability_matches_only_outside_the_host_user_namespace"),
	HONOURED("selectors[].matchCapabilities[].values", SEL("matchCapabilities: [{operator: In, values: [CAP_SYS_ADMIN, CAP_BPF]}]"),
		 T_SHIPPED "test_bpf_load_without_caps_reported_root_not"),
	HONOURED("selectors[].matchCapabilityChanges", SEL("matchCapabilityChanges: [{operator: In, values: [CAP_SYS_ADMIN]}]"),
		 T_SHIPPED "test_capability_raised_after_exec_reported_plain_binary_not"),
	REFUSED("selectors[].matchWorkloads", SEL("matchWorkloads: [{podSelector: {matchLabels: {a: b}}}]"), "matchWorkloads",
		"not supported by vigil: matchWorkloads (vigil runs without Kubernetes"),
	HONOURED("selectors[].macros",
		 "  selectorsMacros:\n    m: {matchBinaries: [{operator: In, values: [/bin/cat]}]}\n" SEL("macros: [m]"),
		 T_FIELDS "test_macro_selector_filters_like_an_inline_one"),
	HONOURED("selectors[].label", SEL("label: opens"), T_FIELDS "test_selector_label_names_the_selector_in_metrics"),
	HONOURED("selectors[].matchActions", SEL("matchActions: [{action: NoPost}]"),
		 T_ENGINE "test_first_matching_selector_wins_and_nopost_suppresses"),

	/* ================================ operators */
	HONOURED("operator: Equal", OP("string", "Equal", ", values: [/etc/passwd]"), T_ENGINE "test_tracepoint_event_has_tetragon_shape"),
	HONOURED("operator: NotEqual", OP("int", "NotEqual", ", values: [\"3\"]"), T_SENSORS "test_integer_operators_fill_values_in_the_filter"),
	HONOURED("operator: Prefix", OP("string", "Prefix", ", values: [/etc]"), T_ENGINE "test_tracepoint_prefix_matches_only_etc_opens_of_the_opener"),
	HONOURED("operator: NotPrefix", OP("string", "NotPrefix", ", values: [/etc]"), T_SHIPPED "test_write_under_etc_reported_read_not"),
	HONOURED("operator: Postfix", OP("string", "Postfix", ", values: [.so]"), T_SENSORS "test_postfix_key_holds_the_value_reversed"),
	HONOURED("operator: NotPostfix", OP("string", "NotPostfix", ", values: [.so]"), T_SENSORS "test_postfix_key_holds_the_value_reversed"),
	HONOURED("operator: GT", OP("int", "GT", ", values: [\"3\"]"), T_SENSORS "test_integer_operators_fill_values_in_the_filter"),
	HONOURED("operator: LT", OP("int", "LT", ", values: [\"3\"]"), T_ENGINE "test_return_probe_reports_only_failed_calls_with_their_return_value"),
	HONOURED("operator: Mask", OP("int", "Mask", ", values: [\"3\"]"), T_SHIPPED "test_write_under_etc_reported_read_not"),
	HONOURED("operator: InMap", OP("int", "InMap", ", values: [\"1:3\"]"), T_FIELDS "test_in_map_over_a_syscall_list_on_raw_syscalls"),
	HONOURED("operator: NotInMap", OP("int", "NotInMap", ", values: [\"1:3\"]"), T_SENSORS "test_in_map_expands_ranges_into_set_keys"),
	HONOURED("operator: InRange", OP("int", "InRange", ", values: [\"1:3\"]"), T_SENSORS "test_in_range_stores_pairs"),
	HONOURED("operator: NotInRange", OP("int", "NotInRange", ", values: [\"1:3\"]"), T_SENSORS "test_in_range_stores_pairs"),
	HONOURED("operator: SAddr", OP("sockaddr", "SAddr", ", values: [10.0.0.0/8]"), T_SHIPPED "test_connect_to_denied_network_fails_with_eperm_others_untouched"),
	HONOURED("operator: NotSAddr", OP("sockaddr", "NotSAddr", ", values: [10.0.0.0/8]"), T_SENSORS "test_address_cidrs_become_lpm_keys_for_v4_and_v6"),
	HONOURED("operator: DAddr", OP("sock", "DAddr", ", values: [10.0.0.0/8]"), T_SENSORS "test_address_cidrs_become_lpm_keys_for_v4_and_v6"),
	HONOURED("operator: NotDAddr", OP("sock", "NotDAddr", ", values: [10.0.0.0/8]"), T_SENSORS "test_address_cidrs_become_lpm_keys_for_v4_and_v6"),
	HONOURED("operator: SPort", OP("sock", "SPort", ", values: [\"80\"]"), T_SENSORS "test_ports_family_and_privileged_ports"),
	HONOURED("operator: NotSPort", OP("sock", "NotSPort", ", values: [\"80\"]"), T_SENSORS "test_ports_family_and_privileged_ports"),
	HONOURED("operator: SPortPriv", OP("sock", "SPortPriv", ""), T_SENSORS "test_ports_family_and_privileged_ports"),
	HONOURED("operator: NotSPortPriv", OP("sock", "NotSPortPriv", ""), T_SENSORS "test_ports_family_and_privileged_ports"),
	HONOURED("operator: DPort", OP("sock", "DPort", ", values: [\"80\"]"), T_VM "10_kprobe_file_open.sh::DPort"),
	HONOURED("operator: NotDPort", OP("sock", "NotDPort", ", values: [\"80\"]"), T_SENSORS "test_ports_family_and_privileged_ports"),
	HONOURED("operator: DPortPriv", OP("sock", "DPortPriv", ""), T_SENSORS "test_ports_family_and_privileged_ports"),
	HONOURED("operator: NotDPortPriv", OP("sock", "NotDPortPriv", ""), T_SENSORS "test_ports_family_and_privileged_ports"),
	HONOURED("operator: Protocol", OP("sock", "Protocol", ", values: [IPPROTO_TCP]"), T_SENSORS "test_ports_family_and_privileged_ports"),
	HONOURED("operator: Family", OP("sockaddr", "Family", ", values: [AF_INET]"), T_SHIPPED "test_shell_connecting_out_reported_python_not"),
	HONOURED("operator: State", OP("sock", "State", ", values: [TCP_ESTABLISHED]"), T_SENSORS "test_ports_family_and_privileged_ports"),
	HONOURED("operator: FileType", OP("file", "FileType", ", values: [reg]"), T_POLICY "test_full_policy_fentry_is_a_kprobe"),
	HONOURED("operator: NotFileType", OP("file", "NotFileType", ", values: [dir]"), T_POLICY "test_full_policy_fentry_is_a_kprobe"),
	HONOURED("operator: SubString", OP("string", "SubString", ", values: [etc]"),
		 T_SELECTORS "test_string_substring"),
	REFUSED("operator: SubStringIgnCase", OP("string", "SubStringIgnCase", ", values: [etc]"), "SubStringIgnCase",
		"operator \"SubStringIgnCase\" is not supported yet"),
	REFUSED("operator: CelExpr", OP("int", "CelExpr", ", values: [\"arg0 > 1\"]"), "CelExpr",
		"operator \"CelExpr\" is not supported yet"),
	HONOURED("operator: CapabilitiesGained",
		 KP("    args: [{index: 0, type: kernel_cap_t}, {index: 1, type: kernel_cap_t}]\n"
		    "    selectors: [{matchArgs: [{args: [0, 1], operator: CapabilitiesGained}]}]\n"),
		 T_VM "14_cap_args.sh::CapabilitiesGained"),

	/* ================================ matchActions[] (ActionSelector) */
	HONOURED("action: Post", ACT("action: Post"), T_ENGINE "test_first_matching_selector_wins_and_nopost_suppresses"),
	HONOURED("action: NoPost", ACT("action: NoPost"), T_ENGINE "test_first_matching_selector_wins_and_nopost_suppresses"),
	HONOURED("action: Sigkill", ACT("action: Sigkill"), T_ENFORCE "test_cryptominer_is_killed_before_running_one_instruction"),
	HONOURED("action: Signal", ACT("action: Signal, argSig: SIGUSR1"), T_ENFORCE "test_signal_action_delivers_the_named_signal"),
	HONOURED("action: Override", ACT("action: Override, argError: -1"), T_ENFORCE "test_connect_to_denied_address_fails_with_eperm"),
	HONOURED("action: GetUrl", ACT("action: GetUrl, argUrl: http://x"), T_CANARY "test_get_url_reaches_the_listener"),
	HONOURED("action: GetUrl, argUrl: https", ACT("action: GetUrl, argUrl: https://x"),
		 T_CANARY "test_https_get_url_reaches_a_listener_whose_ca_is_trusted"),
	REFUSED("action: GetUrl, argUrl: ftp", ACT("action: GetUrl, argUrl: ftp://x"), "ftp://x",
		"argUrl must be an http:// or https:// URL"),
	HONOURED("action: DnsLookup", ACT("action: DnsLookup, argFqdn: x.org"), T_CANARY "test_dns_lookup_reaches_the_responder"),
	HONOURED("action: TrackSock", ACT("action: TrackSock, argSock: 0"), T_NET "test_tracked_sock_reports_its_owner"),
	HONOURED("action: UntrackSock", ACT("action: UntrackSock, argSock: 0"), T_VM "32_sock_tracking.sh::action: \"UntrackSock\""),
	HONOURED("action: NotifyEnforcer (argSig)", "  enforcers: [{calls: [sys_openat]}]\n"
		 ACT("action: NotifyEnforcer, argSig: 9"), T_ENFORCER "test_notify_enforcer_kills_the_shell_at_its_dup2"),
	REFUSED("action: NotifyEnforcer (argError)", "  enforcers: [{calls: [sys_openat]}]\n"
		ACT("action: NotifyEnforcer, argError: -1"), "argError: ^-1",
		"NotifyEnforcer with argError needs the enforcer to override the listed syscalls' return"),
	REFUSED("action: CleanupEnforcerNotification", ACT("action: CleanupEnforcerNotification"),
		"CleanupEnforcerNotification", "action \"CleanupEnforcerNotification\" is not supported by vigil"),
	/* honoured on usdts (host.usdt, vm case 11); on the kprobe hook this table uses, refused */
	REFUSED("action: Set", ACT("action: Set"), "Set", "Set writes a USDT probe's argument: it works on usdts"),
	REFUSED("action: FollowFD", ACT("action: FollowFD, argFd: 0, argName: 1"), "FollowFD",
		"action FollowFD is not supported (Tetragon deprecated it"),
	REFUSED("action: UnfollowFD", ACT("action: UnfollowFD, argFd: 0"), "UnfollowFD",
		"action UnfollowFD is not supported (Tetragon deprecated it"),
	REFUSED("action: CopyFD", ACT("action: CopyFD, argFd: 0, argName: 1"), "CopyFD",
		"action CopyFD is not supported (Tetragon deprecated it"),
	HONOURED("matchActions[].argError", ACT("action: Override, argError: -EPERM"),
		 T_ENFORCE "test_connect_to_denied_address_fails_with_eperm"),
	HONOURED("matchActions[].argSig", ACT("action: Signal, argSig: 10"), T_ENFORCE "test_signal_action_delivers_the_named_signal"),
	/* the arguments of refused actions, on an action that ignores them (as Tetragon) */
	HONOURED("matchActions[].argUrl", ACT("action: Post, argUrl: http://x"), T_POLICY "test_full_policy_actions"),
	HONOURED("matchActions[].argFqdn", ACT("action: Post, argFqdn: x.org"), T_POLICY "test_full_policy_fentry_is_a_kprobe"),
	HONOURED("matchActions[].argSock", ACT("action: NoPost, argSock: 1"), T_POLICY "test_full_policy_fentry_is_a_kprobe"),
	HONOURED("matchActions[].argFd", ACT("action: Post, argFd: 1"), T_POLICY "test_full_policy_actions"),
	HONOURED("matchActions[].argName", ACT("action: Post, argName: 1"), T_POLICY "test_full_policy_actions"),
	REFUSED("matchActions[].argIndex", ACT("action: Post, argIndex: 1"), "argIndex",
		"argIndex belongs to the Set action, not Post"),
	REFUSED("matchActions[].argValue", ACT("action: Post, argValue: 1"), "argValue",
		"argValue belongs to the Set action, not Post"),
	REFUSED("matchActions[].argRegs", ACT("action: Override, argRegs: [\"rax=1\"]"), "argRegs",
		"not supported by vigil: argRegs (uprobe Override"),
	REFUSED("matchActions[].argNewSymbol", ACT("action: Override, argNewSymbol: f"), "argNewSymbol",
		"not supported by vigil: argNewSymbol (uprobe Override"),
	REFUSED("matchActions[].argNewAddr", ACT("action: Override, argNewAddr: 1"), "argNewAddr",
		"not supported by vigil: argNewAddr (uprobe Override"),
	REFUSED("matchActions[].argNewOffset", ACT("action: Override, argNewOffset: 1"), "argNewOffset",
		"not supported by vigil: argNewOffset (uprobe Override"),
	HONOURED("matchActions[].rateLimit", ACT("action: Post, rateLimit: 1m"), T_ENGINE "test_rate_limit_posts_one_of_five"),
	HONOURED("matchActions[].rateLimitScope", ACT("action: Post, rateLimit: 1m, rateLimitScope: global"),
		 T_FIELDS "test_rate_limit_scope_global_posts_once_for_two_processes"),
	HONOURED("matchActions[].kernelStackTrace", ACT("action: Post, kernelStackTrace: true"),
		 T_STACKS "test_kernel_stack_is_named_from_kallsyms"),
	HONOURED("matchActions[].userStackTrace", ACT("action: Post, userStackTrace: true"),
		 T_STACKS "test_user_stack_is_named_from_the_binary"),
	HONOURED("matchActions[].kernelStackTrace: false", ACT("action: Post, kernelStackTrace: false"),
		 T_POLICY "test_full_policy_actions"),
	/* honoured on lsmhooks (vm case 11); on the kprobe hook this table uses, refused */
	REFUSED("matchActions[].imaHash", ACT("action: Post, imaHash: true"), "imaHash",
		"imaHash works on lsmhooks only"),
};

/* ---- checks ---- */

static char *read_source(const char *rel)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", VIGIL_SOURCE_DIR, rel);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

/* The 1-based line and column of `at` in doc: its first occurrence (without the '^'), then
 * the marked character if it has one. */
static void position_of(const char *doc, const char *at, int *line, int *col)
{
	char needle[256];
	const char *caret = strchr(at, '^'), *hit, *p;
	size_t skip = caret ? (size_t)(caret - at) : 0;

	snprintf(needle, sizeof(needle), "%.*s%s", (int)skip, at, caret ? caret + 1 : at + skip);
	hit = strstr(doc, needle);
	if (!hit)
		fail_msg("\"%s\" is not in the policy", needle);
	hit += skip;
	*line = 1;
	*col = 1;
	for (p = doc; p < hit; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

static void check_row(void **state)
{
	const struct row *r = *state;
	struct vigil_policy_error err = { 0 };
	struct vigil_policy *p = NULL;
	char doc[4096], formatted[1024], where[300];
	int n, rc, line, col;

	n = snprintf(doc, sizeof(doc), HDR "%s", r->spec);
	assert_true(n > 0 && n < (int)sizeof(doc));
	rc = vigil_policy_parse(FILE_NAME, doc, (size_t)n, &p, &err);
	if (!r->at) {
		char file[256], *text;
		const char *sep = strstr(r->covered, "::");

		if (rc)
			fail_msg("%s: honoured, but refused: %d:%d: %s", r->field, err.line, err.col, err.reason);
		vigil_policy_free(p);
		assert_non_null(sep);
		snprintf(file, sizeof(file), "%.*s", (int)(sep - r->covered), r->covered);
		text = read_source(file);
		if (!text)
			fail_msg("%s: the covering test's file %s cannot be read", r->field, file);
		if (!strstr(text, sep + 2))
			fail_msg("%s: %s has no \"%s\"", r->field, file, sep + 2);
		free(text);
		return;
	}
	if (rc != -EINVAL)
		fail_msg("%s: must be refused, got %d", r->field, rc);
	if (!strstr(err.reason, r->reason))
		fail_msg("%s: reason \"%s\" lacks \"%s\"", r->field, err.reason, r->reason);
	position_of(doc, r->at, &line, &col);
	if (err.line != line || err.col != col)
		fail_msg("%s: refused at %d:%d, not at %d:%d (%s)", r->field, err.line, err.col, line, col, err.reason);
	snprintf(where, sizeof(where), FILE_NAME ":%d:%d: ", line, col);
	vigil_policy_error_format(&err, formatted, sizeof(formatted));
	assert_true(strncmp(formatted, where, strlen(where)) == 0);
}

int main(void)
{
	struct CMUnitTest tests[VIGIL_ARRAY_SIZE(rows)];
	size_t i;

	char functions[] = "/tmp/vigil-schema-ftrace-XXXXXX";
	int fd = mkstemp(functions), rc;

	/* generated_ftrace lists read tracefs's available_filter_functions: give them this */
	if (fd < 0 || write(fd, "vfs_read\nvfs_write [ext4]\nvfs_read\n", 35) != 35)
		return 1;
	close(fd);
	setenv("VIGIL_FTRACE_FUNCTIONS", functions, 1);
	for (i = 0; i < VIGIL_ARRAY_SIZE(rows); i++)
		tests[i] = (struct CMUnitTest){ rows[i].field, check_row, NULL, NULL, (void *)&rows[i] };
	rc = _cmocka_run_group_tests("policy_schema", tests, VIGIL_ARRAY_SIZE(rows), NULL, NULL);
	unlink(functions);
	return rc;
}
