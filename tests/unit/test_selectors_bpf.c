/* test_selectors_bpf.c - the BPF selector library (bpf/lib/selectors.h) on the real verifier.
 *
 * Each test compiles a policy with vigil's compiler (core/sensors), loads
 * tests/unit/bpf/selectors_test.bpf.c with the hook's configuration frozen in its rodata and
 * the compiled keys in its maps, then runs it with BPF_PROG_TEST_RUN on records built here:
 * one input that must match and one that must not, for every operator and selector kind.
 * Needs root (BPF); exits 77 (ctest: skipped) when not root. */
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
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "sensors/sensors_internal.h"
#include "selectors_test.skel.h"
#include "selectors_strnstr_test.skel.h"

#define NONE VG_MAX_SELECTORS	/* no selector matched */

static struct btf *vmlinux;	/* the kernel's BTF, loaded once: SubString asks it for bpf_strnstr */
#define HOST_PID_NS 4026531836u

struct fixture {
	struct vigil_probe_report probe;
	uint32_t host_ns[VIGIL_NS_COUNT];
	struct vigil_policy *policy;
	struct vigil_policy_error err;
	struct compiled_hook hook;
	struct selectors_test_bpf *skel;
	uint32_t data_off;	/* next free byte of the record's data area */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	/* every mechanism offered: the mechanism is not under test, the selectors are */
	for (int m = 0; m < VIGIL_MECH_COUNT; m++)
		f->probe.mech[m].ok = true;
	f->host_ns[VIGIL_NS_PID] = HOST_PID_NS;
	*state = f;
	return 0;
}

/* Drop the loaded program and its policy (a test may load several in turn). */
static void unload(struct fixture *f)
{
	selectors_test_bpf__destroy(f->skel);
	f->skel = NULL;
	compiled_hook_free(&f->hook);
	memset(&f->hook, 0, sizeof(f->hook));
	vigil_policy_free(f->policy);
	f->policy = NULL;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unload(f);
	free(f);
	return 0;
}

static void reset(struct fixture *f);

static void push_keys(int fd, const struct key_list *l)
{
	uint8_t one = 1;

	for (size_t i = 0; i < l->n; i++)
		assert_int_equal(bpf_map_update_elem(fd, (char *)l->keys + i * l->size, &one, BPF_ANY), 0);
}

static void set_entries(struct bpf_map *m, const struct key_list *l)
{
	assert_int_equal(bpf_map__set_max_entries(m, l->n ? (uint32_t)l->n : 1), 0);
}

/* The test object, or for hooks with SubString its twin with the kfunc: the same maps,
 * program and data, so one skeleton type serves both (as core/sensors/instance.c does). */
static struct selectors_test_bpf *open_test_object(bool strnstr)
{
	struct selectors_test_bpf *obj;
	size_t size = 0;

	if (!strnstr)
		return selectors_test_bpf__open();
	obj = calloc(1, sizeof(*obj));
	assert_non_null(obj);
	assert_int_equal(selectors_test_bpf__create_skeleton(obj), 0);
	obj->skeleton->data = (void *)selectors_strnstr_test_bpf__elf_bytes(&size);
	obj->skeleton->data_sz = size;
	assert_int_equal(bpf_object__open_skeleton(obj->skeleton, NULL), 0);
	return obj;
}

/* Parse and compile hook 0 of `spec` (the body under spec:): 0 or the compiler's error. */
static int compile(struct fixture *f, const char *spec)
{
	struct compile_ctx ctx = {0};
	char yaml[8192];
	int n;

	unload(f);
	n = snprintf(yaml, sizeof(yaml),
		     "apiVersion: cilium.io/v1alpha1\nkind: TracingPolicy\nmetadata:\n  name: t\nspec:\n%s", spec);
	assert_true(n > 0 && n < (int)sizeof(yaml));
	if (vigil_policy_parse("t.yaml", yaml, (size_t)n, &f->policy, &f->err))
		fail_msg("parse: %s", f->err.reason);
	ctx.policy = f->policy;
	ctx.probe = &f->probe;
	ctx.host_ns = f->host_ns;
	ctx.mode = VIGIL_MODE_ENFORCE;
	ctx.err = &f->err;
	ctx.vmlinux = vmlinux;
	return compile_hook(&ctx, 0, &f->hook);
}

