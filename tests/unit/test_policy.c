/* test_policy.c - unit tests for core/policy's parser: a full policy into its tree,
 * Tetragon's example policies, and every refusal with its message, line and column. */
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

/* Five lines: what a test puts under spec starts on line 6. */
#define HDR                                  \
	"apiVersion: cilium.io/v1alpha1\n"   \
	"kind: TracingPolicy\n"              \
	"metadata:\n"                        \
	"  name: test\n"                     \
	"spec:\n"

/* ================================================================ allocation failures */

/* malloc, calloc, realloc and strdup are wrapped at link time (see CMakeLists.txt): when
 * alloc_countdown reaches zero, that one allocation fails. -1 never fails. */
static long alloc_countdown = -1;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);

static int alloc_fails(void)
{
	if (alloc_countdown < 0)
		return 0;
	return alloc_countdown-- == 0;
}

void *__wrap_malloc(size_t n)
{
	return alloc_fails() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
	return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
	return alloc_fails() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
	return alloc_fails() ? NULL : __real_strdup(s);
}

/* ================================================================ helpers */

static struct vigil_policy *parse_len(const char *yaml, size_t len)
{
	struct vigil_policy_error err;
	struct vigil_policy *p = NULL;
	int ret;

	ret = vigil_policy_parse("test.yaml", yaml, len, &p, &err);
	if (ret) {
		print_error("unexpected refusal %d: %d:%d: %s\n", ret, err.line, err.col, err.reason);
		fail();
	}
	assert_non_null(p);
	return p;
}

static struct vigil_policy *parse_ok(const char *yaml)
{
	return parse_len(yaml, strlen(yaml));
}

/* The refusal: -EINVAL, the reason containing want, at line:col, and no policy. */
static void check_error_len(const char *yaml, size_t len, const char *want, int line, int col)
{
	struct vigil_policy *p = (struct vigil_policy *)&p;	/* must come back NULL */
	struct vigil_policy_error err;
	int ret;

	ret = vigil_policy_parse("test.yaml", yaml, len, &p, &err);
	if (ret != -EINVAL || !strstr(err.reason, want) || err.line != line || err.col != col) {
		print_error("want -EINVAL %d:%d \"%s\"\n got %d %d:%d \"%s\"\n", line, col, want, ret, err.line,
			    err.col, err.reason);
		fail();
	}
	assert_null(p);
	assert_string_equal(err.file, "test.yaml");
}

static void check_error(const char *yaml, const char *want, int line, int col)
{
	check_error_len(yaml, strlen(yaml), want, line, col);
}

/* A kprobe on fd_install with args (flow YAML) and one selector body, for the matchArgs
 * tests: line 6 kprobes, 7 call, 8 args, 9 selectors, 10 the selector's first line. */
#define KPROBE(args, selector)                       \
	HDR "  kprobes:\n"                           \
	"  - call: fd_install\n"                     \
	"    args: " args "\n"                       \
	"    selectors:\n"                           \
	"    - " selector

/* ================================================================ the full policy */

static const char full_yaml[] =
	"apiVersion: cilium.io/v1alpha1\n"						/* 1 */
	"kind: TracingPolicy\n"							/* 2 */
	"metadata:\n"									/* 3 */
	"  name: full.policy-1\n"							/* 4 */
	"  annotations: {team: a}\n"							/* 5 */
	"  labels: {app: vigil}\n"							/* 6 */
	"spec:\n"									/* 7 */
	"  options:\n"									/* 8 */
	"  - name: policy-mode\n"							/* 9 */
	"    value: monitor\n"								/* 10 */
	"  - name: disable-kprobe-multi\n"						/* 11 */
	"    value: \"true\"\n"								/* 12 */
	"  lists:\n"									/* 13 */
	"  - name: dangerous\n"								/* 14 */
	"    type: syscalls\n"								/* 15 */
	"    values: [sys_ptrace, x64/sys_kexec_load]\n"				/* 16 */
	"  - name: ftr\n"								/* 17 */
	"    type: generated_ftrace\n"							/* 18 */
	"    pattern: \"^vfs_.*\"\n"							/* 19 */
	"  selectorsMacros:\n"								/* 20 */
	"    only-bash:\n"								/* 21 */
	"      matchBinaries:\n"							/* 22 */
	"      - operator: In\n"							/* 23 */
	"        values: [/bin/bash]\n"							/* 24 */
	"  uprobes:\n"									/* 25 */
	"  - path: /bin/bash\n"								/* 26 */
	"    symbols: [readline]\n"							/* 27 */
	"    message: \"bash readline\"\n"						/* 28 */
	"  kprobes:\n"									/* 29 */
	"  - call: sys_openat\n"							/* 30 */
	"    return: true\n"								/* 31 */
	"    message: \"open of a watched file\"\n"					/* 32 */
	"    tags: [observability.filesystem, t2]\n"					/* 33 */
	"    ignore: {callNotFound: true}\n"						/* 34 */
	"    args:\n"									/* 35 */
	"    - {index: 0, type: int, label: dfd}\n"					/* 36 */
	"    - {index: 1, type: string, label: path}\n"					/* 37 */
	"    - {index: 2, type: uint32, sizeArgIndex: 1}\n"				/* 38 */
	"    data: []\n"								/* 39 */
	"    # data entries are refused: test_policy_schema.c\n"			/* 40 */
	"    returnArg: {index: 0, type: int}\n"					/* 41 */
	"    selectors:\n"								/* 42 */
	"    - macros: [only-bash]\n"							/* 43 */
	"      matchPIDs:\n"								/* 44 */
	"      - {operator: NotIn, values: [1, 0x10], followForks: true, isNamespacePID: true}\n" /* 45 */
	"      matchArgs:\n"								/* 46 */
	"      - {index: 1, operator: Prefix, values: [/etc/, /root/]}\n"		/* 47 */
	"      - {index: 2, operator: Mask, values: [\"0x40\", \"01\"]}\n"		/* 48 */
	"      - {args: [0], operator: InMap, values: [\"-100\", \"3:5\"]}\n"		/* 49 */
	"      matchData: []\n"							/* 50 */
	"      # matchData entries are refused: test_policy_schema.c\n"		/* 51 */
	"      matchReturnArgs:\n"							/* 52 */
	"      - {index: 0, operator: LT, values: [\"0\"]}\n"				/* 53 */
	"      matchNamespaces:\n"							/* 54 */
	"      - {namespace: Mnt, operator: NotIn, values: [host_ns, \"4026531840\"]}\n"	/* 55 */
	"      matchNamespaceChanges:\n"						/* 56 */
	"      - {operator: In, values: [mnt, Net]}\n"					/* 57 */
	"      matchCapabilities:\n"							/* 58 */
	"      - {type: Permitted, operator: In, isNamespaceCapability: true, values: [CAP_SYS_ADMIN, cap_net_raw]}\n" /* 59 */
	"      matchCapabilityChanges:\n"						/* 60 */
	"      - {operator: NotIn, values: [CAP_DAC_OVERRIDE]}\n"			/* 61 */
	"      matchActions:\n"								/* 62 */
	"      - {action: Post, rateLimit: 2m, rateLimitScope: process, kernelStackTrace: false, userStackTrace: false}\n" /* 63 */
	"      - {action: sigkill}\n"							/* 64 */
	"      matchReturnActions:\n"							/* 65 */
	"      - {action: NoPost}\n"							/* 66 */
	"    - matchParentBinaries:\n"							/* 67 */
	"      - {operator: Postfix, values: [sh]}\n"					/* 68 */
	"      matchActions:\n"								/* 69 */
	"      - {action: Signal, argSig: SIGUSR1}\n"					/* 70 */
	"      - {action: Override, argError: -1}\n"					/* 71 */
	"      - {action: NoPost, argUrl: \"http://example.com/x\"}\n"			/* 72 */
	"  fentries:\n"									/* 73 */
	"  - call: security_file_open\n"						/* 74 */
	"    syscall: false\n"								/* 75 */
	"    args: [{index: 0, type: file}]\n"						/* 76 */
	"    selectors:\n"								/* 77 */
	"    - matchArgs: [{index: 0, operator: NotFileType, values: [dir, fifo]}]\n"	/* 78 */
	"      matchActions: [{action: Post, argFqdn: example.com}, {action: NoPost, argSock: 1}]\n" /* 79 */
	"  tracepoints:\n"								/* 80 */
	"  - subsystem: raw_syscalls\n"							/* 81 */
	"    event: sys_enter\n"							/* 82 */
	"    raw: true\n"								/* 83 */
	"    args: [{index: 4}, {index: 5, type: syscall64}]\n"				/* 84 */
	"    selectors:\n"								/* 85 */
	"    - matchArgs: [{index: 5, operator: InMap, values: [\"list:dangerous\"]}]\n"	/* 86 */
	"  lsmhooks:\n"									/* 87 */
	"  - hook: bprm_check_security\n"						/* 88 */
	"    args: [{index: 0, type: linux_binprm}]\n"					/* 89 */
	"    selectors:\n"								/* 90 */
	"    - matchArgs: [{index: 0, operator: Postfix, values: [/nop]}]\n"		/* 91 */
	"      matchActions: [{action: Override, argError: -EPERM}]\n"			/* 92 */
	"  - hook: socket_connect\n"							/* 93 */
	"    args: [{index: 0, type: sock}, {index: 1, type: sockaddr}]\n"		/* 94 */
	"    selectors:\n"								/* 95 */
	"    - matchArgs:\n"								/* 96 */
	"      - {index: 1, operator: SAddr, values: [\"10.0.0.0/8\", \"::1\"]}\n"	/* 97 */
	"      - {index: 1, operator: SPort, values: [\"443\", \"8000:8080\"]}\n"	/* 98 */
	"      - {index: 0, operator: NotDPortPriv}\n"					/* 99 */
	"      - {index: 0, operator: Protocol, values: [IPPROTO_TCP]}\n"		/* 100 */
	"      - {index: 1, operator: Family, values: [AF_INET, \"10\"]}\n";		/* 101 */

static int full_setup(void **state)
{
	struct vigil_policy_error err;
	struct vigil_policy *p = NULL;
	int ret;

	ret = vigil_policy_parse("full.yaml", full_yaml, sizeof(full_yaml) - 1, &p, &err);
	if (ret)
		print_error("full policy refused: %d:%d: %s\n", err.line, err.col, err.reason);
	*state = p;
	return ret;
}

static int full_teardown(void **state)
{
	vigil_policy_free(*state);
	return 0;
}

static void test_full_policy_keeps_metadata_and_mode(void **state)
{
	const struct vigil_policy *p = *state;

	assert_string_equal(p->name, "full.policy-1");
	assert_false(p->namespaced);
	assert_null(p->namespace_);
	assert_string_equal(p->file, "full.yaml");
	assert_int_equal(p->mode, VIGIL_MODE_MONITOR);
}

