/* compile_selectors.c - a hook's selectors into struct vg_selector entries and the keys of
 * the instance's string, integer and address maps. The parser has checked operators against
 * argument types and the form of every value; here they become bytes the kernel compares. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bpf/btf.h>

#include "sensors_internal.h"

/* The kernel side reads these enums' values as its own. */
_Static_assert(VG_CAPSET_EFFECTIVE == (int)VIGIL_CAP_EFFECTIVE && VG_CAPSET_INHERITABLE == (int)VIGIL_CAP_INHERITABLE &&
		       VG_CAPSET_PERMITTED == (int)VIGIL_CAP_PERMITTED,
	       "enum vg_cap_set follows enum vigil_cap_set");
_Static_assert(VG_RATE_THREAD == (int)VIGIL_RATE_THREAD && VG_RATE_PROCESS == (int)VIGIL_RATE_PROCESS &&
		       VG_RATE_GLOBAL == (int)VIGIL_RATE_GLOBAL,
	       "enum vg_rate_scope follows enum vigil_rate_scope");

/* InMap ranges are expanded element by element into the hash map: bound the expansion. */
#define MAX_INMAP_ENTRIES 65536

static const struct {
	const char *name;
	uint64_t value;
} symbols[] = {
	{"AF_UNIX", 1}, {"AF_INET", 2}, {"AF_INET6", 10},
	{"IPPROTO_IP", 0}, {"IPPROTO_ICMP", 1}, {"IPPROTO_TCP", 6}, {"IPPROTO_UDP", 17},
	{"IPPROTO_ICMPV6", 58}, {"IPPROTO_RAW", 255},
	{"TCP_ESTABLISHED", 1}, {"TCP_SYN_SENT", 2}, {"TCP_SYN_RECV", 3}, {"TCP_FIN_WAIT1", 4},
	{"TCP_FIN_WAIT2", 5}, {"TCP_TIME_WAIT", 6}, {"TCP_CLOSE", 7}, {"TCP_CLOSE_WAIT", 8},
	{"TCP_LAST_ACK", 9}, {"TCP_LISTEN", 10}, {"TCP_CLOSING", 11}, {"TCP_NEW_SYN_RECV", 12},
};

static const struct {
	const char *name;
	unsigned int type;	/* S_IFMT >> 12 */
} file_types[] = {
	{"reg", S_IFREG >> 12}, {"regular", S_IFREG >> 12}, {"dir", S_IFDIR >> 12}, {"lnk", S_IFLNK >> 12},
	{"link", S_IFLNK >> 12}, {"symlink", S_IFLNK >> 12}, {"chr", S_IFCHR >> 12}, {"char", S_IFCHR >> 12},
	{"blk", S_IFBLK >> 12}, {"block", S_IFBLK >> 12}, {"fifo", S_IFIFO >> 12}, {"pipe", S_IFIFO >> 12},
	{"sock", S_IFSOCK >> 12}, {"socket", S_IFSOCK >> 12},
};

/* A number, a symbolic constant or a capability name. */
static int parse_value(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned int c;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(symbols); i++)
		if (!strcmp(s, symbols[i].name)) {
			*out = symbols[i].value;
			return 0;
		}
	for (c = 0; vigil_cap_name(c); c++)
		if (!strcmp(s, vigil_cap_name(c)) || (!strncmp(s, "CAP_", 4) && !strcmp(s + 4, vigil_cap_name(c)))) {
			*out = c;
			return 0;
		}
	errno = 0;
	*out = s[0] == '-' ? (uint64_t)strtoll(s, &end, 0) : strtoull(s, &end, 0);
	return errno || end == s || *end ? -EINVAL : 0;
}

/* "a:b" or "a" into [lo, hi]. */
static int parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	char buf[64];
	char *colon;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (!colon)
		return parse_value(buf, lo) ?: parse_value(buf, hi);
	*colon = '\0';
	return parse_value(buf, lo) ?: parse_value(colon + 1, hi);
}

static int bad_value(struct compile_ctx *ctx, struct vigil_pos pos, const char *v)
{
	return sensor_error(ctx, pos, -EINVAL, "value \"%s\" cannot be used here", v);
}

static int add_string_key(struct compile_ctx *ctx, struct compiled_hook *h, uint8_t kind, uint32_t filter,
			  const char *v, struct vigil_pos pos)
{
	size_t len = strlen(v), i;

	if (kind == VG_F_STR_EQ) {
		struct vg_str_key k = {.filter_id = filter, .len = (uint32_t)len};

		if (len > VG_STR_KEY - 1)
			return sensor_error(ctx, pos, -EINVAL, "value longer than %d bytes", VG_STR_KEY - 1);
		memcpy(k.data, v, len);
		return keys_push(&h->str_eq, &k);
	}
	if (kind == VG_F_STR_PREFIX) {
		struct vg_lpm_str_key k = {.prefixlen = 32 + 8 * (uint32_t)len, .filter_id = htonl(filter)};

		if (len > VG_PREFIX_KEY)
			return sensor_error(ctx, pos, -EINVAL, "Prefix value longer than %d bytes", VG_PREFIX_KEY);
		memcpy(k.data, v, len);
		return keys_push(&h->str_prefix, &k);
	} else {
		struct vg_lpm_str_key k = {.prefixlen = 32 + 8 * (uint32_t)len, .filter_id = htonl(filter)};

		if (len > VG_POSTFIX_KEY)
			return sensor_error(ctx, pos, -EINVAL, "Postfix value longer than %d bytes", VG_POSTFIX_KEY);
		for (i = 0; i < len; i++)
			k.data[i] = v[len - 1 - i];
		return keys_push(&h->str_postfix, &k);
	}
}

