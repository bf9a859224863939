/* parse_match.c - matchArgs, matchData and matchReturnArgs entries: which declared
 * argument each filters, whether the operator fits that argument's type, and whether
 * every value converts for it. The values are kept as written. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* ---- argument type classes ---- */

enum {
	C_NONE = 0,
	C_INT = 1 << 0,		/* integers, syscall64, capability */
	C_STR = 1 << 1,		/* string, filename, data_loc, char_buf, char_iovec */
	C_FILE = 1 << 2,	/* file, path: string ops and FileType */
	C_PATH = 1 << 3,	/* fd, dentry, linux_binprm: string ops on the path */
	C_SOCK = 1 << 4,	/* sock, skb */
	C_SOCKADDR = 1 << 5,	/* sockaddr: no destination, no state, no protocol */
	C_CAPS = 1 << 6,	/* kernel_cap_t and its cap_* aliases */
	C_ANY = 1 << 7,		/* auto: the format file decides, at compile time */
};

#define C_TEXT (C_STR | C_FILE | C_PATH)

static const uint8_t type_class[VIGIL_ARG_TYPE_COUNT] = {
	[VIGIL_ARG_NOP] = C_NONE,	   [VIGIL_ARG_AUTO] = C_ANY,	     [VIGIL_ARG_INT] = C_INT,
	[VIGIL_ARG_SINT8] = C_INT,	   [VIGIL_ARG_UINT8] = C_INT,	     [VIGIL_ARG_SINT16] = C_INT,
	[VIGIL_ARG_UINT16] = C_INT,	   [VIGIL_ARG_UINT32] = C_INT,	     [VIGIL_ARG_LONG] = C_INT,
	[VIGIL_ARG_ULONG] = C_INT,	   [VIGIL_ARG_SIZE_T] = C_INT,	     [VIGIL_ARG_STRING] = C_STR,
	[VIGIL_ARG_CHAR_BUF] = C_STR,	   [VIGIL_ARG_CHAR_IOVEC] = C_STR,   [VIGIL_ARG_FD] = C_PATH,
	[VIGIL_ARG_FILE] = C_FILE,	   [VIGIL_ARG_PATH] = C_FILE,	     [VIGIL_ARG_DENTRY] = C_PATH,
	[VIGIL_ARG_LINUX_BINPRM] = C_PATH, [VIGIL_ARG_FILENAME] = C_STR,     [VIGIL_ARG_SOCK] = C_SOCK,
	[VIGIL_ARG_SOCKADDR] = C_SOCKADDR, [VIGIL_ARG_SKB] = C_SOCK,	     [VIGIL_ARG_CRED] = C_NONE,
	[VIGIL_ARG_CAPABILITY] = C_INT,	   [VIGIL_ARG_KERNEL_CAP_T] = C_CAPS, [VIGIL_ARG_SYSCALL64] = C_INT,
	[VIGIL_ARG_DATA_LOC] = C_STR,	   [VIGIL_ARG_CAP_INHERITABLE] = C_CAPS,
	[VIGIL_ARG_CAP_PERMITTED] = C_CAPS, [VIGIL_ARG_CAP_EFFECTIVE] = C_CAPS, [VIGIL_ARG_SOCKET] = C_SOCK,
	[VIGIL_ARG_NET_DEVICE] = C_STR,
	/* buffers compare as bytes, a kiocb as its file; the kernel objects have no operators
	 * (Tetragon has none for them either) */
	[VIGIL_ARG_IOV_ITER] = C_STR,	   [VIGIL_ARG_CONST_BUF] = C_STR,    [VIGIL_ARG_KIOCB] = C_FILE,
	[VIGIL_ARG_SOCKADDR_UN] = C_SOCKADDR, [VIGIL_ARG_BPF_CMD] = C_INT,
};

/* ---- what one entry is filtering ---- */

struct match {
	enum vigil_op op;
	const char *op_name;		/* as written */
	enum vigil_arg_type type;
	const char *type_name;		/* as written in the arg */
};

typedef int (*value_fn)(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s);

/* ---- value checkers ---- */

static int bad_int(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s, int err)
{
	struct policy_int_bounds b;

	if (err != -ERANGE || !policy_int_bounds(m->type, &b))
		return policy_error(c, v, "value \"%s\" is not an integer", s);
	if (b.is_signed)
		return policy_error(c, v, "value \"%s\" is out of range for %s (%" PRId64 "..%" PRId64 ")", s,
				    m->type_name, b.min, b.max);
	return policy_error(c, v, "value \"%s\" is out of range for %s (0..%" PRIu64 ")", s, m->type_name, b.umax);
}