static void test_full_policy_keeps_options_and_lists(void **state)
{
	const struct vigil_policy *p = *state;

	assert_int_equal(p->noptions, 2);
	assert_string_equal(p->options[1].name, "disable-kprobe-multi");
	assert_string_equal(p->options[1].value, "true");
	assert_int_equal(p->nlists, 2);
	assert_string_equal(p->lists[0].name, "dangerous");
	assert_int_equal(p->lists[0].type, VIGIL_LIST_SYSCALLS);
	assert_int_equal(p->lists[0].nvalues, 2);
	assert_string_equal(p->lists[0].values[1], "x64/sys_kexec_load");
	assert_int_equal(p->lists[0].pos.line, 14);
	assert_int_equal(p->lists[1].type, VIGIL_LIST_GENERATED_FTRACE);
	assert_string_equal(p->lists[1].pattern, "^vfs_.*");
}

static void test_full_policy_orders_hooks_kprobes_fentries_tracepoints_lsm_uprobes(void **state)
{
	const struct vigil_policy *p = *state;

	assert_int_equal(p->nhooks, 6);
	assert_int_equal(p->hooks[0].kind, VIGIL_HOOK_KPROBE);
	assert_string_equal(p->hooks[0].call, "sys_openat");
	assert_int_equal(p->hooks[1].kind, VIGIL_HOOK_KPROBE);
	assert_string_equal(p->hooks[1].call, "security_file_open");
	assert_int_equal(p->hooks[2].kind, VIGIL_HOOK_TRACEPOINT);
	assert_int_equal(p->hooks[3].kind, VIGIL_HOOK_LSM);
	assert_string_equal(p->hooks[3].call, "bprm_check_security");
	assert_int_equal(p->hooks[4].kind, VIGIL_HOOK_LSM);
	assert_int_equal(p->hooks[5].kind, VIGIL_HOOK_UPROBE);
}

static void test_full_policy_kprobe_fields(void **state)
{
	const struct vigil_hook *h = &((const struct vigil_policy *)*state)->hooks[0];

	assert_true(h->syscall);	/* the CRD's default */
	assert_true(h->is_return);
	assert_true(h->has_return_arg);
	assert_int_equal(h->return_arg.type, VIGIL_ARG_INT);
	assert_string_equal(h->message, "open of a watched file");
	assert_int_equal(h->ntags, 2);
	assert_string_equal(h->tags[0], "observability.filesystem");
	assert_true(h->ignore_call_not_found);
	assert_int_equal(h->pos.line, 30);
	assert_int_equal(h->pos.col, 5);
	assert_int_equal(h->call_pos.line, 30);
	assert_int_equal(h->call_pos.col, 11);
}

static void test_full_policy_puts_data_after_args(void **state)
{
	const struct vigil_hook *h = &((const struct vigil_policy *)*state)->hooks[0];

	assert_int_equal(h->nargs, 3);	/* an empty data list adds nothing */
	assert_string_equal(h->args[0].label, "dfd");
	assert_int_equal(h->args[1].type, VIGIL_ARG_STRING);
	assert_int_equal(h->args[2].type, VIGIL_ARG_UINT32);
	assert_int_equal(h->args[2].size_arg_index, 1);
	assert_int_equal(h->args[2].pos.line, 38);
	assert_false(h->args[2].data);
}

static void test_full_policy_process_filters(void **state)
{
	const struct vigil_selector *s = &((const struct vigil_policy *)*state)->hooks[0].selectors[0];

	assert_int_equal(s->npids, 1);
	assert_int_equal(s->pids[0].op, VIGIL_OP_NOT_IN);
	assert_int_equal(s->pids[0].nvalues, 2);
	assert_int_equal(s->pids[0].values[1], 16);
	assert_true(s->pids[0].follow_forks && s->pids[0].is_namespace_pid);
	assert_int_equal(s->namespaces[0].ns, VIGIL_NS_MNT);
	assert_int_equal(s->namespaces[0].op, VIGIL_OP_NOT_IN);
	assert_true(s->namespaces[0].host_ns);
	assert_int_equal(s->namespaces[0].nvalues, 1);
	assert_int_equal(s->namespaces[0].values[0], 4026531840u);
	assert_int_equal(s->ns_changes[0].ns_mask, 1u << VIGIL_NS_MNT | 1u << VIGIL_NS_NET);
	assert_int_equal(s->caps[0].type, VIGIL_CAP_PERMITTED);
	assert_true(s->caps[0].is_namespace_capability);
	assert_int_equal(s->caps[0].mask, 1ULL << 21 | 1ULL << 13);
	assert_int_equal(s->cap_changes[0].type, VIGIL_CAP_EFFECTIVE);
	assert_int_equal(s->cap_changes[0].mask, 1ULL << 1);
}

static void test_full_policy_macro_supplies_match_binaries(void **state)
{
	const struct vigil_selector *s = &((const struct vigil_policy *)*state)->hooks[0].selectors[0];

	assert_int_equal(s->nbinaries, 1);
	assert_int_equal(s->binaries[0].op, VIGIL_OP_IN);
	assert_string_equal(s->binaries[0].values[0], "/bin/bash");
	assert_int_equal(s->binaries[0].pos.line, 23);	/* in the macro, where it was written */
}

static void test_full_policy_match_args_resolve_slots(void **state)
{
	const struct vigil_selector *s = &((const struct vigil_policy *)*state)->hooks[0].selectors[0];

	assert_int_equal(s->nargs, 3);
	assert_int_equal(s->args[0].op, VIGIL_OP_PREFIX);
	assert_int_equal(s->args[0].index, 1);
	assert_int_equal(s->args[0].arg_slot, 1);
	assert_int_equal(s->args[0].nvalues, 2);
	assert_string_equal(s->args[0].values[1], "/root/");
	assert_int_equal(s->args[0].pos.line, 47);
	assert_int_equal(s->args[1].op, VIGIL_OP_MASK);
	assert_int_equal(s->args[1].arg_slot, 2);
	assert_int_equal(s->args[2].op, VIGIL_OP_IN_MAP);	/* args: [0] */
	assert_int_equal(s->args[2].arg_slot, 0);
	assert_int_equal(s->args[2].index, 0);
	assert_int_equal(s->nreturn_args, 1);
	assert_int_equal(s->return_args[0].op, VIGIL_OP_LT);
}

static void test_full_policy_actions(void **state)
{
	const struct vigil_hook *h = &((const struct vigil_policy *)*state)->hooks[0];
	const struct vigil_action *a = h->selectors[0].actions;
	const struct vigil_action *b = h->selectors[1].actions;

	assert_int_equal(h->selectors[0].nactions, 2);
	assert_int_equal(a[0].kind, VIGIL_ACTION_POST);
	assert_int_equal(a[0].rate_limit_ms, 120000);
	assert_int_equal(a[0].rate_scope, VIGIL_RATE_PROCESS);
	assert_false(a[0].kernel_stack || a[0].user_stack);
	assert_int_equal(a[1].kind, VIGIL_ACTION_SIGKILL);
	assert_int_equal(h->selectors[0].return_actions[0].kind, VIGIL_ACTION_NOPOST);
	assert_int_equal(h->selectors[1].parent_binaries[0].op, VIGIL_OP_POSTFIX);
	assert_int_equal(b[0].kind, VIGIL_ACTION_SIGNAL);
	assert_int_equal(b[0].arg_sig, 10);
	assert_int_equal(b[1].kind, VIGIL_ACTION_OVERRIDE);
	assert_int_equal(b[1].arg_error, -1);
	assert_int_equal(b[2].kind, VIGIL_ACTION_NOPOST);	/* argUrl ignored there, as by Tetragon */
}

static void test_full_policy_fentry_is_a_kprobe(void **state)
{
	const struct vigil_hook *h = &((const struct vigil_policy *)*state)->hooks[1];

	assert_false(h->syscall);
	assert_int_equal(h->selectors[0].args[0].op, VIGIL_OP_NOT_FILE_TYPE);
	assert_int_equal(h->selectors[0].actions[0].kind, VIGIL_ACTION_POST);
	assert_int_equal(h->selectors[0].actions[1].kind, VIGIL_ACTION_NOPOST);
	assert_int_equal(h->selectors[0].actions[1].arg_sock, 1);
}

static void test_full_policy_tracepoint_args_default_to_auto(void **state)
{
	const struct vigil_hook *h = &((const struct vigil_policy *)*state)->hooks[2];

	assert_string_equal(h->subsystem, "raw_syscalls");
	assert_string_equal(h->event, "sys_enter");
	assert_true(h->raw);
	assert_int_equal(h->args[0].type, VIGIL_ARG_AUTO);
	assert_string_equal(h->args[0].type_name, "auto");
	assert_int_equal(h->args[1].type, VIGIL_ARG_SYSCALL64);
	assert_string_equal(h->selectors[0].args[0].values[0], "list:dangerous");
	assert_int_equal(h->call_pos.line, 82);
}

static void test_full_policy_lsm_and_socket_filters(void **state)
{
	const struct vigil_policy *p = *state;
	const struct vigil_selector *s = &p->hooks[4].selectors[0];

	assert_int_equal(p->hooks[3].selectors[0].actions[0].arg_error, -EPERM);
	assert_string_equal(p->hooks[4].call, "socket_connect");
	assert_int_equal(p->hooks[4].args[0].type, VIGIL_ARG_SOCK);
	assert_string_equal(p->hooks[4].args[0].type_name, "sock");
	assert_int_equal(s->nargs, 5);
	assert_int_equal(s->args[0].op, VIGIL_OP_SADDR);
	assert_int_equal(s->args[1].op, VIGIL_OP_SPORT);
	assert_int_equal(s->args[2].op, VIGIL_OP_NOT_DPORT_PRIV);
	assert_int_equal(s->args[2].nvalues, 0);
	assert_int_equal(s->args[4].op, VIGIL_OP_FAMILY);
}

static void test_full_policy_uprobe(void **state)
{
	const struct vigil_hook *h = &((const struct vigil_policy *)*state)->hooks[5];

	assert_string_equal(h->path, "/bin/bash");
	assert_int_equal(h->nsymbols, 1);
	assert_string_equal(h->symbols[0], "readline");
	assert_string_equal(h->message, "bash readline");
	assert_int_equal(h->call_pos.line, 26);
}

/* Fail each allocation of a full parse in turn: every one is -ENOMEM with no policy, and
 * (under the sanitizer build) nothing leaks. */
static void test_every_allocation_failure_is_refused_cleanly(void **state)
{
	struct vigil_policy_error err;
	struct vigil_policy *p;
	long n;
	int ret;

	for (n = 0;; n++) {
		p = NULL;
		alloc_countdown = n;
		ret = vigil_policy_parse("full.yaml", full_yaml, sizeof(full_yaml) - 1, &p, &err);
		alloc_countdown = -1;
		if (!ret)
			break;
		assert_int_equal(ret, -ENOMEM);
		assert_null(p);
		assert_string_equal(err.reason, "out of memory");
	}
	assert_true(n > 100);	/* the loop did reach every allocation of a big policy */
	vigil_policy_free(p);
}

/* ================================================================ Tetragon's examples */

