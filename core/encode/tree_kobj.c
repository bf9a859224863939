/* tree_kobj.c - the KprobeArgument members of the kernel object types: bpf_attr_arg,
 * bpf_prog_arg, bpf_map_arg, perf_event_arg, user_ns_arg, module_arg, and bpf_cmd_arg
 * (tetragon.proto; the names from Tetragon's pkg/reader/bpf and pkg/reader/kernel tables).
 *
 * protojson with proto names keeps these messages' capitalised field names ("ProgType"),
 * leaves scalar fields at their default out, writes wrapper fields always (UserNamespace's
 * level/uid/gid, KernelModule's signature_ok), and 64-bit integers as decimal strings.
 * Enums are written by name; a number without one is written as the number. */
#include <inttypes.h>
#include <stdio.h>

#include "encode_internal.h"
#include "../policy/policy.h"

static const char *const prog_types[] = {
	"BPF_PROG_TYPE_UNSPEC", "BPF_PROG_TYPE_SOCKET_FILTER", "BPF_PROG_TYPE_KPROBE",
	"BPF_PROG_TYPE_SCHED_CLS", "BPF_PROG_TYPE_SCHED_ACT", "BPF_PROG_TYPE_TRACEPOINT",
	"BPF_PROG_TYPE_XDP", "BPF_PROG_TYPE_PERF_EVENT", "BPF_PROG_TYPE_CGROUP_SKB",
	"BPF_PROG_TYPE_CGROUP_SOCK", "BPF_PROG_TYPE_LWT_IN", "BPF_PROG_TYPE_LWT_OUT",
	"BPF_PROG_TYPE_LWT_XMIT", "BPF_PROG_TYPE_SOCK_OPS", "BPF_PROG_TYPE_SK_SKB",
	"BPF_PROG_TYPE_CGROUP_DEVICE", "BPF_PROG_TYPE_SK_MSG", "BPF_PROG_TYPE_RAW_TRACEPOINT",
	"BPF_PROG_TYPE_CGROUP_SOCK_ADDR", "BPF_PROG_TYPE_LWT_SEG6LOCAL", "BPF_PROG_TYPE_LIRC_MODE2",
	"BPF_PROG_TYPE_SK_REUSEPORT", "BPF_PROG_TYPE_FLOW_DISSECTOR", "BPF_PROG_TYPE_CGROUP_SYSCTL",
	"BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE", "BPF_PROG_TYPE_CGROUP_SOCKOPT", "BPF_PROG_TYPE_TRACING",
	"BPF_PROG_TYPE_STRUCT_OPS", "BPF_PROG_TYPE_EXT", "BPF_PROG_TYPE_LSM", "BPF_PROG_TYPE_SK_LOOKUP",
	"BPF_PROG_TYPE_SYSCALL",
};

static const char *const map_types[] = {
	"BPF_MAP_TYPE_UNSPEC", "BPF_MAP_TYPE_HASH", "BPF_MAP_TYPE_ARRAY", "BPF_MAP_TYPE_PROG_ARRAY",
	"BPF_MAP_TYPE_PERF_EVENT_ARRAY", "BPF_MAP_TYPE_PERCPU_HASH", "BPF_MAP_TYPE_PERCPU_ARRAY",
	"BPF_MAP_TYPE_STACK_TRACE", "BPF_MAP_TYPE_CGROUP_ARRAY", "BPF_MAP_TYPE_LRU_HASH",
	"BPF_MAP_TYPE_LRU_PERCPU_HASH", "BPF_MAP_TYPE_LPM_TRIE", "BPF_MAP_TYPE_ARRAY_OF_MAPS",
	"BPF_MAP_TYPE_HASH_OF_MAPS", "BPF_MAP_TYPE_DEVMAP", "BPF_MAP_TYPE_SOCKMAP", "BPF_MAP_TYPE_CPUMAP",
	"BPF_MAP_TYPE_XSKMAP", "BPF_MAP_TYPE_SOCKHASH", "BPF_MAP_TYPE_CGROUP_STORAGE",
	"BPF_MAP_TYPE_REUSEPORT_SOCKARRAY", "BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE", "BPF_MAP_TYPE_QUEUE",
	"BPF_MAP_TYPE_STACK", "BPF_MAP_TYPE_SK_STORAGE", "BPF_MAP_TYPE_DEVMAP_HASH",
	"BPF_MAP_TYPE_STRUCT_OPS", "BPF_MAP_TYPE_RINGBUF", "BPF_MAP_TYPE_INODE_STORAGE",
	"BPF_MAP_TYPE_TASK_STORAGE", "BPF_MAP_TYPE_BLOOM_FILTER",
};

