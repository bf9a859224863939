/* test_sensors.c - unit tests for core/sensors' compiler: each hook of a parsed policy into
 * the kernel configuration (struct vg_hook_config) and the exact bytes of its map keys, and
 * the choice of mechanism for a given probe report. No kernel is touched. */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/btf.h>

#include "sensors/sensors_internal.h"

#define HOST_PID_NS 4026531836u

/* tracefs as on our machines: every syscalls event but finit_module's (no modules), the
 * setns/newstat layout for all of them; other subsystems from the real tracefs. */
int __real_tp_format_read(const char *subsys, const char *event, struct tp_field *out, size_t max);
int __wrap_tp_format_read(const char *subsys, const char *event, struct tp_field *out, size_t max);
int __wrap_tp_format_read(const char *subsys, const char *event, struct tp_field *out, size_t max)
{
	static const struct tp_field fields[] = {
		{"common_type", "unsigned short", 0, 2, false, false},
		{"__syscall_nr", "int", 8, 4, true, false},
		{"arg0", "unsigned long", 16, 8, false, false},
		{"arg1", "unsigned long", 24, 8, false, false},
	};
	/* sys_enter_openat as the kernel lays it out: 4 common fields, __syscall_nr, then one
	 * unsigned long per argument */
	static const struct tp_field openat[] = {
		{"common_type", "unsigned short", 0, 2, false, false},
		{"common_flags", "unsigned char", 2, 1, false, false},
		{"common_preempt_count", "unsigned char", 3, 1, false, false},
		{"common_pid", "int", 4, 4, true, false},
		{"__syscall_nr", "int", 8, 4, true, false},
		{"dfd", "int", 16, 8, false, false},
		{"filename", "const char *", 24, 8, false, false},
		{"flags", "int", 32, 8, false, false},
		{"mode", "umode_t", 40, 8, false, false},
	};
	/* sys_exit_X: the number, then the return value */
	static const struct tp_field exit_fields[] = {
		{"common_type", "unsigned short", 0, 2, false, false},
		{"common_flags", "unsigned char", 2, 1, false, false},
		{"common_preempt_count", "unsigned char", 3, 1, false, false},
		{"common_pid", "int", 4, 4, true, false},
		{"__syscall_nr", "int", 8, 4, true, false},
		{"ret", "long", 16, 8, true, false},
	};
	size_t i;

	if (strcmp(subsys, "syscalls"))
		return __real_tp_format_read(subsys, event, out, max);
	if (!strncmp(event, "sys_exit_", 9)) {
		for (i = 0; i < max && i < sizeof(exit_fields) / sizeof(exit_fields[0]); i++)
			out[i] = exit_fields[i];
		return (int)i;
	}
	if (strstr(event, "finit_module") || !strcmp(event, "sys_enter_stat"))
		return -ENOENT;
	if (!strcmp(event, "sys_enter_openat")) {
		for (i = 0; i < max && i < sizeof(openat) / sizeof(openat[0]); i++)
			out[i] = openat[i];
		return (int)i;
	}
	for (i = 0; i < max && i < sizeof(fields) / sizeof(fields[0]); i++)
		out[i] = fields[i];
	return (int)i;
}

struct fixture {
	struct vigil_probe_report probe;
	uint32_t host_ns[VIGIL_NS_COUNT];
	struct vigil_policy *policy;
	struct vigil_policy_error err;
	struct compiled_hook hook;
	struct btf *vmlinux;	/* NULL: the kernel has no BTF */
	int rc;
};

/* What our 6.18 machines permit: no kprobes, no trampolines. */
static void probe_host(struct vigil_probe_report *p)
{
	memset(p, 0, sizeof(*p));
	p->mech[VIGIL_MECH_TP_BTF].ok = p->mech[VIGIL_MECH_RAW_TP].ok = p->mech[VIGIL_MECH_TRACEPOINT].ok = true;
	p->mech[VIGIL_MECH_CGROUP_SOCK_ADDR].ok = p->mech[VIGIL_MECH_RINGBUF].ok = true;
	p->mech[VIGIL_MECH_COMPAT_SYSCALLS].ok = true;	/* (some of them refuse int 0x80: below) */
	snprintf(p->mech[VIGIL_MECH_KPROBE].reason, sizeof(p->mech[0].reason), "attach: ENOENT");
	snprintf(p->mech[VIGIL_MECH_FENTRY].reason, sizeof(p->mech[0].reason), "load: EPERM");
	snprintf(p->mech[VIGIL_MECH_FMOD_RET].reason, sizeof(p->mech[0].reason), "load: EPERM");
	snprintf(p->mech[VIGIL_MECH_LSM].reason, sizeof(p->mech[0].reason), "load: EPERM");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	probe_host(&f->probe);
	f->host_ns[VIGIL_NS_PID] = HOST_PID_NS;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	compiled_hook_free(&f->hook);
	vigil_policy_free(f->policy);
	btf__free(f->vmlinux);
	free(f);
	return 0;
}

/* Parse `spec` (the body under spec:) and compile hook 0 in `mode`. */
static int compile(struct fixture *f, const char *spec, int mode)
{
	char yaml[8192];
	struct compile_ctx ctx = {0};
	int n;

	/* a second compile in one test replaces the first */
	compiled_hook_free(&f->hook);
	vigil_policy_free(f->policy);
	f->policy = NULL;
	n = snprintf(yaml, sizeof(yaml),
		     "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: t\nspec:\n%s", spec);
	assert_true(n > 0 && n < (int)sizeof(yaml));
	assert_int_equal(vigil_policy_parse("t.yaml", yaml, (size_t)n, &f->policy, &f->err), 0);
	ctx.policy = f->policy;
	ctx.probe = &f->probe;
	ctx.vmlinux = f->vmlinux;
	ctx.host_ns = f->host_ns;
	ctx.mode = mode;
	ctx.err = &f->err;
	f->rc = compile_hook(&ctx, 0, &f->hook);
	return f->rc;
}

#define SETNS_SPEC(selectors)                                                                          \
	"  kprobes:\n  - call: sys_setns\n    syscall: true\n    args:\n    - index: 0\n      type: int\n" \
	"    - index: 1\n      type: int\n    selectors:\n" selectors

#define CONNECT_SPEC(selectors)                                                                          \
	"  kprobes:\n  - call: sys_connect\n    syscall: true\n    args:\n    - index: 1\n      type: sockaddr\n" \
	"    selectors:\n" selectors

#define EXECVE_SPEC(selectors)                                                                             \
	"  kprobes:\n  - call: sys_execve\n    syscall: true\n    args:\n    - index: 0\n      type: string\n" \
	"    selectors:\n" selectors

/* ---- mechanisms ---- */

static void test_syscall_hook_without_kprobes_goes_to_the_dispatcher_by_number(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchActions:\n      - action: Sigkill\n"), VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_RAW_SYSCALL_DISPATCH);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_RAW_SYSCALL);
	assert_int_equal(f->hook.cfg.syscall_nr, 308);	/* setns on x86-64 */
	assert_string_equal(f->hook.function_name, "__x64_sys_setns");
	assert_non_null(strstr(f->hook.note, "runs on setns only"));
	assert_int_equal(f->hook.cfg.args[0].user, 1);
	assert_int_equal(f->hook.cfg.args[1].index, 1);
}

/* a return probe goes to the dispatcher too, its exit in the exit table: sys_exit_X would
 * cost other syscalls only a bitmap test, but skips 32-bit calls */
static void test_syscall_return_probe_without_kprobes_goes_to_the_dispatcher(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_setns\n    syscall: true\n    return: true\n"
				    "    args:\n    - index: 0\n      type: int\n    - index: 1\n      type: int\n"
				    "    returnArg:\n      index: 0\n      type: int\n",
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_RAW_SYSCALL_DISPATCH);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_RAW_SYSCALL);
	assert_int_equal(f->hook.cfg.is_return, 1);
	assert_int_equal(f->hook.cfg.syscall_nr, 308);
	assert_string_equal(f->hook.function_name, "__x64_sys_setns");
	assert_int_equal(f->hook.cfg.args[1].index, 1);
}

/* without raw_tp: syscalls:sys_enter_X + sys_exit_X, one unsigned long per argument after the
 * common fields and the syscall number */