static void test_example_sys_openat_parses(void **state)
{
	struct vigil_policy *p = parse_ok(
		"apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: \"sys-openat\"\n"
		"spec:\n  kprobes:\n  - call: \"sys_openat\"\n    return: true\n    syscall: true\n"
		"    args:\n    - index: 0\n      type: int\n    - index: 1\n      type: \"string\"\n"
		"    - index: 2\n      type: \"int\"\n    returnArg:\n      index: 0\n      type: int\n"
		"    selectors:\n    - matchArgs:\n      - index: 1\n        operator: \"Equal\"\n"
		"        values:\n        - \"/etc/passwd\"\n      - index: 2\n        operator: \"Mask\"\n"
		"        values:\n        - \"64\" # CREATE (0x40)\n        - \"1\"  # WRONLY (0x01)\n"
		"        - \"2\"  # RDWR (0x02)\n      matchReturnArgs:\n      - index: 0\n"
		"        operator: \"GT\"\n        values:\n        - \"0\"\n");

	assert_int_equal(p->hooks[0].selectors[0].args[1].nvalues, 3);
	assert_int_equal(p->hooks[0].selectors[0].return_args[0].op, VIGIL_OP_GT);
	vigil_policy_free(p);
}

static void test_example_fd_install_parses(void **state)
{
	struct vigil_policy *p = parse_ok(
		"apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: \"fd-install\"\n"
		"spec:\n  kprobes:\n  - call: \"fd_install\"\n    syscall: false\n"
		"    args: [{index: 0, type: int}, {index: 1, type: \"file\"}]\n"
		"    selectors:\n"
		"    - matchArgs: [{index: 1, operator: \"Prefix\", values: [\"/etc\"]}]\n"
		"      matchActions: [{action: Post}]\n"
		"    - matchNamespaces:\n      - namespace: Pid\n        operator: In\n        values:\n"
		"        - \"host_ns\"\n"
		"    - matchCapabilityChanges:\n      - type: Effective\n        operator: In\n"
		"        isNamespaceCapability: true\n        values:\n        - \"CAP_SYS_ADMIN\"\n"
		"        - \"CAP_NET_RAW\"\n");

	assert_int_equal(p->hooks[0].nselectors, 3);
	assert_true(p->hooks[0].selectors[1].namespaces[0].host_ns);
	vigil_policy_free(p);
}

static void test_example_security_file_open_lsm_parses(void **state)
{
	struct vigil_policy *p = parse_ok(
		"apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: \"lsm-file-open\"\n"
		"spec:\n  lsmhooks:\n  - hook: \"file_open\"\n    args:\n      - index: 0\n        type: \"file\"\n"
		"    selectors:\n    - matchBinaries:\n      - operator: \"In\"\n        values:\n"
		"        - \"/usr/bin/cat\"\n      matchArgs:\n      - index: 0\n        operator: \"Equal\"\n"
		"        values:\n        - \"/etc/passwd\"\n        - \"/etc/shadow\"\n");

	assert_int_equal(p->hooks[0].kind, VIGIL_HOOK_LSM);
	assert_string_equal(p->hooks[0].call, "file_open");
	vigil_policy_free(p);
}

static void test_example_tcp_connect_parses(void **state)
{
	struct vigil_policy *p = parse_ok(
		"apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: \"connect\"\n"
		"spec:\n  kprobes:\n  - call: \"tcp_connect\"\n    syscall: false\n    args:\n    - index: 0\n"
		"      type: \"sock\"\n    selectors:\n    - matchArgs:\n      - index: 0\n"
		"        operator: \"DAddr\"\n        values:\n        - \"127.0.0.1/8\"\n"
		"        - \"192.168.0.0/16\"\n  - call: \"tcp_sendmsg\"\n    syscall: false\n    args:\n"
		"    - index: 0\n      type: \"sock\"\n    - index: 2\n      type: int\n    selectors:\n"
		"    - matchArgs:\n      - index: 0\n        operator: \"NotDAddr\"\n        values:\n"
		"        - \"fd00::/8\"\n");

	assert_int_equal(p->nhooks, 2);
	assert_int_equal(p->hooks[0].selectors[0].args[0].op, VIGIL_OP_DADDR);
	vigil_policy_free(p);
}

static void test_example_bprm_check_security_parses(void **state)
{
	struct vigil_policy *p = parse_ok(
		"apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: \"lsm\"\n"
		"spec:\n  lsmhooks:\n  - hook: \"bprm_check_security\"\n    args:\n      - index: 0\n"
		"        type: \"linux_binprm\"\n    selectors:\n    - matchBinaries:\n      - operator: \"In\"\n"
		"        values:\n        - \"/usr/bin/zsh\"\n        - \"/usr/bin/bash\"\n      matchArgs:\n"
		"        - index: 0\n          operator: \"Postfix\"\n          values:\n"
		"            - \"contrib/tester-progs/nop\"\n      matchActions:\n        - action: Override\n"
		"          argError: -1\n        - action: Post\n");

	assert_int_equal(p->hooks[0].selectors[0].actions[0].kind, VIGIL_ACTION_OVERRIDE);
	vigil_policy_free(p);
}

static void test_example_setns_parses(void **state)
{
	struct vigil_policy *p = parse_ok(
		"apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: \"namespace-access\"\n"
		"spec:\n  kprobes:\n  - call: \"sys_setns\"\n    syscall: true\n    args:\n    - index: 0\n"
		"      type: \"int\"\n    - index: 1\n      type: \"int\"\n    selectors:\n"
		"    - matchNamespaceChanges:\n      - operator: In\n        values: [Mnt, Pid, Net]\n");

	assert_string_equal(p->hooks[0].call, "sys_setns");
	assert_int_equal(p->hooks[0].selectors[0].ns_changes[0].op, VIGIL_OP_IN);
	vigil_policy_free(p);
}

static void test_parse_file_names_the_file(void **state)
{
	struct vigil_policy_error err;
	struct vigil_policy *p = NULL;

	assert_int_equal(vigil_policy_parse_file(VIGIL_POLICY_DIR "/openat.yaml", &p, &err), 0);
	assert_string_equal(p->name, "sys-openat");
	assert_string_equal(p->file, VIGIL_POLICY_DIR "/openat.yaml");
	vigil_policy_free(p);
}

static void test_parse_file_refusal_points_into_the_file(void **state)
{
	struct vigil_policy_error err;
	struct vigil_policy *p = NULL;
	char msg[1024];

	assert_int_equal(vigil_policy_parse_file(VIGIL_POLICY_DIR "/bad_operator.yaml", &p, &err), -EINVAL);
	assert_null(p);
	vigil_policy_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, VIGIL_POLICY_DIR "/bad_operator.yaml:15:19: kprobes[0].selectors[0].matchArgs[0]: "
				 "operator \"Prefix\" is not valid for argument type \"int\"");
}

static void test_parse_file_reports_missing_file(void **state)
{
	struct vigil_policy_error err;
	struct vigil_policy *p = NULL;

	assert_int_equal(vigil_policy_parse_file(VIGIL_POLICY_DIR "/nope.yaml", &p, &err), -ENOENT);
	assert_null(p);
	assert_int_equal(err.line, 0);
	assert_non_null(strstr(err.reason, "cannot open"));
}

static void test_parse_file_refuses_more_than_1mib(void **state)
{
	char path[] = "/tmp/test_policy_XXXXXX";
	struct vigil_policy_error err;
	struct vigil_policy *p = NULL;
	size_t len = 1024 * 1024 + 1;
	char *big;
	int fd;

	big = malloc(len);
	assert_non_null(big);
	memset(big, '#', len);	/* a comment: valid YAML, only too big */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, big, len), (ssize_t)len);
	close(fd);
	assert_int_equal(vigil_policy_parse_file(path, &p, &err), -EFBIG);
	assert_null(p);
	assert_non_null(strstr(err.reason, "larger than 1 MiB"));
	unlink(path);
	free(big);
}

/* ================================================================ accepted forms */

static void test_kprobe_syscall_defaults_to_true(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  kprobes:\n  - call: sys_write\n");

	assert_true(p->hooks[0].syscall);
	assert_false(p->hooks[0].is_return);
	assert_int_equal(p->mode, VIGIL_MODE_ENFORCE);
	vigil_policy_free(p);
}

static void test_null_value_counts_as_absent(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  kprobes:\n  - call: sys_write\n    message: ~\n    selectors:\n");

	assert_null(p->hooks[0].message);
	assert_int_equal(p->hooks[0].nselectors, 0);
	vigil_policy_free(p);
}

static void test_loader_false_is_accepted(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  loader: false\n");

	assert_int_equal(p->nhooks, 0);
	vigil_policy_free(p);
}

static void test_refuses_empty_host_selector(void **state)
{
	check_error(HDR "  hostSelector: {}\n", "hostSelector is not supported yet", 6, 3);
}

static void test_operator_aliases_map_to_canonical_ops(void **state)
{
	struct vigil_policy *p = parse_ok(KPROBE("[{index: 0, type: int}, {index: 1, type: sock}]",
						 "matchArgs:\n"
						 "      - {index: 0, operator: GreaterThan, values: [\"1\"]}\n"
						 "      - {index: 0, operator: eq, values: [\"1\"]}\n"
						 "      - {index: 1, operator: NotSportPriv}\n"
						 "      - {index: 1, operator: daddr, values: [\"::/0\"]}\n"));
	const struct vigil_match_arg *m = p->hooks[0].selectors[0].args;

	assert_int_equal(m[0].op, VIGIL_OP_GT);
	assert_int_equal(m[1].op, VIGIL_OP_EQUAL);
	assert_int_equal(m[2].op, VIGIL_OP_NOT_SPORT_PRIV);
	assert_int_equal(m[3].op, VIGIL_OP_DADDR);
	vigil_policy_free(p);
}

static void test_action_names_are_case_insensitive(void **state)
{
	struct vigil_policy *p = parse_ok(KPROBE("[{index: 0, type: int}]",
						 "matchActions: [{action: NOPOST}, {action: sigKill}]\n"));

	assert_int_equal(p->hooks[0].selectors[0].actions[0].kind, VIGIL_ACTION_NOPOST);
	assert_int_equal(p->hooks[0].selectors[0].actions[1].kind, VIGIL_ACTION_SIGKILL);
	vigil_policy_free(p);
}

static void test_rate_limit_units_convert_to_ms(void **state)
{
	struct vigil_policy *p = parse_ok(KPROBE("[{index: 0, type: int}]",
						 "matchActions: [{action: Post, rateLimit: \"5\"}]\n"
						 "    - matchActions: [{action: Post, rateLimit: 5S}]\n"
						 "    - matchActions: [{action: Post, rateLimit: 1h}]\n"));
	const struct vigil_selector *s = p->hooks[0].selectors;

	assert_int_equal(s[0].actions[0].rate_limit_ms, 5000);
	assert_int_equal(s[1].actions[0].rate_limit_ms, 5000);
	assert_int_equal(s[2].actions[0].rate_limit_ms, 3600000);
	assert_int_equal(s[0].actions[0].rate_scope, VIGIL_RATE_THREAD);
	vigil_policy_free(p);
}

static void test_integer_values_take_hex_octal_and_negative(void **state)
{
	struct vigil_policy *p = parse_ok(KPROBE("[{index: 0, type: int}, {index: 1, type: uint8}]",
						 "matchArgs:\n"
						 "      - {index: 0, operator: Equal, values: [\"-2147483648\", \"0x7fffffff\"]}\n"
						 "      - {index: 1, operator: Mask, values: [\"0377\", \"0b1\"]}\n"));

	assert_int_equal(p->hooks[0].selectors[0].args[1].nvalues, 2);
	vigil_policy_free(p);
}

