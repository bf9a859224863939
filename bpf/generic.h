/* generic.h - the policy hook programs' configuration and records, both sides.
 *
 * Each hook of each TracingPolicy loads its own instance of bpf/generic.bpf.c. Its
 * configuration (struct vg_hook_config) is compiled by core/sensors/compile*.c into the
 * instance's read-only data before load, so the verifier sees it as constants and prunes
 * every selector, filter and action the hook does not use. Strings, addresses and InMap
 * values live in the instance's own maps, keyed by a filter id the compiler assigns.
 * Records are decoded by core/decode/decode_generic.c.
 */
#ifndef VIGIL_BPF_GENERIC_H
#define VIGIL_BPF_GENERIC_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "process.h"
#include "generic_kobj.h"

#define VG_MAX_ARGS 5
#define VG_MAX_RESOLVE_STEPS 8	/* fields in a data entry's resolve path ("mm.owner.real_parent.pid") */
#define VG_MAX_SELECTORS 16
#define VG_MAX_MATCH_ARGS 5
#define VG_MAX_VALUES 8		/* integer values per arg filter, pids per pid filter */
#define VG_MAX_PID_FILTERS 4	/* matchPIDs entries per selector */
#define VG_MAX_NS_FILTERS 10	/* matchNamespaces entries per selector: one per namespace type */
#define VG_MAX_NS_VALUES 4
#define VG_MAX_CAP_FILTERS 8	/* matchCapabilities + matchCapabilityChanges entries per selector */
#define VG_MAX_ACTIONS 3
#define VG_STR_KEY 256		/* string Equal keys (Tetragon: 255) */
/* Prefix keys: an LPM trie key holds at most 256 data bytes (LPM_DATA_SIZE_MAX), 4 of which
 * are the filter id, so vigil matches prefixes up to 248 bytes (Tetragon: 256). */
#define VG_PREFIX_KEY 248
#define VG_POSTFIX_KEY 128	/* Postfix keys (Tetragon: 127) */
#define VG_ARG_STR_MAX 4096	/* bytes of one string argument captured; power of two */
#define VG_DATA_MAX (4 * 4096)	/* record data area; offsets masked to 2 * 4096 - 1 (per-CPU values are limited to 32 KiB) */
#define VG_ANCESTOR_DEPTH 16	/* followForks / followChildren look this far up */
#define VG_MAX_RET_FILTERS 5	/* matchReturnArgs entries per selector (as matchArgs) */
#define VG_PENDING_MAX 256	/* calls of a return hook in flight at once (threads inside it) */
#define VG_STACK_FRAMES 127	/* frames of one stack trace (Tetragon's PERF_MAX_STACK_DEPTH) */
/* maxData: an argument's bytes beyond what its record holds go out first, in chunk records
 * of VG_CHUNK_MAX bytes (struct vg_chunk_record), up to Tetragon's 327360 bytes */
#define VG_MAX_DATA_BYTES 327360
#define VG_CHUNK_MAX 8192	/* power of two */
#define VG_MAX_CHUNKS ((VG_MAX_DATA_BYTES + VG_CHUNK_MAX - 1) / VG_CHUNK_MAX)

#include "prefilter.h"	/* uses the limits above */

/* How the program finds the hook's arguments (chosen with the mechanism). */
enum vg_fetch {
	VG_FETCH_CTX,		/* fentry, fmod_ret, lsm, tp_btf: ctx is an array of u64 args */
	VG_FETCH_REGS,		/* kprobe on a kernel function: ctx is struct pt_regs */
	VG_FETCH_SYSCALL_PTREGS,	/* kprobe on __x64_sys_* (__arm64_sys_*): its first argument points to the user regs */
	VG_FETCH_SYSCALL_CTX,	/* fentry/fmod_ret on __x64_sys_* (__arm64_sys_*): ctx[0] points to the user regs */
	VG_FETCH_RAW_SYSCALL,	/* raw_syscalls/sys_enter (tp_btf or raw_tp): ctx = {regs, id} */
	VG_FETCH_TRACEPOINT,	/* classic tracepoint: fields at offsets of the format file */
	VG_FETCH_SOCK_ADDR,	/* cgroup connect4/6: the destination from struct bpf_sock_addr */
	VG_FETCH_USDT,		/* USDT probe: argument k where the probe's note places it (usdt.bpf.h) */
	VG_FETCH_SYSCALL_EXIT,	/* syscalls:sys_exit_X in the dispatcher's exit table: ctx = {regs, ret};
				 * field 4 is the syscall's number, 5 its return value */
};

