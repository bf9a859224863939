/* policy.h - Tetragon's TracingPolicy (apiVersion cilium.io/v1alpha1), parsed and validated.
 *
 * The parser (libyaml) turns a YAML document into the tree below, or refuses it whole with
 * a diagnostic naming file, line, column and reason. Everything that can be checked without
 * the kernel is checked here (keys, types, operators against argument types, value ranges,
 * limits, macros); what needs the running kernel (does the function exist, can it be hooked)
 * is checked when the policy is compiled and loaded, which reports through the same
 * diagnostic and the positions kept in the tree. Consumed by core/policy's compiler.
 */
#ifndef VIGIL_POLICY_H
#define VIGIL_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"
#include "../events/events.h"

/* ---- limits: Tetragon's where users rely on them, lifted where they complain ---- */

#define VIGIL_POLICY_MAX_ARGS 5			/* args + data per hook (Tetragon: 5, kept) */
#define VIGIL_POLICY_MAX_SELECTORS 16		/* per hook (Tetragon: 5, lifted: issue #5526) */
#define VIGIL_POLICY_MAX_MATCH_ARGS 5		/* matchArgs entries per selector (kept) */
#define VIGIL_POLICY_MAX_INT_VALUES 8		/* values per integer matchArgs (Tetragon: 4, lifted) */
#define VIGIL_POLICY_MAX_PIDS 8			/* values per matchPIDs entry (Tetragon: 4, lifted) */
/* entries per selector; Tetragon parses any number but its kernel side reads only the first
 * matchPIDs and the first matchCapabilities entry */
#define VIGIL_POLICY_MAX_PID_ENTRIES 4		/* matchPIDs */
#define VIGIL_POLICY_MAX_CAP_ENTRIES 4		/* matchCapabilities, and matchCapabilityChanges */
#define VIGIL_POLICY_MAX_NS_VALUES 4		/* values per matchNamespaces entry (kept) */
#define VIGIL_POLICY_MAX_ACTIONS 3		/* per selector (kept) */
#define VIGIL_POLICY_MAX_TAGS 16		/* (kept) */
#define VIGIL_POLICY_MAX_MESSAGE 256		/* (kept) */
#define VIGIL_POLICY_MAX_PREFIX 256		/* Prefix value length (kept) */
#define VIGIL_POLICY_MAX_POSTFIX 127		/* Postfix value length (kept) */
#define VIGIL_POLICY_MAX_STRING 255		/* Equal on strings and binaries (kept: 255) */
#define VIGIL_POLICY_MAX_SUBSTRINGS 8		/* values per SubString entry: each is a kfunc call */

/* Where a node came from: every error and every kernel-side refusal points here. */
struct vigil_pos {
	int line;		/* 1-based */
	int col;		/* 1-based */
};

/* A refusal: "file:line:column: reason". */
struct vigil_policy_error {
	char file[256];
	int line;
	int col;
	char reason[512];
};

/* Format "file:line:col: reason" into out. Returns out. */
VIGIL_API const char *vigil_policy_error_format(const struct vigil_policy_error *e, char *out, size_t size);

enum vigil_hook_kind {
	VIGIL_HOOK_KPROBE,	/* spec.kprobes (and spec.fentries, which are the same to us) */
	VIGIL_HOOK_TRACEPOINT,	/* spec.tracepoints */
	VIGIL_HOOK_LSM,		/* spec.lsmhooks */
	VIGIL_HOOK_UPROBE,	/* spec.uprobes */
	VIGIL_HOOK_USDT,	/* spec.usdts: path, and provider/name in subsystem/event */
};