static void test_syscall_return_probe_without_raw_tp_lands_on_its_syscall_tracepoints(void **state)
{
	struct fixture *f = *state;

	f->probe.mech[VIGIL_MECH_RAW_TP].ok = false;
	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_setns\n    syscall: true\n    return: true\n"
				    "    args:\n    - index: 0\n      type: int\n    - index: 1\n      type: int\n"
				    "    returnArg:\n      index: 0\n      type: int\n",
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_SYSCALL_TRACEPOINT);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_TRACEPOINT);
	assert_string_equal(f->hook.subsys, "syscalls");
	assert_string_equal(f->hook.target, "sys_enter_setns");
	assert_non_null(strstr(f->hook.note, "Sigkill/Signal only"));
	assert_int_equal(f->hook.cfg.args[0].user, 1);
	assert_int_equal(f->hook.cfg.args[0].tp_offset, 16);
	assert_int_equal(f->hook.cfg.args[1].tp_offset, 24);
	assert_int_equal(f->hook.cfg.args[1].tp_size, 8);
}

static void test_syscall_event_named_otherwise_is_found_under_its_kernel_name(void **state)
{
	struct fixture *f = *state;

	f->probe.mech[VIGIL_MECH_RAW_TP].ok = false;
	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_stat\n    syscall: true\n    return: true\n"
				    "    returnArg:\n      index: 0\n      type: int\n", VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_SYSCALL_TRACEPOINT);
	assert_string_equal(f->hook.target, "sys_enter_newstat");
}

/* With trampolines the hook sits on the function the syscall table calls: __x64_sys_stat is
 * i386's old stat (it exists, attaches, and never runs for a 64-bit stat) */
static void test_syscall_named_otherwise_hooks_the_function_its_table_calls(void **state)
{
	struct fixture *f = *state;
	int type;

	f->probe.mech[VIGIL_MECH_FENTRY].ok = f->probe.mech[VIGIL_MECH_KPROBE].ok = true;
	f->vmlinux = btf__new_empty();
	assert_non_null(f->vmlinux);
	type = btf__add_int(f->vmlinux, "long", 8, BTF_INT_SIGNED);
	type = btf__add_func_proto(f->vmlinux, type);
	assert_int_equal(btf__add_func_param(f->vmlinux, "regs", 1), 0);
	assert_true(btf__add_func(f->vmlinux, "__x64_sys_stat", BTF_FUNC_GLOBAL, type) > 0);
	assert_true(btf__add_func(f->vmlinux, "__x64_sys_newstat", BTF_FUNC_GLOBAL, type) > 0);
	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_stat\n    syscall: true\n    args:\n"
				    "    - index: 0\n      type: string\n", VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_FENTRY);
	assert_string_equal(f->hook.target, "__x64_sys_newstat");
	assert_int_equal(f->hook.cfg.syscall_nr, 4);	/* stat on x86-64 */
}

/* syscalls:sys_exit_X on its number and return value: the dispatcher's exit table, which
 * hands it 32-bit calls too; on another field it stays a tracepoint, and so it does where the
 * kernel runs no 32-bit calls, for which the tracepoint misses nothing and costs less */
static void test_sys_exit_tracepoint_goes_to_the_dispatchers_exit(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, "  tracepoints:\n  - subsystem: syscalls\n    event: sys_exit_setresuid\n"
				    "    args:\n    - index: 5\n      type: auto\n    - index: 4\n      type: int\n",
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_RAW_SYSCALL_DISPATCH);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_SYSCALL_EXIT);
	assert_int_equal(f->hook.cfg.syscall_nr, 117);	/* setresuid */
	assert_int_equal(f->hook.cfg.is_return, 0);
	assert_int_equal(f->hook.cfg.args[0].index, 5);
	assert_int_equal(f->hook.cfg.args[0].type, VG_ARG_LONG);	/* auto: ret is a long */
	assert_string_equal(f->hook.target, "sys_exit_setresuid");
	assert_int_equal(compile(f, "  tracepoints:\n  - subsystem: syscalls\n    event: sys_exit_setresuid\n"
				    "    args:\n    - index: 3\n      type: int\n", VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_TRACEPOINT);
	f->probe.mech[VIGIL_MECH_COMPAT_SYSCALLS].ok = false;
	assert_int_equal(compile(f, "  tracepoints:\n  - subsystem: syscalls\n    event: sys_exit_setresuid\n"
				    "    args:\n    - index: 5\n      type: auto\n    - index: 4\n      type: int\n",
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_TRACEPOINT);
	assert_string_equal(f->hook.target, "sys_exit_setresuid");
	assert_non_null(strstr(f->hook.note, "no 32-bit syscalls on this kernel"));
}

#define OPENAT_TP(args)                                                                              \
	"  tracepoints:\n  - subsystem: syscalls\n    event: sys_enter_openat\n    args:\n" args     \
	"    selectors:\n    - matchArgs:\n      - index: 6\n        operator: Prefix\n        values: [/etc/]\n"

/* a syscalls:sys_enter_X hook on the syscall's own arguments: the same hook by number in the
 * dispatcher, each field renumbered to the argument it holds; the event keeps its names */
static void test_syscall_tracepoint_on_its_arguments_goes_to_the_dispatcher(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, OPENAT_TP("    - index: 6\n      type: string\n    - index: 7\n      type: int\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_RAW_SYSCALL_DISPATCH);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_RAW_SYSCALL);
	assert_int_equal(f->hook.cfg.syscall_nr, 257);	/* openat on x86-64 */
	assert_int_equal(f->hook.cfg.args[0].index, 1);
	assert_int_equal(f->hook.cfg.args[0].user, 1);
	assert_int_equal(f->hook.cfg.args[1].index, 2);
	assert_int_equal(f->hook.cfg.sel[0].args[0].slot, 0);
	assert_string_equal(f->hook.info.subsys, "syscalls");
	assert_string_equal(f->hook.info.event, "sys_enter_openat");
}

/* observing connects: the cgroup connect programs, no syscall hook, when they can read all
 * the hook needs (the destination); an fd argument keeps the syscall hook */
static void test_connect_observed_on_its_destination_uses_the_cgroup_programs(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, CONNECT_SPEC("    - matchArgs:\n      - index: 1\n        operator: Family\n"
						 "        values: [AF_INET]\n"), VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_CGROUP_CONNECT);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_SOCK_ADDR);
	assert_int_equal(f->hook.cfg.can_override, 0);
	assert_non_null(strstr(f->hook.note, "io_uring"));
	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_connect\n    syscall: true\n    args:\n    - index: 0\n"
				    "      type: int\n    - index: 1\n      type: sockaddr\n", VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_RAW_SYSCALL_DISPATCH);
}

/* With trampolines (the vm lane's 6.1): fentry on the syscall's function, which runs on that
 * syscall only; a syscall tracepoint would put every syscall of every task on the slow path. */