/* Argument types as the kernel side reads them; the values of enum vigil_arg_type. */
enum vg_arg {
	VG_ARG_NOP = 0,
	VG_ARG_INT = 2, VG_ARG_SINT8, VG_ARG_UINT8, VG_ARG_SINT16, VG_ARG_UINT16, VG_ARG_UINT32,
	VG_ARG_LONG, VG_ARG_ULONG, VG_ARG_SIZE_T,
	VG_ARG_STRING, VG_ARG_CHAR_BUF, VG_ARG_CHAR_IOVEC,
	VG_ARG_FD, VG_ARG_FILE, VG_ARG_PATH, VG_ARG_DENTRY, VG_ARG_LINUX_BINPRM, VG_ARG_FILENAME,
	VG_ARG_SOCK, VG_ARG_SOCKADDR, VG_ARG_SKB, VG_ARG_CRED, VG_ARG_CAPABILITY, VG_ARG_KERNEL_CAP_T,
	VG_ARG_SYSCALL64, VG_ARG_DATA_LOC,
	VG_ARG_CAP_INHERITABLE, VG_ARG_CAP_PERMITTED, VG_ARG_CAP_EFFECTIVE,
	VG_ARG_SOCKET,
	VG_ARG_NET_DEVICE, VG_ARG_SOCKADDR_UN,
	VG_ARG_BPF_ATTR, VG_ARG_BPF_CMD, VG_ARG_BPF_PROG, VG_ARG_BPF_MAP, VG_ARG_PERF_EVENT,
	VG_ARG_USER_NAMESPACE, VG_ARG_LOAD_INFO, VG_ARG_MODULE,
	VG_ARG_KIOCB, VG_ARG_IOV_ITER, VG_ARG_CONST_BUF,
};

/* What the matcher compares: the class of the argument's captured form. */
enum vg_class {
	VG_CLASS_INT,		/* u64 in the record (sign-extended per type) */
	VG_CLASS_STRING,	/* bytes */
	VG_CLASS_PATH,		/* struct vg_path_hdr then bytes */
	VG_CLASS_SOCK,		/* struct vg_sock */
	VG_CLASS_SOCKADDR,	/* struct vg_sockaddr */
	VG_CLASS_CRED,		/* struct vg_cred */
	VG_CLASS_SKB,		/* struct vg_skb: a vg_sock's fields first, so socket filters read both */
	VG_CLASS_KOBJ,		/* struct vg_kobj: a kernel object's summary (generic_kobj.h) */
};

/* The captured form of each argument type: both sides agree through this one table. */
static inline enum vg_class vg_arg_class(unsigned int type)
{
	switch (type) {
	case VG_ARG_STRING:
	case VG_ARG_FILENAME:
	case VG_ARG_DATA_LOC:
	case VG_ARG_CHAR_BUF:
	case VG_ARG_NET_DEVICE:	/* its name */
	case VG_ARG_CHAR_IOVEC:
	case VG_ARG_IOV_ITER:
	case VG_ARG_CONST_BUF:
		return VG_CLASS_STRING;
	case VG_ARG_KIOCB:
	case VG_ARG_FD:
	case VG_ARG_FILE:
	case VG_ARG_PATH:
	case VG_ARG_DENTRY:
	case VG_ARG_LINUX_BINPRM:
		return VG_CLASS_PATH;
	case VG_ARG_SOCK:
	case VG_ARG_SOCKET:
		return VG_CLASS_SOCK;
	case VG_ARG_SOCKADDR:
	case VG_ARG_SOCKADDR_UN:
		return VG_CLASS_SOCKADDR;
	case VG_ARG_CRED:
		return VG_CLASS_CRED;
	case VG_ARG_SKB:
		return VG_CLASS_SKB;
	case VG_ARG_BPF_ATTR:
	case VG_ARG_BPF_PROG:
	case VG_ARG_BPF_MAP:
	case VG_ARG_PERF_EVENT:
	case VG_ARG_USER_NAMESPACE:
	case VG_ARG_LOAD_INFO:
	case VG_ARG_MODULE:
		return VG_CLASS_KOBJ;
	default:
		return VG_CLASS_INT;
	}
}