/* Argument types (the CRD enum). Aliases collapse: int/sint32/int32 -> VIGIL_ARG_INT and so on. */
enum vigil_arg_type {
	VIGIL_ARG_NOP,
	VIGIL_ARG_AUTO,		/* tracepoints only: take the type from the format file */
	VIGIL_ARG_INT,		/* int, sint32, int32 */
	VIGIL_ARG_SINT8,	/* sint8, int8 */
	VIGIL_ARG_UINT8,
	VIGIL_ARG_SINT16,	/* sint16, int16 */
	VIGIL_ARG_UINT16,
	VIGIL_ARG_UINT32,
	VIGIL_ARG_LONG,		/* long, sint64, int64 */
	VIGIL_ARG_ULONG,	/* ulong, uint64 */
	VIGIL_ARG_SIZE_T,
	VIGIL_ARG_STRING,
	VIGIL_ARG_CHAR_BUF,
	VIGIL_ARG_CHAR_IOVEC,
	VIGIL_ARG_FD,
	VIGIL_ARG_FILE,
	VIGIL_ARG_PATH,
	VIGIL_ARG_DENTRY,
	VIGIL_ARG_LINUX_BINPRM,
	VIGIL_ARG_FILENAME,
	VIGIL_ARG_SOCK,		/* struct sock * */
	VIGIL_ARG_SOCKADDR,
	VIGIL_ARG_SKB,
	VIGIL_ARG_CRED,
	VIGIL_ARG_CAPABILITY,
	VIGIL_ARG_KERNEL_CAP_T,
	VIGIL_ARG_SYSCALL64,
	VIGIL_ARG_DATA_LOC,
	/* kernel_cap_t read from one of a cred's three sets: the kernel reads them as
	 * kernel_cap_t (core/sensors gives it that type), events name them apart */
	VIGIL_ARG_CAP_INHERITABLE,
	VIGIL_ARG_CAP_PERMITTED,
	VIGIL_ARG_CAP_EFFECTIVE,
	VIGIL_ARG_SOCKET,	/* struct socket *: its sk is read as a sock */
	VIGIL_ARG_NET_DEVICE,
	VIGIL_ARG_SOCKADDR_UN,
	VIGIL_ARG_BPF_ATTR,
	VIGIL_ARG_BPF_CMD,
	VIGIL_ARG_BPF_PROG,
	VIGIL_ARG_BPF_MAP,
	VIGIL_ARG_PERF_EVENT,
	VIGIL_ARG_USER_NAMESPACE,
	VIGIL_ARG_LOAD_INFO,
	VIGIL_ARG_MODULE,
	VIGIL_ARG_KIOCB,
	VIGIL_ARG_IOV_ITER,
	VIGIL_ARG_CONST_BUF,
	VIGIL_ARG_TYPE_COUNT,
};

/* The CRD name of a type ("int", "string", ...). */
VIGIL_API const char *vigil_arg_type_name(enum vigil_arg_type t);

struct vigil_policy_arg {
	uint32_t index;			/* function argument position (tracepoints: format field index) */
	enum vigil_arg_type type;
	const char *type_name;		/* as written (owned), for messages and cap_* flavours */
	char *label;			/* owned, NULL when absent */
	uint32_t size_arg_index;	/* sizeArgIndex: 1-based, 0 when absent */
	bool return_copy;
	uint32_t max_data;		/* maxData, 0 when absent */
	char *resolve;			/* the field path (data entries: from the task); owned, NULL when absent */
	bool data;			/* a `data` entry (events carry it in their data field) */
	bool current_task;		/* a data entry with source current_task */
	struct vigil_pos pos;
};

enum vigil_op {
	VIGIL_OP_EQUAL, VIGIL_OP_NOT_EQUAL,
	VIGIL_OP_PREFIX, VIGIL_OP_NOT_PREFIX,
	VIGIL_OP_POSTFIX, VIGIL_OP_NOT_POSTFIX,
	VIGIL_OP_GT, VIGIL_OP_LT,
	VIGIL_OP_MASK,
	VIGIL_OP_IN_MAP, VIGIL_OP_NOT_IN_MAP,
	VIGIL_OP_IN_RANGE, VIGIL_OP_NOT_IN_RANGE,
	VIGIL_OP_SADDR, VIGIL_OP_NOT_SADDR,
	VIGIL_OP_DADDR, VIGIL_OP_NOT_DADDR,
	VIGIL_OP_SPORT, VIGIL_OP_NOT_SPORT, VIGIL_OP_SPORT_PRIV, VIGIL_OP_NOT_SPORT_PRIV,
	VIGIL_OP_DPORT, VIGIL_OP_NOT_DPORT, VIGIL_OP_DPORT_PRIV, VIGIL_OP_NOT_DPORT_PRIV,
	VIGIL_OP_PROTOCOL, VIGIL_OP_FAMILY, VIGIL_OP_STATE,
	VIGIL_OP_FILE_TYPE, VIGIL_OP_NOT_FILE_TYPE,
	VIGIL_OP_CAPABILITIES_GAINED,
	VIGIL_OP_SUBSTRING,		/* needs the kernel's bpf_strnstr: the compiler checks */
	VIGIL_OP_IN, VIGIL_OP_NOT_IN,		/* matchPIDs, matchNamespaces, matchCapabilities, matchBinaries */
	VIGIL_OP_COUNT,
};