static void test_syscall_tracepoint_with_trampolines_becomes_fentry_on_the_syscall(void **state)
{
	struct fixture *f = *state;
	int type;

	f->probe.mech[VIGIL_MECH_FENTRY].ok = f->probe.mech[VIGIL_MECH_KPROBE].ok = true;
	f->vmlinux = btf__new_empty();
	assert_non_null(f->vmlinux);
	type = btf__add_int(f->vmlinux, "long", 8, BTF_INT_SIGNED);
	type = btf__add_func_proto(f->vmlinux, type);
	assert_int_equal(btf__add_func_param(f->vmlinux, "regs", 1), 0);
	assert_true(btf__add_func(f->vmlinux, "__x64_sys_openat", BTF_FUNC_GLOBAL, type) > 0);

	assert_int_equal(compile(f, OPENAT_TP("    - index: 6\n      type: string\n    - index: 7\n      type: int\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_FENTRY);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_SYSCALL_CTX);
	assert_string_equal(f->hook.target, "__x64_sys_openat");
	assert_int_equal(f->hook.cfg.syscall_nr, 257);
	assert_int_equal(f->hook.cfg.args[0].index, 1);
	assert_int_equal(f->hook.cfg.args[0].user, 1);
	assert_int_equal(f->hook.cfg.args[1].index, 2);
	assert_int_equal(f->hook.cfg.sel[0].args[0].slot, 0);
	assert_string_equal(f->hook.info.event, "sys_enter_openat");
	/* a common field has no register, and a syscall BTF does not know stays a tracepoint */
	assert_int_equal(compile(f, OPENAT_TP("    - index: 6\n      type: string\n    - index: 4\n      type: int\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_TRACEPOINT);
	assert_string_equal(f->hook.target, "sys_enter_openat");
	assert_int_equal(compile(f, "  tracepoints:\n  - subsystem: syscalls\n    event: sys_enter_setns\n",
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_TRACEPOINT);
	assert_string_equal(f->hook.target, "sys_enter_setns");
	/* sys_exit_X without arguments: fexit, after the syscall as the tracepoint */
	assert_true(btf__add_func(f->vmlinux, "__x64_sys_capset", BTF_FUNC_GLOBAL, type) > 0);
	assert_int_equal(compile(f, "  tracepoints:\n  - subsystem: syscalls\n    event: sys_exit_capset\n",
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_FEXIT);
	assert_string_equal(f->hook.target, "__x64_sys_capset");
	assert_int_equal(f->hook.cfg.syscall_nr, 126);	/* capset on x86-64 */
	assert_string_equal(f->hook.info.event, "sys_exit_capset");
	/* an argument (the return value; this stub's layout has it at field 2) is not read at
	 * fexit: the tracepoint stays */
	assert_int_equal(compile(f, "  tracepoints:\n  - subsystem: syscalls\n    event: sys_exit_capset\n    args:\n"
				    "    - index: 2\n      type: long\n", VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_TRACEPOINT);
}

/* Functions of one struct pt_regs * argument, as the syscall wrappers are. */
static void add_wrappers(struct btf *btf, const char *const *names)
{
	int type = btf__add_int(btf, "long", 8, BTF_INT_SIGNED);

	type = btf__add_func_proto(btf, type);
	assert_int_equal(btf__add_func_param(btf, "regs", 1), 0);
	for (; *names; names++)
		assert_true(btf__add_func(btf, *names, BTF_FUNC_GLOBAL, type) > 0);
}

/* With trampolines, a syscall hook also sits on the i386 wrappers that reach its twin: X's own
 * and those named otherwise (setuid16, socketcall, _llseek, ipc), with Override too (fmod_ret);
 * a sys_exit_X on its return value is fexit on both, read as the dispatcher's exit reads it. */
static void test_syscall_hook_with_trampolines_sits_on_every_i386_wrapper_of_its_twin(void **state)
{
	static const char *const fns[] = {
		"__x64_sys_setuid", "__ia32_sys_setuid", "__ia32_sys_setuid16", "__x64_sys_connect",
		"__ia32_sys_connect", "__ia32_compat_sys_socketcall", "__x64_sys_lseek", "__ia32_compat_sys_lseek",
		"__ia32_sys_lseek", "__ia32_sys_llseek", "__x64_sys_shmat", "__ia32_compat_sys_shmat",
		"__ia32_compat_sys_ipc", "__x64_sys_setresuid", "__ia32_sys_setresuid", "__ia32_sys_setresuid16",
		NULL,
	};
	static const struct {
		const char *call, *wrappers[3];
	} want[] = {
		{"sys_setuid", {"__ia32_sys_setuid", "__ia32_sys_setuid16"}},
		{"sys_connect", {"__ia32_sys_connect", "__ia32_compat_sys_socketcall"}},
		{"sys_lseek", {"__ia32_compat_sys_lseek", "__ia32_sys_llseek"}},
		{"sys_shmat", {"__ia32_compat_sys_shmat", "__ia32_compat_sys_ipc"}},
	};
	struct fixture *f = *state;
	char spec[256];
	size_t i, j;

	f->probe.mech[VIGIL_MECH_FENTRY].ok = f->probe.mech[VIGIL_MECH_KPROBE].ok = true;
	f->probe.mech[VIGIL_MECH_FMOD_RET].ok = true;
	f->vmlinux = btf__new_empty();
	assert_non_null(f->vmlinux);
	add_wrappers(f->vmlinux, fns);
	for (i = 0; i < VIGIL_ARRAY_SIZE(want); i++) {
		snprintf(spec, sizeof(spec), "  kprobes:\n  - call: %s\n    syscall: true\n    args:\n    - index: 0\n"
			 "      type: int\n", want[i].call);
		assert_int_equal(compile(f, spec, VIGIL_MODE_ENFORCE), 0);
		assert_int_equal(f->hook.mech, MECH_FENTRY);
		for (j = 0; j < 2; j++)
			assert_string_equal(f->hook.ia32_target[j], want[i].wrappers[j]);
		assert_string_equal(f->hook.ia32_target[2], "");
	}
	/* Override: fmod_ret on the syscall and on its i386 wrappers */
	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_setuid\n    syscall: true\n    selectors:\n"
				    "    - matchActions:\n      - action: Override\n        argError: -1\n",
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_FMOD_RET);
	assert_string_equal(f->hook.ia32_target[0], "__ia32_sys_setuid");
	assert_string_equal(f->hook.ia32_target[1], "__ia32_sys_setuid16");
	assert_null(strstr(f->hook.note, "32-bit"));
	/* sys_exit_X on its return value: fexit on __x64_sys_X and the i386 wrappers */
	assert_int_equal(compile(f, "  tracepoints:\n  - subsystem: syscalls\n    event: sys_exit_setresuid\n"
				    "    args:\n    - index: 5\n      type: int\n", VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_FEXIT);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_SYSCALL_EXIT);
	assert_int_equal(f->hook.cfg.syscall_nr, 117);
	assert_string_equal(f->hook.target, "__x64_sys_setresuid");
	assert_string_equal(f->hook.ia32_target[0], "__ia32_sys_setresuid");
	assert_string_equal(f->hook.ia32_target[1], "__ia32_sys_setresuid16");
}

/* With trampolines, the fentry entry hooks on a syscall's function share its one fentry
 * program (core/sensors/fentry_dispatch.c); a return probe, an fexit and a pinned hook keep
 * programs of their own. */
static void test_fentry_syscall_hooks_go_to_their_syscalls_dispatcher(void **state)
{
	struct fixture *f = *state;
	int type;

	f->probe.mech[VIGIL_MECH_FENTRY].ok = f->probe.mech[VIGIL_MECH_KPROBE].ok = true;
	f->vmlinux = btf__new_empty();
	assert_non_null(f->vmlinux);
	type = btf__add_int(f->vmlinux, "long", 8, BTF_INT_SIGNED);
	type = btf__add_func_proto(f->vmlinux, type);
	assert_int_equal(btf__add_func_param(f->vmlinux, "regs", 1), 0);
	assert_true(btf__add_func(f->vmlinux, "__x64_sys_openat", BTF_FUNC_GLOBAL, type) > 0);
	assert_true(btf__add_func(f->vmlinux, "__x64_sys_capset", BTF_FUNC_GLOBAL, type) > 0);

	assert_int_equal(compile(f, OPENAT_TP("    - index: 6\n      type: string\n"), VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_FENTRY);
	assert_true(sensor_fentry_dispatchable(&f->hook));
	f->hook.attach_alone = true;	/* pinned under --keep-enforcing: a link of its own */
	assert_false(sensor_fentry_dispatchable(&f->hook));
	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_openat\n    syscall: true\n", VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_FENTRY);
	assert_true(sensor_fentry_dispatchable(&f->hook));
	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_openat\n    syscall: true\n    return: true\n"
				    "    returnArg:\n      index: 0\n      type: int\n",
				 VIGIL_MODE_ENFORCE), 0);
	assert_false(sensor_fentry_dispatchable(&f->hook));
	assert_int_equal(compile(f, "  tracepoints:\n  - subsystem: syscalls\n    event: sys_exit_capset\n",
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_FEXIT);
	assert_false(sensor_fentry_dispatchable(&f->hook));
	assert_string_equal(sensor_mech_name(MECH_FENTRY_DISPATCH), "fentry (dispatched)");
}

/* a common field or __syscall_nr has no register: the tracepoint stays */
static void test_syscall_tracepoint_on_a_common_field_stays_a_tracepoint(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, OPENAT_TP("    - index: 6\n      type: string\n    - index: 4\n      type: int\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_TRACEPOINT);
	assert_int_equal(f->hook.cfg.args[0].tp_offset, 24);
}

static void test_syscall_without_a_tracepoint_goes_to_the_raw_syscalls_dispatcher(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_finit_module\n    syscall: true\n", VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.mech, MECH_RAW_SYSCALL_DISPATCH);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_RAW_SYSCALL);
	assert_int_equal(f->hook.cfg.syscall_nr, 313);	/* finit_module on x86-64 */
}

static void test_syscall_hook_prefers_kprobe_where_the_kernel_has_it(void **state)
{
	struct fixture *f = *state;

	f->probe.mech[VIGIL_MECH_KPROBE].ok = true;
	assert_int_equal(compile(f, SETNS_SPEC("    - matchActions:\n      - action: Post\n"), VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_KPROBE);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_SYSCALL_PTREGS);
	assert_string_equal(f->hook.target, "__x64_sys_setns");
}

static void test_override_on_raw_syscalls_is_refused_with_its_position(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, EXECVE_SPEC("    - matchActions:\n      - action: Override\n        argError: -1\n"),
				 VIGIL_MODE_ENFORCE),
			 -EOPNOTSUPP);
	assert_string_equal(f->err.file, "t.yaml");
	assert_int_equal(f->err.line, 7);	/* the call: value */
	assert_int_equal(f->err.col, 11);
	assert_non_null(strstr(f->err.reason, "Override on syscall execve needs fmod_ret"));
}

static void test_override_in_monitor_mode_is_accepted_and_marked_monitor(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, EXECVE_SPEC("    - matchActions:\n      - action: Override\n        argError: -1\n"),
				 VIGIL_MODE_MONITOR),
			 0);
	assert_int_equal(f->hook.cfg.monitor, 1);
	assert_int_equal(f->hook.cfg.can_override, 0);
	assert_int_equal(f->hook.cfg.sel[0].actions[0].kind, VG_ACT_OVERRIDE);
	assert_int_equal(f->hook.cfg.sel[0].actions[0].arg, -1);
}

static void test_override_of_connect_uses_cgroup_programs(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, CONNECT_SPEC("    - matchArgs:\n      - index: 1\n        operator: SAddr\n"
						 "        values: [\"10.0.0.0/8\"]\n      matchActions:\n"
						 "      - action: Override\n        argError: -1\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.mech, MECH_CGROUP_CONNECT);
	assert_int_equal(f->hook.cfg.fetch, VG_FETCH_SOCK_ADDR);
	assert_int_equal(f->hook.cfg.can_override, 1);
}

/* options: override-method: fmod-ret leaves fmod_ret as the only way, which this kernel lacks */
static void test_override_method_fmod_ret_keeps_connect_off_cgroup_programs(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, "  options:\n  - {name: override-method, value: fmod-ret}\n"
				    CONNECT_SPEC("    - matchActions:\n      - action: Override\n        argError: -1\n"),
				 VIGIL_MODE_ENFORCE),
			 -EOPNOTSUPP);
	assert_non_null(strstr(f->err.reason, "needs fmod_ret"));
}

static void test_cgroup_connect_refuses_what_it_cannot_do(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, CONNECT_SPEC("    - matchActions:\n      - action: Override\n        argError: -1\n"
						 "      - action: Sigkill\n"),
				 VIGIL_MODE_ENFORCE),
			 -EOPNOTSUPP);
	assert_non_null(strstr(f->err.reason, "cannot send signals"));
}

static void test_lsm_hook_without_lsm_or_fmod_ret_is_refused_with_both_reasons(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, "  lsmhooks:\n  - hook: file_open\n    args:\n    - index: 0\n      type: file\n",
				 VIGIL_MODE_ENFORCE),
			 -EOPNOTSUPP);
	assert_non_null(strstr(f->err.reason, "lsm load: EPERM"));
	assert_non_null(strstr(f->err.reason, "fmod_ret load: EPERM"));
}