/* Compile hook 0 of `spec` and load the test program with it. */
static void load(struct fixture *f, const char *spec)
{
	struct selectors_test_bpf *skel;

	if (compile(f, spec))
		fail_msg("compile: %s", f->err.reason);
	skel = open_test_object(f->hook.uses_strnstr);
	assert_non_null(skel);
	memcpy((void *)&skel->rodata->test_cfg, &f->hook.cfg, sizeof(f->hook.cfg));
	set_entries(skel->maps.str_eq, &f->hook.str_eq);
	set_entries(skel->maps.str_prefix, &f->hook.str_prefix);
	set_entries(skel->maps.str_postfix, &f->hook.str_postfix);
	set_entries(skel->maps.int_set, &f->hook.int_set);
	set_entries(skel->maps.addr4, &f->hook.addr4);
	set_entries(skel->maps.addr6, &f->hook.addr6);
	set_entries(skel->maps.str_sub, &f->hook.str_sub);
	assert_int_equal(bpf_map__set_max_entries(skel->maps.vg_execs, 16), 0);
	assert_int_equal(selectors_test_bpf__load(skel), 0);
	push_keys(bpf_map__fd(skel->maps.str_eq), &f->hook.str_eq);
	push_keys(bpf_map__fd(skel->maps.str_prefix), &f->hook.str_prefix);
	push_keys(bpf_map__fd(skel->maps.str_postfix), &f->hook.str_postfix);
	push_keys(bpf_map__fd(skel->maps.int_set), &f->hook.int_set);
	push_keys(bpf_map__fd(skel->maps.addr4), &f->hook.addr4);
	push_keys(bpf_map__fd(skel->maps.addr6), &f->hook.addr6);
	for (size_t i = 0; i < f->hook.str_sub.n; i++) {
		const struct substring_entry *e = (const struct substring_entry *)f->hook.str_sub.keys + i;

		assert_int_equal(bpf_map_update_elem(bpf_map__fd(skel->maps.str_sub), &e->key, &e->value, BPF_ANY), 0);
	}
	f->skel = skel;
	reset(f);
}

/* ---- inputs ---- */

static void reset(struct fixture *f)
{
	memset(&f->skel->bss->input_rec, 0, sizeof(f->skel->bss->input_rec));
	memset(f->skel->bss->input_ns, 0, sizeof(f->skel->bss->input_ns));
	memset(f->skel->bss->input_caps, 0, sizeof(f->skel->bss->input_caps));
	f->skel->bss->input_rec.nargs = f->hook.cfg.nargs;
	f->data_off = 0;
}

static struct vg_generic_record *rec(struct fixture *f)
{
	return &f->skel->bss->input_rec;
}

static void arg_int(struct fixture *f, unsigned int slot, uint64_t v)
{
	rec(f)->arg_int[slot] = v;
}

/* Bytes of a captured argument, placed as capture does: the next free part of data[]. */
static void arg_bytes(struct fixture *f, unsigned int slot, const void *p, size_t len)
{
	rec(f)->arg_off[slot] = (uint16_t)f->data_off;
	rec(f)->arg_len[slot] = (uint16_t)len;
	memcpy(&rec(f)->data[f->data_off], p, len);
	f->data_off += (uint32_t)len;
}

static void arg_str(struct fixture *f, unsigned int slot, const char *s)
{
	arg_bytes(f, slot, s, strlen(s));
}

static void arg_path(struct fixture *f, unsigned int slot, const char *path, uint32_t mode, uint32_t dev, uint64_t ino)
{
	char buf[512];
	struct vg_path_hdr h = {.mode = mode, .dev = dev, .ino = ino};

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), path, strlen(path));
	arg_bytes(f, slot, buf, sizeof(h) + strlen(path));
}

static void arg_sock4(struct fixture *f, unsigned int slot, const char *saddr, uint16_t sport, const char *daddr,
		      uint16_t dport, uint16_t protocol, uint16_t state)
{
	struct vg_sock sk = {.family = AF_INET, .protocol = protocol, .state = state, .sport = sport, .dport = dport};

	assert_int_equal(inet_pton(AF_INET, saddr, sk.saddr), 1);
	assert_int_equal(inet_pton(AF_INET, daddr, sk.daddr), 1);
	arg_bytes(f, slot, &sk, sizeof(sk));
}

static void arg_sockaddr6(struct fixture *f, unsigned int slot, const char *addr, uint16_t port)
{
	struct vg_sockaddr sa = {.family = AF_INET6, .port = port};

	assert_int_equal(inet_pton(AF_INET6, addr, sa.addr), 1);
	arg_bytes(f, slot, &sa, sizeof(sa));
}