static int add_addr_key(struct compile_ctx *ctx, struct compiled_hook *h, uint32_t filter, const char *v,
			struct vigil_pos pos)
{
	char buf[64];
	char *slash;
	long bits = -1;

	snprintf(buf, sizeof(buf), "%s", v);
	slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (vigil_parse_long(slash + 1, 0, 128, &bits))
			return bad_value(ctx, pos, v);
	}
	if (strchr(buf, ':')) {
		struct vg_addr6_key k = {.filter_id = htonl(filter)};

		if (inet_pton(AF_INET6, buf, k.addr) != 1 || bits > 128)
			return bad_value(ctx, pos, v);
		k.prefixlen = 32 + (uint32_t)(bits < 0 ? 128 : bits);
		return keys_push(&h->addr6, &k);
	} else {
		struct vg_addr4_key k = {.filter_id = htonl(filter)};

		if (inet_pton(AF_INET, buf, k.addr) != 1 || bits > 32)
			return bad_value(ctx, pos, v);
		k.prefixlen = 32 + (uint32_t)(bits < 0 ? 32 : bits);
		return keys_push(&h->addr4, &k);
	}
}

/* The values of a policy list (spec.lists), for InMap "list:NAME". */
static const struct vigil_policy_list *find_list(struct compile_ctx *ctx, const char *name)
{
	size_t i;

	for (i = 0; i < ctx->policy->nlists; i++)
		if (!strcmp(ctx->policy->lists[i].name, name))
			return &ctx->policy->lists[i];
	return NULL;
}

static int add_int_keys(struct compile_ctx *ctx, struct compiled_hook *h, uint32_t filter, const char *v,
			struct vigil_pos pos)
{
	struct vg_int_key k = {.filter_id = filter};
	uint64_t lo, hi;
	int err;

	if (parse_range(v, &lo, &hi) || hi < lo)
		return bad_value(ctx, pos, v);
	if (hi - lo >= MAX_INMAP_ENTRIES || h->int_set.n + (hi - lo) >= MAX_INMAP_ENTRIES)
		return sensor_error(ctx, pos, -E2BIG, "InMap holds at most %d values per hook", MAX_INMAP_ENTRIES);
	for (k.value = lo;; k.value++) {
		err = keys_push(&h->int_set, &k);
		if (err || k.value == hi)
			return err;
	}
}

/* A "files" list value: the identity of the file at path now. */
static int file_of_path(const char *path, struct vigil_file_id *out)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	*out = (struct vigil_file_id){
		.dev = vigil_dev_to_kernel(st.st_dev),
		.uid = st.st_uid,
		.ino = st.st_ino,
		.mode = st.st_mode,
		.nlink = (uint32_t)st.st_nlink,
	};
	return 0;
}

/* A "list:NAME" value: record the reference and add the list's current values. */
static int expand_list(struct compile_ctx *ctx, struct compiled_hook *h, uint8_t kind, uint32_t filter,
		       const char *value, struct vigil_pos pos)
{
	const struct vigil_policy_list *l = find_list(ctx, value + 5);
	struct list_ref *ref;
	size_t i;
	int err;

	if (!l)
		return sensor_error(ctx, pos, -EINVAL, "no list named \"%s\" in spec.lists", value + 5);
	if ((l->type == VIGIL_LIST_FILES) != (kind == VG_F_FILE_ID))
		return sensor_error(ctx, pos, -EINVAL, "list %s: a files list matches only a file argument with "
				    "Equal or NotEqual, and only with other files lists", l->name);
	if (h->nlists == MAX_LIST_REFS)
		return sensor_error(ctx, pos, -E2BIG, "at most %d list references per hook", MAX_LIST_REFS);
	ref = &h->lists[h->nlists++];
	snprintf(ref->name, sizeof(ref->name), "%s", l->name);
	ref->filter_id = filter;
	ref->kind = kind;
	/* generated_syscalls: every syscall this build knows (Tetragon: every one of the arch) */
	for (i = 0; kind == VG_F_INT_MAP && l->type == VIGIL_LIST_GENERATED_SYSCALLS && syscall_nth(i) >= 0; i++) {
		struct vg_int_key k = {.filter_id = filter, .value = (uint64_t)syscall_nth(i)};

		err = keys_push(&h->int_set, &k);
		if (err)
			return err;
	}
	for (i = 0; i < l->nvalues; i++) {
		struct vigil_file_id file;
		struct list_value v = {.text = l->values[i]};
		union list_key key;

		if (kind == VG_F_INT_MAP && l->type == VIGIL_LIST_SYSCALLS) {
			int nr = syscall_nr(l->values[i]);

			if (nr < 0)
				return sensor_error(ctx, l->pos, -EINVAL, "list %s: unknown syscall \"%s\"", l->name,
						    l->values[i]);
			key.n = (struct vg_int_key){.filter_id = filter, .value = (uint64_t)nr};
		} else {
			if (kind == VG_F_FILE_ID) {
				err = file_of_path(l->values[i], &file);
				if (err)
					return sensor_error(ctx, l->pos, err, "list %s: cannot stat \"%s\": %s", l->name,
							    l->values[i], strerror(-err));
				v = (struct list_value){.file = &file};
			}
			if (list_key(ref, &v, &key))
				return sensor_error(ctx, l->pos, -EINVAL, "list %s: value \"%s\" cannot be used here",
						    l->name, l->values[i]);
		}
		err = keys_push(kind == VG_F_STR_EQ ? &h->str_eq : &h->int_set, &key);
		if (err)
			return err;
	}
	return 0;
}