/* The canonical name of an operator ("Equal", "NotPrefix", ...). */
VIGIL_API const char *vigil_op_name(enum vigil_op op);

/* One matchArgs / matchReturnArgs entry. Values stay strings here; the compiler converts
 * them for the argument's type (this parser has already checked that they convert). */
/* kernel_cap_t values as matchArgs give them: a number, or CAP_* names joined by commas. The
 * parser checks values with it and the compiler (core/sensors) converts them with it, so a
 * value that parses converts. Returns 0 or -EINVAL. */
int vigil_policy_parse_cap_mask(const char *s, uint64_t *mask);

struct vigil_match_arg {
	uint32_t index;			/* an index that one of the hook's args declares */
	uint32_t arg_slot;		/* position of that arg in the hook's args[] (resolved) */
	enum vigil_op op;
	char **values;			/* owned */
	size_t nvalues;
	struct vigil_pos pos;
};

struct vigil_match_binaries {
	enum vigil_op op;		/* IN, NOT_IN, PREFIX, NOT_PREFIX, POSTFIX, NOT_POSTFIX */
	char **values;
	size_t nvalues;
	bool follow_children;		/* In/NotIn only */
	struct vigil_pos pos;
};

struct vigil_match_pids {
	enum vigil_op op;		/* IN, NOT_IN */
	uint32_t values[VIGIL_POLICY_MAX_PIDS];
	size_t nvalues;
	bool is_namespace_pid;
	bool follow_forks;
	struct vigil_pos pos;
};

struct vigil_match_namespaces {
	enum vigil_ns_kind ns;
	enum vigil_op op;		/* IN, NOT_IN */
	/* inode numbers; host_ns is kept as a flag so the compiler resolves it on the host */
	uint32_t values[VIGIL_POLICY_MAX_NS_VALUES];
	size_t nvalues;
	bool host_ns;			/* "host_ns" was among the values */
	struct vigil_pos pos;
};

enum vigil_cap_set {
	VIGIL_CAP_EFFECTIVE,
	VIGIL_CAP_INHERITABLE,
	VIGIL_CAP_PERMITTED,
};

/* matchCapabilities and matchCapabilityChanges entries. */
struct vigil_match_caps {
	enum vigil_cap_set type;
	enum vigil_op op;		/* IN, NOT_IN */
	bool is_namespace_capability;
	uint64_t mask;			/* bit n = capability n */
	struct vigil_pos pos;
};

struct vigil_match_ns_changes {
	enum vigil_op op;		/* IN, NOT_IN */
	uint32_t ns_mask;		/* bit k = enum vigil_ns_kind k */
	struct vigil_pos pos;
};

enum vigil_action_kind {
	VIGIL_ACTION_POST,
	VIGIL_ACTION_NOPOST,
	VIGIL_ACTION_SIGKILL,
	VIGIL_ACTION_SIGNAL,
	VIGIL_ACTION_OVERRIDE,
	VIGIL_ACTION_NOTIFY_ENFORCER,
	VIGIL_ACTION_GETURL,
	VIGIL_ACTION_DNSLOOKUP,
	VIGIL_ACTION_TRACKSOCK,
	VIGIL_ACTION_UNTRACKSOCK,
	VIGIL_ACTION_FOLLOWFD,
	VIGIL_ACTION_UNFOLLOWFD,
	VIGIL_ACTION_COPYFD,
	VIGIL_ACTION_SET,	/* usdts: write argValue into the probe's argument argIndex (in memory) */
	VIGIL_ACTION_COUNT,
};

/* "Post", "Sigkill", ... (the CRD spelling). */
VIGIL_API const char *vigil_action_name(enum vigil_action_kind k);

enum vigil_rate_scope {
	VIGIL_RATE_THREAD,	/* default */
	VIGIL_RATE_PROCESS,
	VIGIL_RATE_GLOBAL,
};