static int v_int(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	uint64_t x;
	int err;

	err = policy_arg_int(m->type, s, &x);
	return err ? bad_int(c, m, v, s, err) : 0;
}

/* "min:max", both in the type's range, min first. */
static int int_range(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	struct policy_int_bounds b;
	const char *colon = strchr(s, ':');
	char lo_s[32];
	uint64_t lo, hi;
	size_t len;
	int err;

	len = colon ? (size_t)(colon - s) : 0;
	if (!colon || strchr(colon + 1, ':') || len >= sizeof(lo_s))
		return policy_error(c, v, "value \"%s\" is not a range \"min:max\"", s);
	memcpy(lo_s, s, len);
	lo_s[len] = '\0';
	err = policy_arg_int(m->type, lo_s, &lo);
	if (!err)
		err = policy_arg_int(m->type, colon + 1, &hi);
	if (err)
		return bad_int(c, m, v, s, err);
	policy_int_bounds(m->type, &b);
	if (b.is_signed ? (int64_t)lo > (int64_t)hi : lo > hi)
		return policy_error(c, v, "range \"%s\" has its minimum above its maximum", s);
	return 0;
}

/* InMap: values, "a:b" ranges, or "list:NAME" of syscalls or values. */
static int v_in_map(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	const struct vigil_policy_list *l;

	if (strncmp(s, "list:", 5))
		return strchr(s, ':') ? int_range(c, m, v, s) : v_int(c, m, v, s);
	l = policy_list_find(c->policy, s + 5);
	if (!l)
		return policy_error(c, v, "list \"%s\" is not defined in spec.lists", s + 5);
	/* Tetragon's listReader: only syscall lists turn into ids, only for syscall64 */
	if (l->type == VIGIL_LIST_GENERATED_FTRACE)
		return policy_error(c, v, "list \"%s\" is not a syscall list", s + 5);
	/* values lists: numbers, checked when the hook is compiled; syscall lists: their
	 * numbers, for any integer argument (Tetragon's writeListValuesInMap), raw_syscalls'
	 * id included */
	return 0;
}

static int v_range(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	return int_range(c, m, v, s);
}

static int text_max(struct policy_ctx *c, yaml_node_t *v, const char *s, size_t max)
{
	if (strlen(s) > max)
		return policy_error(c, v, "value is longer than %zu characters", max);
	return 0;
}

static int v_equal_str(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	const struct vigil_policy_list *l;

	/* vigil: "list:NAME" stands for a values list, which may grow at run time, or a files
	 * list (file arguments only: the compiler checks the argument) */
	if (!strncmp(s, "list:", 5)) {
		l = policy_list_find(c->policy, s + 5);
		if (!l || (l->type != VIGIL_LIST_VALUES && l->type != VIGIL_LIST_FILES))
			return policy_error(c, v, "list \"%s\" is not a values or files list in spec.lists", s + 5);
		return 0;
	}
	return text_max(c, v, s, VIGIL_POLICY_MAX_STRING);
}

static int v_prefix(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	return text_max(c, v, s, VIGIL_POLICY_MAX_PREFIX);
}

static int v_postfix(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	return text_max(c, v, s, VIGIL_POLICY_MAX_POSTFIX);
}

static int v_substring(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	return text_max(c, v, s, VIGIL_POLICY_MAX_STRING);
}

static int v_caps(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	uint64_t mask;

	if (vigil_policy_parse_cap_mask(s, &mask))
		return policy_error(c, v, "value \"%s\" is not a capability mask (a number, or CAP_ names joined by "
				    "commas)", s);
	return 0;
}

static int v_addr(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	struct policy_addr a;

	if (policy_parse_addr(s, &a))
		return policy_error(c, v, "value \"%s\" is not an IPv4 or IPv6 address with an optional /prefix", s);
	return 0;
}

static int v_port(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	uint32_t lo, hi;

	if (policy_parse_port_range(s, &lo, &hi))
		return policy_error(c, v, "value \"%s\" is not a port (0..65535) or a port range \"min:max\"", s);
	return 0;
}