static void test_lsm_hook_falls_back_to_fmod_ret_on_the_security_function(void **state)
{
	struct fixture *f = *state;

	f->probe.mech[VIGIL_MECH_FMOD_RET].ok = true;
	assert_int_equal(compile(f, "  lsmhooks:\n  - hook: file_open\n    args:\n    - index: 0\n      type: file\n",
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.mech, MECH_FMOD_RET);
	assert_string_equal(f->hook.target, "security_file_open");
	assert_string_equal(f->hook.function_name, "file_open");
	assert_int_equal(f->hook.cfg.can_override, 1);
}

static void test_unknown_syscall_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_nonesuch\n    syscall: true\n", VIGIL_MODE_ENFORCE), -ENOENT);
	assert_non_null(strstr(f->err.reason, "unknown syscall"));
}

/* ---- the i386 table (cmake/CompatSyscalls.cmake) ---- */

static void expect_twin(unsigned int nr32, int nr, enum vg_compat_kind kind, unsigned int mask, const char *name)
{
	struct vg_compat_entry e;
	const char *got = NULL;

	assert_int_equal(compat_syscall_twin(nr32, &e, &got), 0);
	assert_int_equal(e.nr, nr);
	assert_int_equal(e.kind, kind);
	assert_int_equal(e.mask, mask);
	assert_string_equal(got, name);
}

static void test_compat_table_maps_i386_numbers_onto_their_x86_64_twins(void **state)
{
	struct vg_compat_entry e;

	(void)state;
	expect_twin(295, 257, VG_COMPAT_PLAIN, 0, "openat");
	expect_twin(5, 2, VG_COMPAT_PLAIN, 0, "open");
	expect_twin(11, 59, VG_COMPAT_PLAIN, 0, "execve");
	expect_twin(213, 105, VG_COMPAT_PLAIN, 0, "setuid32");	/* the 32 suffix dropped */
	expect_twin(23, 105, VG_COMPAT_UID16, 1, "setuid");		/* setuid16 */
	expect_twin(182, 92, VG_COMPAT_UID16, 6, "chown");		/* chown16: uid and gid */
	expect_twin(90, 9, VG_COMPAT_STRUCT, 6, "mmap");		/* old_mmap: an argument block */
	expect_twin(192, 9, VG_COMPAT_MMAP2, 0, "mmap2");
	expect_twin(142, 23, VG_COMPAT_PLAIN, 0, "_newselect");
	expect_twin(180, 17, VG_COMPAT_SPLIT64, 8, "pread64");	/* offset in esi:edi */
	expect_twin(422, 202, VG_COMPAT_PLAIN, 0, "futex_time64");
	expect_twin(102, -1, VG_COMPAT_SOCKETCALL, 0, "socketcall");
	assert_int_equal(compat_socketcall_twin(3, &e), 0);		/* SYS_CONNECT */
	assert_int_equal(e.nr, 42);
	assert_int_equal(e.kind, VG_COMPAT_STRUCT);
	assert_int_equal(e.mask, 3);
	assert_int_equal(compat_socketcall_twin(0, &e), -ENOENT);
	/* ipc multiplexes like socketcall; its calls' arguments are reordered (ORDER nibbles) */
	expect_twin(117, -1, VG_COMPAT_IPC, 0, "ipc");
	assert_int_equal(compat_ipc_twin(21, &e), 0);			/* SHMAT */
	assert_int_equal(e.nr, 30);
	assert_int_equal(e.kind, VG_COMPAT_ORDER);
	assert_int_equal(e.order, 0xfff241);				/* shmat(first, ptr, second) */
	assert_int_equal(compat_ipc_twin(5, &e), -ENOENT);
	expect_twin(140, 8, VG_COMPAT_LLSEEK, 0, "_llseek");
	expect_twin(7, 61, VG_COMPAT_ORDER, 0, "waitpid");		/* wait4 without rusage */
	assert_int_equal(compat_syscall_twin(7, &e, NULL), 0);
	assert_int_equal(e.order, 0xfff210);
	expect_twin(22, 166, VG_COMPAT_ORDER, 0, "umount");		/* umount2(name, 0) */
	expect_twin(80, 115, VG_COMPAT_PLAIN, 0, "getgroups");		/* getgroups16: 16-bit ids */
	/* no twin a policy could name: no hook */
	assert_int_equal(compat_syscall_twin(34, &e, NULL), -ENOENT);	/* nice */
	assert_int_equal(compat_syscall_twin(31, &e, NULL), -ENOENT);	/* stty: ENOSYS */
	assert_int_equal(e.nr, -1);
	assert_int_equal(compat_syscall_twin(VG_COMPAT_SLOTS, &e, NULL), -ENOENT);
}

/* ---- strings ---- */