struct vg_arg_spec {
	__u8 type;		/* enum vg_arg */
	__u8 class;		/* enum vg_class */
	__u8 index;		/* argument position */
	__u8 size_slot;		/* char_buf: 1 + slot of the size argument, 0 for none */
	__u8 user;		/* pointer into user memory (syscall arguments) */
	__u8 tp_size;		/* tracepoint field size in bytes */
	__u8 tp_signed;
	__u8 tp_inline;		/* a string held in the tracepoint record (char comm[16]) */
	__u16 tp_offset;	/* tracepoint field offset */
	__u16 max_len;		/* bytes captured for strings and buffers */
	/* resolve paths (data entries with source current_task: from the task). Step k
	 * adds step_off[k] to the address; with bit k of step_deref it then reads the u64 there
	 * (a pointer to follow, or the value itself at the last step). */
	__u8 nsteps;		/* 0: no resolve path */
	__u8 step_deref;
	__u16 step_off[VG_MAX_RESOLVE_STEPS];
	__u8 steps_from_arg;	/* args with resolve: the walk starts at the argument, not the task */
	__u8 return_copy;	/* char_buf of a return probe: room kept at entry, filled at the
				 * return with as many bytes as the call returned */
	__u8 max_data;		/* maxData: the whole buffer in chunk records, up to VG_MAX_DATA_BYTES */
};

enum vg_filter_kind {
	VG_F_INT,		/* values[] against the u64 */
	VG_F_INT_MAP,		/* InMap/NotInMap: int_set keyed (filter, value) */
	VG_F_STR_EQ,		/* str_eq keyed (filter, len, bytes) */
	VG_F_STR_PREFIX,	/* str_prefix LPM keyed (filter, bytes) */
	VG_F_STR_POSTFIX,	/* str_postfix LPM keyed (filter, reversed bytes) */
	VG_F_ADDR,		/* addr4 / addr6 LPM keyed (filter, address) */
	VG_F_PORT,		/* values[] as [min, max] pairs */
	VG_F_FILE_TYPE,		/* values[0] is a mask of S_IFMT types (1 << (mode >> 12)) */
	VG_F_FILE_ID,		/* a "files" list: int_set keyed as struct vg_file_key */
	VG_F_CAPS_GAINED,	/* CapabilitiesGained: values[0] is the second slot; bits it has, slot lacks */
	VG_F_STR_SUB,		/* SubString: str_sub holds value k at (filter, k), k < nvalues */
};

/* Which field of a captured argument an operator looks at. */
enum vg_field {
	VG_FIELD_VALUE,		/* the integer, the string, the path */
	VG_FIELD_SADDR, VG_FIELD_DADDR, VG_FIELD_SPORT, VG_FIELD_DPORT,
	VG_FIELD_FAMILY, VG_FIELD_PROTOCOL, VG_FIELD_STATE, VG_FIELD_MODE,
};

/* Integer comparisons for VG_F_INT. */
enum vg_int_op {
	VG_INT_EQ, VG_INT_GT, VG_INT_LT, VG_INT_MASK, VG_INT_RANGE,
};

struct vg_arg_filter {
	__u8 slot;		/* which captured argument */
	__u8 kind;		/* enum vg_filter_kind */
	__u8 field;		/* enum vg_field */
	__u8 negate;		/* Not* operators: none of the values */
	__u8 int_op;		/* enum vg_int_op */
	__u8 is_signed;
	__u8 nvalues;
	__u8 pad;
	__u32 filter_id;	/* key prefix in the string/address/int maps */
	__u32 pad2;
	__u64 values[VG_MAX_VALUES];	/* ranges use pairs */
};

struct vg_pid_filter {
	__u8 negate;		/* NotIn */
	__u8 ns_pid;		/* isNamespacePID */
	__u8 follow_forks;
	__u8 nvalues;
	__u32 values[VG_MAX_VALUES];
};