/* A name or number, or a range of them "a:b" (Tetragon's writeRangeInMap). */
static int named_range(const char *s, int (*parse)(const char *s, uint32_t *out))
{
	const char *colon = strchr(s, ':');
	char lo_s[32];
	uint32_t lo, hi;
	size_t len;

	if (!colon)
		return parse(s, &lo);
	len = (size_t)(colon - s);
	if (len >= sizeof(lo_s))
		return -EINVAL;
	memcpy(lo_s, s, len);
	lo_s[len] = '\0';
	if (parse(lo_s, &lo) || parse(colon + 1, &hi) || lo > hi)
		return -EINVAL;
	return 0;
}

static int v_family(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	if (named_range(s, policy_parse_family))
		return policy_error(c, v, "value \"%s\" is not an address family (AF_INET, AF_INET6, AF_UNIX, ... or a "
				    "number)", s);
	return 0;
}

static int v_protocol(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	if (named_range(s, policy_parse_protocol))
		return policy_error(c, v, "value \"%s\" is not a protocol (IPPROTO_TCP, IPPROTO_UDP, ... or a number)",
				    s);
	return 0;
}

static int v_state(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	if (named_range(s, policy_parse_tcp_state))
		return policy_error(c, v, "value \"%s\" is not a TCP state (TCP_ESTABLISHED, TCP_SYN_SENT, ... or a "
				    "number)", s);
	return 0;
}

static int v_file_type(struct policy_ctx *c, const struct match *m, yaml_node_t *v, const char *s)
{
	uint32_t mode;

	if (policy_parse_file_type(s, &mode))
		return policy_error(c, v, "value \"%s\" is not a file type (reg, dir, lnk, chr, blk, fifo, sock)", s);
	return 0;
}

/* ---- which operator takes what, for which types ---- */

#define MAX_INT VIGIL_POLICY_MAX_INT_VALUES
#define MANY SIZE_MAX

/* One row per operator and the type classes it applies to (after Tetragon's parseMatchArg;
 * FileType is file/path only there too). max is how many values it takes; 0: none. */
static const struct rule {
	enum vigil_op op;
	unsigned int classes;
	size_t max;
	value_fn check;
} rules[] = {
	{ VIGIL_OP_EQUAL, C_INT, MAX_INT, v_int },
	{ VIGIL_OP_EQUAL, C_TEXT, MANY, v_equal_str },
	{ VIGIL_OP_EQUAL, C_CAPS, MAX_INT, v_caps },
	{ VIGIL_OP_NOT_EQUAL, C_INT, MAX_INT, v_int },
	{ VIGIL_OP_NOT_EQUAL, C_TEXT, MANY, v_equal_str },
	{ VIGIL_OP_NOT_EQUAL, C_CAPS, MAX_INT, v_caps },
	{ VIGIL_OP_GT, C_INT, MAX_INT, v_int },
	{ VIGIL_OP_LT, C_INT, MAX_INT, v_int },
	{ VIGIL_OP_MASK, C_INT, MAX_INT, v_int },
	{ VIGIL_OP_MASK, C_CAPS, MAX_INT, v_caps },
	{ VIGIL_OP_IN_MAP, C_INT, MANY, v_in_map },
	{ VIGIL_OP_NOT_IN_MAP, C_INT, MANY, v_in_map },
	{ VIGIL_OP_IN_RANGE, C_INT, MAX_INT, v_range },
	{ VIGIL_OP_NOT_IN_RANGE, C_INT, MAX_INT, v_range },
	{ VIGIL_OP_PREFIX, C_TEXT, MANY, v_prefix },
	{ VIGIL_OP_NOT_PREFIX, C_TEXT, MANY, v_prefix },
	{ VIGIL_OP_POSTFIX, C_TEXT, MANY, v_postfix },
	{ VIGIL_OP_NOT_POSTFIX, C_TEXT, MANY, v_postfix },
	{ VIGIL_OP_FILE_TYPE, C_FILE, MANY, v_file_type },
	{ VIGIL_OP_NOT_FILE_TYPE, C_FILE, MANY, v_file_type },
	{ VIGIL_OP_SADDR, C_SOCK | C_SOCKADDR, MANY, v_addr },
	{ VIGIL_OP_NOT_SADDR, C_SOCK | C_SOCKADDR, MANY, v_addr },
	{ VIGIL_OP_DADDR, C_SOCK, MANY, v_addr },
	{ VIGIL_OP_NOT_DADDR, C_SOCK, MANY, v_addr },
	{ VIGIL_OP_SPORT, C_SOCK | C_SOCKADDR, MANY, v_port },
	{ VIGIL_OP_NOT_SPORT, C_SOCK | C_SOCKADDR, MANY, v_port },
	{ VIGIL_OP_DPORT, C_SOCK, MANY, v_port },
	{ VIGIL_OP_NOT_DPORT, C_SOCK, MANY, v_port },
	{ VIGIL_OP_SPORT_PRIV, C_SOCK | C_SOCKADDR, 0, NULL },
	{ VIGIL_OP_NOT_SPORT_PRIV, C_SOCK | C_SOCKADDR, 0, NULL },
	{ VIGIL_OP_DPORT_PRIV, C_SOCK, 0, NULL },
	{ VIGIL_OP_NOT_DPORT_PRIV, C_SOCK, 0, NULL },
	{ VIGIL_OP_PROTOCOL, C_SOCK, MANY, v_protocol },
	{ VIGIL_OP_FAMILY, C_SOCK | C_SOCKADDR, MANY, v_family },
	{ VIGIL_OP_STATE, C_SOCK, MANY, v_state },
	/* the values slot carries the second argument, see entry_cap_gained() */
	{ VIGIL_OP_CAPABILITIES_GAINED, C_CAPS, 0, NULL },
	{ VIGIL_OP_SUBSTRING, C_TEXT, VIGIL_POLICY_MAX_SUBSTRINGS, v_substring },
};