int list_key(const struct list_ref *ref, const struct list_value *value, union list_key *key)
{
	uint64_t v;
	size_t len;

	memset(key, 0, sizeof(*key));
	switch (ref->kind) {
	case VG_F_STR_EQ:
		len = value->text ? strlen(value->text) : 0;
		if (!len || len > VG_STR_KEY - 1)
			return -EINVAL;
		key->s.filter_id = ref->filter_id;
		key->s.len = (uint32_t)len;
		memcpy(key->s.data, value->text, len);
		return 0;
	case VG_F_FILE_ID:
		if (!value->file || !value->file->dev)
			return -EINVAL;
		key->f.filter_id = ref->filter_id;
		key->f.dev = value->file->dev;
		key->f.ino = value->file->ino;
		return 0;
	default:
		if (!value->text || parse_value(value->text, &v))
			return -EINVAL;
		key->n.filter_id = ref->filter_id;
		key->n.value = v;
		return 0;
	}
}

/* Whether the Equal values of one matchArgs entry name "files" lists (all or none may). */
static int files_list_filter(struct compile_ctx *ctx, const struct vigil_match_arg *m, bool *files)
{
	const struct vigil_policy_list *l;
	size_t i, n = 0;

	for (i = 0; i < m->nvalues; i++) {
		l = strncmp(m->values[i], "list:", 5) ? NULL : find_list(ctx, m->values[i] + 5);
		n += l && l->type == VIGIL_LIST_FILES;
	}
	if (n && n != m->nvalues)
		return sensor_error(ctx, m->pos, -EINVAL, "a files list cannot be mixed with path strings or "
				    "other lists in one matchArgs entry");
	*files = n > 0;
	return 0;
}

static bool cap_set_type(enum vigil_arg_type t)
{
	return t == VIGIL_ARG_KERNEL_CAP_T || t == VIGIL_ARG_CAP_INHERITABLE || t == VIGIL_ARG_CAP_PERMITTED ||
	       t == VIGIL_ARG_CAP_EFFECTIVE;
}

static bool signed_type(enum vigil_arg_type t)
{
	return t == VIGIL_ARG_INT || t == VIGIL_ARG_LONG || t == VIGIL_ARG_SINT8 || t == VIGIL_ARG_SINT16;
}

/* How an operator's values become the filter's values or map keys. */
enum value_form {
	FORM_UNSUPPORTED,	/* not a matchArgs operator of this build */
	FORM_STRINGS,		/* string or path: keys of the rule's string kind (or "files" lists) */
	FORM_INTS,		/* numbers or symbols in values[] (capability sets: masks) */
	FORM_RANGES,		/* "lo:hi" or "n" as [lo, hi] pairs in values[] */
	FORM_PORTS,		/* as FORM_RANGES, each bound a port */
	FORM_PRIV_PORTS,	/* no values: the range [0, 1023] */
	FORM_INT_KEYS,		/* InMap: int_set keys, ranges expanded; "list:NAME" */
	FORM_ADDRS,		/* addresses and CIDRs: addr4 / addr6 keys */
	FORM_FILE_TYPES,	/* type names as a mask in values[0] */
	FORM_SECOND_SLOT,	/* CapabilitiesGained: the second argument's slot in values[0] */
	FORM_SUBSTRINGS,	/* str_sub entries (filter, k) -> value; the kernel's kfunc compares */
};

/* One matchArgs operator: which filter it compiles to, the field it reads, the comparison,
 * the negation, and how its values compile. The parser has already checked it against the
 * argument's type (policy/parse_match.c). */
struct op_rule {
	uint8_t kind;		/* enum vg_filter_kind */
	uint8_t field;		/* enum vg_field */
	uint8_t int_op;		/* enum vg_int_op */
	bool negate;		/* Not*: none of the values */
	bool also_int;		/* FORM_STRINGS: an argument of another class compares as an integer */
	enum value_form form;
};