struct vg_ns_filter {
	__u8 ns;		/* slot in struct vigil_exec_record.ns order */
	__u8 negate;
	__u8 nvalues;
	__u8 pad;
	__u32 values[VG_MAX_NS_VALUES];
};

/* The capability set a vg_cap_filter reads: enum vigil_cap_set's order (policy.h). */
enum vg_cap_set {
	VG_CAPSET_EFFECTIVE,
	VG_CAPSET_INHERITABLE,
	VG_CAPSET_PERMITTED,
};

struct vg_cap_filter {
	__u8 set;		/* enum vg_cap_set */
	__u8 negate;
	__u8 ns_only;		/* isNamespaceCapability: only outside the host user ns */
	__u8 changes;		/* matchCapabilityChanges: compare with the caps at exec */
	__u32 pad;
	__u64 mask;
};

struct vg_binary_filter {
	__u8 kind;		/* VG_F_STR_EQ / _PREFIX / _POSTFIX */
	__u8 negate;
	__u8 follow;		/* followChildren: an ancestor's binary may match */
	__u8 parent;		/* matchParentBinaries: the parent's binary */
	__u32 filter_id;
};

/* In a kept record's ret_actions until the return: the entry's actions said NoPost, the
 * record was kept only for returnArgAction. */
#define VG_RET_SILENT (1u << 31)

enum vg_action {
	VG_ACT_POST = 1,
	VG_ACT_NOPOST,
	VG_ACT_SIGKILL,
	VG_ACT_SIGNAL,
	VG_ACT_OVERRIDE,
	VG_ACT_TRACKSOCK,	/* arg: the slot of the sock argument */
	VG_ACT_UNTRACKSOCK,
	VG_ACT_SET,		/* usdts: arg written into the probe's argument set_index (in memory) */
};

/* imaHash: the file generic_lsm_ima hashes, found through the LSM hook's first argument. */
enum vg_ima_from {
	VG_IMA_NONE,
	VG_IMA_BPRM,		/* struct linux_binprm *: its file */
	VG_IMA_FILE,		/* struct file * */
};

/* The IMA hash at the end of a record's data (has_ima): what bpf_ima_file_hash returned,
 * the kernel's enum hash_algo or a negative errno, and the digest, as long as that algorithm's
 * (decoded by core/decode/decode_generic.c, which knows the lengths). */
#define VG_IMA_DIGEST_MAX 64	/* SHA-512, the longest IMA digest */
struct vg_ima {
	__s32 algo;
	__u32 pad;
	__u8 digest[VG_IMA_DIGEST_MAX];
};

/* Who shares a Post rateLimit slot: enum vigil_rate_scope's order (policy.h). */
enum vg_rate_scope {
	VG_RATE_THREAD,
	VG_RATE_PROCESS,
	VG_RATE_GLOBAL,
};

/* Stack traces a Post action asks for (kernelStackTrace, userStackTrace). */
enum vg_stack_flag {
	VG_STACK_KERNEL = 1,
	VG_STACK_USER = 2,
};

struct vg_action_spec {
	__u8 kind;		/* enum vg_action */
	__u8 rate_scope;	/* enum vg_rate_scope */
	__u8 stacks;		/* Post: enum vg_stack_flag bits */
	__u8 ima_hash;		/* Post: imaHash, the file's IMA hash (generic_lsm_ima) */
	__s32 arg;		/* Signal: signal; Override: errno (negative); Set: the value */
	union {
		__u64 rate_limit_ns;	/* Post: rateLimit */
		__u64 set_arg_index;	/* Set: the USDT argument written */
	};
};