/* The rule for op on a type; auto takes any rule of op and leaves values to the compiler. */
static const struct rule *rule_for(enum vigil_op op, enum vigil_arg_type type)
{
	unsigned int cls = type_class[type];
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(rules); i++)
		if (rules[i].op == op && (rules[i].classes & cls || cls == C_ANY))
			return &rules[i];
	return NULL;
}

/* ---- one entry ---- */

struct match_parse {
	struct vigil_match_arg m;
	yaml_node_t *index;		/* value node, NULL when absent (index 0) */
	yaml_node_t *args;
	uint32_t slots[2];		/* `args: [i, j]` */
	size_t nslots;
	yaml_node_t *op;
	yaml_node_t *values;
};

static int entry_index(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct match_parse *mp = obj;

	mp->index = value;
	return policy_u32(c, value, "index", &mp->m.index);
}

static int entry_args(struct policy_ctx *c, yaml_node_t *key, yaml_node_t *value, void *obj)
{
	struct match_parse *mp = obj;
	yaml_node_t *item;
	size_t i, n;
	int err;

	err = policy_expect(c, value, YAML_SEQUENCE_NODE, "args");
	if (err)
		return err;
	n = policy_seq_len(value);
	if (!n || n > 2)
		return policy_error(c, value, "args must name one argument (two for CapabilitiesGained)");
	mp->args = value;
	for (i = 0; i < n && !err; i++) {
		item = policy_seq_item(c, value, i);
		err = item ? policy_u32(c, item, "args", &mp->slots[i]) : -EINVAL;
		mp->nslots = i + 1;
	}
	return err;
}

static const struct policy_field entry_fields[] = {
	POLICY_FN("index", entry_index, 0),
	POLICY_FN("args", entry_args, 0),
	POLICY_NODE("operator", struct match_parse, op, POLICY_REQUIRED),
	POLICY_NODE("values", struct match_parse, values, 0),
};

/* `args: [i]` names a position in the spec list (args, or data for matchData). */
static int slot_from_args(struct policy_ctx *c, struct match_parse *mp, size_t which, size_t base, size_t n,
			  const char *list, uint32_t *slot)
{
	if (mp->slots[which] >= n)
		return policy_error(c, policy_node(c, mp->args->data.sequence.items.start[which]),
				    "args[%zu] = %u does not name an entry of the hook's %s (it has %zu)", which,
				    mp->slots[which], list, n);
	*slot = (uint32_t)base + mp->slots[which];
	return 0;
}