static const struct op_rule op_rules[VIGIL_OP_COUNT] = {
	[VIGIL_OP_EQUAL] = {VG_F_STR_EQ, VG_FIELD_VALUE, VG_INT_EQ, false, true, FORM_STRINGS},
	[VIGIL_OP_NOT_EQUAL] = {VG_F_STR_EQ, VG_FIELD_VALUE, VG_INT_EQ, true, true, FORM_STRINGS},
	[VIGIL_OP_PREFIX] = {VG_F_STR_PREFIX, VG_FIELD_VALUE, 0, false, false, FORM_STRINGS},
	[VIGIL_OP_NOT_PREFIX] = {VG_F_STR_PREFIX, VG_FIELD_VALUE, 0, true, false, FORM_STRINGS},
	[VIGIL_OP_POSTFIX] = {VG_F_STR_POSTFIX, VG_FIELD_VALUE, 0, false, false, FORM_STRINGS},
	[VIGIL_OP_NOT_POSTFIX] = {VG_F_STR_POSTFIX, VG_FIELD_VALUE, 0, true, false, FORM_STRINGS},
	[VIGIL_OP_GT] = {VG_F_INT, VG_FIELD_VALUE, VG_INT_GT, false, false, FORM_INTS},
	[VIGIL_OP_LT] = {VG_F_INT, VG_FIELD_VALUE, VG_INT_LT, false, false, FORM_INTS},
	[VIGIL_OP_MASK] = {VG_F_INT, VG_FIELD_VALUE, VG_INT_MASK, false, false, FORM_INTS},
	[VIGIL_OP_IN_MAP] = {VG_F_INT_MAP, VG_FIELD_VALUE, 0, false, false, FORM_INT_KEYS},
	[VIGIL_OP_NOT_IN_MAP] = {VG_F_INT_MAP, VG_FIELD_VALUE, 0, true, false, FORM_INT_KEYS},
	[VIGIL_OP_IN_RANGE] = {VG_F_INT, VG_FIELD_VALUE, VG_INT_RANGE, false, false, FORM_RANGES},
	[VIGIL_OP_NOT_IN_RANGE] = {VG_F_INT, VG_FIELD_VALUE, VG_INT_RANGE, true, false, FORM_RANGES},
	[VIGIL_OP_SADDR] = {VG_F_ADDR, VG_FIELD_SADDR, 0, false, false, FORM_ADDRS},
	[VIGIL_OP_NOT_SADDR] = {VG_F_ADDR, VG_FIELD_SADDR, 0, true, false, FORM_ADDRS},
	[VIGIL_OP_DADDR] = {VG_F_ADDR, VG_FIELD_DADDR, 0, false, false, FORM_ADDRS},
	[VIGIL_OP_NOT_DADDR] = {VG_F_ADDR, VG_FIELD_DADDR, 0, true, false, FORM_ADDRS},
	[VIGIL_OP_SPORT] = {VG_F_PORT, VG_FIELD_SPORT, VG_INT_RANGE, false, false, FORM_PORTS},
	[VIGIL_OP_NOT_SPORT] = {VG_F_PORT, VG_FIELD_SPORT, VG_INT_RANGE, true, false, FORM_PORTS},
	[VIGIL_OP_SPORT_PRIV] = {VG_F_PORT, VG_FIELD_SPORT, VG_INT_RANGE, false, false, FORM_PRIV_PORTS},
	[VIGIL_OP_NOT_SPORT_PRIV] = {VG_F_PORT, VG_FIELD_SPORT, VG_INT_RANGE, true, false, FORM_PRIV_PORTS},
	[VIGIL_OP_DPORT] = {VG_F_PORT, VG_FIELD_DPORT, VG_INT_RANGE, false, false, FORM_PORTS},
	[VIGIL_OP_NOT_DPORT] = {VG_F_PORT, VG_FIELD_DPORT, VG_INT_RANGE, true, false, FORM_PORTS},
	[VIGIL_OP_DPORT_PRIV] = {VG_F_PORT, VG_FIELD_DPORT, VG_INT_RANGE, false, false, FORM_PRIV_PORTS},
	[VIGIL_OP_NOT_DPORT_PRIV] = {VG_F_PORT, VG_FIELD_DPORT, VG_INT_RANGE, true, false, FORM_PRIV_PORTS},
	[VIGIL_OP_FAMILY] = {VG_F_INT, VG_FIELD_FAMILY, VG_INT_EQ, false, false, FORM_INTS},
	[VIGIL_OP_PROTOCOL] = {VG_F_INT, VG_FIELD_PROTOCOL, VG_INT_EQ, false, false, FORM_INTS},
	[VIGIL_OP_STATE] = {VG_F_INT, VG_FIELD_STATE, VG_INT_EQ, false, false, FORM_INTS},
	[VIGIL_OP_FILE_TYPE] = {VG_F_FILE_TYPE, VG_FIELD_VALUE, 0, false, false, FORM_FILE_TYPES},
	[VIGIL_OP_NOT_FILE_TYPE] = {VG_F_FILE_TYPE, VG_FIELD_VALUE, 0, true, false, FORM_FILE_TYPES},
	[VIGIL_OP_CAPABILITIES_GAINED] = {VG_F_CAPS_GAINED, VG_FIELD_VALUE, 0, false, false, FORM_SECOND_SLOT},
	[VIGIL_OP_SUBSTRING] = {VG_F_STR_SUB, VG_FIELD_VALUE, 0, false, false, FORM_SUBSTRINGS},
};

_Static_assert(VIGIL_POLICY_MAX_SUBSTRINGS <= VG_MAX_VALUES, "SubString values fit a filter");

/* Whether the running kernel offers kfunc `name` (its BTF lists it). */
static bool kernel_has_kfunc(const struct compile_ctx *ctx, const char *name)
{
	return ctx->vmlinux && btf__find_by_name_kind(ctx->vmlinux, name, BTF_KIND_FUNC) > 0;
}

/* SubString: each value an str_sub entry the kernel's bpf_strnstr (Linux 6.17+) looks for;
 * the hook then loads bpf/generic_strnstr.bpf.c. */