static void test_string_equal_key_is_filter_length_and_zero_padded_bytes(void **state)
{
	struct fixture *f = *state;
	const struct vg_str_key *k;
	struct vg_str_key want = {.filter_id = 1, .len = 10};

	assert_int_equal(compile(f, EXECVE_SPEC("    - matchArgs:\n      - index: 0\n        operator: Equal\n"
						"        values: [\"/tmp/xmrig\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	memcpy(want.data, "/tmp/xmrig", 10);
	assert_int_equal(f->hook.str_eq.n, 1);
	k = f->hook.str_eq.keys;
	assert_memory_equal(k, &want, sizeof(want));
	assert_int_equal(f->hook.cfg.sel[0].args[0].kind, VG_F_STR_EQ);
	assert_int_equal(f->hook.cfg.sel[0].args[0].filter_id, 1);
	assert_int_equal(f->hook.cfg.sel[0].args[0].negate, 0);
}

static void test_prefix_key_counts_filter_bits_and_is_big_endian(void **state)
{
	struct fixture *f = *state;
	const struct vg_lpm_str_key *k;

	assert_int_equal(compile(f, EXECVE_SPEC("    - matchArgs:\n      - index: 0\n        operator: NotPrefix\n"
						"        values: [\"/etc/\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	k = f->hook.str_prefix.keys;
	assert_int_equal(f->hook.str_prefix.n, 1);
	assert_int_equal(k->prefixlen, 32 + 5 * 8);
	assert_int_equal(k->filter_id, htonl(1));
	assert_memory_equal(k->data, "/etc/\0", 6);
	assert_int_equal(f->hook.cfg.sel[0].args[0].negate, 1);
}

static void test_postfix_key_holds_the_value_reversed(void **state)
{
	struct fixture *f = *state;
	const struct vg_lpm_str_key *k;

	assert_int_equal(compile(f, EXECVE_SPEC("    - matchArgs:\n      - index: 0\n        operator: Postfix\n"
						"        values: [\"xmrig\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	k = f->hook.str_postfix.keys;
	assert_int_equal(k->prefixlen, 32 + 5 * 8);
	assert_memory_equal(k->data, "girmx", 5);
}

static void test_values_list_is_expanded_and_recorded_for_run_time_additions(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, "  lists:\n  - name: bad\n    type: values\n    values: [\"/a\", \"/bb\"]\n"
				    EXECVE_SPEC("    - matchArgs:\n      - index: 0\n        operator: Equal\n"
						"        values: [\"list:bad\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.str_eq.n, 2);
	assert_int_equal(f->hook.nlists, 1);
	assert_string_equal(f->hook.lists[0].name, "bad");
	assert_int_equal(f->hook.lists[0].kind, VG_F_STR_EQ);
	assert_int_equal(f->hook.lists[0].filter_id, f->hook.cfg.sel[0].args[0].filter_id);
}

#define BPRM_SPEC(selectors)                                                                              \
	"  tracepoints:\n  - subsystem: sched\n    event: sched_process_exec\n    raw: true\n    args:\n" \
	"    - index: 2\n      type: linux_binprm\n    selectors:\n" selectors

static void test_files_list_keys_are_the_files_device_and_inode(void **state)
{
	struct fixture *f = *state;
	const struct vg_file_key *k;
	struct stat st;

	assert_int_equal(stat("/bin/sh", &st), 0);
	assert_int_equal(compile(f, "  lists:\n  - name: deny\n    type: files\n    values: [\"/bin/sh\"]\n"
				    BPRM_SPEC("    - matchArgs:\n      - index: 2\n        operator: Equal\n"
					      "        values: [\"list:deny\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.cfg.sel[0].args[0].kind, VG_F_FILE_ID);
	assert_int_equal(f->hook.lists[0].kind, VG_F_FILE_ID);
	assert_int_equal(f->hook.int_set.n, 1);
	k = (const struct vg_file_key *)f->hook.int_set.keys;
	assert_int_equal(k->filter_id, f->hook.cfg.sel[0].args[0].filter_id);
	assert_int_equal(k->dev, vigil_dev_to_kernel(st.st_dev));
	assert_int_equal(k->ino, st.st_ino);
}

static void test_files_list_is_refused_where_it_cannot_match(void **state)
{
	struct fixture *f = *state;

	/* a string argument has no file behind it */
	assert_int_equal(compile(f, "  lists:\n  - name: deny\n    type: files\n"
				    EXECVE_SPEC("    - matchArgs:\n      - index: 0\n        operator: Equal\n"
						"        values: [\"list:deny\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 -EINVAL);
	assert_non_null(strstr(f->err.reason, "a files list matches only a file argument"));
}

static void test_files_list_with_a_missing_file_names_the_list(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, "  lists:\n  - name: deny\n    type: files\n    values: [\"/no/such/file\"]\n"
				    BPRM_SPEC("    - matchArgs:\n      - index: 2\n        operator: Equal\n"
					      "        values: [\"list:deny\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 -ENOENT);
	assert_non_null(strstr(f->err.reason, "list deny: cannot stat \"/no/such/file\""));
}

/* ---- integers ---- */

static void test_integer_operators_fill_values_in_the_filter(void **state)
{
	struct fixture *f = *state;
	const struct vg_arg_filter *a;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchArgs:\n      - index: 1\n        operator: Mask\n"
					       "        values: [\"0x40000000\", \"0x20000000\"]\n"
					       "      - index: 0\n        operator: GT\n        values: [\"-1\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	a = &f->hook.cfg.sel[0].args[0];
	assert_int_equal(a->kind, VG_F_INT);
	assert_int_equal(a->int_op, VG_INT_MASK);
	assert_int_equal(a->slot, 1);
	assert_int_equal(a->nvalues, 2);
	assert_int_equal(a->values[0], 0x40000000);
	a = &f->hook.cfg.sel[0].args[1];
	assert_int_equal(a->int_op, VG_INT_GT);
	assert_int_equal(a->is_signed, 1);
	assert_int_equal((int64_t)a->values[0], -1);
}

static void test_in_range_stores_pairs(void **state)
{
	struct fixture *f = *state;
	const struct vg_arg_filter *a;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchArgs:\n      - index: 0\n        operator: NotInRange\n"
					       "        values: [\"3:5\", \"10:12\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	a = &f->hook.cfg.sel[0].args[0];
	assert_int_equal(a->int_op, VG_INT_RANGE);
	assert_int_equal(a->negate, 1);
	assert_int_equal(a->nvalues, 4);
	assert_int_equal(a->values[2], 10);
	assert_int_equal(a->values[3], 12);
}

/* ---- the dispatcher's rows (core/sensors/dispatch_prefilter.c) ---- */

#define OPENAT_KP(selectors)                                                                             \
	"  kprobes:\n  - call: sys_openat\n    syscall: true\n    args:\n    - index: 1\n      type: string\n" \
	"    - index: 2\n      type: int\n    selectors:\n" selectors
#define MASK_43 "      - index: 2\n        operator: Mask\n        values: [\"0x43\"]\n"

/* lua-files' openat: the flags' Mask, one check both selectors need, and the first
 * selector's prefixes on the path's register; NotPrefix is left to the pipeline */
static void test_row_shares_a_check_between_selectors(void **state)
{
	struct fixture *f = *state;
	struct vg_spf_hook row;

	assert_int_equal(compile(f, OPENAT_KP("    - matchArgs:\n      - index: 1\n        operator: Prefix\n"
					      "        values: [/tmp/, /var/tmp/]\n" MASK_43
					      "    - matchArgs:\n      - index: 1\n        operator: NotPrefix\n"
					      "        values: [/]\n" MASK_43),
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.mech, MECH_RAW_SYSCALL_DISPATCH);
	assert_true(dispatch_prefilter_row(&f->hook.cfg, &row));
	assert_int_equal(row.exact, 1);
	assert_int_equal(row.nsel, 2);
	assert_int_equal(row.nints, 1);
	assert_int_equal(row.ints[0].reg, 2);
	assert_int_equal(row.ints[0].mask, 0x43);
	assert_int_equal(row.ints[0].nranges, 0);
	assert_int_equal(row.ints[0].shift, 32);	/* an int: the low 32 bits, sign-extended */
	assert_int_equal(row.ints[0].sext, 1);
	assert_int_equal(row.sel[0].ints, 1);
	assert_int_equal(row.sel[1].ints, 1);
	assert_int_equal(row.str_reg, 1);
	assert_int_equal(row.sel[0].nstr, 2);
	assert_int_equal(row.sel[1].nstr, 0);
	assert_memory_equal(&row.sel[0].str_word[1], "/var/tmp", 8);
}

/* signed GT, LT and InRange as unsigned ranges of v with its sign bit flipped; NotEqual's
 * values each a range of one, negated */
static void test_row_turns_integer_filters_into_ranges(void **state)
{
	struct fixture *f = *state;
	const uint64_t sign = 1ULL << 63;
	struct vg_spf_hook row;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchArgs:\n      - index: 0\n        operator: GT\n"
					       "        values: [\"-5\"]\n"
					       "    - matchArgs:\n      - index: 0\n        operator: LT\n"
					       "        values: [\"-5\"]\n"
					       "    - matchArgs:\n      - index: 1\n        operator: InRange\n"
					       "        values: [\"-3:4\"]\n"
					       "    - matchArgs:\n      - index: 1\n        operator: NotEqual\n"
					       "        values: [\"7\", \"9\"]\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_true(dispatch_prefilter_row(&f->hook.cfg, &row));
	assert_int_equal(row.exact, 1);
	assert_int_equal(row.nints, 4);
	assert_int_equal(row.ints[0].flip, sign);
	assert_int_equal(row.ints[0].nranges, 1);
	assert_int_equal(row.ints[0].lo[0], ((uint64_t)-5 ^ sign) + 1);
	assert_int_equal(row.ints[0].span[0], UINT64_MAX - (((uint64_t)-5 ^ sign) + 1));
	assert_int_equal(row.ints[1].lo[0], 0);
	assert_int_equal(row.ints[1].span[0], ((uint64_t)-5 ^ sign) - 1);
	assert_int_equal(row.ints[2].reg, 1);
	assert_int_equal(row.ints[2].lo[0], (uint64_t)-3 ^ sign);
	assert_int_equal(row.ints[2].span[0], 7);
	assert_int_equal(row.ints[3].negate, 1);
	assert_int_equal(row.ints[3].flip, 0);
	assert_int_equal(row.ints[3].nranges, 2);
	assert_int_equal(row.ints[3].lo[1], 9);
	assert_int_equal(row.ints[3].span[1], 0);
	assert_int_equal(row.sel[3].ints, 1 << 3);
}

/* what a row cannot hold: a fifth check, or one of five values, is left out (more calls
 * pass; the hook prefilters itself too); a selector left without checks, a fifth selector
 * (it cannot be left out) or one without any check to begin with: no row */
static void test_row_says_less_never_more(void **state)
{
	struct fixture *f = *state;
	struct vg_spf_hook row;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"1\"]\n      - index: 1\n        operator: Equal\n"
					       "        values: [\"2\"]\n"
					       "    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"3\"]\n      - index: 1\n        operator: Equal\n"
					       "        values: [\"4\"]\n"
					       "    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"5\"]\n      - index: 1\n        operator: Equal\n"
					       "        values: [\"2\"]\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_true(dispatch_prefilter_row(&f->hook.cfg, &row));
	assert_int_equal(row.exact, 0);
	assert_int_equal(row.nints, 4);
	assert_int_equal(row.sel[2].ints, 1 << 1);	/* index 0 == 5 left out; index 1 == 2 shared */
	assert_int_equal(compile(f, SETNS_SPEC("    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"1\", \"3\", \"5\", \"7\", \"9\"]\n"
					       "      - index: 1\n        operator: Equal\n        values: [\"2\"]\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_true(dispatch_prefilter_row(&f->hook.cfg, &row));
	assert_int_equal(row.exact, 0);	/* five values, four ranges: that check is left out */
	assert_int_equal(row.nints, 1);
	assert_int_equal(compile(f, SETNS_SPEC("    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"1\", \"3\", \"5\", \"7\", \"9\"]\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_false(dispatch_prefilter_row(&f->hook.cfg, &row));	/* nothing left: every call passes */
	assert_int_equal(compile(f, SETNS_SPEC("    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"9\", \"1\", \"2\", \"3\", \"4\", \"5\", \"20\"]\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_true(dispatch_prefilter_row(&f->hook.cfg, &row));	/* values that touch: one range */
	assert_int_equal(row.exact, 1);
	assert_int_equal(row.ints[0].nranges, 3);
	assert_int_equal(row.ints[0].lo[0], 1);
	assert_int_equal(row.ints[0].span[0], 4);
	assert_int_equal(row.ints[0].lo[2], 20);
	assert_int_equal(compile(f, SETNS_SPEC("    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"1\"]\n"
					       "    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"2\"]\n"
					       "    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"3\"]\n"
					       "    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"4\"]\n"
					       "    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"5\"]\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.cfg.pf.on, 1);
	assert_false(dispatch_prefilter_row(&f->hook.cfg, &row));
	assert_int_equal(compile(f, SETNS_SPEC("    - matchBinaries:\n      - operator: In\n        values: [/bin/x]\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_false(dispatch_prefilter_row(&f->hook.cfg, &row));
}

/* openat's shipped hooks (lua-files, write-etc-boot, monitor-sensitive-files) in slots 0, 2
 * and 3 as one quick test: the two flags checks once each, four selectors, every prefix on
 * the path's register once; slot 1 (no row) and the slots after them still pass when the
 * test rejects. Strings on two registers do not fit one test. */
static void test_quick_test_holds_every_row(void **state)
{
	struct fixture *f = *state;
	struct vg_spf_hook rows[4];
	const struct vg_spf_hook *of[VG_SYSCALL_CHAIN] = {0};
	struct vg_spf_quick q;

	assert_int_equal(compile(f, OPENAT_KP("    - matchArgs:\n      - index: 1\n        operator: Prefix\n"
					      "        values: [/tmp/, /var/tmp/, /dev/shm/, /run/user/]\n" MASK_43
					      "    - matchArgs:\n      - index: 1\n        operator: NotPrefix\n"
					      "        values: [/]\n" MASK_43),
				 VIGIL_MODE_ENFORCE), 0);
	assert_true(dispatch_prefilter_row(&f->hook.cfg, &rows[0]));
	assert_int_equal(compile(f, OPENAT_KP("    - matchArgs:\n      - index: 1\n        operator: Prefix\n"
					      "        values: [/etc/, /boot/]\n"
					      "      - index: 2\n        operator: Mask\n        values: [\"0x243\"]\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_true(dispatch_prefilter_row(&f->hook.cfg, &rows[2]));
	assert_int_equal(compile(f, OPENAT_KP("    - matchArgs:\n      - index: 1\n        operator: Prefix\n"
					      "        values: [/etc/shadow, /etc/kubernetes/pki, /tmp/]\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_true(dispatch_prefilter_row(&f->hook.cfg, &rows[3]));
	of[0] = &rows[0], of[2] = &rows[2], of[3] = &rows[3];
	assert_true(dispatch_prefilter_quick(of, &q));
	assert_int_equal(q.none, ~0xdu);
	assert_int_equal(q.nints, 2);
	assert_int_equal(q.ints[0].mask, 0x43);
	assert_int_equal(q.ints[1].mask, 0x243);
	assert_int_equal(q.ints[0].plain, 1);	/* flags & 0x43 on the register as it is */
	assert_int_equal(rows[0].ints[0].plain, 0);	/* a row's own check is never plain */
	assert_int_equal(q.nsel, 4);
	assert_int_equal(q.sel[0].ints, 1);
	assert_int_equal(q.sel[0].strs, 0x3c);	/* /tmp/ is monitor-sensitive-files' too */
	assert_int_equal(q.sel[1].ints, 1);
	assert_int_equal(q.sel[1].strs, 0);	/* NotPrefix: the flags decide */
	assert_int_equal(q.sel[2].ints, 2);
	assert_int_equal(q.sel[2].strs, 0xc0);
	assert_int_equal(q.sel[3].ints, 0);
	assert_int_equal(q.sel[3].strs, 0x7);	/* no integer check: its strings first */
	assert_int_equal(q.nstr, 8);
	assert_int_equal(q.str_reg, 1);
	assert_memory_equal(&q.str_word[1], "/etc/kub", 8);	/* the first 8 bytes */
	assert_int_equal(q.str_mask[1], UINT64_MAX);
	assert_int_equal(compile(f, SETNS_SPEC("    - matchArgs:\n      - index: 0\n        operator: Equal\n"
					       "        values: [\"1\"]\n"),
				 VIGIL_MODE_ENFORCE), 0);
	assert_true(dispatch_prefilter_row(&f->hook.cfg, &rows[1]));
	rows[1].sel[0].nstr = 1;
	rows[1].str_reg = 0;	/* a string on another register than the path's */
	of[1] = &rows[1];
	assert_false(dispatch_prefilter_quick(of, &q));
	of[0] = of[1] = of[2] = of[3] = NULL;
	assert_false(dispatch_prefilter_quick(of, &q));	/* no row: nothing to test */
}

static void test_in_map_expands_ranges_into_set_keys(void **state)
{
	struct fixture *f = *state;
	const struct vg_int_key *k;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchArgs:\n      - index: 0\n        operator: InMap\n"
					       "        values: [\"7\", \"1:3\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.int_set.n, 4);
	k = f->hook.int_set.keys;
	assert_int_equal(k[0].value, 7);
	assert_int_equal(k[1].value, 1);
	assert_int_equal(k[3].value, 3);
	assert_int_equal(k[3].filter_id, f->hook.cfg.sel[0].args[0].filter_id);
}

/* Tetragon's generated_syscalls list stands for every syscall; a syscalls list may name the ABI. */
static void test_generated_and_x64_syscall_lists_expand_to_numbers(void **state)
{
	struct fixture *f = *state;
	const struct vg_int_key *k;

	/* the hook is on raw_syscalls/sys_enter, whose argument layout is read from tracefs: a
	 * fresh machine has it unmounted until an agent (or this test, as root) mounts it */
	if (geteuid() == 0)
		vigil_mount_fs();
	if (access("/sys/kernel/tracing/events/raw_syscalls/sys_enter/format", R_OK)) {
		print_message("skipped: tracefs is not mounted and this is not root\n");
		skip();
	}
	assert_int_equal(compile(f, "  lists:\n  - {name: all, type: generated_syscalls}\n"
				    "  - {name: some, type: syscalls, values: [x64/sys_kexec_load]}\n"
				    "  tracepoints:\n  - subsystem: raw_syscalls\n    event: sys_enter\n"
				    "    args: [{index: 4, type: syscall64}]\n    selectors:\n"
				    "    - matchArgs: [{index: 4, operator: InMap, values: [\"list:some\", \"list:all\"]}]\n",
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_true(f->hook.int_set.n > 300);	/* x86-64 has some 360 syscalls */
	k = f->hook.int_set.keys;
	assert_int_equal(k[0].value, 246);	/* kexec_load */
}

/* kernel_cap_t and the cap_* sets compare 64-bit masks: CAP_ names are bits, not numbers */
static void test_capability_set_values_become_masks(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_capset\n    args: [{index: 1, type: cap_effective}]\n"
				    "    selectors:\n    - matchArgs: [{index: 1, operator: Mask, values: [\"CAP_CHOWN,CAP_SYS_ADMIN\"]}]\n"
				    "    - matchArgs: [{index: 1, operator: Equal, values: [CAP_BPF, \"0x3\"]}]\n",
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.cfg.args[0].type, VG_ARG_KERNEL_CAP_T);	/* the kernel reads every set alike */
	assert_int_equal(f->hook.cfg.sel[0].args[0].values[0], 1ULL | 1ULL << 21);
	assert_int_equal(f->hook.cfg.sel[1].args[0].values[0], 1ULL << 39);
	assert_int_equal(f->hook.cfg.sel[1].args[0].values[1], 3);
}

/* ---- sockets ---- */

static void test_address_cidrs_become_lpm_keys_for_v4_and_v6(void **state)
{
	struct fixture *f = *state;
	const struct vg_addr4_key *k4;
	const struct vg_addr6_key *k6;

	assert_int_equal(compile(f, CONNECT_SPEC("    - matchArgs:\n      - index: 1\n        operator: SAddr\n"
						 "        values: [\"10.1.0.0/16\", \"2001:db8::/32\", \"192.0.2.7\"]\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.addr4.n, 2);
	assert_int_equal(f->hook.addr6.n, 1);
	k4 = f->hook.addr4.keys;
	assert_int_equal(k4[0].prefixlen, 32 + 16);
	assert_memory_equal(k4[0].addr, "\x0a\x01\x00\x00", 4);
	assert_int_equal(k4[1].prefixlen, 32 + 32);
	k6 = f->hook.addr6.keys;
	assert_int_equal(k6->prefixlen, 32 + 32);
	assert_memory_equal(k6->addr, "\x20\x01\x0d\xb8", 4);
	assert_int_equal(f->hook.cfg.sel[0].args[0].kind, VG_F_ADDR);
	assert_int_equal(f->hook.cfg.sel[0].args[0].field, VG_FIELD_SADDR);
}

/* No kernel BTF here (ctx.vmlinux is NULL), as on a kernel without bpf_strnstr: SubString is
 * refused at its operator with the reason; test_selectors_bpf.c runs it where the kernel has it. */
static void test_substring_without_the_kfunc_is_refused_with_the_reason(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, EXECVE_SPEC("    - matchArgs:\n      - index: 0\n        operator: SubString\n"
						"        values: [\"passwd\"]\n"), VIGIL_MODE_ENFORCE),
			 -EOPNOTSUPP);
	assert_string_equal(f->err.reason, "SubString needs the bpf_strnstr kfunc (Linux 6.17+); this kernel lacks it");
	assert_int_equal(f->err.line, 14);	/* the matchArgs entry */
	assert_int_equal(f->err.col, 9);
	assert_false(f->hook.uses_strnstr);
}

static void test_ports_family_and_privileged_ports(void **state)
{
	struct fixture *f = *state;
	const struct vg_arg_filter *a;

	assert_int_equal(compile(f, CONNECT_SPEC("    - matchArgs:\n      - index: 1\n        operator: SPort\n"
						 "        values: [\"80\", \"8000:8100\"]\n"
						 "      - index: 1\n        operator: Family\n        values: [AF_INET6]\n"
						 "      - index: 1\n        operator: NotSPortPriv\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	a = f->hook.cfg.sel[0].args;
	assert_int_equal(a[0].kind, VG_F_PORT);
	assert_int_equal(a[0].nvalues, 4);
	assert_int_equal(a[0].values[0], 80);
	assert_int_equal(a[0].values[1], 80);
	assert_int_equal(a[0].values[3], 8100);
	assert_int_equal(a[1].field, VG_FIELD_FAMILY);
	assert_int_equal(a[1].values[0], 10);
	assert_int_equal(a[2].negate, 1);
	assert_int_equal(a[2].values[1], 1023);
}

/* ---- process filters and actions ---- */

static void test_process_filters_and_host_ns_resolution(void **state)
{
	struct fixture *f = *state;
	const struct vg_selector *s;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchPIDs:\n      - operator: NotIn\n        followForks: true\n"
					       "        values: [1, 2]\n"
					       "      matchNamespaces:\n      - namespace: Pid\n        operator: NotIn\n"
					       "        values: [host_ns]\n"
					       "      matchCapabilities:\n      - type: Effective\n        operator: In\n"
					       "        values: [CAP_SYS_ADMIN]\n"
					       "      matchBinaries:\n      - operator: In\n        values: [/usr/bin/bash]\n"
					       "        followChildren: true\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	s = &f->hook.cfg.sel[0];
	assert_int_equal(s->npids, 1);
	assert_int_equal(s->pids[0].negate, 1);
	assert_int_equal(s->pids[0].follow_forks, 1);
	assert_int_equal(s->pids[0].values[1], 2);
	assert_int_equal(s->nns, 1);
	assert_int_equal(s->ns[0].ns, VIGIL_NS_PID);
	assert_int_equal(s->ns[0].values[0], HOST_PID_NS);
	assert_int_equal(s->ncaps, 1);
	assert_int_equal(s->caps[0].mask, 1ULL << 21);
	assert_int_equal(s->has_binary, 1);
	assert_int_equal(s->binary.follow, 1);
	assert_int_equal(s->binary.kind, VG_F_STR_EQ);
	assert_int_equal(f->hook.str_eq.n, 1);
}

static void test_actions_carry_their_arguments(void **state)
{
	struct fixture *f = *state;
	const struct vg_action_spec *a;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchActions:\n      - action: Post\n        rateLimit: 2m\n"
					       "        rateLimitScope: process\n      - action: Signal\n        argSig: 10\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	a = f->hook.cfg.sel[0].actions;
	assert_int_equal(f->hook.cfg.sel[0].nactions, 2);
	assert_int_equal(a[0].kind, VG_ACT_POST);
	assert_int_equal(a[0].rate_limit_ns, 120ULL * 1000000000ULL);
	assert_int_equal(a[0].rate_scope, 1);
	assert_int_equal(a[1].kind, VG_ACT_SIGNAL);
	assert_int_equal(a[1].arg, 10);
}

static void test_selector_without_actions_posts(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchPIDs:\n      - operator: In\n        values: [1]\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.cfg.sel[0].nactions, 1);
	assert_int_equal(f->hook.cfg.sel[0].actions[0].kind, VG_ACT_POST);
}

static void test_return_probe_keeps_the_record_for_the_exit_and_filters_the_value(void **state)
{
	struct fixture *f = *state;
	const struct vg_selector *s;

	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_openat\n    syscall: true\n    return: true\n"
				    "    args:\n    - index: 1\n      type: string\n"
				    "    returnArg:\n      index: 0\n      type: int\n"
				    "    selectors:\n    - matchReturnArgs:\n      - index: 0\n        operator: LT\n"
				    "        values: [\"0\"]\n      matchReturnActions:\n      - action: Post\n",
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.cfg.is_return, 1);
	assert_int_equal(f->hook.cfg.ret_type, VG_ARG_INT);
	assert_int_equal(f->hook.info.return_type, VIGIL_ARG_INT);
	s = &f->hook.cfg.sel[0];
	assert_int_equal(s->nret_args, 1);
	assert_int_equal(s->ret_args[0].int_op, VG_INT_LT);
	assert_int_equal(s->ret_args[0].is_signed, 1);
	assert_int_equal(s->nret_actions, 1);
	assert_int_equal(s->ret_actions[0].kind, VG_ACT_POST);
}

#define SOCK_STATE_SPEC(actions)                                                                         \
	"  tracepoints:\n  - subsystem: sock\n    event: inet_sock_set_state\n    raw: true\n    args:\n"     \
	"    - index: 0\n      type: sock\n    - index: 2\n      type: int\n    selectors:\n"                 \
	"    - matchActions:\n" actions

/* TrackSock/UntrackSock carry the slot of their sock argument; one naming an int is refused */
static void test_track_sock_names_a_sock_argument(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, SOCK_STATE_SPEC("      - action: TrackSock\n        argSock: 0\n"
						    "      - action: NoPost\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_int_equal(f->hook.cfg.sel[0].actions[0].kind, VG_ACT_TRACKSOCK);
	assert_int_equal(f->hook.cfg.sel[0].actions[0].arg, 0);
	assert_int_equal(f->hook.cfg.sel[0].actions[1].kind, VG_ACT_NOPOST);
	compiled_hook_free(&f->hook);
	vigil_policy_free(f->policy);
	f->policy = NULL;
	assert_int_equal(compile(f, SOCK_STATE_SPEC("      - action: UntrackSock\n        argSock: 1\n"), VIGIL_MODE_ENFORCE),
			 -EINVAL);
	assert_non_null(strstr(f->err.reason, "argSock 1 must name a sock or socket argument"));
}

/* returnArg sock: read at the return, returnArgAction set; matchReturnArgs on it refused */
static void test_returned_sock_and_its_action(void **state)
{
	struct fixture *f = *state;
	static const char spec[] = "  kprobes:\n  - call: inet_csk_accept\n    syscall: false\n    return: true\n"
				   "    args:\n    - index: 0\n      type: sock\n"
				   "    returnArg:\n      index: 0\n      type: sock\n    returnArgAction: UntrackSock\n";

	f->probe.mech[VIGIL_MECH_KPROBE].ok = true;
	assert_int_equal(compile(f, spec, VIGIL_MODE_ENFORCE), 0);
	assert_int_equal(f->hook.cfg.is_return, 1);
	assert_int_equal(f->hook.cfg.ret_type, VG_ARG_SOCK);
	assert_int_equal(f->hook.cfg.ret_action, VG_ACT_UNTRACKSOCK);
	compiled_hook_free(&f->hook);
	vigil_policy_free(f->policy);
	f->policy = NULL;
	assert_int_equal(compile(f, "  kprobes:\n  - call: inet_csk_accept\n    syscall: false\n    return: true\n"
				    "    returnArg:\n      index: 0\n      type: sock\n"
				    "    selectors:\n    - matchReturnArgs:\n      - index: 0\n        operator: DPort\n"
				    "        values: [\"80\"]\n",
				 VIGIL_MODE_ENFORCE),
			 -EOPNOTSUPP);
	assert_non_null(strstr(f->err.reason, "matchReturnArgs on a returned sock"));
	compiled_hook_free(&f->hook);
	vigil_policy_free(f->policy);
	f->policy = NULL;
	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_socket\n    syscall: true\n    return: true\n"
				    "    returnArg:\n      index: 0\n      type: sock\n",
				 VIGIL_MODE_ENFORCE),
			 -EINVAL);
	assert_non_null(strstr(f->err.reason, "only a kernel function returns a sock"));
}

static void test_override_at_the_return_is_refused(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, "  kprobes:\n  - call: sys_openat\n    syscall: true\n    return: true\n"
				    "    returnArg:\n      index: 0\n      type: int\n"
				    "    selectors:\n    - matchReturnActions:\n      - action: Override\n"
				    "        argError: -1\n",
				 VIGIL_MODE_ENFORCE),
			 -EOPNOTSUPP);
	assert_non_null(strstr(f->err.reason, "too late"));
}

/* ---- what --keep-enforcing pins ---- */

static void test_sigkill_in_enforce_mode_is_pinned(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchActions:\n      - action: Sigkill\n"), VIGIL_MODE_ENFORCE), 0);
	assert_true(hook_enforces(&f->hook));
}

static void test_signal_in_a_later_selector_is_pinned(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchPIDs:\n      - operator: In\n        values: [1]\n"
					       "    - matchActions:\n      - action: Signal\n        argSig: 10\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_true(hook_enforces(&f->hook));
}

static void test_override_of_connect_is_pinned(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, CONNECT_SPEC("    - matchArgs:\n      - index: 1\n        operator: SAddr\n"
						 "        values: [\"192.0.2.0/24\"]\n      matchActions:\n"
						 "      - action: Override\n        argError: -1\n"),
				 VIGIL_MODE_ENFORCE),
			 0);
	assert_true(hook_enforces(&f->hook));
}

static void test_observing_hook_is_not_pinned(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchActions:\n      - action: Post\n"), VIGIL_MODE_ENFORCE), 0);
	assert_false(hook_enforces(&f->hook));
}

static void test_sigkill_in_monitor_mode_is_not_pinned(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(compile(f, SETNS_SPEC("    - matchActions:\n      - action: Sigkill\n"), VIGIL_MODE_MONITOR), 0);
	assert_false(hook_enforces(&f->hook));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_syscall_hook_without_kprobes_goes_to_the_dispatcher_by_number),
		T(test_syscall_return_probe_without_kprobes_goes_to_the_dispatcher),
		T(test_syscall_return_probe_without_raw_tp_lands_on_its_syscall_tracepoints),
		T(test_sys_exit_tracepoint_goes_to_the_dispatchers_exit),
		T(test_syscall_tracepoint_on_its_arguments_goes_to_the_dispatcher),
		T(test_syscall_tracepoint_with_trampolines_becomes_fentry_on_the_syscall),
		T(test_fentry_syscall_hooks_go_to_their_syscalls_dispatcher),
		T(test_syscall_tracepoint_on_a_common_field_stays_a_tracepoint),
		T(test_syscall_hook_with_trampolines_sits_on_every_i386_wrapper_of_its_twin),
		T(test_connect_observed_on_its_destination_uses_the_cgroup_programs),
		T(test_syscall_event_named_otherwise_is_found_under_its_kernel_name),
		T(test_syscall_named_otherwise_hooks_the_function_its_table_calls),
		T(test_syscall_without_a_tracepoint_goes_to_the_raw_syscalls_dispatcher),
		T(test_files_list_keys_are_the_files_device_and_inode),
		T(test_files_list_is_refused_where_it_cannot_match),
		T(test_files_list_with_a_missing_file_names_the_list),
		T(test_syscall_hook_prefers_kprobe_where_the_kernel_has_it),
		T(test_override_on_raw_syscalls_is_refused_with_its_position),
		T(test_override_in_monitor_mode_is_accepted_and_marked_monitor),
		T(test_override_of_connect_uses_cgroup_programs),
		T(test_override_method_fmod_ret_keeps_connect_off_cgroup_programs),
		T(test_cgroup_connect_refuses_what_it_cannot_do),
		T(test_lsm_hook_without_lsm_or_fmod_ret_is_refused_with_both_reasons),
		T(test_lsm_hook_falls_back_to_fmod_ret_on_the_security_function),
		T(test_unknown_syscall_is_refused),
		T(test_compat_table_maps_i386_numbers_onto_their_x86_64_twins),
		T(test_string_equal_key_is_filter_length_and_zero_padded_bytes),
		T(test_prefix_key_counts_filter_bits_and_is_big_endian),
		T(test_postfix_key_holds_the_value_reversed),
		T(test_values_list_is_expanded_and_recorded_for_run_time_additions),
		T(test_integer_operators_fill_values_in_the_filter),
		T(test_in_range_stores_pairs),
		T(test_row_shares_a_check_between_selectors),
		T(test_row_turns_integer_filters_into_ranges),
		T(test_row_says_less_never_more),
		T(test_quick_test_holds_every_row),
		T(test_in_map_expands_ranges_into_set_keys),
		T(test_generated_and_x64_syscall_lists_expand_to_numbers),
		T(test_capability_set_values_become_masks),
		T(test_address_cidrs_become_lpm_keys_for_v4_and_v6),
		T(test_ports_family_and_privileged_ports),
		T(test_substring_without_the_kfunc_is_refused_with_the_reason),
		T(test_process_filters_and_host_ns_resolution),
		T(test_actions_carry_their_arguments),
		T(test_selector_without_actions_posts),
		T(test_return_probe_keeps_the_record_for_the_exit_and_filters_the_value),
		T(test_override_at_the_return_is_refused),
		T(test_track_sock_names_a_sock_argument),
		T(test_returned_sock_and_its_action),
		T(test_sigkill_in_enforce_mode_is_pinned),
		T(test_signal_in_a_later_selector_is_pinned),
		T(test_override_of_connect_is_pinned),
		T(test_observing_hook_is_not_pinned),
		T(test_sigkill_in_monitor_mode_is_not_pinned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