static void test_capabilities_gained_keeps_the_second_slot_as_value(void **state)
{
	struct vigil_policy *p = parse_ok(KPROBE("[{index: 0, type: cap_effective}, {index: 1, type: kernel_cap_t}]",
						 "matchArgs: [{args: [0, 1], operator: CapabilitiesGained}]\n"));
	const struct vigil_match_arg *m = p->hooks[0].selectors[0].args;

	assert_int_equal(m[0].op, VIGIL_OP_CAPABILITIES_GAINED);
	assert_int_equal(m[0].arg_slot, 0);
	assert_int_equal(m[0].nvalues, 1);
	assert_string_equal(m[0].values[0], "1");
	vigil_policy_free(p);
}

/* Events name the set a mask came from (cap_effective_arg...), so the parser keeps it. */
static void test_cap_set_types_stay_apart(void **state)
{
	struct vigil_policy *p = parse_ok(KPROBE("[{index: 0, type: cap_inheritable}, {index: 1, type: cap_permitted}, "
						 "{index: 2, type: cap_effective}]",
						 "matchArgs: [{index: 2, operator: Mask, values: [CAP_SYS_ADMIN]}]\n"));

	assert_int_equal(p->hooks[0].args[0].type, VIGIL_ARG_CAP_INHERITABLE);
	assert_int_equal(p->hooks[0].args[1].type, VIGIL_ARG_CAP_PERMITTED);
	assert_int_equal(p->hooks[0].args[2].type, VIGIL_ARG_CAP_EFFECTIVE);
	assert_string_equal(vigil_arg_type_name(VIGIL_ARG_CAP_EFFECTIVE), "cap_effective");
	vigil_policy_free(p);
}

static void test_tracepoint_match_index_falls_back_to_position(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  tracepoints:\n  - subsystem: raw_syscalls\n    event: sys_enter\n"
					      "    args: [{index: 4, type: syscall64}]\n"
					      "    selectors:\n    - matchArgs: [{index: 0, operator: Equal, values: [\"59\"]}]\n");
	const struct vigil_match_arg *m = p->hooks[0].selectors[0].args;

	assert_int_equal(m[0].arg_slot, 0);
	assert_int_equal(m[0].index, 4);
	vigil_policy_free(p);
}

static void test_override_error_may_be_positive_or_an_errno_name(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  kprobes:\n  - call: security_inode_copy_up_xattr\n    syscall: false\n"
					      "    selectors:\n    - matchActions: [{action: Override, argError: 1}]\n"
					      "    - matchActions: [{action: Override, argError: -EACCES}]\n");

	assert_int_equal(p->hooks[0].selectors[0].actions[0].arg_error, 1);
	assert_int_equal(p->hooks[0].selectors[1].actions[0].arg_error, -EACCES);
	vigil_policy_free(p);
}

static void test_string_value_drops_one_trailing_nul(void **state)
{
	struct vigil_policy *p = parse_ok(KPROBE("[{index: 0, type: string}]",
						 "matchArgs: [{index: 0, operator: Equal, values: [\"security.capability\\0\"]}]\n"));

	assert_string_equal(p->hooks[0].selectors[0].args[0].values[0], "security.capability");
	vigil_policy_free(p);
}

static void test_refuses_trailing_nul_on_char_buf_value(void **state)
{
	check_error(KPROBE("[{index: 0, type: char_buf}]",
			   "matchArgs: [{index: 0, operator: Equal, values: [\"abc\\0\"]}]\n"),
		    "values contains a NUL byte", 10, 56);
}

static void test_refuses_max_data_with_return_copy(void **state)
{
	check_error(HDR "  kprobes:\n  - call: sys_read\n"
			"    args: [{index: 1, type: char_buf, maxData: true, returnCopy: true}]\n",
		    "maxData cannot be combined with returnCopy", 8, 39);
}

static void test_alias_reuses_a_subtree(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  kprobes:\n  - &h {call: sys_write}\n  - *h\n");

	assert_int_equal(p->nhooks, 2);
	assert_string_equal(p->hooks[1].call, "sys_write");
	vigil_policy_free(p);
}

/* ================================================================ names and formatting */

static void test_names_are_the_crd_spellings(void **state)
{
	assert_string_equal(vigil_arg_type_name(VIGIL_ARG_KERNEL_CAP_T), "kernel_cap_t");
	assert_string_equal(vigil_arg_type_name(VIGIL_ARG_LINUX_BINPRM), "linux_binprm");
	assert_null(vigil_arg_type_name(VIGIL_ARG_TYPE_COUNT));
	assert_string_equal(vigil_op_name(VIGIL_OP_NOT_SPORT_PRIV), "NotSPortPriv");
	assert_string_equal(vigil_op_name(VIGIL_OP_CAPABILITIES_GAINED), "CapabilitiesGained");
	assert_null(vigil_op_name(VIGIL_OP_COUNT));
	assert_string_equal(vigil_action_name(VIGIL_ACTION_NOTIFY_ENFORCER), "NotifyEnforcer");
	assert_string_equal(vigil_action_name(VIGIL_ACTION_SIGKILL), "Sigkill");
	assert_null(vigil_action_name(VIGIL_ACTION_COUNT));
}

static void test_error_format_is_file_line_col_reason(void **state)
{
	struct vigil_policy_error e = { "p.yaml", 3, 7, "boom" };
	struct vigil_policy_error io = { "p.yaml", 0, 0, "cannot open: No such file or directory" };
	char out[128];

	assert_string_equal(vigil_policy_error_format(&e, out, sizeof(out)), "p.yaml:3:7: boom");
	assert_string_equal(vigil_policy_error_format(&io, out, sizeof(out)),
			    "p.yaml: cannot open: No such file or directory");
}

/* ================================================================ refusals: document */

static void test_refuses_empty_input(void **state)
{
	check_error("", "empty document", 1, 1);
}

static void test_refuses_comment_only_input(void **state)
{
	check_error("# nothing here\n", "empty document", 1, 1);
}

static void test_refuses_yaml_syntax_error(void **state)
{
	check_error(HDR "  kprobes: [\n  - call: x\n", "YAML syntax error: did not find expected node content (while parsing a flow node", 7, 3);
}

static void test_refuses_control_character_where_it_is(void **state)
{
	check_error(HDR "  kprobes:\n  - call: sys_\x01read\n", "YAML syntax error: control characters are not allowed", 7,
		    15);
}

static void test_refuses_two_documents(void **state)
{
	check_error(HDR "  kprobes: []\n---\n" HDR, "more than one YAML document", 7, 1);
}

static void test_refuses_nul_inside_a_scalar(void **state)
{
	check_error(HDR "  kprobes:\n  - call: \"sys_\\0write\"\n", "contains a NUL byte", 7, 11);
}

static void test_refuses_unknown_top_level_key(void **state)
{
	check_error(HDR "  kprobes: []\nstatus: {}\n", "unknown key \"status\" in the document", 7, 1);
}

static void test_refuses_duplicate_key(void **state)
{
	check_error(HDR "  kprobes: []\n  kprobes: []\n", "duplicate key \"kprobes\" in spec", 7, 3);
}

static void test_refuses_wrong_api_version(void **state)
{
	check_error("apiVersion: cilium.io/v1\nkind: TracingPolicy\nmetadata: {name: x}\nspec: {}\n",
		    "apiVersion must be \"cilium.io/v1alpha1\", not \"cilium.io/v1\"", 1, 13);
}

static void test_refuses_unknown_kind(void **state)
{
	check_error("apiVersion: cilium.io/v1alpha1\nkind: Policy\nmetadata: {name: x}\nspec: {}\n",
		    "kind must be TracingPolicy or TracingPolicyNamespaced, not \"Policy\"", 2, 7);
}

static void test_refuses_missing_metadata_name(void **state)
{
	check_error("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  labels: {a: b}\nspec: {}\n",
		    "metadata: missing required field \"name\"", 4, 3);
}

static void test_refuses_name_that_is_not_dns1123(void **state)
{
	check_error("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: My_Policy\nspec: {}\n",
		    "name \"My_Policy\" is not a DNS-1123 subdomain", 4, 9);
}

static void test_refuses_namespace_on_cluster_policy(void **state)
{
	check_error("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: a\n  namespace: b\n"
		    "spec: {}\n",
		    "metadata: namespace is only valid with kind TracingPolicyNamespaced", 5, 3);
}

static void test_refuses_namespaced_policy_without_namespace(void **state)
{
	check_error("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicyNamespaced\nmetadata:\n  name: a\nspec: {}\n",
		    "missing required field \"namespace\"", 4, 3);
}

/* A namespaced policy keeps its namespace; the other mistakes in one are still named. */
static void test_namespaced_policy_is_scoped_to_its_namespace(void **state)
{
	struct vigil_policy *p = parse_ok("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicyNamespaced\n"
					  "metadata: {name: a, namespace: b}\nspec:\n  tracepoints: []\n");

	assert_true(p->namespaced);
	assert_string_equal(p->namespace_, "b");
	assert_true(vigil_policy_is_scoped(p));
	assert_int_not_equal(vigil_policy_scope_id(p), 0);
	vigil_policy_free(p);
	check_error("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicyNamespaced\nmetadata: {name: a, namespace: b}\n"
		    "spec:\n  bogus: 1\n",
		    "unknown key \"bogus\" in spec", 5, 3);
}

static void test_refuses_missing_spec(void **state)
{
	check_error("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata: {name: a}\n",
		    "missing required field \"spec\"", 1, 1);
}

/* ================================================================ refusals: spec */

static void test_pod_selector_keeps_labels_and_expressions(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  podSelector:\n    matchLabels: {app: web}\n    matchExpressions:\n"
					      "    - {key: tier, operator: NotIn, values: [a, b]}\n"
					      "    - {key: legacy, operator: DoesNotExist}\n");
	const struct vigil_label_selector *sel = &p->pod_selector;
	const char *keys[] = {"app", "tier"}, *web[] = {"web", "c"}, *wrong_tier[] = {"web", "a"};

	assert_true(sel->present);
	assert_int_equal(sel->nreqs, 3);
	assert_int_equal(sel->reqs[0].op, VIGIL_LABEL_IN);
	assert_string_equal(sel->reqs[0].key, "app");
	assert_string_equal(sel->reqs[0].values[0], "web");
	assert_int_equal(sel->reqs[1].op, VIGIL_LABEL_NOT_IN);
	assert_int_equal(sel->reqs[1].nvalues, 2);
	assert_int_equal(sel->reqs[2].op, VIGIL_LABEL_DOES_NOT_EXIST);
	assert_true(vigil_label_selector_match(sel, keys, web, 2));
	assert_false(vigil_label_selector_match(sel, keys, wrong_tier, 2));
	assert_false(vigil_label_selector_match(sel, keys, web, 1 - 1));
	assert_true(vigil_policy_is_scoped(p));
	assert_false(p->container_selector.present);
	vigil_policy_free(p);
}

static void test_empty_pod_selector_selects_every_pod(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  podSelector: {}\n");

	assert_true(p->pod_selector.present);
	assert_true(vigil_label_selector_match(&p->pod_selector, NULL, NULL, 0));
	vigil_policy_free(p);
}

static void test_unscoped_policy_has_no_scope_id(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  tracepoints: []\n");

	assert_false(vigil_policy_is_scoped(p));
	assert_int_equal(vigil_policy_scope_id(p), 0);
	vigil_policy_free(p);
}