/* A captured skb: its IP/TCP/UDP tuple (family 0: not IP, no addresses) and a length. */
static void arg_skb(struct fixture *f, unsigned int slot, uint16_t family, const char *saddr, uint16_t sport,
		    const char *daddr, uint16_t dport, uint16_t protocol)
{
	struct vg_skb skb = {.tuple = {.family = family, .protocol = protocol, .sport = sport, .dport = dport}, .len = 60};

	if (family) {
		assert_int_equal(inet_pton(family, saddr, skb.tuple.saddr), 1);
		assert_int_equal(inet_pton(family, daddr, skb.tuple.daddr), 1);
	}
	arg_bytes(f, slot, &skb, sizeof(skb));
}

/* The test process's vg_execs entry: its binary, parent, and namespaces and
 * capabilities at exec. */
static void exec_entry(struct fixture *f, const char *binary, uint32_t ppid, const uint32_t *ns, const uint64_t *caps)
{
	struct vigil_exec_entry e = {.ppid = ppid, .binary_len = (uint32_t)strlen(binary)};
	uint32_t tgid = (uint32_t)getpid();

	memcpy(e.binary, binary, strlen(binary));
	if (ns)
		memcpy(e.ns, ns, sizeof(e.ns));
	if (caps)
		memcpy(e.caps, caps, sizeof(e.caps));
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(f->skel->maps.vg_execs), &tgid, &e, BPF_ANY), 0);
}

static void exec_entry_of(struct fixture *f, uint32_t pid, const char *binary, uint32_t ppid)
{
	struct vigil_exec_entry e = {.ppid = ppid, .binary_len = (uint32_t)strlen(binary)};

	memcpy(e.binary, binary, strlen(binary));
	assert_int_equal(bpf_map_update_elem(bpf_map__fd(f->skel->maps.vg_execs), &pid, &e, BPF_ANY), 0);
}

/* Run the program; the index of the selector that matched (NONE: none). */
static uint32_t run(struct fixture *f)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts);

	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(f->skel->progs.run_selectors), &opts), 0);
	assert_int_equal(opts.retval, 0);
	return f->skel->bss->matched;
}

/* ---- hooks ---- */

#define HOOK(args, selectors) "  kprobes:\n  - call: vfs_open\n    syscall: false\n    args:\n" args "    selectors:\n" selectors
#define ARG(i, type) "    - index: " #i "\n      type: " type "\n"
#define MATCH_ARG(i, op, values) \
	"    - matchArgs:\n      - index: " #i "\n        operator: " op "\n        values: " values "\n"

/* One selector over one argument: the input set by `yes` matches, the one set by `no` not. */
#define CHECK_ARG(f, type, op, values, yes, no)                                   \
	do {                                                                       \
		load(f, HOOK(ARG(0, type), MATCH_ARG(0, op, values)));             \
		yes;                                                               \
		assert_int_equal(run(f), 0);                                       \
		reset(f);                                                          \
		no;                                                                \
		assert_int_equal(run(f), NONE);                                    \
	} while (0)

/* ---- integers ---- */

static void test_int_equal_and_not_equal(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "int", "Equal", "[\"5\", \"7\"]", arg_int(f, 0, 7), arg_int(f, 0, 6));
}

static void test_int_not_equal(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "int", "NotEqual", "[\"5\", \"7\"]", arg_int(f, 0, 6), arg_int(f, 0, 5));
}

static void test_int_gt_lt_signed(void **state)
{
	struct fixture *f = *state;

	/* an int is signed: -1 is not greater than 3 */
	CHECK_ARG(f, "int", "GT", "[\"3\"]", arg_int(f, 0, 4), arg_int(f, 0, (uint64_t)-1));
}

static void test_int_lt(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "int", "LT", "[\"3\"]", arg_int(f, 0, (uint64_t)-1), arg_int(f, 0, 3));
}

static void test_uint64_gt_unsigned(void **state)
{
	struct fixture *f = *state;

	/* unsigned: the all-ones value is the greatest */
	CHECK_ARG(f, "uint64", "GT", "[\"3\"]", arg_int(f, 0, (uint64_t)-1), arg_int(f, 0, 2));
}

static void test_int_mask(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "int", "Mask", "[\"0x40\"]", arg_int(f, 0, 0x41), arg_int(f, 0, 0x3f));
}

static void test_int_in_map_and_not_in_map(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "int", "InMap", "[\"10:12\", \"20\"]", arg_int(f, 0, 11), arg_int(f, 0, 13));
}

static void test_int_not_in_map(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "int", "NotInMap", "[\"10:12\", \"20\"]", arg_int(f, 0, 13), arg_int(f, 0, 20));
}

static void test_int_in_range(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "int", "InRange", "[\"-5:5\"]", arg_int(f, 0, (uint64_t)-5), arg_int(f, 0, 6));
}