struct vg_selector {
	__u8 npids, nns, ncaps, nargs;
	__u8 nactions;
	__u8 has_binary;
	__u8 has_parent_binary;
	__u8 ns_changes_negate;
	__u32 ns_changes_mask;	/* matchNamespaceChanges: bit per namespace, 0 = none */
	__u32 pad;
	struct vg_pid_filter pids[VG_MAX_PID_FILTERS];
	struct vg_ns_filter ns[VG_MAX_NS_FILTERS];
	struct vg_cap_filter caps[VG_MAX_CAP_FILTERS];
	struct vg_binary_filter binary;
	struct vg_binary_filter parent_binary;
	struct vg_arg_filter args[VG_MAX_MATCH_ARGS];
	struct vg_action_spec actions[VG_MAX_ACTIONS];
	/* return probes: matchReturnArgs (on the return value) and matchReturnActions */
	__u8 nret_args;
	__u8 nret_actions;
	__u8 pad2[6];
	struct vg_arg_filter ret_args[VG_MAX_RET_FILTERS];
	struct vg_action_spec ret_actions[VG_MAX_ACTIONS];
};

struct vg_hook_config {
	__u32 hook_id;		/* agent-wide id: user space maps it to policy and hook */
	__u32 fetch;		/* enum vg_fetch */
	__s32 syscall_nr;	/* raw_syscalls hooks: only this syscall (-1: any) */
	__u32 nargs;
	__u32 nselectors;
	__u32 monitor;		/* policy-mode monitor: enforcement actions are reported, not done */
	__u32 can_override;	/* the mechanism can fail the operation (lsm, fmod_ret) */
	__u32 host_user_ns;	/* for isNamespaceCapability */
	__u32 is_return;	/* return probe: the entry keeps the record, the exit completes it */
	__u32 ret_index;	/* fexit: the return value's slot in ctx (the function's arity) */
	__u8 ret_type;		/* enum vg_arg of returnArg (an integer type, sock or socket) */
	__u8 ret_action;	/* returnArgAction: VG_ACT_TRACKSOCK / _UNTRACKSOCK on the returned sock, or 0 */
	__u8 ima_from;		/* imaHash: enum vg_ima_from, what the LSM hook's first argument is */
	__u8 pad;
	__u32 scope;		/* scoped policy: runs only in cgroups vg_scopes lists for it; 0: everywhere */
	__u32 dispatch_slot;	/* raw_syscalls hooks: 0 attached alone; k + 1 the k-th of its
				 * syscall's hooks in the dispatcher's table (bpf/dispatch.h); an
				 * fentry syscall hook's the same in vg_fentry's chains */
	struct vg_arg_spec args[VG_MAX_ARGS];
	struct vg_selector sel[VG_MAX_SELECTORS];
	__u32 exec_path_once;	/* sched_process_exec: the binary's path walked once per exec
				 * for all such hooks (bpf/lib/exec_path.h) */
	__u32 pad_pf;
	struct vg_prefilter pf;	/* checks before any read (bpf/prefilter.h) */
	/* raw tracepoints in a chain (bpf/tpchain.h): what the captured arguments are (a hash
	 * of the argument specs; 0: never handed on), and k + 1 for slot k (0: alone) */
	__u64 capture_sig;
	__u32 chain_slot;
	__u32 pad_chain;
};

/* ---- map keys ---- */

struct vg_str_key {
	__u32 filter_id;
	__u32 len;
	char data[VG_STR_KEY];
};

struct vg_lpm_str_key {
	__u32 prefixlen;	/* bits, counting filter_id's 32 */
	__u32 filter_id;	/* big-endian, so it is the leading bits of the prefix */
	char data[VG_PREFIX_KEY];
};

/* A SubString value's place in str_sub; the value is a struct vg_str_key (NUL-padded). */
struct vg_sub_key {
	__u32 filter_id;
	__u32 index;
};

struct vg_int_key {
	__u32 filter_id;
	__u32 pad;
	__u64 value;
};

/* A file's identity in a "files" list: the device and inode the kernel opened, never a
 * path, so a later file at the same path is not hit. Kept in the int_set map beside the
 * InMap keys, hence the same size; filter ids keep the two apart. */
struct vg_file_key {
	__u32 filter_id;
	__u32 dev;		/* super_block->s_dev, the kernel's encoding (major << 20 | minor) */
	__u64 ino;
};

struct vg_addr4_key {
	__u32 prefixlen;
	__u32 filter_id;	/* big-endian */
	__u8 addr[4];
};

struct vg_addr6_key {
	__u32 prefixlen;
	__u32 filter_id;	/* big-endian */
	__u8 addr[16];
};