static void test_refuses_bad_selector_operators_and_values(void **state)
{
	check_error(HDR "  podSelector:\n    matchExpressions:\n    - {key: a, operator: Like, values: [x]}\n",
		    "podSelector.matchExpressions[0]: operator must be In, NotIn, Exists or DoesNotExist, not \"Like\"", 8, 26);
	check_error(HDR "  podSelector:\n    matchExpressions:\n    - {key: a, operator: In}\n",
		    "operator In needs values", 8, 26);
	check_error(HDR "  podSelector:\n    matchExpressions:\n    - {key: a, operator: Exists, values: [x]}\n",
		    "operator Exists takes no values", 8, 42);
	check_error(HDR "  podSelector:\n    matchLabel: {a: b}\n", "unknown key \"matchLabel\"", 7, 5);
}

static void test_container_selector_selects_by_name_only(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  containerSelector:\n    matchLabels: {name: sidecar}\n");

	assert_true(p->container_selector.present);
	vigil_policy_free(p);
	check_error(HDR "  containerSelector:\n    matchLabels: {repo: x}\n",
		    "containerSelector selects by \"name\" only, not \"repo\"", 7, 5);
}

static void test_refuses_host_selector_with_labels(void **state)
{
	check_error(HDR "  hostSelector: {matchLabels: {a: b}}\n", "hostSelector must be {} or null", 6, 17);
}

static void test_refuses_host_selector_in_namespaced_policy(void **state)
{
	check_error("apiVersion: cilium.io/v1alpha1\nkind: TracingPolicyNamespaced\nmetadata: {name: a, namespace: b}\n"
		    "spec:\n  hostSelector: {}\n",
		    "hostSelector is not allowed in a TracingPolicyNamespaced", 5, 3);
}

static void test_loader_true_asks_for_loader_events(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  loader: true\n");

	assert_true(p->loader);
	assert_int_equal(p->nhooks, 0);
	vigil_policy_free(p);
}

static void test_usdt_keeps_path_provider_and_name(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  usdts:\n  - {path: /bin/x, provider: prov, name: probe,"
					      " args: [{index: 7, type: int64}]}\n");

	assert_int_equal(p->nhooks, 1);
	assert_int_equal(p->hooks[0].kind, VIGIL_HOOK_USDT);
	assert_string_equal(p->hooks[0].path, "/bin/x");
	assert_string_equal(p->hooks[0].subsystem, "prov");
	assert_string_equal(p->hooks[0].event, "probe");
	assert_int_equal(p->hooks[0].args[0].index, 7);
	vigil_policy_free(p);
	check_error(HDR "  usdts:\n  - {path: /bin/x, provider: p, name: n, args: [{index: 12, type: int}]}\n",
		    "index 12 is out of range (0..11 for a USDT probe)", 7, 49);
}

static void test_refuses_bad_policy_mode(void **state)
{
	check_error(HDR "  options:\n  - name: policy-mode\n    value: audit\n",
		    "options[0]: policy-mode must be enforce or monitor, not \"audit\"", 8, 12);
}

static void test_refuses_unknown_option(void **state)
{
	check_error(HDR "  options:\n  - {name: frobnicate, value: \"1\"}\n", "options[0]: unknown option \"frobnicate\"", 7, 12);
}

static void test_refuses_list_without_type(void **state)
{
	check_error(HDR "  lists:\n  - name: l\n    values: [sys_read]\n", "lists[0]: missing required field \"type\"",
		    7, 5);
}

static void test_refuses_files_list_with_a_relative_path(void **state)
{
	check_error(HDR "  lists:\n  - {name: l, type: files, values: [/usr/bin/x, tmp/xmrig]}\n",
		    "\"tmp/xmrig\" is not an absolute path", 7, 49);
}

static void test_refuses_unknown_list_type_naming_files(void **state)
{
	check_error(HDR "  lists:\n  - {name: l, type: inodes}\n",
		    "list type must be syscalls, generated_syscalls, generated_ftrace, values or files, not \"inodes\"", 7,
		    21);
}

static void test_refuses_generated_list_with_values(void **state)
{
	check_error(HDR "  lists:\n  - {name: l, type: generated_syscalls, values: [sys_read]}\n",
		    "a generated list takes no values", 7, 49);
}

static void test_refuses_bad_syscall_name_in_list(void **state)
{
	check_error(HDR "  lists:\n  - {name: l, type: syscalls, values: [sys_read, \"open at\"]}\n",
		    "\"open at\" is not a syscall name", 7, 50);
}

static void test_refuses_undefined_list_in_call(void **state)
{
	check_error(HDR "  kprobes:\n  - call: \"list:nope\"\n", "list \"nope\" is not defined in spec.lists", 7, 11);
}

static void test_call_list_becomes_one_syscall_hook_per_value(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  lists: [{name: dups, type: syscalls, values: [sys_dup, x64/sys_dup2]}]\n"
					      "  kprobes:\n  - call: \"list:dups\"\n    syscall: false\n"
					      "    selectors: [{matchBinaries: [{operator: In, values: [/bin/x]}]}]\n"
					      "  - call: sys_read\n");

	assert_int_equal(p->nhooks, 3);
	assert_string_equal(p->hooks[0].call, "sys_dup");
	assert_string_equal(p->hooks[1].call, "sys_dup2");
	assert_true(p->hooks[0].syscall && p->hooks[1].syscall);	/* a syscalls list names syscalls */
	assert_int_equal(p->hooks[1].nselectors, 1);
	assert_string_equal(p->hooks[1].selectors[0].binaries[0].values[0], "/bin/x");
	assert_int_equal(p->hooks[1].call_pos.line, 8);
	assert_string_equal(p->hooks[2].call, "sys_read");
	vigil_policy_free(p);
}

static void test_refuses_call_list_of_another_abi(void **state)
{
	check_error(HDR "  lists: [{name: l, type: syscalls, values: [i386/sys_dup]}]\n  kprobes:\n  - call: \"list:l\"\n",
		    "\"i386/sys_dup\" is not an x86-64 syscall", 8, 11);
}

static void test_uprobe_symbols_become_one_hook_each(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  uprobes:\n  - path: /bin/x\n    symbols: [a, b, c]\n"
					      "    args: [{index: 0, type: int}]\n  - path: /bin/y\n    symbols: [d]\n");

	assert_int_equal(p->nhooks, 4);
	assert_int_equal(p->hooks[0].nsymbols, 1);
	assert_string_equal(p->hooks[0].symbols[0], "a");
	assert_string_equal(p->hooks[2].symbols[0], "c");
	assert_string_equal(p->hooks[2].path, "/bin/x");
	assert_int_equal(p->hooks[2].nargs, 1);
	assert_string_equal(p->hooks[3].symbols[0], "d");
	vigil_policy_free(p);
}

static void test_uprobe_offsets_become_one_hook_each(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  uprobes:\n  - path: /bin/x\n    offsets: [16, \"0x1660\"]\n");

	assert_int_equal(p->nhooks, 2);
	assert_true(p->hooks[0].has_offset && p->hooks[1].has_offset);
	assert_int_equal(p->hooks[0].offset, 16);
	assert_int_equal(p->hooks[1].offset, 0x1660);
	assert_int_equal(p->hooks[1].nsymbols, 0);
	vigil_policy_free(p);
}

static void test_uprobe_addrs_become_one_hook_each_marked_as_addresses(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  uprobes:\n  - path: /bin/x\n    addrs: [\"0x401136\", 4198710]\n"
					  "    btfPath: /tmp/x.btf\n");

	assert_int_equal(p->nhooks, 2);
	assert_true(p->hooks[0].has_offset && p->hooks[0].offset_is_addr && p->hooks[1].offset_is_addr);
	assert_int_equal(p->hooks[0].offset, 0x401136);
	assert_int_equal(p->hooks[1].offset, 4198710);
	assert_string_equal(p->hooks[1].btf_path, "/tmp/x.btf");
	vigil_policy_free(p);
}

static void test_refuses_uprobe_with_offsets_and_addrs(void **state)
{
	check_error(HDR "  uprobes:\n  - path: /bin/sh\n    offsets: [16]\n    addrs: [4096]\n",
		    "uprobes[0]: an uprobe takes one of offsets and addrs, not both", 9, 5);
}

static void test_refuses_uprobe_without_symbols_or_offsets(void **state)
{
	check_error(HDR "  uprobes:\n  - path: /bin/x\n", "an uprobe needs symbols, offsets or addrs", 7, 5);
}

static void test_refuses_expansion_past_the_hook_limit(void **state)
{
	char yaml[32768];
	int n, i;

	/* 40 uprobe items of 30 symbols each: 1200 hooks */
	n = snprintf(yaml, sizeof(yaml), HDR "  uprobes:\n");
	for (i = 0; i < 40; i++) {
		n += snprintf(yaml + n, sizeof(yaml) - (size_t)n, "  - path: /bin/x\n    symbols: [");
		for (int k = 0; k < 30; k++)
			n += snprintf(yaml + n, sizeof(yaml) - (size_t)n, "%ss%d", k ? ", " : "", k);
		n += snprintf(yaml + n, sizeof(yaml) - (size_t)n, "]\n");
	}
	check_error(yaml, "too many hooks (max 1024", 7 + 2 * 34, 5);
}

static void test_refuses_two_enforcers(void **state)
{
	check_error(HDR "  enforcers:\n  - calls: [sys_read]\n  - calls: [sys_write]\n",
		    "only one enforcers entry is supported", 8, 5);
}

static void test_refuses_macro_using_macros(void **state)
{
	check_error(HDR "  selectorsMacros:\n    m:\n      macros: [n]\n", "a macro cannot use other macros", 8, 7);
}

static void test_refuses_unknown_key_in_macro(void **state)
{
	check_error(HDR "  selectorsMacros:\n    m:\n      matchFoo: []\n",
		    "unknown key \"matchFoo\" in selectorsMacros.m", 8, 7);
}

/* ================================================================ refusals: hooks */

static void test_refuses_missing_call(void **state)
{
	check_error(HDR "  kprobes:\n  - syscall: false\n", "kprobes[0]: missing required field \"call\"", 7, 5);
}

static void test_refuses_missing_event(void **state)
{
	check_error(HDR "  tracepoints:\n  - subsystem: sched\n", "tracepoints[0]: missing required field \"event\"",
		    7, 5);
}

static void test_refuses_scalar_where_a_list_is_expected(void **state)
{
	check_error(HDR "  kprobes:\n  - call: fd_install\n    args: 5\n",
		    "kprobes[0]: \"args\" must be a list, not a scalar", 8, 11);
}

static void test_refuses_mapping_where_hooks_list_is_expected(void **state)
{
	check_error(HDR "  fentries: {call: x}\n", "\"fentries\" must be a list, not a mapping", 6, 13);
}

static void test_refuses_unknown_key_in_hook(void **state)
{
	check_error(HDR "  kprobes:\n  - call: x\n    calls: y\n", "unknown key \"calls\" in kprobes[0]", 8, 5);
}

static void test_refuses_return_without_return_arg(void **state)
{
	check_error(HDR "  kprobes:\n  - call: sys_read\n    return: true\n",
		    "kprobes[0]: returnArg is required when return is true", 7, 5);
}