static void test_kernel_cap_t_mask_of_names(void **state)
{
	struct fixture *f = *state;

	/* a capability set compares with a mask: CAP_SYS_ADMIN is bit 21 */
	CHECK_ARG(f, "kernel_cap_t", "Mask", "[\"CAP_SYS_ADMIN\"]", arg_int(f, 0, 1ULL << 21), arg_int(f, 0, 1ULL << 20));
}

static void test_capabilities_gained(void **state)
{
	struct fixture *f = *state;

	/* args [a, b]: b holds a capability a lacks */
	load(f, HOOK(ARG(0, "kernel_cap_t") ARG(1, "kernel_cap_t"),
		     "    - matchArgs:\n      - args: [0, 1]\n        operator: CapabilitiesGained\n"));
	arg_int(f, 0, 1ULL << 1);
	arg_int(f, 1, (1ULL << 1) | (1ULL << 21));
	assert_int_equal(run(f), 0);
	reset(f);
	arg_int(f, 0, (1ULL << 1) | (1ULL << 21));
	arg_int(f, 1, 1ULL << 21);
	assert_int_equal(run(f), NONE);
}

/* ---- strings and paths ---- */

static void test_string_equal(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "string", "Equal", "[\"/etc/passwd\", \"/etc/shadow\"]", arg_str(f, 0, "/etc/shadow"),
		  arg_str(f, 0, "/etc/shadow2"));
}

static void test_string_not_equal(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "string", "NotEqual", "[\"/etc/passwd\"]", arg_str(f, 0, "/etc/passw"), arg_str(f, 0, "/etc/passwd"));
}

static void test_string_prefix(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "string", "Prefix", "[\"/etc/\", \"/root\"]", arg_str(f, 0, "/etc/hosts"), arg_str(f, 0, "/et"));
}

static void test_string_not_prefix(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "string", "NotPrefix", "[\"/etc/\"]", arg_str(f, 0, "/tmp/etc/"), arg_str(f, 0, "/etc/x"));
}

static void test_string_postfix(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "string", "Postfix", "[\".so\", \"/sh\"]", arg_str(f, 0, "/bin/sh"), arg_str(f, 0, "/bin/bash"));
}

static void test_string_not_postfix(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "string", "NotPostfix", "[\".so\"]", arg_str(f, 0, "libc.so.6"), arg_str(f, 0, "libc.so"));
}

static void test_file_path_prefix_skips_the_header(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "file", "Prefix", "[\"/etc/\"]", arg_path(f, 0, "/etc/passwd", S_IFREG | 0644, 1, 2),
		  arg_path(f, 0, "/tmp/etc/passwd", S_IFREG | 0644, 1, 2));
}

static void test_file_type(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "file", "FileType", "[\"dir\", \"lnk\"]", arg_path(f, 0, "/tmp", S_IFDIR | 0755, 1, 2),
		  arg_path(f, 0, "/tmp/x", S_IFREG | 0644, 1, 3));
}

static void test_unreadable_argument_matches_no_operator(void **state)
{
	struct fixture *f = *state;

	/* NotEqual included: an argument the capture could not read never matches */
	load(f, HOOK(ARG(0, "string"), MATCH_ARG(0, "NotEqual", "[\"/x\"]")));
	arg_str(f, 0, "/y");
	assert_int_equal(run(f), 0);
	rec(f)->arg_flags[0] = VG_ARGF_ERROR;
	assert_int_equal(run(f), NONE);
}

static bool kernel_has_strnstr(void)
{
	return vmlinux && btf__find_by_name_kind(vmlinux, "bpf_strnstr", BTF_KIND_FUNC) > 0;
}

static void test_string_substring(void **state)
{
	struct fixture *f = *state;

	if (!kernel_has_strnstr()) {
		/* the refusal, exact, where the kernel lacks the kfunc (Debian 12's 6.1) */
		assert_int_not_equal(compile(f, HOOK(ARG(0, "string"), MATCH_ARG(0, "SubString", "[\"passwd\"]"))), 0);
		assert_string_equal(f->err.reason, "SubString needs the bpf_strnstr kfunc (Linux 6.17+); this kernel lacks it");
		return;
	}
	CHECK_ARG(f, "string", "SubString", "[\"shadow\", \"passwd\"]", arg_str(f, 0, "/etc/passwd-"),
		  arg_str(f, 0, "/etc/passw"));
	/* a path's header is not part of the string; the match may end the string */
	CHECK_ARG(f, "file", "SubString", "[\"/.ssh/\"]", arg_path(f, 0, "/root/.ssh/id_rsa", S_IFREG | 0600, 1, 2),
		  arg_path(f, 0, "/root/.sshd/x", S_IFREG | 0600, 1, 2));
	/* only the captured length counts, not the bytes after it in the record */
	load(f, HOOK(ARG(0, "string") ARG(1, "string"), MATCH_ARG(0, "SubString", "[\"ab\"]")));
	arg_str(f, 0, "xa");
	arg_str(f, 1, "b");
	assert_int_equal(run(f), NONE);
}