static int compile_substrings(struct compile_ctx *ctx, uint8_t cls,
			      const struct vigil_match_arg *m, struct compiled_hook *h, struct vg_arg_filter *f,
			      uint32_t filter)
{
	size_t i;
	int err;

	if (!kernel_has_kfunc(ctx, "bpf_strnstr"))
		return sensor_error(ctx, m->pos, -EOPNOTSUPP, "SubString needs the bpf_strnstr kfunc (Linux 6.17+); "
				    "this kernel lacks it");
	if (cls != VG_CLASS_STRING && cls != VG_CLASS_PATH)
		return sensor_error(ctx, m->pos, -EINVAL, "operator %s needs a string argument", vigil_op_name(m->op));
	if (m->nvalues > VG_MAX_VALUES)
		return sensor_error(ctx, m->pos, -E2BIG, "at most %d SubString values", VG_MAX_VALUES);
	for (i = 0; i < m->nvalues; i++) {
		struct substring_entry e = {.key = {.filter_id = filter, .index = (uint32_t)i}};
		size_t len = strlen(m->values[i]);

		if (!len || len > VG_STR_KEY - 1)
			return bad_value(ctx, m->pos, m->values[i]);
		e.value.filter_id = filter;
		e.value.len = (uint32_t)len;
		memcpy(e.value.data, m->values[i], len);	/* NUL-padded: the kfunc reads a C string */
		err = keys_push(&h->str_sub, &e);
		if (err)
			return err;
	}
	f->nvalues = (uint8_t)m->nvalues;
	h->uses_strnstr = true;
	return 0;
}

/* The integer comparisons: each value a number or a symbol; capability sets take masks
 * ("CAP_A,CAP_B" is both bits), not capability numbers. */
static int compile_ints(struct compile_ctx *ctx, enum vigil_arg_type type, const struct vigil_match_arg *m,
			struct vg_arg_filter *f)
{
	size_t i;

	if (m->nvalues > VG_MAX_VALUES)
		return sensor_error(ctx, m->pos, -E2BIG, "at most %d values (use InMap for more)", VG_MAX_VALUES);
	for (i = 0; i < m->nvalues; i++) {
		uint64_t v;

		if (cap_set_type(type) ? vigil_policy_parse_cap_mask(m->values[i], &v) : parse_value(m->values[i], &v))
			return bad_value(ctx, m->pos, m->values[i]);
		f->values[i] = v;
	}
	f->nvalues = (uint8_t)m->nvalues;
	return 0;
}

/* Equal, Prefix, Postfix and their Not*: keys of the string kind on strings and paths, the
 * file identities of "files" lists on paths, and (Equal, NotEqual) integers otherwise. */
static int compile_strings(struct compile_ctx *ctx, const struct op_rule *r, enum vigil_arg_type type, uint8_t cls,
			   const struct vigil_match_arg *m, struct compiled_hook *h, struct vg_arg_filter *f,
			   uint32_t filter)
{
	bool files = false;
	size_t i;
	int err;

	err = files_list_filter(ctx, m, &files);
	if (err)
		return err;
	if (files) {
		if (cls != VG_CLASS_PATH || r->kind != VG_F_STR_EQ)
			return sensor_error(ctx, m->pos, -EINVAL, "a files list matches only a file argument "
					    "(file, fd, path, dentry, linux_binprm) with Equal or NotEqual");
		f->kind = VG_F_FILE_ID;
		for (i = 0; i < m->nvalues && !err; i++)
			err = expand_list(ctx, h, VG_F_FILE_ID, filter, m->values[i], m->pos);
		return err;
	}
	if (cls == VG_CLASS_STRING || cls == VG_CLASS_PATH) {
		f->kind = r->kind;
		for (i = 0; i < m->nvalues && !err; i++)
			err = f->kind == VG_F_STR_EQ && !strncmp(m->values[i], "list:", 5)
				      ? expand_list(ctx, h, VG_F_STR_EQ, filter, m->values[i], m->pos)
				      : add_string_key(ctx, h, f->kind, filter, m->values[i], m->pos);
		return err;
	}
	if (!r->also_int)
		return sensor_error(ctx, m->pos, -EINVAL, "operator %s needs a string argument", vigil_op_name(m->op));
	f->kind = VG_F_INT;
	return compile_ints(ctx, type, m, f);
}

/* "lo:hi" or "n" values as [lo, hi] pairs; ports are at most 65535. */
static int compile_ranges(struct compile_ctx *ctx, const struct vigil_match_arg *m, struct vg_arg_filter *f,
			  bool ports)
{
	uint64_t lo, hi;
	size_t i;

	if (m->nvalues * 2 > VG_MAX_VALUES)
		return sensor_error(ctx, m->pos, -E2BIG, ports ? "at most %d ports or port ranges" : "at most %d ranges",
				    VG_MAX_VALUES / 2);
	for (i = 0; i < m->nvalues; i++) {
		if (parse_range(m->values[i], &lo, &hi) || (ports && hi > 65535))
			return bad_value(ctx, m->pos, m->values[i]);
		f->values[2 * i] = lo;
		f->values[2 * i + 1] = hi;
	}
	f->nvalues = (uint8_t)(2 * m->nvalues);
	return 0;
}

static int compile_file_types(struct compile_ctx *ctx, const struct vigil_match_arg *m, struct vg_arg_filter *f)
{
	size_t i, t;

	for (i = 0; i < m->nvalues; i++) {
		for (t = 0; t < VIGIL_ARRAY_SIZE(file_types); t++)
			if (!strcmp(m->values[i], file_types[t].name))
				break;
		if (t == VIGIL_ARRAY_SIZE(file_types))
			return bad_value(ctx, m->pos, m->values[i]);
		f->values[0] |= 1ULL << file_types[t].type;
	}
	f->nvalues = 1;
	return 0;
}