static void test_refuses_lsm_hook_with_security_prefix(void **state)
{
	check_error(HDR "  lsmhooks:\n  - hook: security_file_open\n",
		    "hook \"security_file_open\" must be named without its \"security_\" prefix (\"file_open\")", 7, 11);
}

static void test_refuses_uprobe_with_symbols_and_offsets(void **state)
{
	check_error(HDR "  uprobes:\n  - path: /bin/sh\n    symbols: [main]\n    offsets: [16]\n",
		    "uprobes[0]: an uprobe takes symbols or offsets, not both", 9, 5);
}

static void test_refuses_uprobe_without_symbols(void **state)
{
	check_error(HDR "  uprobes:\n  - path: /bin/sh\n    symbols: []\n", "symbols must not be empty", 8, 14);
}

static void test_refuses_long_message(void **state)
{
	char yaml[1024];
	char msg[258];

	memset(msg, 'm', 257);
	msg[257] = '\0';
	snprintf(yaml, sizeof(yaml), HDR "  kprobes:\n  - call: x\n    message: %s\n", msg);
	check_error(yaml, "message is longer than 256 characters", 8, 14);
}

static void test_refuses_seventeen_tags(void **state)
{
	check_error(HDR "  kprobes:\n  - call: x\n    tags: [t1, t2, t3, t4, t5, t6, t7, t8, t9, ta, tb, tc, td, te, tf, tg, th]\n",
		    "too many tags (max 16)", 8, 76);
}

static void test_refuses_too_many_arguments(void **state)
{
	check_error(HDR "  kprobes:\n  - call: x\n"
		    "    args:\n    - {index: 0, type: int}\n    - {index: 1, type: int}\n    - {index: 2, type: int}\n"
		    "    - {index: 3, type: int}\n    - {index: 4, type: int}\n    - {index: 0, type: long}\n",
		    "too many arguments (max 5", 14, 7);
}

/* ================================================================ refusals: args */

static void test_refuses_unknown_arg_type(void **state)
{
	check_error(HDR "  kprobes:\n  - call: fd_install\n    args:\n    - index: 0\n      type: integer\n",
		    "kprobes[0].args[0]: unknown argument type \"integer\"", 10, 13);
}

static void test_kernel_object_arg_types_parse(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  kprobes:\n  - call: bpf_check\n"
					  "    args: [{index: 1, type: bpf_attr}, {index: 0, type: load_info}]\n");

	assert_int_equal(p->hooks[0].args[0].type, VIGIL_ARG_BPF_ATTR);
	assert_int_equal(p->hooks[0].args[1].type, VIGIL_ARG_LOAD_INFO);
	vigil_policy_free(p);
}

static void test_refuses_auto_on_kprobe(void **state)
{
	check_error(HDR "  kprobes:\n  - call: fd_install\n    args:\n    - index: 0\n      type: auto\n",
		    "type \"auto\" is not valid for kprobes", 10, 13);
}

static void test_refuses_missing_type_on_lsm_arg(void **state)
{
	check_error(HDR "  lsmhooks:\n  - hook: file_open\n    args: [{index: 0}]\n",
		    "lsmhooks[0].args[0]: missing required field \"type\"", 8, 12);
}

static void test_refuses_arg_index_above_four(void **state)
{
	check_error(HDR "  kprobes:\n  - call: x\n    args: [{index: 5, type: int}]\n",
		    "index 5 is out of range (0..4)", 8, 12);
}

static void test_data_entry_from_current_task_keeps_its_path(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  kprobes:\n  - call: x\n    args: [{index: 1, type: string}]\n"
					      "    data: [{index: 0, type: int, source: current_task, resolve: real_parent.tgid}]\n"
					      "    selectors: [{matchData: [{index: 0, operator: Equal, values: [\"1\"]}]}]\n");
	const struct vigil_hook *h = &p->hooks[0];

	assert_int_equal(h->nargs, 2);
	assert_true(h->args[1].current_task);
	assert_string_equal(h->args[1].resolve, "real_parent.tgid");
	assert_int_equal(h->selectors[0].args[0].arg_slot, 1);	/* matchData: after the args */
	vigil_policy_free(p);
}

static void test_refuses_data_from_pt_regs(void **state)
{
	check_error(HDR "  kprobes:\n  - call: x\n    data: [{index: 0, type: int, source: pt_regs, resolve: ax}]\n",
		    "kprobes[0].data[0]: source pt_regs is not supported yet", 8, 34);
}

static void test_refuses_source_on_plain_args(void **state)
{
	check_error(HDR "  kprobes:\n  - call: x\n    args: [{index: 0, type: int, source: pt_regs}]\n",
		    "source is only valid for data entries", 8, 34);
}

/* ================================================================ refusals: selectors */

static void test_refuses_unknown_key_in_selector(void **state)
{
	check_error(HDR "  kprobes:\n  - call: fd_install\n    selectors:\n    - matchPids: []\n",
		    "unknown key \"matchPids\" in kprobes[0].selectors[0]", 9, 7);
}

static void test_refuses_seventeen_selectors(void **state)
{
	char yaml[2048];
	int i, n;

	n = snprintf(yaml, sizeof(yaml), HDR "  kprobes:\n  - call: x\n    selectors:\n");
	for (i = 0; i < 17; i++)
		n += snprintf(yaml + n, sizeof(yaml) - (size_t)n, "    - {}\n");
	check_error(yaml, "kprobes[0].selectors: too many selectors (max 16)", 25, 7);
}

static void test_refuses_match_workloads(void **state)
{
	check_error(KPROBE("[]", "matchWorkloads: {}\n"), "not supported by vigil: matchWorkloads", 10, 7);
}

static void test_refuses_undefined_macro(void **state)
{
	check_error(KPROBE("[]", "macros: [nope]\n"), "macro \"nope\" is not defined in spec.selectorsMacros", 10, 16);
}

static void test_refuses_field_in_both_macro_and_selector(void **state)
{
	check_error(HDR "  selectorsMacros:\n    m:\n      matchActions: [{action: Post}]\n"
		    "  kprobes:\n  - call: x\n    selectors:\n"
		    "    - matchActions: [{action: NoPost}]\n      macros: [m]\n",
		    "kprobes[0].selectors[0]: field \"matchActions\" is set both in the selector and in macro \"m\"", 13,
		    16);
}

static void test_refuses_field_in_two_macros(void **state)
{
	check_error(HDR "  selectorsMacros:\n    a: {matchPIDs: [{operator: In, values: [1]}]}\n"
		    "    b: {matchPIDs: [{operator: In, values: [2]}]}\n"
		    "  kprobes:\n  - call: x\n    selectors:\n    - macros: [a, b]\n",
		    "field \"matchPIDs\" is set both in macro \"a\" and in macro \"b\"", 12, 19);
}

static void test_refuses_pid_operator_other_than_in(void **state)
{
	check_error(KPROBE("[]", "matchPIDs: [{operator: Equal, values: [1]}]\n"),
		    "matchPIDs[0]: operator must be In or NotIn, not \"Equal\"", 10, 30);
}

static void test_refuses_nine_pids(void **state)
{
	check_error(KPROBE("[]", "matchPIDs: [{operator: In, values: [1, 2, 3, 4, 5, 6, 7, 8, 9]}]\n"),
		    "too many values (max 8)", 10, 67);
}

static void test_refuses_five_match_pids_entries(void **state)
{
	check_error(KPROBE("[]", "matchPIDs:\n      - {operator: In, values: [1]}\n      - {operator: In, values: [1]}\n"
				 "      - {operator: In, values: [1]}\n      - {operator: In, values: [1]}\n"
				 "      - {operator: In, values: [1]}\n"),
		    "too many matchPIDs entries (max 4)", 15, 9);
}

static void test_refuses_five_match_capability_changes_entries(void **state)
{
	check_error(KPROBE("[]", "matchCapabilityChanges:\n      - {operator: In, values: [CAP_BPF]}\n"
				 "      - {operator: In, values: [CAP_BPF]}\n      - {operator: In, values: [CAP_BPF]}\n"
				 "      - {operator: In, values: [CAP_BPF]}\n      - {operator: In, values: [CAP_BPF]}\n"),
		    "too many matchCapabilityChanges entries (max 4)", 15, 9);
}

static void test_refuses_two_match_binaries(void **state)
{
	check_error(KPROBE("[]", "matchBinaries: [{operator: In, values: [/a]}, {operator: In, values: [/b]}]\n"),
		    "too many matchBinaries entries (max 1)", 10, 53);
}

static void test_refuses_follow_children_with_prefix(void **state)
{
	check_error(KPROBE("[]", "matchBinaries: [{operator: Prefix, values: [/usr], followChildren: true}]\n"),
		    "followChildren works only with In and NotIn, not Prefix", 10, 34);
}

static void test_refuses_lowercase_namespace_name(void **state)
{
	check_error(KPROBE("[]", "matchNamespaces: [{namespace: mnt, operator: In, values: [\"1\"]}]\n"),
		    "namespace must be one of Uts", 10, 37);
}

static void test_refuses_bad_namespace_value(void **state)
{
	check_error(KPROBE("[]", "matchNamespaces: [{namespace: Net, operator: In, values: [host]}]\n"),
		    "namespace values are inode numbers or \"host_ns\", not \"host\"", 10, 65);
}

static void test_refuses_unknown_capability(void **state)
{
	check_error(KPROBE("[]", "matchCapabilities: [{operator: In, values: [CAP_FLY]}]\n"),
		    "unknown capability \"CAP_FLY\"", 10, 51);
}

static void test_refuses_match_return_args_without_return(void **state)
{
	check_error(KPROBE("[{index: 0, type: int}]", "matchReturnArgs: [{index: 0, operator: Equal, values: [\"0\"]}]\n"),
		    "matchReturnArgs needs return: true and a returnArg", 10, 7);
}

/* ================================================================ refusals: matchArgs */

static void test_refuses_operator_not_valid_for_type(void **state)
{
	check_error(KPROBE("[{index: 0, type: int}]", "matchArgs:\n      - {index: 0, operator: Prefix, values: [a]}\n"),
		    "kprobes[0].selectors[0].matchArgs[0]: operator \"Prefix\" is not valid for argument type \"int\"", 11,
		    30);
}

static void test_refuses_file_type_on_fd(void **state)
{
	check_error(KPROBE("[{index: 0, type: fd}]", "matchArgs: [{index: 0, operator: FileType, values: [reg]}]\n"),
		    "operator \"FileType\" is not valid for argument type \"fd\"", 10, 40);
}

static void test_refuses_daddr_on_sockaddr(void **state)
{
	check_error(KPROBE("[{index: 0, type: sockaddr}]", "matchArgs: [{index: 0, operator: DAddr, values: [1.2.3.4]}]\n"),
		    "operator \"DAddr\" is not valid for argument type \"sockaddr\"", 10, 40);
}

static void test_refuses_unknown_operator(void **state)
{
	check_error(KPROBE("[{index: 0, type: int}]", "matchArgs: [{index: 0, operator: Like, values: [a]}]\n"),
		    "unknown operator \"Like\"", 10, 40);
}