/* ---- sockets and addresses ---- */

#define SOCK_CHECK(f, op, values, yes, no) \
	CHECK_ARG(f, "sock", op, values, yes, no)

static void test_sock_saddr_daddr(void **state)
{
	struct fixture *f = *state;

	SOCK_CHECK(f, "SAddr", "[\"10.0.0.0/8\"]", arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 443, 6, 1),
		   arg_sock4(f, 0, "11.1.2.3", 4000, "1.1.1.1", 443, 6, 1));
	SOCK_CHECK(f, "NotDAddr", "[\"1.1.1.1\"]", arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.2", 443, 6, 1),
		   arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 443, 6, 1));
}

static void test_sock_ports(void **state)
{
	struct fixture *f = *state;

	SOCK_CHECK(f, "SPort", "[\"4000:4010\"]", arg_sock4(f, 0, "10.1.2.3", 4005, "1.1.1.1", 443, 6, 1),
		   arg_sock4(f, 0, "10.1.2.3", 4011, "1.1.1.1", 443, 6, 1));
	SOCK_CHECK(f, "NotSPort", "[\"4000\"]", arg_sock4(f, 0, "10.1.2.3", 4001, "1.1.1.1", 443, 6, 1),
		   arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 443, 6, 1));
	SOCK_CHECK(f, "DPort", "[\"443\"]", arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 443, 6, 1),
		   arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 80, 6, 1));
	SOCK_CHECK(f, "NotDPort", "[\"443\"]", arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 80, 6, 1),
		   arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 443, 6, 1));
}

static void test_sock_privileged_ports(void **state)
{
	struct fixture *f = *state;

	SOCK_CHECK(f, "SPortPriv", "[]", arg_sock4(f, 0, "10.1.2.3", 1023, "1.1.1.1", 443, 6, 1),
		   arg_sock4(f, 0, "10.1.2.3", 1024, "1.1.1.1", 443, 6, 1));
	SOCK_CHECK(f, "NotSPortPriv", "[]", arg_sock4(f, 0, "10.1.2.3", 1024, "1.1.1.1", 443, 6, 1),
		   arg_sock4(f, 0, "10.1.2.3", 22, "1.1.1.1", 443, 6, 1));
	SOCK_CHECK(f, "DPortPriv", "[]", arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 22, 6, 1),
		   arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 8080, 6, 1));
	SOCK_CHECK(f, "NotDPortPriv", "[]", arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 8080, 6, 1),
		   arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 22, 6, 1));
}

static void test_sock_protocol_family_state(void **state)
{
	struct fixture *f = *state;

	SOCK_CHECK(f, "Protocol", "[\"IPPROTO_UDP\"]", arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 53, 17, 7),
		   arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 53, 6, 7));
	SOCK_CHECK(f, "Family", "[\"AF_INET\"]", arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 53, 17, 7),
		   arg_sockaddr6(f, 0, "::1", 53));
	SOCK_CHECK(f, "State", "[\"TCP_ESTABLISHED\"]", arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 443, 6, 1),
		   arg_sock4(f, 0, "10.1.2.3", 4000, "1.1.1.1", 443, 6, 10));
}

static void test_sockaddr_ipv6_address_and_port(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "sockaddr", "SAddr", "[\"fd00::/8\"]", arg_sockaddr6(f, 0, "fd12::1", 80),
		  arg_sockaddr6(f, 0, "fe80::1", 80));
	CHECK_ARG(f, "sockaddr", "SPort", "[\"80\"]", arg_sockaddr6(f, 0, "fd12::1", 80),
		  arg_sockaddr6(f, 0, "fd12::1", 81));
}