/* Translate one matchArgs entry. type and cls are those of the value filtered: an
 * argument's, or a return value's. */
static int compile_arg_filter(struct compile_ctx *ctx, enum vigil_arg_type type, uint8_t cls,
			      const struct vigil_match_arg *m, struct compiled_hook *h, struct vg_arg_filter *f,
			      uint32_t filter)
{
	const struct op_rule *r = (unsigned int)m->op < VIGIL_OP_COUNT ? &op_rules[m->op] : NULL;
	uint64_t other;
	size_t i;
	int err = 0;

	if (!r || r->form == FORM_UNSUPPORTED)
		return sensor_error(ctx, m->pos, -EOPNOTSUPP, "operator %s is not supported by vigil yet",
				    vigil_op_name(m->op));
	if (type == VIGIL_ARG_SKB && m->op == VIGIL_OP_STATE)
		return sensor_error(ctx, m->pos, -EINVAL, "operator State needs a sock: a packet (skb) has no TCP state");
	f->slot = (uint8_t)m->arg_slot;
	f->filter_id = filter;
	f->is_signed = signed_type(type);
	f->negate = r->negate;
	f->kind = r->kind;
	f->field = r->field;
	f->int_op = r->int_op;
	switch (r->form) {
	case FORM_STRINGS:
		return compile_strings(ctx, r, type, cls, m, h, f, filter);
	case FORM_INTS:
		return compile_ints(ctx, type, m, f);
	case FORM_RANGES:
	case FORM_PORTS:
		return compile_ranges(ctx, m, f, r->form == FORM_PORTS);
	case FORM_PRIV_PORTS:
		f->values[0] = 0;
		f->values[1] = 1023;
		f->nvalues = 2;
		return 0;
	case FORM_INT_KEYS:
		for (i = 0; i < m->nvalues && !err; i++)
			err = !strncmp(m->values[i], "list:", 5) ? expand_list(ctx, h, VG_F_INT_MAP, filter, m->values[i], m->pos)
								 : add_int_keys(ctx, h, filter, m->values[i], m->pos);
		return err;
	case FORM_ADDRS:
		for (i = 0; i < m->nvalues && !err; i++)
			err = add_addr_key(ctx, h, filter, m->values[i], m->pos);
		return err;
	case FORM_FILE_TYPES:
		return compile_file_types(ctx, m, f);
	case FORM_SECOND_SLOT:
		/* the parser put the second argument's slot in values[0] */
		if (m->nvalues != 1 || parse_value(m->values[0], &other) || other >= VG_MAX_ARGS)
			return bad_value(ctx, m->pos, m->nvalues ? m->values[0] : "");
		f->values[0] = other;
		f->nvalues = 1;
		return 0;
	case FORM_SUBSTRINGS:
		return compile_substrings(ctx, cls, m, h, f, filter);
	case FORM_UNSUPPORTED:
		break;
	}
	return -EINVAL;
}

static int compile_binaries(struct compile_ctx *ctx, const struct vigil_match_binaries *m, struct compiled_hook *h,
			    struct vg_binary_filter *f, uint32_t filter, bool parent)
{
	uint8_t kind = m->op == VIGIL_OP_IN || m->op == VIGIL_OP_NOT_IN		 ? VG_F_STR_EQ
		       : m->op == VIGIL_OP_PREFIX || m->op == VIGIL_OP_NOT_PREFIX ? VG_F_STR_PREFIX
										  : VG_F_STR_POSTFIX;
	size_t i;
	int err = 0;

	f->kind = kind;
	f->negate = m->op == VIGIL_OP_NOT_IN || m->op == VIGIL_OP_NOT_PREFIX || m->op == VIGIL_OP_NOT_POSTFIX;
	f->follow = m->follow_children;
	f->parent = parent;
	f->filter_id = filter;
	for (i = 0; i < m->nvalues && !err; i++)
		err = kind == VG_F_STR_EQ && !strncmp(m->values[i], "list:", 5)
			      ? expand_list(ctx, h, VG_F_STR_EQ, filter, m->values[i], m->pos)
			      : add_string_key(ctx, h, kind, filter, m->values[i], m->pos);
	return err;
}

/* TrackSock/UntrackSock: argSock is a position in the hook's args (as Tetragon's argsoff),
 * and the argument there must be a sock or socket. */
static int sock_action_arg(struct compile_ctx *ctx, const struct vigil_hook *hook, const struct vigil_action *a)
{
	if (a->kind != VIGIL_ACTION_TRACKSOCK && a->kind != VIGIL_ACTION_UNTRACKSOCK)
		return 0;
	if (a->arg_sock >= hook->nargs || hook->args[a->arg_sock].data ||
	    (hook->args[a->arg_sock].type != VIGIL_ARG_SOCK && hook->args[a->arg_sock].type != VIGIL_ARG_SOCKET))
		return sensor_error(ctx, a->pos, -EINVAL, "%s: argSock %u must name a sock or socket argument of the "
				    "hook (its position in args)", vigil_action_name(a->kind), a->arg_sock);
	return 0;
}