static void test_refuses_substring_ign_case_operator(void **state)
{
	check_error(KPROBE("[{index: 0, type: string}]", "matchArgs: [{index: 0, operator: SubStringIgnCase, values: [a]}]\n"),
		    "operator \"SubStringIgnCase\" is not supported yet", 10, 40);
}

static void test_refuses_uint8_value_300(void **state)
{
	check_error(KPROBE("[{index: 0, type: uint8}]",
			   "matchArgs:\n      - index: 0\n        operator: Equal\n        values: [\"300\"]\n"),
		    "matchArgs[0]: value \"300\" is out of range for uint8 (0..255)", 13, 18);
}

static void test_refuses_negative_value_for_unsigned(void **state)
{
	check_error(KPROBE("[{index: 0, type: uint32}]", "matchArgs: [{index: 0, operator: GT, values: [\"-1\"]}]\n"),
		    "value \"-1\" is out of range for uint32 (0..4294967295)", 10, 53);
}

static void test_refuses_non_integer_value(void **state)
{
	check_error(KPROBE("[{index: 0, type: long}]", "matchArgs: [{index: 0, operator: LT, values: [\"12abc\"]}]\n"),
		    "value \"12abc\" is not an integer", 10, 53);
}

static void test_refuses_port_70000(void **state)
{
	check_error(KPROBE("[{index: 0, type: sock}]", "matchArgs: [{index: 0, operator: DPort, values: [\"70000\"]}]\n"),
		    "value \"70000\" is not a port (0..65535)", 10, 56);
}

static void test_refuses_bad_address(void **state)
{
	check_error(KPROBE("[{index: 0, type: sock}]", "matchArgs: [{index: 0, operator: SAddr, values: [10.0.0.0/33]}]\n"),
		    "value \"10.0.0.0/33\" is not an IPv4 or IPv6 address", 10, 56);
}

static void test_refuses_unknown_family(void **state)
{
	check_error(KPROBE("[{index: 0, type: sock}]", "matchArgs: [{index: 0, operator: Family, values: [AF_MARS]}]\n"),
		    "value \"AF_MARS\" is not an address family", 10, 57);
}

static void test_refuses_values_on_priv_operator(void **state)
{
	check_error(KPROBE("[{index: 0, type: sock}]", "matchArgs: [{index: 0, operator: SPortPriv, values: [\"1\"]}]\n"),
		    "operator SPortPriv takes no values", 10, 59);
}

static void test_refuses_operator_without_values(void **state)
{
	check_error(KPROBE("[{index: 0, type: string}]", "matchArgs: [{index: 0, operator: Equal}]\n"),
		    "operator Equal needs values", 10, 40);
}

static void test_refuses_nine_int_values(void **state)
{
	check_error(KPROBE("[{index: 0, type: int}]",
			   "matchArgs: [{index: 0, operator: Equal, values: [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\"]}]\n"),
		    "too many values for Equal (max 8): use InMap or NotInMap", 10, 88);
}

static void test_refuses_six_match_args(void **state)
{
	check_error(KPROBE("[{index: 0, type: int}]",
			   "matchArgs:\n"
			   "      - {index: 0, operator: Equal, values: [\"1\"]}\n"
			   "      - {index: 0, operator: Equal, values: [\"2\"]}\n"
			   "      - {index: 0, operator: Equal, values: [\"3\"]}\n"
			   "      - {index: 0, operator: Equal, values: [\"4\"]}\n"
			   "      - {index: 0, operator: Equal, values: [\"5\"]}\n"
			   "      - {index: 0, operator: Equal, values: [\"6\"]}\n"),
		    "kprobes[0].selectors[0]: too many matchArgs (max 5", 16, 9);
}

static void test_refuses_index_not_declared(void **state)
{
	check_error(KPROBE("[{index: 0, type: int}]", "matchArgs: [{index: 3, operator: Equal, values: [\"1\"]}]\n"),
		    "matchArgs[0]: index 3 is not declared in the hook's args", 10, 27);
}

static void test_refuses_args_slot_past_the_end(void **state)
{
	check_error(KPROBE("[{index: 0, type: int}]", "matchArgs: [{args: [2], operator: Equal, values: [\"1\"]}]\n"),
		    "args[0] = 2 does not name an entry of the hook's args (it has 1)", 10, 27);
}

static void test_refuses_missing_list_in_in_map(void **state)
{
	check_error(HDR "  tracepoints:\n  - subsystem: raw_syscalls\n    event: sys_enter\n"
		    "    args: [{index: 4, type: syscall64}]\n"
		    "    selectors:\n    - matchArgs: [{index: 4, operator: InMap, values: [\"list:nope\"]}]\n",
		    "list \"nope\" is not defined in spec.lists", 11, 56);
}

/* Tetragon's list-syscalls-tracepoint example filters raw_syscalls' id typed uint64 */
static void test_syscall_list_fits_any_integer_argument(void **state)
{
	struct vigil_policy *p = parse_ok(HDR "  lists: [{name: l, type: syscalls, values: [sys_read]}]\n"
					      "  kprobes:\n  - call: x\n    args: [{index: 0, type: uint64}]\n"
					      "    selectors:\n    - matchArgs: [{index: 0, operator: NotInMap, values: [\"list:l\"]}]\n");

	assert_string_equal(p->hooks[0].selectors[0].args[0].values[0], "list:l");
	vigil_policy_free(p);
}

static void test_refuses_reversed_range(void **state)
{
	check_error(KPROBE("[{index: 0, type: int}]", "matchArgs: [{index: 0, operator: InRange, values: [\"5:1\"]}]\n"),
		    "range \"5:1\" has its minimum above its maximum", 10, 58);
}

static void test_refuses_prefix_longer_than_256(void **state)
{
	char yaml[2048], value[258];

	memset(value, 'p', 257);
	value[257] = '\0';
	snprintf(yaml, sizeof(yaml),
		 KPROBE("[{index: 0, type: string}]", "matchArgs: [{index: 0, operator: Prefix, values: [%s]}]\n"), value);
	check_error(yaml, "value is longer than 256 characters", 10, 57);
}

static void test_refuses_postfix_longer_than_127(void **state)
{
	char yaml[2048], value[129];

	memset(value, 'p', 128);
	value[128] = '\0';
	snprintf(yaml, sizeof(yaml),
		 KPROBE("[{index: 0, type: file}]", "matchArgs: [{index: 0, operator: Postfix, values: [%s]}]\n"), value);
	check_error(yaml, "value is longer than 127 characters", 10, 58);
}

static void test_refuses_capabilities_gained_on_one_arg(void **state)
{
	check_error(KPROBE("[{index: 0, type: kernel_cap_t}]", "matchArgs: [{index: 0, operator: CapabilitiesGained}]\n"),
		    "CapabilitiesGained needs matchArgs with args: [before, after]", 10, 40);
}

/* ================================================================ refusals: actions */

static void test_refuses_bad_rate_limit(void **state)
{
	check_error(KPROBE("[]", "matchActions: [{action: Post, rateLimit: 5x}]\n"),
		    "matchActions[0]: rateLimit \"5x\" is not a duration", 10, 48);
}

static void test_refuses_rate_limit_on_sigkill(void **state)
{
	check_error(KPROBE("[]", "matchActions: [{action: Sigkill, rateLimit: 5s}]\n"),
		    "rateLimit is only valid with Post, not Sigkill", 10, 51);
}

static void test_refuses_unknown_action(void **state)
{
	check_error(KPROBE("[]", "matchActions: [{action: Explode}]\n"), "unknown action \"Explode\"", 10, 31);
}

static void test_refuses_four_actions(void **state)
{
	check_error(KPROBE("[]", "matchActions: [{action: Post}, {action: Post}, {action: Post}, {action: Post}]\n"),
		    "matchActions: too many actions (max 3)", 10, 70);
}

static void test_refuses_signal_without_arg_sig(void **state)
{
	check_error(KPROBE("[]", "matchActions: [{action: Signal}]\n"), "Signal needs argSig", 10, 31);
}

static void test_refuses_override_error_that_is_not_a_number(void **state)
{
	check_error(HDR "  kprobes:\n  - call: sys_read\n    selectors:\n"
		    "    - matchActions: [{action: Override, argError: EOOPS}]\n",
		    "argError must be an integer or an errno name such as EPERM, not \"EOOPS\"", 9, 51);
}

static void test_refuses_override_on_plain_function(void **state)
{
	check_error(HDR "  kprobes:\n  - call: fd_install\n    syscall: false\n    selectors:\n"
		    "    - matchActions: [{action: Override, argError: -1}]\n",
		    "Override works only on syscalls (syscall: true) and security_ functions, not on \"fd_install\"", 10,
		    31);
}

static void test_refuses_override_on_tracepoint(void **state)
{
	check_error(HDR "  tracepoints:\n  - {subsystem: syscalls, event: sys_enter_read}\n"
		    "  - subsystem: sched\n    event: sched_switch\n    selectors:\n"
		    "    - matchActions: [{action: Override, argError: -1}]\n",
		    "tracepoints[1].selectors[0].matchActions[0]: Override is not possible on a tracepoint", 11, 31);
}

static void test_refuses_notify_enforcer_without_enforcers(void **state)
{
	check_error(HDR "  kprobes:\n  - call: sys_read\n    selectors:\n"
		    "    - matchActions: [{action: NotifyEnforcer, argError: -1}]\n",
		    "NotifyEnforcer needs an entry in spec.enforcers", 9, 31);
}

static void test_refuses_ima_hash(void **state)
{
	check_error(KPROBE("[]", "matchActions: [{action: Post, imaHash: true}]\n"), "imaHash works on lsmhooks only", 10,
		    37);
}

static void test_refuses_set_outside_usdts(void **state)
{
	check_error(KPROBE("[]", "matchActions: [{action: Set}]\n"), "Set writes a USDT probe's argument: it works on usdts "
		    "hooks only", 10, 31);
}

/* ================================================================ refusals: size */

/* Each alias re-walks its subtree; a small document must not buy unbounded work. */
static void test_refuses_alias_expansion_bomb(void **state)
{
	struct vigil_policy_error err;
	struct vigil_policy *p = NULL;
	char *yaml;
	size_t n = 0, cap = 64 * 1024;
	int i;

	yaml = malloc(cap);
	assert_non_null(yaml);
	n += (size_t)snprintf(yaml + n, cap - n,
			      HDR "  kprobes:\n  - &h\n    call: x\n    args: [{index: 0, type: int}]\n"
				  "    selectors:\n    - matchArgs: [{index: 0, operator: InMap, values: &v [");
	for (i = 0; i < 4000; i++)
		n += (size_t)snprintf(yaml + n, cap - n, "%s\"1\"", i ? "," : "");
	n += (size_t)snprintf(yaml + n, cap - n, "]}, {index: 0, operator: InMap, values: *v}]\n");
	for (i = 0; i < 1000 && n + 16 < cap; i++)
		n += (size_t)snprintf(yaml + n, cap - n, "  - *h\n");
	assert_int_equal(vigil_policy_parse("bomb.yaml", yaml, n, &p, &err), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(err.reason, "document too large once its aliases are expanded"));
	free(yaml);
}