/* Fill m.arg_slot and m.index from index or args. */
static int resolve(struct policy_ctx *c, yaml_node_t *item, enum policy_match_kind kind, struct match_parse *mp)
{
	const struct vigil_hook *h = c->hook;
	size_t nspec = c->hook_nspec_args, ndata = h->nargs - c->hook_nspec_args, i;
	yaml_node_t *at = mp->index ? mp->index : item;
	int err;

	if (kind == POLICY_MATCH_RETURN_ARGS) {
		if (mp->args)
			return policy_error(c, mp->args, "matchReturnArgs filters the returnArg: use index, not args");
		if (mp->m.index != h->return_arg.index)
			return policy_error(c, at, "index %u is not the returnArg's index (%u)", mp->m.index,
					    h->return_arg.index);
		mp->m.arg_slot = 0;
		return 0;
	}
	if (mp->args) {
		err = kind == POLICY_MATCH_DATA ? slot_from_args(c, mp, 0, nspec, ndata, "data", &mp->m.arg_slot) :
						  slot_from_args(c, mp, 0, 0, nspec, "args", &mp->m.arg_slot);
		if (!err)
			mp->m.index = h->args[mp->m.arg_slot].index;
		return err;
	}
	if (kind == POLICY_MATCH_DATA) {
		/* Tetragon's dataIndexType: matchData's index is a position in data */
		if (mp->m.index >= ndata)
			return policy_error(c, at, "index %u does not name a data entry (the hook has %zu)",
					    mp->m.index, ndata);
		mp->m.arg_slot = (uint32_t)(nspec + mp->m.index);
		mp->m.index = h->args[mp->m.arg_slot].index;
		return 0;
	}
	for (i = 0; i < nspec; i++) {
		if (h->args[i].index == mp->m.index) {
			mp->m.arg_slot = (uint32_t)i;
			return 0;
		}
	}
	/* Tetragon's tracepoints fall back to a position in args when no arg declares the
	 * index (InitKernelSelectors rewrites only the indexes it finds), and its examples
	 * rely on it (killer.yaml: args [{index: 4}], matchArgs index 0) */
	if (h->kind == VIGIL_HOOK_TRACEPOINT && mp->m.index < nspec) {
		mp->m.arg_slot = mp->m.index;
		mp->m.index = h->args[mp->m.arg_slot].index;
		return 0;
	}
	return policy_error(c, at, "index %u is not declared in the hook's args", mp->m.index);
}

static const struct vigil_policy_arg *target(const struct policy_ctx *c, enum policy_match_kind kind, uint32_t slot)
{
	return kind == POLICY_MATCH_RETURN_ARGS ? &c->hook->return_arg : &c->hook->args[slot];
}

/* CapabilitiesGained compares two cap arguments, args: [a, b], and matches when b holds a
 * capability a lacks (Tetragon's (a ^ b) & b; its test passes the old set first). vigil_match_arg
 * has one slot, so b's slot travels as the single value, in decimal. */
static int entry_cap_gained(struct policy_ctx *c, yaml_node_t *item, enum policy_match_kind kind,
			    struct match_parse *mp)
{
	const struct vigil_hook *h = c->hook;
	uint32_t old = 0;
	char buf[16];
	int err;

	if (kind != POLICY_MATCH_ARGS || mp->nslots != 2)
		return policy_error(c, mp->op, "CapabilitiesGained needs matchArgs with args: [before, after]");
	err = slot_from_args(c, mp, 1, 0, c->hook_nspec_args, "args", &old);
	if (err)
		return err;
	/* rule_for() let an auto first argument through: the format file cannot make it a mask */
	if (type_class[h->args[old].type] != C_CAPS || type_class[h->args[mp->m.arg_slot].type] != C_CAPS)
		return policy_error(c, mp->args, "CapabilitiesGained compares two kernel_cap_t arguments");
	snprintf(buf, sizeof(buf), "%u", old);
	mp->m.values = calloc(1, sizeof(*mp->m.values));
	if (!mp->m.values)
		return policy_nomem(c);
	mp->m.values[0] = strdup(buf);
	if (!mp->m.values[0])
		return policy_nomem(c);
	mp->m.nvalues = 1;
	return 0;
}

/* Tetragon trims one trailing NUL from string values (its CVE-2023-2640 example matches
 * "security.capability\0"), so string arguments take one; a NUL anywhere else cannot live
 * in the C strings the tree keeps, and policy_strdup() refuses it. */
static int value_dup(struct policy_ctx *c, yaml_node_t *v, bool trim_nul, char **out)
{
	const char *s;

	if (!trim_nul || v->type != YAML_SCALAR_NODE || !v->data.scalar.length)
		return policy_strdup(c, v, "values", out);
	s = (const char *)v->data.scalar.value;
	if (strlen(s) != v->data.scalar.length - 1)
		return policy_strdup(c, v, "values", out);
	*out = strdup(s);
	return *out ? 0 : policy_nomem(c);
}