static int compile_action(struct compile_ctx *ctx, const struct vigil_action *a, struct vg_action_spec *out)
{
	switch (a->kind) {
	case VIGIL_ACTION_TRACKSOCK:
	case VIGIL_ACTION_UNTRACKSOCK:
		out->kind = a->kind == VIGIL_ACTION_TRACKSOCK ? VG_ACT_TRACKSOCK : VG_ACT_UNTRACKSOCK;
		out->arg = (int32_t)a->arg_sock;	/* the slot: sock_action_arg checked it */
		return 0;
	case VIGIL_ACTION_POST:
		out->kind = VG_ACT_POST;
		out->rate_limit_ns = (uint64_t)a->rate_limit_ms * 1000000ULL;
		out->rate_scope = (uint8_t)a->rate_scope;
		out->stacks = (a->kernel_stack ? VG_STACK_KERNEL : 0) | (a->user_stack ? VG_STACK_USER : 0);
		out->ima_hash = a->ima_hash;	/* mechanism.c set cfg.ima_from for the program */
		return 0;
	case VIGIL_ACTION_NOPOST:
		out->kind = VG_ACT_NOPOST;
		return 0;
	case VIGIL_ACTION_SIGKILL:
		out->kind = VG_ACT_SIGKILL;
		return 0;
	case VIGIL_ACTION_SIGNAL:
	case VIGIL_ACTION_NOTIFY_ENFORCER:	/* argSig alone: sent at the notifying hook itself */
		out->kind = VG_ACT_SIGNAL;
		out->arg = a->arg_sig;
		return 0;
	case VIGIL_ACTION_OVERRIDE:
		out->kind = VG_ACT_OVERRIDE;
		out->arg = a->arg_error > 0 ? -a->arg_error : a->arg_error;
		return 0;
	case VIGIL_ACTION_SET:	/* mechanism.c checked the argument lives in memory */
		out->kind = VG_ACT_SET;
		out->arg = a->arg_value;
		out->set_arg_index = a->arg_index;
		return 0;
	default:
		return sensor_error(ctx, a->pos, -EOPNOTSUPP, "action %s is not supported by vigil", vigil_action_name(a->kind));
	}
}

/* matchReturnArgs (on the return value, an integer) and matchReturnActions. */
static int compile_return(struct compile_ctx *ctx, const struct vigil_hook *hook, const struct vigil_selector *sel,
			  struct compiled_hook *h, struct vg_selector *out, uint32_t *next_filter)
{
	size_t j;
	int err;

	if ((sel->nreturn_args || sel->nreturn_actions) && !hook->is_return)
		return sensor_error(ctx, sel->pos, -EINVAL, "matchReturnArgs and matchReturnActions need return: true");
	if (sel->nreturn_args > VG_MAX_RET_FILTERS)
		return sensor_error(ctx, sel->pos, -E2BIG, "at most %d matchReturnArgs per selector", VG_MAX_RET_FILTERS);
	if (sel->nreturn_args && vg_arg_class(hook->return_arg.type) != VG_CLASS_INT)
		return sensor_error(ctx, sel->return_args[0].pos, -EOPNOTSUPP,
				    "matchReturnArgs on a returned %s is not supported by vigil yet (integers are)",
				    vigil_arg_type_name(hook->return_arg.type));
	for (j = 0; j < sel->nreturn_args; j++) {
		err = compile_arg_filter(ctx, hook->return_arg.type, VG_CLASS_INT, &sel->return_args[j], h,
					 &out->ret_args[j], (*next_filter)++);
		if (err)
			return err;
	}
	out->nret_args = (uint8_t)sel->nreturn_args;
	for (j = 0; j < sel->nreturn_actions; j++) {
		if (sel->return_actions[j].kind == VIGIL_ACTION_OVERRIDE)
			return sensor_error(ctx, sel->return_actions[j].pos, -EOPNOTSUPP,
					    "Override at the return is too late: the operation has happened");
		if (sel->return_actions[j].kind == VIGIL_ACTION_TRACKSOCK ||
		    sel->return_actions[j].kind == VIGIL_ACTION_UNTRACKSOCK)
			return sensor_error(ctx, sel->return_actions[j].pos, -EOPNOTSUPP,
					    "%s at the return: use the hook's returnArgAction",
					    vigil_action_name(sel->return_actions[j].kind));
		if (sel->return_actions[j].kind == VIGIL_ACTION_GETURL || sel->return_actions[j].kind == VIGIL_ACTION_DNSLOOKUP)
			return sensor_error(ctx, sel->return_actions[j].pos, -EOPNOTSUPP,
					    "%s is supported in matchActions, not in matchReturnActions",
					    vigil_action_name(sel->return_actions[j].kind));
		err = compile_action(ctx, &sel->return_actions[j], &out->ret_actions[j]);
		if (err)
			return err;
	}
	out->nret_actions = (uint8_t)sel->nreturn_actions;
	return 0;
}

/* The process filters of one selector: matchPIDs, matchNamespaces, matchNamespaceChanges,
 * matchCapabilities and matchCapabilityChanges. */
