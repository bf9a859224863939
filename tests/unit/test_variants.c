/* test_variants - the per-mechanism builds of bpf/generic.bpf.c (core/sensors/variants.c)
 * open through generic.bpf.c's skeleton: same program names, maps and read-only data layout,
 * the mechanism's programs whole and every other one an empty stub. Opening needs no root:
 * libbpf parses the ELF and BTF only. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "sensors/sensors_internal.h"
#include "generic.skel.h"

/* A stub is `return 0` (or 1): two instructions; the smallest whole program is hundreds. */
#define STUB_MAX_INSNS 4
#define WHOLE_MIN_INSNS 100

static struct generic_bpf *open_bytes(const void *elf, size_t size)
{
	struct generic_bpf *obj = calloc(1, sizeof(*obj));

	assert_non_null(obj);
	assert_int_equal(generic_bpf__create_skeleton(obj), 0);
	if (elf) {
		obj->skeleton->data = (void *)elf;
		obj->skeleton->data_sz = size;
	}
	if (bpf_object__open_skeleton(obj->skeleton, NULL)) {
		generic_bpf__destroy(obj);
		return NULL;
	}
	return obj;
}

/* Offset of variable name in the object's .rodata, from its BTF; -1 when absent. */
static long rodata_offset(struct bpf_object *obj, const char *name)
{
	struct btf *btf = bpf_object__btf(obj);
	int id = btf__find_by_name_kind(btf, ".rodata", BTF_KIND_DATASEC);
	const struct btf_type *sec;
	const struct btf_var_secinfo *v;
	int i;

	if (id < 0)
		return -1;
	sec = btf__type_by_id(btf, id);
	v = btf_var_secinfos(sec);
	for (i = 0; i < btf_vlen(sec); i++, v++)
		if (!strcmp(btf__name_by_offset(btf, btf__type_by_id(btf, v->type)->name_off), name))
			return (long)v->offset;
	return -1;
}

static bool is_mine(struct bpf_program *p, const struct bpf_program *const *mine, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p == mine[i])
			return true;
	return false;
}

static void check_elf(const void *elf, size_t size, const char *const *names, size_t nnames)
{
	struct generic_bpf *whole = open_bytes(NULL, 0), *v;
	const struct bpf_program *mine[16] = {NULL};
	struct bpf_program *p;
	size_t i;

	assert_non_null(whole);
	assert_non_null(elf);
	assert_true(size > 0);
	v = open_bytes(elf, size);
	assert_non_null(v);	/* every program and map of the skeleton is there */
	/* the skeleton writes cfg and wakeup_batch where the whole object has them */
	assert_int_equal(bpf_map__value_size(v->maps.rodata), bpf_map__value_size(whole->maps.rodata));
	assert_int_equal(rodata_offset(v->obj, "cfg"), rodata_offset(whole->obj, "cfg"));
	assert_int_equal(rodata_offset(v->obj, "wakeup_batch"), rodata_offset(whole->obj, "wakeup_batch"));
	assert_true(rodata_offset(v->obj, "cfg") >= 0);
	assert_true(nnames <= sizeof(mine) / sizeof(mine[0]));
	for (i = 0; i < nnames; i++) {
		mine[i] = bpf_object__find_program_by_name(v->obj, names[i]);
		assert_non_null(mine[i]);
		assert_true(bpf_program__insn_cnt(mine[i]) >= WHOLE_MIN_INSNS);
	}
	bpf_object__for_each_program(p, v->obj)
		if (!is_mine(p, mine, nnames))
			assert_true(bpf_program__insn_cnt(p) <= STUB_MAX_INSNS);
	generic_bpf__destroy(v);
	generic_bpf__destroy(whole);
}

static void check_variant(enum sensor_mech m, const char *const *names, size_t nnames)
{
	size_t size = 0;
	const void *elf = sensor_variant_elf(m, &size);

	check_elf(elf, size, names, nnames);
}

#define CHECK(mech, ...)                                                         \
	do {                                                                     \
		static const char *const names[] = {__VA_ARGS__};                \
		check_variant(mech, names, sizeof(names) / sizeof(names[0]));    \
	} while (0)