struct vigil_action {
	enum vigil_action_kind kind;
	uint32_t rate_limit_ms;		/* Post: rateLimit ("5", "5s", "2m", "1h"; bare number = seconds), 0 none */
	enum vigil_rate_scope rate_scope;
	int32_t arg_error;		/* Override / NotifyEnforcer: errno to return (negative, as written) */
	int32_t arg_sig;		/* Signal / NotifyEnforcer: signal number */
	bool kernel_stack;
	bool user_stack;
	bool ima_hash;			/* Post on an LSM hook: the file's IMA hash in the event */
	char *arg_url;			/* GetUrl, owned */
	char *arg_fqdn;			/* DnsLookup, owned */
	uint32_t arg_fd, arg_name, arg_sock;	/* FollowFD/CopyFD/TrackSock argument indexes */
	uint32_t arg_index;		/* Set: the USDT argument written (0-based, as in the probe) */
	int32_t arg_value;		/* Set: the value written */
	struct vigil_pos pos;
};

struct vigil_selector {
	struct vigil_match_pids *pids;			size_t npids;
	struct vigil_match_arg *args;			size_t nargs;
	struct vigil_match_arg *return_args;		size_t nreturn_args;
	struct vigil_match_binaries *binaries;		size_t nbinaries;	/* at most 1 */
	struct vigil_match_binaries *parent_binaries;	size_t nparent_binaries;	/* at most 1 */
	struct vigil_match_namespaces *namespaces;	size_t nnamespaces;
	struct vigil_match_ns_changes *ns_changes;	size_t nns_changes;	/* at most 1 */
	struct vigil_match_caps *caps;			size_t ncaps;
	struct vigil_match_caps *cap_changes;		size_t ncap_changes;
	struct vigil_action *actions;			size_t nactions;	/* empty means Post */
	struct vigil_action *return_actions;		size_t nreturn_actions;
	char *label;		/* `label` (names the selector in metrics), owned; NULL when absent */
	struct vigil_pos pos;
};

struct vigil_hook {
	enum vigil_hook_kind kind;
	char *call;			/* kprobe function (sys_* as written), LSM hook name; owned */
	bool syscall;			/* kprobes: `syscall` (CRD default true) */
	bool is_return;			/* kprobes/uprobes: `return: true` */
	bool has_return_arg;
	struct vigil_policy_arg return_arg;
	bool has_return_arg_action;	/* returnArgAction: TrackSock/UntrackSock on the returned sock */
	enum vigil_action_kind return_arg_action;
	char *subsystem;		/* tracepoints; usdts: the provider */
	char *event;			/* tracepoints; usdts: the probe's name */
	bool raw;
	char *path;			/* uprobes: binary path; owned */
	char *btf_path;			/* uprobes: `btfPath`, the BTF file describing the binary's
					 * types (resolve on its arguments); owned, NULL when absent */
	char **symbols;			/* uprobes: one symbol (several are one hook each) */
	size_t nsymbols;
	bool has_offset;		/* uprobes: attached at a file offset instead (`offsets`) */
	bool offset_is_addr;		/* uprobes: `addrs`, offset is a virtual address in the ELF */
	uint64_t offset;
	uint64_t ref_ctr_offset;	/* uprobes: `refCtrOffsets`' entry for this hook (a USDT
					 * semaphore's file offset, counted up while attached); 0 none */
	struct vigil_policy_arg *args;	/* args then data, at most VIGIL_POLICY_MAX_ARGS */
	size_t nargs;
	struct vigil_selector *selectors;
	size_t nselectors;
	char *message;			/* owned, NULL when absent */
	char **tags;
	size_t ntags;
	bool ignore_call_not_found;	/* ignore.callNotFound */
	bool all_syscalls;		/* kprobes: call names a generated_syscalls list: every
					 * syscall, one hook (call keeps "list:NAME") */
	struct vigil_pos pos;		/* the list item */
	struct vigil_pos call_pos;	/* the call/hook/event value, for kernel-side refusals */
};

enum vigil_list_type {
	VIGIL_LIST_SYSCALLS,
	VIGIL_LIST_GENERATED_SYSCALLS,
	VIGIL_LIST_GENERATED_FTRACE,
	VIGIL_LIST_VALUES,	/* vigil: strings or numbers for "list:NAME" in Equal/In/InMap values,
				 * which vigil_sensors__list_add can extend at run time */
	VIGIL_LIST_FILES,	/* vigil: files by identity (device + inode) for "list:NAME" in
				 * Equal/NotEqual on a file argument; values are absolute paths,
				 * resolved when the policy loads; extendable at run time */
};

struct vigil_policy_list {
	char *name;
	enum vigil_list_type type;
	char **values;
	size_t nvalues;
	char *pattern;			/* generated_ftrace */
	struct vigil_pos pos;
};