static const char *const perf_types[] = {
	"PERF_TYPE_HARDWARE", "PERF_TYPE_SOFTWARE", "PERF_TYPE_TRACEPOINT", "PERF_TYPE_HW_CACHE",
	"PERF_TYPE_RAW", "PERF_TYPE_BREAKPOINT", "PERF_TYPE_MAX",
};

/* tetragon.proto enum BpfCmd: the bpf(2) commands in uapi order */
static const char *const bpf_cmds[] = {
	"BPF_MAP_CREATE", "BPF_MAP_LOOKUP_ELEM", "BPF_MAP_UPDATE_ELEM", "BPF_MAP_DELETE_ELEM",
	"BPF_MAP_GET_NEXT_KEY", "BPF_PROG_LOAD", "BPF_OBJ_PIN", "BPF_OBJ_GET", "BPF_PROG_ATTACH",
	"BPF_PROG_DETACH", "BPF_PROG_TEST_RUN", "BPF_PROG_GET_NEXT_ID", "BPF_MAP_GET_NEXT_ID",
	"BPF_PROG_GET_FD_BY_ID", "BPF_MAP_GET_FD_BY_ID", "BPF_OBJ_GET_INFO_BY_FD", "BPF_PROG_QUERY",
	"BPF_RAW_TRACEPOINT_OPEN", "BPF_BTF_LOAD", "BPF_BTF_GET_FD_BY_ID", "BPF_TASK_FD_QUERY",
	"BPF_MAP_LOOKUP_AND_DELETE_ELEM", "BPF_MAP_FREEZE", "BPF_BTF_GET_NEXT_ID", "BPF_MAP_LOOKUP_BATCH",
	"BPF_MAP_LOOKUP_AND_DELETE_BATCH", "BPF_MAP_UPDATE_BATCH", "BPF_MAP_DELETE_BATCH",
	"BPF_LINK_CREATE", "BPF_LINK_UPDATE", "BPF_LINK_GET_FD_BY_ID", "BPF_LINK_GET_NEXT_ID",
	"BPF_ENABLE_STATS", "BPF_ITER_CREATE", "BPF_LINK_DETACH", "BPF_PROG_BIND_MAP", "BPF_TOKEN_CREATE",
};

/* tetragon.proto enum TaintedBitsType: the values are the taint masks Tetragon tests */
static const struct {
	uint64_t bit;
	const char *name;
} taints[] = {
	{ 1, "TAINT_PROPRIETARY_MODULE" },	{ 2, "TAINT_FORCED_MODULE" },
	{ 4, "TAINT_FORCED_UNLOAD_MODULE" },	{ 1024, "TAINT_STAGED_MODULE" },
	{ 4096, "TAINT_OUT_OF_TREE_MODULE" },	{ 8192, "TAINT_UNSIGNED_MODULE" },
	{ 32768, "TAINT_KERNEL_LIVE_PATCH_MODULE" }, { 262144, "TAINT_TEST_MODULE" },
};

/* "<key>": the name of v in names, or v in decimal (Tetragon's strconv fallback) */
static void kv_type_name(struct encode_tree *t, const char *key, const char *const *names, size_t count, uint32_t v)
{
	char num[12];

	snprintf(num, sizeof(num), "%" PRIu32, v);
	encode_tree_kv_str(t, key, v < count ? names[v] : num);
}

static void kv_u64_text(struct encode_tree *t, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	encode_tree_kv_str(t, key, num);
}

static void kv_name(struct encode_tree *t, const char *key, const struct vigil_kobj_info *k)
{
	encode_tree_str(t, key);
	encode_tree_strn(t, k->name, k->name_len);
}

/* KprobeBpfAttr and KprobeBpfProg share their fields */
static void put_bpf_prog(struct encode_tree *t, const char *member, const struct vigil_kobj_info *k)
{
	encode_tree_str(t, member);
	msgpack_pack_map(&t->pk, 1 + !!k->insn_cnt + !!k->name_len);
	kv_type_name(t, "ProgType", prog_types, VIGIL_ARRAY_SIZE(prog_types), k->type);
	if (k->insn_cnt)
		encode_tree_kv_u32(t, "InsnCnt", k->insn_cnt);
	if (k->name_len)
		kv_name(t, "ProgName", k);
}