static void test_each_mechanism_opens_its_own_programs_whole_and_the_rest_as_stubs(void **state)
{
	(void)state;
	CHECK(MECH_RAW_SYSCALL_TP_BTF, "generic_tp_btf_sys_enter", "generic_tp_btf_sys_exit");
	/* the dispatcher's exit table holds tp_btf programs */
	CHECK(MECH_RAW_SYSCALL_RAW_TP, "generic_raw_tp_sys_enter", "generic_raw_tp_sys_exit", "generic_tp_btf_sys_exit");
	CHECK(MECH_RAW_SYSCALL_DISPATCH, "generic_raw_tp_sys_enter", "generic_raw_tp_sys_exit", "generic_tp_btf_sys_exit");
	CHECK(MECH_TRACEPOINT, "generic_tracepoint", "generic_tracepoint_sys_exit");
	CHECK(MECH_SYSCALL_TRACEPOINT, "generic_tracepoint", "generic_tracepoint_sys_exit");
	CHECK(MECH_KPROBE, "generic_kprobe", "generic_kretprobe");
	/* a syscall hook's i386 wrappers take a program each (VG_IA32_PROGRAMS: four) */
#define IA32(kind) "generic_" kind "_ia32", "generic_" kind "_ia32_1", "generic_" kind "_ia32_2", "generic_" kind "_ia32_3"
	/* raw tracepoints' hooks: their one program (the fentry variant's twelve whole ones cost
	 * each hook their instructions and line info in libbpf's copies) */
	CHECK(MECH_TP_BTF, "generic_tp_btf");
	CHECK(MECH_TP_BTF_CHAIN, "generic_tp_btf");
	CHECK(MECH_FENTRY, "generic_fentry", "generic_fentry_dispatched", "generic_fexit", IA32("fentry"), IA32("fexit"));
	CHECK(MECH_FENTRY_DISPATCH, "generic_fentry", "generic_fentry_dispatched", "generic_fexit", IA32("fentry"),
	      IA32("fexit"));
	CHECK(MECH_FMOD_RET, "generic_fmod_ret", "generic_fexit", IA32("fexit"), IA32("fmod_ret"));
#undef IA32
	CHECK(MECH_LSM, "generic_lsm", "generic_lsm_ima");
	CHECK(MECH_UPROBE, "generic_uprobe", "generic_uretprobe");
	CHECK(MECH_USDT, "generic_usdt");
	CHECK(MECH_CGROUP_CONNECT, "generic_connect4", "generic_connect6");
}

/* an entry hook on raw_syscalls opens its entry program alone (instance.c: hook_elf) */
static void test_a_raw_syscalls_entry_hook_opens_its_entry_program_alone(void **state)
{
	static const char *const names[] = {"generic_raw_tp_sys_enter"};
	size_t size = 0;
	const void *elf = sensor_raw_tp_entry_elf(&size);

	(void)state;
	check_elf(elf, size, names, 1);
}

static void test_fanotify_has_no_object(void **state)
{
	size_t size = 1;

	(void)state;
	assert_null(sensor_variant_elf(MECH_FANOTIFY, &size));
	assert_int_equal(size, 0);
}

/* What the variants are for: the whole object's programs are all whole. */
static void test_the_whole_object_has_no_stub(void **state)
{
	struct generic_bpf *whole = open_bytes(NULL, 0);
	struct bpf_program *p;

	(void)state;
	assert_non_null(whole);
	bpf_object__for_each_program(p, whole->obj)
		assert_true(bpf_program__insn_cnt(p) >= WHOLE_MIN_INSNS);
	generic_bpf__destroy(whole);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_mechanism_opens_its_own_programs_whole_and_the_rest_as_stubs),
		cmocka_unit_test(test_a_raw_syscalls_entry_hook_opens_its_entry_program_alone),
		cmocka_unit_test(test_fanotify_has_no_object),
		cmocka_unit_test(test_the_whole_object_has_no_stub),
	};

	libbpf_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
