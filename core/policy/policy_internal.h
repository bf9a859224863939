/* policy_internal.h - what the policy files share: the parse context, the YAML walking
 * helpers, the field tables, the name tables and the value checkers. The compiler converts
 * matchArgs values with the same checkers, so a value that parses here converts there. */
#ifndef VIGIL_POLICY_INTERNAL_H
#define VIGIL_POLICY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yaml.h>

#include "policy.h"

/* ---- limits of our own (the ones users rely on are in policy.h) ---- */

#define POLICY_MAX_FILE (1024 * 1024)	/* vigil_policy_parse_file refuses larger files */
#define POLICY_MAX_DATA_BYTES 327360	/* maxData: true reads this much (Tetragon's value) */
#define POLICY_MAX_NS_ENTRIES 10	/* matchNamespaces entries per selector (Tetragon, >= 5.3) */
#define POLICY_MAX_TAG 128		/* Tetragon cuts longer tags; we refuse them */
#define POLICY_MIN_TEXT 2		/* message and tags: Tetragon refuses 1-character ones */
#define POLICY_MAX_ARG_INDEX 4		/* function arguments reachable from registers (Tetragon) */
/* Hooks of one policy once syscall lists and uprobe symbols are expanded: each becomes its
 * own BPF program, and aliases could otherwise ask for billions. */
#define POLICY_MAX_HOOKS 1024
/* Aliases let a 1 MiB document name the same subtree millions of times; every mapping pair
 * and sequence item we visit costs one unit, and the parse stops when the budget is gone. */
#define POLICY_WORK_BUDGET (1UL << 22)

/* ---- parse context ---- */

struct policy_pair {
	yaml_node_t *key;
	yaml_node_t *value;
};

struct policy_ctx {
	yaml_document_t *doc;
	struct vigil_policy *policy;
	struct vigil_policy_error *err;
	unsigned long work;		/* units left, see POLICY_WORK_BUDGET */
	char path[256];			/* where we are, "kprobes[0].selectors[1]" */
	size_t pathlen;
	yaml_node_t *macros;		/* spec.selectorsMacros (a mapping) or NULL */
	bool has_enforcers;		/* spec.enforcers has an entry (NotifyEnforcer needs one) */
	/* a kprobe whose call is "list:NAME" (a syscalls list) is parsed once per value: the
	 * value this pass stands for */
	const char *call_override;
	/* an uprobe with several symbols is parsed once per symbol: this pass's symbol + 1, 0 when
	 * the item is parsed whole */
	size_t symbol_pass;
	/* the hook whose selectors are being parsed */
	struct vigil_hook *hook;
	size_t hook_nspec_args;		/* hook->args[] entries from `args`; the rest came from `data` */
};