/* ---- captured argument layouts in the record ---- */

struct vg_path_hdr {
	__u32 mode;		/* i_mode: type and permission bits */
	__u32 flags;		/* f_flags for files */
	__u32 dev;		/* i_sb->s_dev, kernel encoding: with ino, the file's identity */
	__u32 uid;		/* i_uid as the initial user namespace sees it */
	__u64 ino;
};

struct vg_sock {
	__u16 family;
	__u16 type;
	__u16 protocol;
	__u16 state;
	__u32 mark;
	__u32 priority;
	__u8 saddr[16];		/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	__u16 sport;		/* host order */
	__u16 dport;
	__u32 pad;
	__u64 cookie;
};

/* An skb: the addresses, ports and protocol of its IP and TCP/UDP headers in a vg_sock's
 * places (type, state and cookie stay 0), then what only an skb has. */
struct vg_skb {
	struct vg_sock tuple;
	__u32 hash;
	__u32 len;
	__u32 secpath_len;	/* IPsec: the skb's sec_path extension, 0 without one */
	__u32 secpath_olen;
};

struct vg_sockaddr {
	__u16 family;
	__u16 port;		/* host order */
	__u32 pad;
	__u8 addr[16];
	char path[108];		/* AF_UNIX */
};

struct vg_cred {
	__u32 uid, gid, euid, egid, suid, sgid, fsuid, fsgid;
	__u64 cap_permitted, cap_effective, cap_inheritable;
	__u32 user_ns;
	__u32 pad;
};

/* Per-arg flags in the record. */
enum vg_arg_flag {
	VG_ARGF_TRUNCATED = 1,
	VG_ARGF_ERROR = 2,
};

struct vg_generic_record {
	struct vigil_msg_hdr hdr;	/* op VIGIL_OP_GENERIC */
	__u32 pid;
	__u32 tid;
	__u64 proc_ktime;		/* the process's key, as in vg_execs */
	__u32 hook_id;
	__u32 selector;			/* index of the selector that matched; VG_MAX_SELECTORS = none */
	__u32 actions;			/* bit (1 << enum vg_action) for each action taken */
	__u32 monitored;		/* bits of enforcement actions skipped for monitor mode */
	__s32 override_err;
	__u32 nargs;
	__u16 arg_off[VG_MAX_ARGS];
	__u16 arg_len[VG_MAX_ARGS];
	__u8 arg_flags[VG_MAX_ARGS];
	__u8 has_ima;			/* imaHash: the data ends with a struct vg_ima */
	__u16 syscall_id;		/* raw_syscalls hooks: the syscall's number (hooks for every
					 * syscall name it in their events) */
	__u64 arg_int[VG_MAX_ARGS];	/* integer value of each argument (fd, size, ...) */
	__u64 ret_value;		/* return probes: the value returned */
	__u32 has_ret;			/* 1 when ret_value is set */
	__u32 ret_actions;		/* bits of the matchReturnActions taken */
	/* stack traces: kstack_len bytes of kernel addresses at data + stack_off, then
	 * ustack_len bytes of user addresses (u64 each, innermost first) */
	__u16 stack_off;		/* 8-aligned */
	__u16 kstack_len;
	__u16 ustack_len;
	__u16 ret_len;			/* a sock returnArg: its struct vg_sock, the last ret_len
					 * bytes of the data area (0: ret_value holds the value) */
	/* maxData arguments: the bytes the chunk records before this one carry (0: none, the
	 * record's own bytes are the argument), and the buffer's size as the call gave it */
	__u32 arg_full[VG_MAX_ARGS];
	__u32 arg_orig[VG_MAX_ARGS];
	char data[VG_DATA_MAX];
};

/* Part of a maxData argument (op VIGIL_OP_GENERIC_CHUNK): bytes [offset, offset + len) of
 * argument `slot` of the record the same thread posts next at `event_ktime`. */
struct vg_chunk_record {
	struct vigil_msg_hdr hdr;
	__u32 tid;
	__u32 slot;
	__u64 event_ktime;
	__u32 offset;
	__u32 len;
	char data[VG_CHUNK_MAX];
};

#endif