enum vigil_policy_mode {
	VIGIL_MODE_ENFORCE,
	VIGIL_MODE_MONITOR,
};

/* A Kubernetes LabelSelector (podSelector, containerSelector): every requirement must hold;
 * matchLabels {k: v} are "k In (v)". Present and empty ({}) selects everything. */
enum vigil_label_op {
	VIGIL_LABEL_IN,
	VIGIL_LABEL_NOT_IN,
	VIGIL_LABEL_EXISTS,
	VIGIL_LABEL_DOES_NOT_EXIST,
};

struct vigil_label_req {
	enum vigil_label_op op;
	char *key;
	char **values;
	size_t nvalues;
};

struct vigil_label_selector {
	bool present;			/* given in the policy */
	struct vigil_label_req *reqs;
	size_t nreqs;
};

/* Whether labels (n pairs: keys[i] = values[i]) satisfy sel. */
VIGIL_API bool vigil_label_selector_match(const struct vigil_label_selector *sel, const char *const *keys,
					  const char *const *values, size_t n);

struct vigil_policy {
	char *name;			/* metadata.name */
	char *namespace_;		/* metadata.namespace (TracingPolicyNamespaced), NULL otherwise */
	bool namespaced;		/* kind: TracingPolicyNamespaced */
	char *file;			/* where it was read from */
	enum vigil_policy_mode mode;	/* options: policy-mode (default enforce) */
	bool mode_set;			/* the policy named its mode: the agent's default does not apply */
	struct vigil_hook *hooks;	/* kprobes, then tracepoints, then lsmhooks, then uprobes */
	size_t nhooks;
	struct vigil_policy_list *lists;
	size_t nlists;
	struct { char *name; char *value; } *options;
	size_t noptions;
	bool loader;			/* spec.loader: process_loader events (core/sensors/loader_sensor.c) */
	/* the workloads it applies to (with namespace_ when namespaced); neither present and not
	 * namespaced: every process of the host */
	struct vigil_label_selector pod_selector;
	struct vigil_label_selector container_selector;	/* on the container's "name" */
};

/* Whether the policy applies to chosen workloads only (namespaced or a selector). */
VIGIL_API bool vigil_policy_is_scoped(const struct vigil_policy *p);
/* The kernel's name for a scoped policy's workloads (vg_scopes, bpf/lib/process_maps.h): a
 * hash of its name, never 0; 0 for a policy that is not scoped. Two loaded policies must not
 * share one (the agent refuses the second). */
VIGIL_API uint32_t vigil_policy_scope_id(const struct vigil_policy *p);

/* Parse one policy from memory. file names the source in diagnostics. On success *out is
 * the policy (free with vigil_policy_free) and 0 is returned; on a refusal, -EINVAL and err
 * says where and why (nothing is allocated). -ENOMEM on allocation failure. */
VIGIL_API int vigil_policy_parse(const char *file, const char *data, size_t len, struct vigil_policy **out,
				 struct vigil_policy_error *err);

/* One field of the TracingPolicy schema as vigil's parser walks it (vigil_policy_explain). */
struct vigil_policy_field_info {
	const char *name;
	const char *type;	/* "string", "integer", "boolean", "object", "[]object", "[]string",
				 * "map[string]string", or "value" when unknown */
	bool required;
	bool has_fields;	/* an object whose own fields explain lists (PATH.name) */
	const char *refused;	/* why vigil refuses the field, NULL when it takes it */
	bool ignored;		/* accepted and dropped (Tetragon's bookkeeping) */
};
typedef void (*vigil_policy_field_fn)(void *ctx, const struct vigil_policy_field_info *f);
/* The fields of the object at path: "" is the document, then "spec", "spec.kprobes",
 * "spec.kprobes.selectors.matchArgs"...: dot-separated, no indexes (hooks are under spec).
 * fn (when not NULL) once per field in the parser's order; *type (when type is not NULL) the type of path
 * itself, NULL when unknown. 0, or -ENOENT when the parser walks no object there (*type may
 * still say what the path is: a string, a list of strings). Thread-safe. */
VIGIL_API int vigil_policy_explain(const char *path, vigil_policy_field_fn fn, void *ctx, const char **type);

/* Read and parse a file. -errno for I/O failures (err filled too). */
VIGIL_API int vigil_policy_parse_file(const char *path, struct vigil_policy **out, struct vigil_policy_error *err);

/* Accepts NULL. */
VIGIL_API void vigil_policy_free(struct vigil_policy *p);

#endif