/* Where a node starts, 1-based (libyaml marks are 0-based). */
static inline struct vigil_pos policy_pos(const yaml_node_t *n)
{
	return (struct vigil_pos){ (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };
}

/* parse_yaml.c: the path. Each push returns the length to pop back to. */
size_t policy_path_key(struct policy_ctx *c, const char *key);
size_t policy_path_index(struct policy_ctx *c, size_t i);
void policy_path_pop(struct policy_ctx *c, size_t len);

/* parse_yaml.c: errors. Each fills c->err once (the first error wins) and returns -EINVAL.
 * policy_error prefixes the reason with the path ("kprobes[0]: ..."); policy_error_bare
 * does not. at may be NULL (position 0:0). */
int policy_error(struct policy_ctx *c, const yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int policy_error_bare(struct policy_ctx *c, const yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int policy_nomem(struct policy_ctx *c);

/* parse_yaml.c: nodes. Scalars are borrowed from the document. field names the value in
 * messages ("args"); NULL means the node is a list item. */
bool policy_is_null(const yaml_node_t *n);
const char *policy_node_kind(const yaml_node_t *n);	/* "scalar", "list", "mapping" */
int policy_expect(struct policy_ctx *c, const yaml_node_t *n, yaml_node_type_t type, const char *field);
int policy_str(struct policy_ctx *c, const yaml_node_t *n, const char *field, const char **out);
int policy_strdup(struct policy_ctx *c, const yaml_node_t *n, const char *field, char **out);
int policy_bool(struct policy_ctx *c, const yaml_node_t *n, const char *field, bool *out);
int policy_u32(struct policy_ctx *c, const yaml_node_t *n, const char *field, uint32_t *out);
size_t policy_seq_len(const yaml_node_t *seq);
/* The i-th item; NULL (with the error set) when the work budget is spent. */
yaml_node_t *policy_seq_item(struct policy_ctx *c, const yaml_node_t *seq, size_t i);
yaml_node_t *policy_node(struct policy_ctx *c, int index);
/* A list of strings, copied. *out and *n are valid (and freeable) at every step. */
int policy_strlist(struct policy_ctx *c, const yaml_node_t *n, const char *field, char ***out, size_t *count);

/* ---- field tables: each mapping is parsed against a const table of its keys ---- */

enum policy_field_kind {
	POLICY_F_FN,		/* fn parses the value */
	POLICY_F_STR,		/* char * at off, copied */
	POLICY_F_BOOL,		/* bool at off */
	POLICY_F_U32,		/* uint32_t at off */
	POLICY_F_NODE,		/* yaml_node_t * at off: parsed later, once its context is known */
	POLICY_F_IGNORE,	/* accepted and dropped */
	POLICY_F_REFUSE,	/* "not supported by vigil" at the key */
};

#define POLICY_REQUIRED 0x1u

typedef int (*policy_field_fn)(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj);

struct policy_field {
	const char *key;
	enum policy_field_kind kind;
	size_t off;
	policy_field_fn fn;
	unsigned int flags;
	const char *why;	/* POLICY_F_REFUSE: the reason, said after the field's name */
};

#define POLICY_FN(k, f, fl)		{ (k), POLICY_F_FN, 0, (f), (fl), NULL }
#define POLICY_STR(k, type, m, fl)	{ (k), POLICY_F_STR, offsetof(type, m), NULL, (fl), NULL }
#define POLICY_BOOL(k, type, m)		{ (k), POLICY_F_BOOL, offsetof(type, m), NULL, 0, NULL }
#define POLICY_U32(k, type, m, fl)	{ (k), POLICY_F_U32, offsetof(type, m), NULL, (fl), NULL }
#define POLICY_NODE(k, type, m, fl)	{ (k), POLICY_F_NODE, offsetof(type, m), NULL, (fl), NULL }
#define POLICY_IGNORE(k)		{ (k), POLICY_F_IGNORE, 0, NULL, 0, NULL }
#define POLICY_REFUSE(k, why)		{ (k), POLICY_F_REFUSE, 0, NULL, 0, (why) }

/* Parse a mapping node against fields (at most 64). Unknown and duplicate keys are refused
 * at the key, a null value counts as absent, required fields missing are refused at map.
 * what names the mapping in messages when the path is empty ("spec"). */
int policy_parse_map(struct policy_ctx *c, yaml_node_t *map, const char *what,
		     const struct policy_field *fields, size_t nfields, void *obj);
/* The same over pairs gathered by the caller (a selector merged with its macros). */
int policy_parse_pairs(struct policy_ctx *c, yaml_node_t *map, const char *what, const struct policy_pair *pairs,
		       size_t npairs, const struct policy_field *fields, size_t nfields, void *obj);
/* The field of a table named key, or NULL. */
const struct policy_field *policy_field_find(const struct policy_field *fields, size_t nfields, const char *key);
/* Called for every key the walk finds in its table, with the path of the map that holds it
 * ("" at the top, "kprobes[0]"...) and the key's value in doc (explain.c). */
typedef void (*policy_schema_fn)(void *ctx, yaml_document_t *doc, const char *path, const struct policy_field *fields,
				 size_t nfields, const char *key, const yaml_node_t *value);
/* Watch this thread's walks (NULL: stop). */
void policy_schema_watch(policy_schema_fn fn, void *ctx);

/* ---- the parts of the document ---- */

/* parse_workloads.c: a LabelSelector at value into sel; name_only: only the key "name"
 * (containerSelector). */
int policy_parse_label_selector(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value,
				struct vigil_label_selector *sel, const char *what, bool name_only);
void policy_free_label_selector(struct vigil_label_selector *sel);

/* parse_spec.c */
int policy_parse_spec(struct policy_ctx *c, yaml_node_t *spec);

/* parse_lists.c: spec.lists into c->policy, spec.enforcers (checked, c->has_enforcers). */
int policy_parse_lists(struct policy_ctx *c, yaml_node_t *seq);
/* parse_ftrace.c: fill a generated_ftrace list with the traceable kernel functions its
 * pattern matches (sorted, each once). 0, or -errno with the reason in why (no tracefs, no
 * match, too many). */
int policy_ftrace_expand(struct vigil_policy_list *l, char *why, size_t size);
int policy_parse_enforcers(struct policy_ctx *c, yaml_node_t *seq);
/* The spec.lists entry called name, or NULL. */
const struct vigil_policy_list *policy_list_find(const struct vigil_policy *p, const char *name);

/* parse_options.c: spec.options into c->policy (policy-mode sets its mode). */
int policy_parse_options(struct policy_ctx *c, yaml_node_t *seq);

/* parse_hooks.c: one list item of spec.<section>, into h. */
int policy_parse_kprobe(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h);
int policy_parse_tracepoint(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h);
int policy_parse_lsm(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h);
int policy_parse_uprobe(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h);
int policy_parse_usdt(struct policy_ctx *c, yaml_node_t *item, struct vigil_hook *h);
/* The syscalls list a kprobe item's call names ("list:NAME"), or NULL: the item stands for
 * one hook per value of that list. */
const struct vigil_policy_list *policy_kprobe_call_list(struct policy_ctx *c, yaml_node_t *item);
/* How many symbols an uprobe item names (at least 1): the item stands for one hook each. */
size_t policy_uprobe_symbol_count(struct policy_ctx *c, yaml_node_t *item);

/* parse_args.c: one args/data/returnArg entry of a hook of kind. */
enum policy_arg_role {
	POLICY_ARG,		/* `args` */
	POLICY_DATA,		/* `data`: needs source and resolve */
	POLICY_RETURN_ARG,	/* `returnArg` */
};
int policy_parse_arg(struct policy_ctx *c, yaml_node_t *n, enum vigil_hook_kind kind, enum policy_arg_role role,
		     struct vigil_policy_arg *a);

/* parse_selectors.c: the selectors list of c->hook. */
int policy_parse_selectors(struct policy_ctx *c, yaml_node_t *seq);
/* The keys a selector (and so a macro) may carry. */
extern const struct policy_field policy_selector_fields[];
extern const size_t policy_selector_nfields;

/* What a selector's field parsers get as obj. matchArgs and matchData wait for the whole
 * selector: they share the five filter slots. */
struct policy_selector_parse {
	struct vigil_selector *s;
	yaml_node_t *match_args;
	yaml_node_t *match_data;
};

/* parse_filters.c: selector fields (policy_field_fn, obj a policy_selector_parse). */
int policy_filter_pids(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj);
int policy_filter_binaries(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj);
int policy_filter_parent_binaries(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj);
int policy_filter_namespaces(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj);
int policy_filter_ns_changes(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj);
int policy_filter_caps(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj);
int policy_filter_cap_changes(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj);

/* parse_match.c: matchArgs / matchData / matchReturnArgs entries, appended to out[*count].
 * matchData entries get the arg_slot of their data entry (after the hook's args) and the
 * index that entry declares. CapabilitiesGained names two arguments (args: [a, b], matching
 * when b holds a capability a lacks) and vigil_match_arg has one slot: arg_slot is a,
 * values[0] b's slot in decimal. matchReturnArgs entries have arg_slot 0 and filter hook->return_arg. */
enum policy_match_kind {
	POLICY_MATCH_ARGS,
	POLICY_MATCH_DATA,
	POLICY_MATCH_RETURN_ARGS,
};
int policy_parse_match_args(struct policy_ctx *c, yaml_node_t *seq, enum policy_match_kind kind,
			    struct vigil_match_arg *out, size_t *count);

/* parse_actions.c: matchActions / matchReturnActions. */
int policy_parse_actions(struct policy_ctx *c, yaml_node_t *seq, struct vigil_action **out, size_t *count);

/* parse_free.c: destructors for parts; each accepts zeroed and half-built objects. */
void policy_arg_free(struct vigil_policy_arg *a);
void policy_match_arg_free(struct vigil_match_arg *m);
void policy_selector_free(struct vigil_selector *s);
void policy_hook_free(struct vigil_hook *h);
void policy_strv_free(char **v, size_t n);

/* ---- names.c: the CRD's names ---- */

/* A CRD type name or alias. Returns 0, -ENOTSUP (a CRD type vigil does not handle) or
 * -ENOENT (not a CRD type). */
int policy_arg_type_lookup(const char *name, enum vigil_arg_type *out);
/* A matchArgs operator, with Tetragon's aliases. Returns 0, -ENOTSUP or -ENOENT. */
int policy_op_lookup(const char *name, enum vigil_op *out);
/* An action name, case-insensitive as Tetragon. Returns 0, -ENOTSUP or -ENOENT. */
int policy_action_lookup(const char *name, enum vigil_action_kind *out);

/* ---- parse_values.c: value checkers, shared with the compiler ---- */

/* Integers: decimal, 0x hex, 0o/0 octal or 0b binary (Go's base-0 syntax, which Tetragon
 * uses), with a '-' for signed ones. Return 0, -EINVAL (not a number) or -ERANGE. */
int policy_parse_s64(const char *s, int64_t min, int64_t max, int64_t *out);
int policy_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* The range of an integer argument type; false for types that are not integers. */
struct policy_int_bounds {
	bool is_signed;
	int64_t min;		/* signed types */
	int64_t max;
	uint64_t umax;		/* unsigned types */
};
bool policy_int_bounds(enum vigil_arg_type t, struct policy_int_bounds *b);
/* A value for an integer argument of type t, as 64 bits (two's complement for signed
 * types). capability arguments also take CAP_* names. Returns 0, -EINVAL or -ERANGE. */
int policy_arg_int(enum vigil_arg_type t, const char *s, uint64_t *out);

/* A capability name, case-insensitive: CAP_CHOWN, ..., and Tetragon's DAC_OVERRIDE. */
int policy_cap_lookup(const char *name, unsigned int *cap);
/* kernel_cap_t values: vigil_policy_parse_cap_mask (policy.h). */

/* Namespace type names. exact: the CRD's spelling (Uts, PidForChildren); otherwise any case. */
int policy_ns_lookup(const char *name, bool exact, enum vigil_ns_kind *out);

/* rateLimit: "5", "5s", "2m", "1h" (a bare number is seconds), in ms, capped at UINT32_MAX. */
int policy_parse_rate_limit(const char *s, uint32_t *ms);
/* A signal: 1..64 or a name such as SIGKILL. */
int policy_parse_signal(const char *s, int32_t *sig);
/* A value to return: any int32, or an errno name, "EPERM" or "-EPERM" (both -1). */
int policy_parse_errno(const char *s, int32_t *err);

/* Socket values. */
struct policy_addr {
	int family;		/* AF_INET or AF_INET6 */
	uint8_t addr[16];	/* network order; the first 4 bytes for IPv4 */
	uint32_t prefix;	/* 32 or 128 without "/n" */
};
int policy_parse_addr(const char *s, struct policy_addr *out);
/* A port "443" or a range "1000:2000". */
int policy_parse_port_range(const char *s, uint32_t *lo, uint32_t *hi);
/* AF_* names, IPPROTO_* names and TCP_* state names, or numbers (family/protocol 0..65535,
 * state 0..255). */
int policy_parse_family(const char *s, uint32_t *out);
int policy_parse_protocol(const char *s, uint32_t *out);
int policy_parse_tcp_state(const char *s, uint32_t *out);
/* FileType values (reg, dir, ...) as S_IF* bits. */
int policy_parse_file_type(const char *s, uint32_t *mode);

/* Kubernetes names: a DNS-1123 subdomain (metadata.name) and label (metadata.namespace). */
bool policy_dns1123_subdomain(const char *s);
bool policy_dns1123_label(const char *s);
/* A syscall list value: [abi/]name, name an identifier ("sys_" allowed). */
bool policy_syscall_name_ok(const char *s);

#endif