/* An skb is filtered by its packet's own addresses, ports, protocol and family. */
static void test_skb_tuple_filters(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "skb", "DAddr", "[\"127.0.0.0/8\"]", arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "127.0.0.53", 53, 17),
		  arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "10.0.0.2", 53, 17));
	CHECK_ARG(f, "skb", "NotDAddr", "[\"127.0.0.53\"]", arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "8.8.8.8", 53, 17),
		  arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "127.0.0.53", 53, 17));
	CHECK_ARG(f, "skb", "SAddr", "[\"::1/128\"]", arg_skb(f, 0, AF_INET6, "::1", 4000, "::1", 53, 6),
		  arg_skb(f, 0, AF_INET6, "::2", 4000, "::1", 53, 6));
	CHECK_ARG(f, "skb", "Protocol", "[\"IPPROTO_UDP\"]", arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "1.1.1.1", 53, 17),
		  arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "1.1.1.1", 53, 6));
	CHECK_ARG(f, "skb", "DPort", "[\"53\"]", arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "1.1.1.1", 53, 17),
		  arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "1.1.1.1", 54, 17));
	CHECK_ARG(f, "skb", "SPortPriv", "[]", arg_skb(f, 0, AF_INET, "10.0.0.1", 22, "1.1.1.1", 4000, 6),
		  arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "1.1.1.1", 22, 6));
	CHECK_ARG(f, "skb", "Family", "[\"AF_INET6\"]", arg_skb(f, 0, AF_INET6, "::1", 4000, "::1", 53, 6),
		  arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "1.1.1.1", 53, 6));
	/* a packet that is not IP (family 0) has no address for any CIDR to match */
	CHECK_ARG(f, "skb", "SAddr", "[\"0.0.0.0/0\"]", arg_skb(f, 0, AF_INET, "10.0.0.1", 4000, "1.1.1.1", 53, 6),
		  arg_skb(f, 0, 0, NULL, 0, NULL, 0, 0));
}

/* A net_device is its name: the string operators. */
static void test_net_device_name(void **state)
{
	struct fixture *f = *state;

	CHECK_ARG(f, "net_device", "Equal", "[\"lo\"]", arg_str(f, 0, "lo"), arg_str(f, 0, "lo0"));
	CHECK_ARG(f, "net_device", "Prefix", "[\"veth\"]", arg_str(f, 0, "veth12ab"), arg_str(f, 0, "eth0"));
}

/* ---- selectors: matchArgs are ANDed, the first matching selector wins ---- */

static void test_match_args_are_anded_and_first_selector_wins(void **state)
{
	struct fixture *f = *state;

	load(f, HOOK(ARG(0, "int") ARG(1, "string"),
		     "    - matchArgs:\n      - index: 0\n        operator: Equal\n        values: [\"1\"]\n"
		     "      - index: 1\n        operator: Equal\n        values: [\"a\"]\n"
		     "    - matchArgs:\n      - index: 0\n        operator: Equal\n        values: [\"1\"]\n"));
	arg_int(f, 0, 1);
	arg_str(f, 1, "a");
	assert_int_equal(run(f), 0);
	reset(f);
	arg_int(f, 0, 1);
	arg_str(f, 1, "b");
	assert_int_equal(run(f), 1);
	reset(f);
	arg_int(f, 0, 2);
	arg_str(f, 1, "a");
	assert_int_equal(run(f), NONE);
}

/* ---- matchBinaries, matchPIDs ---- */

static void test_match_binaries(void **state)
{
	struct fixture *f = *state;

	load(f, HOOK(ARG(0, "int"), "    - matchBinaries:\n      - operator: In\n        values: [\"/usr/bin/cat\"]\n"));
	exec_entry(f, "/usr/bin/cat", 1, NULL, NULL);
	assert_int_equal(run(f), 0);
	exec_entry(f, "/usr/bin/catx", 1, NULL, NULL);
	assert_int_equal(run(f), NONE);

	load(f, HOOK(ARG(0, "int"), "    - matchBinaries:\n      - operator: NotPrefix\n        values: [\"/usr/\"]\n"));
	exec_entry(f, "/bin/cat", 1, NULL, NULL);
	assert_int_equal(run(f), 0);
	exec_entry(f, "/usr/bin/cat", 1, NULL, NULL);
	assert_int_equal(run(f), NONE);

	load(f, HOOK(ARG(0, "int"), "    - matchBinaries:\n      - operator: Postfix\n        values: [\"/cat\"]\n"));
	exec_entry(f, "/usr/bin/cat", 1, NULL, NULL);
	assert_int_equal(run(f), 0);
	exec_entry(f, "/usr/bin/tac", 1, NULL, NULL);
	assert_int_equal(run(f), NONE);
}