static int compile_process_filters(struct compile_ctx *ctx, const struct vigil_selector *sel, struct vg_selector *out)
{
	size_t j;

	if (sel->npids > VG_MAX_PID_FILTERS)
		return sensor_error(ctx, sel->pos, -E2BIG, "at most %d matchPIDs entries per selector",
				    VG_MAX_PID_FILTERS);
	for (j = 0; j < sel->npids; j++) {
		const struct vigil_match_pids *m = &sel->pids[j];

		out->pids[j].negate = m->op == VIGIL_OP_NOT_IN;
		out->pids[j].ns_pid = m->is_namespace_pid;
		out->pids[j].follow_forks = m->follow_forks;
		out->pids[j].nvalues = (uint8_t)m->nvalues;
		memcpy(out->pids[j].values, m->values, m->nvalues * sizeof(uint32_t));
	}
	out->npids = (uint8_t)sel->npids;

	if (sel->nnamespaces > VG_MAX_NS_FILTERS)
		return sensor_error(ctx, sel->pos, -E2BIG, "at most %d matchNamespaces entries", VG_MAX_NS_FILTERS);
	for (j = 0; j < sel->nnamespaces; j++) {
		const struct vigil_match_namespaces *m = &sel->namespaces[j];
		struct vg_ns_filter *f = &out->ns[j];
		size_t v;

		f->ns = (uint8_t)m->ns;
		f->negate = m->op == VIGIL_OP_NOT_IN;
		for (v = 0; v < m->nvalues && f->nvalues < VG_MAX_NS_VALUES; v++)
			f->values[f->nvalues++] = m->values[v];
		if (m->host_ns) {
			if (f->nvalues == VG_MAX_NS_VALUES)
				return sensor_error(ctx, m->pos, -E2BIG, "at most %d values", VG_MAX_NS_VALUES);
			f->values[f->nvalues++] = ctx->host_ns[m->ns];
		}
	}
	out->nns = (uint8_t)sel->nnamespaces;

	if (sel->nns_changes) {
		out->ns_changes_mask = sel->ns_changes[0].ns_mask;
		out->ns_changes_negate = sel->ns_changes[0].op == VIGIL_OP_NOT_IN;
	}
	if (sel->ncaps + sel->ncap_changes > VG_MAX_CAP_FILTERS)
		return sensor_error(ctx, sel->pos, -E2BIG, "at most %d capability filters per selector", VG_MAX_CAP_FILTERS);
	for (j = 0; j < sel->ncaps + sel->ncap_changes; j++) {
		bool changes = j >= sel->ncaps;
		const struct vigil_match_caps *m = changes ? &sel->cap_changes[j - sel->ncaps] : &sel->caps[j];

		out->caps[j].set = (uint8_t)m->type;
		out->caps[j].negate = m->op == VIGIL_OP_NOT_IN;
		out->caps[j].ns_only = m->is_namespace_capability;
		out->caps[j].changes = changes;
		out->caps[j].mask = m->mask;
	}
	out->ncaps = (uint8_t)(sel->ncaps + sel->ncap_changes);
	return 0;
}

int compile_selectors(struct compile_ctx *ctx, const struct vigil_hook *hook, struct compiled_hook *h)
{
	uint32_t next_filter = 1;
	size_t i, j;
	int err;

	if (hook->nselectors > VG_MAX_SELECTORS)
		return sensor_error(ctx, hook->pos, -E2BIG, "too many selectors (max %d)", VG_MAX_SELECTORS);
	h->cfg.nselectors = (uint32_t)hook->nselectors;
	for (i = 0; i < hook->nselectors; i++) {
		const struct vigil_selector *sel = &hook->selectors[i];
		struct vg_selector *out = &h->cfg.sel[i];

		err = compile_process_filters(ctx, sel, out);
		if (err)
			return err;
		if (sel->nbinaries) {
			err = compile_binaries(ctx, &sel->binaries[0], h, &out->binary, next_filter++, false);
			if (err)
				return err;
			out->has_binary = 1;
		}
		if (sel->nparent_binaries) {
			err = compile_binaries(ctx, &sel->parent_binaries[0], h, &out->parent_binary, next_filter++, true);
			if (err)
				return err;
			out->has_parent_binary = 1;
		}
		if (sel->nargs > VG_MAX_MATCH_ARGS)
			return sensor_error(ctx, sel->pos, -E2BIG, "at most %d matchArgs per selector", VG_MAX_MATCH_ARGS);
		for (j = 0; j < sel->nargs; j++) {
			const struct vigil_match_arg *m = &sel->args[j];

			err = compile_arg_filter(ctx, hook->args[m->arg_slot].type, h->cfg.args[m->arg_slot].class, m, h,
						 &out->args[j], next_filter++);
			if (err)
				return err;
		}
		err = compile_return(ctx, hook, sel, h, out, &next_filter);
		if (err)
			return err;
		out->nargs = (uint8_t)sel->nargs;

		out->nactions = 0;
		for (j = 0; j < sel->nactions; j++) {
			/* GetUrl and DnsLookup are the agent's (hook info's canaries): the kernel
			 * only posts the record, which names the selector */
			if (sel->actions[j].kind == VIGIL_ACTION_GETURL || sel->actions[j].kind == VIGIL_ACTION_DNSLOOKUP)
				continue;
			err = sock_action_arg(ctx, hook, &sel->actions[j]);
			if (!err)
				err = compile_action(ctx, &sel->actions[j], &out->actions[out->nactions++]);
			if (err)
				return err;
		}
		if (!sel->nactions) {	/* a selector without matchActions posts */
			out->actions[0].kind = VG_ACT_POST;
			out->nactions = 1;
		}
	}
	return 0;
}