static void put_bpf_map(struct encode_tree *t, const struct vigil_kobj_info *k)
{
	encode_tree_str(t, "bpf_map_arg");
	msgpack_pack_map(&t->pk, 1 + !!k->key_size + !!k->value_size + !!k->max_entries + !!k->name_len);
	kv_type_name(t, "MapType", map_types, VIGIL_ARRAY_SIZE(map_types), k->type);
	if (k->key_size)
		encode_tree_kv_u32(t, "KeySize", k->key_size);
	if (k->value_size)
		encode_tree_kv_u32(t, "ValueSize", k->value_size);
	if (k->max_entries)
		encode_tree_kv_u32(t, "MaxEntries", k->max_entries);
	if (k->name_len)
		kv_name(t, "MapName", k);
}

static void put_perf_event(struct encode_tree *t, const struct vigil_kobj_info *k)
{
	encode_tree_str(t, "perf_event_arg");
	msgpack_pack_map(&t->pk, !!k->name_len + 1 + !!k->config + !!k->probe_offset);
	if (k->name_len)
		kv_name(t, "KprobeFunc", k);
	kv_type_name(t, "Type", perf_types, VIGIL_ARRAY_SIZE(perf_types), k->type);
	if (k->config)
		kv_u64_text(t, "Config", k->config);
	if (k->probe_offset)
		kv_u64_text(t, "ProbeOffset", k->probe_offset);
}

/* UserNamespace: the wrappers always; Namespace {inum, is_host (level 0)} always set */
static void put_user_ns(struct encode_tree *t, const struct vigil_kobj_info *k)
{
	bool host = k->level == 0;

	encode_tree_str(t, "user_ns_arg");
	msgpack_pack_map(&t->pk, 4);
	encode_tree_str(t, "level");
	msgpack_pack_int32(&t->pk, k->level);
	encode_tree_kv_u32(t, "uid", k->uid);
	encode_tree_kv_u32(t, "gid", k->gid);
	encode_tree_str(t, "ns");
	msgpack_pack_map(&t->pk, !!k->inum + host);
	if (k->inum)
		encode_tree_kv_u32(t, "inum", k->inum);
	if (host) {
		encode_tree_str(t, "is_host");
		msgpack_pack_true(&t->pk);
	}
}

/* KernelModule {name, signature_ok (load_info only), tainted}; Tetragon leaves a module
 * whose name it could not read empty, signature_ok aside */
static void put_module(struct encode_tree *t, const struct vigil_kobj_info *k, bool load_info)
{
	bool named = k->name_len > 0;
	size_t i, ntaints = 0;

	for (i = 0; named && i < VIGIL_ARRAY_SIZE(taints); i++)
		ntaints += !!(k->taints & taints[i].bit);
	encode_tree_str(t, "module_arg");
	msgpack_pack_map(&t->pk, named + load_info + !!ntaints);
	if (named)
		kv_name(t, "name", k);
	if (load_info) {
		encode_tree_str(t, "signature_ok");
		if (named && k->sig_ok > 0)
			msgpack_pack_true(&t->pk);
		else
			msgpack_pack_false(&t->pk);
	}
	if (ntaints) {
		encode_tree_str(t, "tainted");
		msgpack_pack_array(&t->pk, ntaints);
		for (i = 0; i < VIGIL_ARRAY_SIZE(taints); i++)
			if (k->taints & taints[i].bit)
				encode_tree_str(t, taints[i].name);
	}
}

bool encode_tree_kobj(struct encode_tree *t, const struct vigil_event_arg *a)
{
	switch (a->type) {
	case VIGIL_ARG_BPF_CMD:
		encode_tree_str(t, "bpf_cmd_arg");
		if (a->value < VIGIL_ARRAY_SIZE(bpf_cmds))
			encode_tree_str(t, bpf_cmds[a->value]);
		else
			msgpack_pack_int32(&t->pk, (int32_t)(uint32_t)a->value);
		return true;
	case VIGIL_ARG_BPF_ATTR:
		put_bpf_prog(t, "bpf_attr_arg", &a->kobj);
		return true;
	case VIGIL_ARG_BPF_PROG:
		put_bpf_prog(t, "bpf_prog_arg", &a->kobj);
		return true;
	case VIGIL_ARG_BPF_MAP:
		put_bpf_map(t, &a->kobj);
		return true;
	case VIGIL_ARG_PERF_EVENT:
		put_perf_event(t, &a->kobj);
		return true;
	case VIGIL_ARG_USER_NAMESPACE:
		put_user_ns(t, &a->kobj);
		return true;
	case VIGIL_ARG_MODULE:
	case VIGIL_ARG_LOAD_INFO:
		put_module(t, &a->kobj, a->type == VIGIL_ARG_LOAD_INFO);
		return true;
	default:
		return false;
	}
}