static void test_match_binaries_follow_children_and_parent(void **state)
{
	struct fixture *f = *state;
	const uint32_t parent = 0x7ffffff0;

	load(f, HOOK(ARG(0, "int"), "    - matchBinaries:\n      - operator: In\n        followChildren: true\n"
				    "        values: [\"/usr/sbin/sshd\"]\n"));
	exec_entry_of(f, parent, "/usr/sbin/sshd", 1);
	exec_entry(f, "/bin/sh", parent, NULL, NULL);
	assert_int_equal(run(f), 0);
	exec_entry_of(f, parent, "/usr/sbin/cron", 1);
	assert_int_equal(run(f), NONE);

	load(f, HOOK(ARG(0, "int"), "    - matchParentBinaries:\n      - operator: In\n"
				    "        values: [\"/usr/sbin/sshd\"]\n"));
	exec_entry_of(f, parent, "/usr/sbin/sshd", 1);
	exec_entry(f, "/bin/sh", parent, NULL, NULL);
	assert_int_equal(run(f), 0);
	exec_entry(f, "/usr/sbin/sshd", 1, NULL, NULL);	/* itself sshd, its parent not */
	assert_int_equal(run(f), NONE);
}

static void test_match_pids(void **state)
{
	struct fixture *f = *state;
	char spec[1024];

	snprintf(spec, sizeof(spec), HOOK(ARG(0, "int"), "    - matchPIDs:\n      - operator: In\n        values: [%d]\n"),
		 getpid());
	load(f, spec);
	assert_int_equal(run(f), 0);
	snprintf(spec, sizeof(spec), HOOK(ARG(0, "int"), "    - matchPIDs:\n      - operator: NotIn\n        values: [%d]\n"),
		 getpid());
	load(f, spec);
	assert_int_equal(run(f), NONE);
	snprintf(spec, sizeof(spec), HOOK(ARG(0, "int"), "    - matchPIDs:\n      - operator: In\n        followForks: true\n"
					  "        values: [%d]\n"), 0x7ffffff0);
	load(f, spec);
	exec_entry_of(f, 0x7ffffff0, "/usr/sbin/sshd", 1);
	exec_entry(f, "/bin/sh", 0x7ffffff0, NULL, NULL);
	assert_int_equal(run(f), 0);
	exec_entry(f, "/bin/sh", 1, NULL, NULL);
	assert_int_equal(run(f), NONE);
}

/* ---- namespaces and capabilities ---- */

static void test_match_namespaces(void **state)
{
	struct fixture *f = *state;

	load(f, HOOK(ARG(0, "int"), "    - matchNamespaces:\n      - namespace: Mnt\n        operator: In\n"
				    "        values: [\"4026531841\"]\n"));
	f->skel->bss->input_ns[VIGIL_NS_MNT] = 4026531841u;
	assert_int_equal(run(f), 0);
	f->skel->bss->input_ns[VIGIL_NS_MNT] = 4026532000u;
	assert_int_equal(run(f), NONE);

	load(f, HOOK(ARG(0, "int"), "    - matchNamespaces:\n      - namespace: Pid\n        operator: NotIn\n"
				    "        values: [\"host_ns\"]\n"));
	f->skel->bss->input_ns[VIGIL_NS_PID] = 4026532001u;
	assert_int_equal(run(f), 0);
	f->skel->bss->input_ns[VIGIL_NS_PID] = HOST_PID_NS;
	assert_int_equal(run(f), NONE);
}

static void test_match_namespace_changes(void **state)
{
	struct fixture *f = *state;
	uint32_t at_exec[VIGIL_NS_SLOTS] = {0};

	at_exec[VIGIL_NS_MNT] = 4026531841u;
	at_exec[VIGIL_NS_NET] = 4026531840u;
	load(f, HOOK(ARG(0, "int"), "    - matchNamespaceChanges:\n      - operator: In\n        values: [\"Mnt\"]\n"));
	exec_entry(f, "/bin/unshare", 1, at_exec, NULL);
	f->skel->bss->input_ns[VIGIL_NS_MNT] = 4026532100u;	/* unshared since exec */
	f->skel->bss->input_ns[VIGIL_NS_NET] = 4026531840u;
	assert_int_equal(run(f), 0);
	f->skel->bss->input_ns[VIGIL_NS_MNT] = 4026531841u;
	f->skel->bss->input_ns[VIGIL_NS_NET] = 4026532100u;	/* a change, but not of Mnt */
	assert_int_equal(run(f), NONE);
}