static int entry_values(struct policy_ctx *c, const struct rule *r, const struct match *m, struct match_parse *mp)
{
	bool any = type_class[m->type] == C_ANY;
	size_t i, n, max = r->max;
	yaml_node_t *v;
	int err;

	/* an auto argument may turn out a string: counts and values wait for its type */
	if (any && max)
		max = MANY;
	n = mp->values ? policy_seq_len(mp->values) : 0;
	if (!max) {
		if (n)
			return policy_error(c, mp->values, "operator %s takes no values", m->op_name);
		return 0;
	}
	if (!n)
		return policy_error(c, mp->values ? mp->values : mp->op, "operator %s needs values", m->op_name);
	if (n > max)
		return policy_error(c, policy_node(c, mp->values->data.sequence.items.start[max]),
				    "too many values for %s (max %zu)%s", m->op_name, max,
				    r->check == v_int ? ": use InMap or NotInMap" : "");
	mp->m.values = calloc(n, sizeof(*mp->m.values));
	if (!mp->m.values)
		return policy_nomem(c);
	for (i = 0, err = 0; !err && i < n; i++) {
		v = policy_seq_item(c, mp->values, i);
		err = v ? value_dup(c, v, m->type == VIGIL_ARG_STRING, &mp->m.values[i]) : -EINVAL;
		mp->m.nvalues = i + 1;
		if (!err && r->check && !any)
			err = r->check(c, m, v, mp->m.values[i]);
	}
	return err;
}

static int parse_entry(struct policy_ctx *c, yaml_node_t *item, enum policy_match_kind kind, struct match_parse *mp)
{
	const struct vigil_policy_arg *a;
	const struct rule *r;
	struct match m;
	int err;

	err = policy_parse_map(c, item, NULL, entry_fields, VIGIL_ARRAY_SIZE(entry_fields), mp);
	if (!err)
		err = policy_str(c, mp->op, "operator", &m.op_name);
	if (err)
		return err;
	err = policy_op_lookup(m.op_name, &m.op);
	if (err == -ENOTSUP)
		return policy_error(c, mp->op, "operator \"%s\" is not supported yet", m.op_name);
	if (err)
		return policy_error(c, mp->op, "unknown operator \"%s\"", m.op_name);
	if (mp->values && (err = policy_expect(c, mp->values, YAML_SEQUENCE_NODE, "values")))
		return err;
	if (mp->nslots == 2 && m.op != VIGIL_OP_CAPABILITIES_GAINED)
		return policy_error(c, mp->args, "args names two arguments only for CapabilitiesGained");
	err = resolve(c, item, kind, mp);
	if (err)
		return err;
	a = target(c, kind, mp->m.arg_slot);
	m.type = a->type;
	m.type_name = a->type_name;
	mp->m.op = m.op;
	r = rule_for(m.op, m.type);
	if (!r)
		return policy_error(c, mp->op, "operator \"%s\" is not valid for argument type \"%s\"", m.op_name,
				    m.type_name);
	if (m.op == VIGIL_OP_CAPABILITIES_GAINED) {
		if (mp->values && policy_seq_len(mp->values))
			return policy_error(c, mp->values, "operator %s takes no values", m.op_name);
		return entry_cap_gained(c, item, kind, mp);
	}
	return entry_values(c, r, &m, mp);
}

static const char *const list_names[] = {
	[POLICY_MATCH_ARGS] = "matchArgs",
	[POLICY_MATCH_DATA] = "matchData",
	[POLICY_MATCH_RETURN_ARGS] = "matchReturnArgs",
};

int policy_parse_match_args(struct policy_ctx *c, yaml_node_t *seq, enum policy_match_kind kind,
			    struct vigil_match_arg *out, size_t *count)
{
	struct match_parse mp;
	yaml_node_t *item;
	size_t i, len;
	int err = 0;

	for (i = 0; i < policy_seq_len(seq) && !err; i++) {
		item = policy_seq_item(c, seq, i);
		if (!item)
			return -EINVAL;
		len = policy_path_key(c, list_names[kind]);
		policy_path_index(c, i);
		memset(&mp, 0, sizeof(mp));
		mp.m.pos = policy_pos(item);
		err = parse_entry(c, item, kind, &mp);
		/* the caller's array owns the values from here, failed or not */
		out[(*count)++] = mp.m;
		policy_path_pop(c, len);
	}
	return err;
}