int main(void)
{
	const struct CMUnitTest full[] = {
		cmocka_unit_test(test_full_policy_keeps_metadata_and_mode),
		cmocka_unit_test(test_full_policy_keeps_options_and_lists),
		cmocka_unit_test(test_full_policy_orders_hooks_kprobes_fentries_tracepoints_lsm_uprobes),
		cmocka_unit_test(test_full_policy_kprobe_fields),
		cmocka_unit_test(test_full_policy_puts_data_after_args),
		cmocka_unit_test(test_full_policy_process_filters),
		cmocka_unit_test(test_full_policy_macro_supplies_match_binaries),
		cmocka_unit_test(test_full_policy_match_args_resolve_slots),
		cmocka_unit_test(test_full_policy_actions),
		cmocka_unit_test(test_full_policy_fentry_is_a_kprobe),
		cmocka_unit_test(test_full_policy_tracepoint_args_default_to_auto),
		cmocka_unit_test(test_full_policy_lsm_and_socket_filters),
		cmocka_unit_test(test_full_policy_uprobe),
		cmocka_unit_test(test_every_allocation_failure_is_refused_cleanly),
	};
	const struct CMUnitTest accepted[] = {
		cmocka_unit_test(test_example_sys_openat_parses),
		cmocka_unit_test(test_example_fd_install_parses),
		cmocka_unit_test(test_example_security_file_open_lsm_parses),
		cmocka_unit_test(test_example_tcp_connect_parses),
		cmocka_unit_test(test_example_bprm_check_security_parses),
		cmocka_unit_test(test_example_setns_parses),
		cmocka_unit_test(test_parse_file_names_the_file),
		cmocka_unit_test(test_parse_file_refusal_points_into_the_file),
		cmocka_unit_test(test_parse_file_reports_missing_file),
		cmocka_unit_test(test_parse_file_refuses_more_than_1mib),
		cmocka_unit_test(test_kprobe_syscall_defaults_to_true),
		cmocka_unit_test(test_null_value_counts_as_absent),
		cmocka_unit_test(test_loader_false_is_accepted),
		cmocka_unit_test(test_refuses_empty_host_selector),
		cmocka_unit_test(test_operator_aliases_map_to_canonical_ops),
		cmocka_unit_test(test_action_names_are_case_insensitive),
		cmocka_unit_test(test_rate_limit_units_convert_to_ms),
		cmocka_unit_test(test_integer_values_take_hex_octal_and_negative),
		cmocka_unit_test(test_capabilities_gained_keeps_the_second_slot_as_value),
		cmocka_unit_test(test_cap_set_types_stay_apart),
		cmocka_unit_test(test_tracepoint_match_index_falls_back_to_position),
		cmocka_unit_test(test_override_error_may_be_positive_or_an_errno_name),
		cmocka_unit_test(test_string_value_drops_one_trailing_nul),
		cmocka_unit_test(test_refuses_max_data_with_return_copy),
		cmocka_unit_test(test_alias_reuses_a_subtree),
		cmocka_unit_test(test_names_are_the_crd_spellings),
		cmocka_unit_test(test_error_format_is_file_line_col_reason),
	};
	const struct CMUnitTest refused[] = {
		cmocka_unit_test(test_refuses_empty_input),
		cmocka_unit_test(test_refuses_comment_only_input),
		cmocka_unit_test(test_refuses_yaml_syntax_error),
		cmocka_unit_test(test_refuses_control_character_where_it_is),
		cmocka_unit_test(test_refuses_two_documents),
		cmocka_unit_test(test_refuses_nul_inside_a_scalar),
		cmocka_unit_test(test_refuses_trailing_nul_on_char_buf_value),
		cmocka_unit_test(test_refuses_unknown_top_level_key),
		cmocka_unit_test(test_refuses_duplicate_key),
		cmocka_unit_test(test_refuses_wrong_api_version),
		cmocka_unit_test(test_refuses_unknown_kind),
		cmocka_unit_test(test_refuses_missing_metadata_name),
		cmocka_unit_test(test_refuses_name_that_is_not_dns1123),
		cmocka_unit_test(test_refuses_namespace_on_cluster_policy),
		cmocka_unit_test(test_refuses_namespaced_policy_without_namespace),
		cmocka_unit_test(test_namespaced_policy_is_scoped_to_its_namespace),
		cmocka_unit_test(test_refuses_missing_spec),
		cmocka_unit_test(test_pod_selector_keeps_labels_and_expressions),
		cmocka_unit_test(test_empty_pod_selector_selects_every_pod),
		cmocka_unit_test(test_unscoped_policy_has_no_scope_id),
		cmocka_unit_test(test_refuses_bad_selector_operators_and_values),
		cmocka_unit_test(test_container_selector_selects_by_name_only),
		cmocka_unit_test(test_refuses_host_selector_with_labels),
		cmocka_unit_test(test_refuses_host_selector_in_namespaced_policy),
		cmocka_unit_test(test_loader_true_asks_for_loader_events),
		cmocka_unit_test(test_usdt_keeps_path_provider_and_name),
		cmocka_unit_test(test_refuses_bad_policy_mode),
		cmocka_unit_test(test_refuses_unknown_option),
		cmocka_unit_test(test_refuses_list_without_type),
		cmocka_unit_test(test_refuses_generated_list_with_values),
		cmocka_unit_test(test_refuses_files_list_with_a_relative_path),
		cmocka_unit_test(test_refuses_unknown_list_type_naming_files),
		cmocka_unit_test(test_refuses_bad_syscall_name_in_list),
		cmocka_unit_test(test_refuses_undefined_list_in_call),
		cmocka_unit_test(test_call_list_becomes_one_syscall_hook_per_value),
		cmocka_unit_test(test_refuses_call_list_of_another_abi),
		cmocka_unit_test(test_uprobe_symbols_become_one_hook_each),
		cmocka_unit_test(test_uprobe_offsets_become_one_hook_each),
		cmocka_unit_test(test_uprobe_addrs_become_one_hook_each_marked_as_addresses),
		cmocka_unit_test(test_refuses_uprobe_with_offsets_and_addrs),
		cmocka_unit_test(test_refuses_uprobe_without_symbols_or_offsets),
		cmocka_unit_test(test_refuses_expansion_past_the_hook_limit),
		cmocka_unit_test(test_refuses_two_enforcers),
		cmocka_unit_test(test_refuses_macro_using_macros),
		cmocka_unit_test(test_refuses_unknown_key_in_macro),
		cmocka_unit_test(test_refuses_missing_call),
		cmocka_unit_test(test_refuses_missing_event),
		cmocka_unit_test(test_refuses_scalar_where_a_list_is_expected),
		cmocka_unit_test(test_refuses_mapping_where_hooks_list_is_expected),
		cmocka_unit_test(test_refuses_unknown_key_in_hook),
		cmocka_unit_test(test_refuses_return_without_return_arg),
		cmocka_unit_test(test_refuses_lsm_hook_with_security_prefix),
		cmocka_unit_test(test_refuses_uprobe_with_symbols_and_offsets),
		cmocka_unit_test(test_refuses_uprobe_without_symbols),
		cmocka_unit_test(test_refuses_long_message),
		cmocka_unit_test(test_refuses_seventeen_tags),
		cmocka_unit_test(test_refuses_too_many_arguments),
		cmocka_unit_test(test_refuses_unknown_arg_type),
		cmocka_unit_test(test_kernel_object_arg_types_parse),
		cmocka_unit_test(test_refuses_auto_on_kprobe),
		cmocka_unit_test(test_refuses_missing_type_on_lsm_arg),
		cmocka_unit_test(test_refuses_arg_index_above_four),
		cmocka_unit_test(test_data_entry_from_current_task_keeps_its_path),
		cmocka_unit_test(test_refuses_data_from_pt_regs),
		cmocka_unit_test(test_refuses_source_on_plain_args),
		cmocka_unit_test(test_refuses_unknown_key_in_selector),
		cmocka_unit_test(test_refuses_seventeen_selectors),
		cmocka_unit_test(test_refuses_match_workloads),
		cmocka_unit_test(test_refuses_undefined_macro),
		cmocka_unit_test(test_refuses_field_in_both_macro_and_selector),
		cmocka_unit_test(test_refuses_field_in_two_macros),
		cmocka_unit_test(test_refuses_pid_operator_other_than_in),
		cmocka_unit_test(test_refuses_nine_pids),
		cmocka_unit_test(test_refuses_five_match_pids_entries),
		cmocka_unit_test(test_refuses_five_match_capability_changes_entries),
		cmocka_unit_test(test_refuses_two_match_binaries),
		cmocka_unit_test(test_refuses_follow_children_with_prefix),
		cmocka_unit_test(test_refuses_lowercase_namespace_name),
		cmocka_unit_test(test_refuses_bad_namespace_value),
		cmocka_unit_test(test_refuses_unknown_capability),
		cmocka_unit_test(test_refuses_match_return_args_without_return),
		cmocka_unit_test(test_refuses_operator_not_valid_for_type),
		cmocka_unit_test(test_refuses_file_type_on_fd),
		cmocka_unit_test(test_refuses_daddr_on_sockaddr),
		cmocka_unit_test(test_refuses_unknown_operator),
		cmocka_unit_test(test_refuses_substring_ign_case_operator),
		cmocka_unit_test(test_refuses_uint8_value_300),
		cmocka_unit_test(test_refuses_negative_value_for_unsigned),
		cmocka_unit_test(test_refuses_non_integer_value),
		cmocka_unit_test(test_refuses_port_70000),
		cmocka_unit_test(test_refuses_bad_address),
		cmocka_unit_test(test_refuses_unknown_family),
		cmocka_unit_test(test_refuses_values_on_priv_operator),
		cmocka_unit_test(test_refuses_operator_without_values),
		cmocka_unit_test(test_refuses_nine_int_values),
		cmocka_unit_test(test_refuses_six_match_args),
		cmocka_unit_test(test_refuses_index_not_declared),
		cmocka_unit_test(test_refuses_args_slot_past_the_end),
		cmocka_unit_test(test_refuses_missing_list_in_in_map),
		cmocka_unit_test(test_syscall_list_fits_any_integer_argument),
		cmocka_unit_test(test_refuses_reversed_range),
		cmocka_unit_test(test_refuses_prefix_longer_than_256),
		cmocka_unit_test(test_refuses_postfix_longer_than_127),
		cmocka_unit_test(test_refuses_capabilities_gained_on_one_arg),
		cmocka_unit_test(test_refuses_bad_rate_limit),
		cmocka_unit_test(test_refuses_rate_limit_on_sigkill),
		cmocka_unit_test(test_refuses_unknown_action),
		cmocka_unit_test(test_refuses_four_actions),
		cmocka_unit_test(test_refuses_signal_without_arg_sig),
		cmocka_unit_test(test_refuses_override_error_that_is_not_a_number),
		cmocka_unit_test(test_refuses_override_on_plain_function),
		cmocka_unit_test(test_refuses_override_on_tracepoint),
		cmocka_unit_test(test_refuses_notify_enforcer_without_enforcers),
		cmocka_unit_test(test_refuses_ima_hash),
		cmocka_unit_test(test_refuses_set_outside_usdts),
		cmocka_unit_test(test_refuses_alias_expansion_bomb),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("full policy", full, full_setup, full_teardown);
	failed += cmocka_run_group_tests_name("accepted", accepted, NULL, NULL);
	failed += cmocka_run_group_tests_name("refused", refused, NULL, NULL);
	return failed;
}