static void test_match_capabilities(void **state)
{
	struct fixture *f = *state;

	load(f, HOOK(ARG(0, "int"), "    - matchCapabilities:\n      - type: Effective\n        operator: In\n"
				    "        values: [\"CAP_SYS_ADMIN\"]\n"));
	f->skel->bss->input_caps[VIGIL_CAPS_EFFECTIVE] = 1ULL << 21;
	assert_int_equal(run(f), 0);
	/* the same bit in another set is not the effective set */
	f->skel->bss->input_caps[VIGIL_CAPS_EFFECTIVE] = 0;
	f->skel->bss->input_caps[VIGIL_CAPS_PERMITTED] = 1ULL << 21;
	assert_int_equal(run(f), NONE);

	load(f, HOOK(ARG(0, "int"), "    - matchCapabilities:\n      - type: Permitted\n        operator: NotIn\n"
				    "        values: [\"CAP_NET_RAW\"]\n"));
	f->skel->bss->input_caps[VIGIL_CAPS_PERMITTED] = 1ULL << 12;
	assert_int_equal(run(f), 0);
	f->skel->bss->input_caps[VIGIL_CAPS_PERMITTED] = 1ULL << 13;
	assert_int_equal(run(f), NONE);

	load(f, HOOK(ARG(0, "int"), "    - matchCapabilities:\n      - type: Inheritable\n        operator: In\n"
				    "        values: [\"CAP_CHOWN\"]\n"));
	f->skel->bss->input_caps[VIGIL_CAPS_INHERITABLE] = 1ULL << 0;
	assert_int_equal(run(f), 0);
	f->skel->bss->input_caps[VIGIL_CAPS_INHERITABLE] = 1ULL << 1;
	assert_int_equal(run(f), NONE);
}

static void test_match_capability_changes(void **state)
{
	struct fixture *f = *state;
	uint64_t at_exec[VIGIL_CAPS_SLOTS] = {0};

	load(f, HOOK(ARG(0, "int"), "    - matchCapabilityChanges:\n      - type: Effective\n        operator: In\n"
				    "        values: [\"CAP_SYS_ADMIN\"]\n"));
	exec_entry(f, "/usr/bin/su", 1, NULL, at_exec);
	f->skel->bss->input_caps[VIGIL_CAPS_EFFECTIVE] = 1ULL << 21;	/* gained since exec */
	assert_int_equal(run(f), 0);
	at_exec[VIGIL_CAPS_EFFECTIVE] = 1ULL << 21;	/* held at exec already: no change */
	exec_entry(f, "/usr/bin/su", 1, NULL, at_exec);
	assert_int_equal(run(f), NONE);
}

/* ---- matchReturnArgs ---- */

static void test_match_return_args(void **state)
{
	struct fixture *f = *state;

	load(f, "  kprobes:\n  - call: vfs_open\n    syscall: false\n    return: true\n    returnArg:\n      index: 0\n      type: int\n"
		"    args:\n" ARG(0, "int") "    selectors:\n"
		"    - matchReturnArgs:\n      - index: 0\n        operator: LT\n        values: [\"0\"]\n");
	rec(f)->ret_value = (uint64_t)-13;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->skel->bss->returned, 1);
	rec(f)->ret_value = 0;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->skel->bss->returned, 0);

	load(f, "  kprobes:\n  - call: vfs_open\n    syscall: false\n    return: true\n    returnArg:\n      index: 0\n      type: int\n"
		"    args:\n" ARG(0, "int") "    selectors:\n"
		"    - matchReturnArgs:\n      - index: 0\n        operator: InMap\n        values: [\"-2\", \"-13\"]\n");
	rec(f)->ret_value = (uint64_t)-2;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->skel->bss->returned, 1);
	rec(f)->ret_value = (uint64_t)-1;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->skel->bss->returned, 0);
}

int main(void)
{
	int rc;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_int_equal_and_not_equal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_not_equal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_gt_lt_signed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_lt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_uint64_gt_unsigned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_in_map_and_not_in_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_not_in_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_int_in_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kernel_cap_t_mask_of_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_capabilities_gained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_equal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_not_equal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_not_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_postfix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_not_postfix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_substring, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_path_prefix_skips_the_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unreadable_argument_matches_no_operator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sock_saddr_daddr, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sock_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sock_privileged_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sock_protocol_family_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sockaddr_ipv6_address_and_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skb_tuple_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_net_device_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_args_are_anded_and_first_selector_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_binaries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_binaries_follow_children_and_parent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_pids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_namespaces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_namespace_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_capabilities, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_capability_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_match_return_args, setup, teardown),
	};

	if (geteuid() != 0) {
		printf("SKIP: test_selectors_bpf loads BPF programs and runs them with BPF_PROG_TEST_RUN: needs root\n");
		return 77;
	}
	libbpf_set_print(NULL);
	vmlinux = btf__load_vmlinux_btf();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	btf__free(vmlinux);
	return rc;
}
