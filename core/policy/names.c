/* names.c - the CRD's names for argument types, operators and actions, as const tables:
 * the canonical spelling of each enum value and every alias Tetragon accepts. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "policy_internal.h"

/* ---- argument types ---- */

static const char *const type_names[VIGIL_ARG_TYPE_COUNT] = {
	[VIGIL_ARG_NOP] = "nop",
	[VIGIL_ARG_AUTO] = "auto",
	[VIGIL_ARG_INT] = "int",
	[VIGIL_ARG_SINT8] = "sint8",
	[VIGIL_ARG_UINT8] = "uint8",
	[VIGIL_ARG_SINT16] = "sint16",
	[VIGIL_ARG_UINT16] = "uint16",
	[VIGIL_ARG_UINT32] = "uint32",
	[VIGIL_ARG_LONG] = "long",
	[VIGIL_ARG_ULONG] = "ulong",
	[VIGIL_ARG_SIZE_T] = "size_t",
	[VIGIL_ARG_STRING] = "string",
	[VIGIL_ARG_CHAR_BUF] = "char_buf",
	[VIGIL_ARG_CHAR_IOVEC] = "char_iovec",
	[VIGIL_ARG_FD] = "fd",
	[VIGIL_ARG_FILE] = "file",
	[VIGIL_ARG_PATH] = "path",
	[VIGIL_ARG_DENTRY] = "dentry",
	[VIGIL_ARG_LINUX_BINPRM] = "linux_binprm",
	[VIGIL_ARG_FILENAME] = "filename",
	[VIGIL_ARG_SOCK] = "sock",
	[VIGIL_ARG_SOCKADDR] = "sockaddr",
	[VIGIL_ARG_SKB] = "skb",
	[VIGIL_ARG_CRED] = "cred",
	[VIGIL_ARG_CAPABILITY] = "capability",
	[VIGIL_ARG_KERNEL_CAP_T] = "kernel_cap_t",
	[VIGIL_ARG_SYSCALL64] = "syscall64",
	[VIGIL_ARG_DATA_LOC] = "data_loc",
	[VIGIL_ARG_CAP_INHERITABLE] = "cap_inheritable",
	[VIGIL_ARG_CAP_PERMITTED] = "cap_permitted",
	[VIGIL_ARG_CAP_EFFECTIVE] = "cap_effective",
	[VIGIL_ARG_SOCKET] = "socket",
	[VIGIL_ARG_NET_DEVICE] = "net_device",
	[VIGIL_ARG_SOCKADDR_UN] = "sockaddr_un",
	[VIGIL_ARG_BPF_ATTR] = "bpf_attr",
	[VIGIL_ARG_BPF_CMD] = "bpf_cmd",
	[VIGIL_ARG_BPF_PROG] = "bpf_prog",
	[VIGIL_ARG_BPF_MAP] = "bpf_map",
	[VIGIL_ARG_PERF_EVENT] = "perf_event",
	[VIGIL_ARG_USER_NAMESPACE] = "user_namespace",
	[VIGIL_ARG_LOAD_INFO] = "load_info",
	[VIGIL_ARG_MODULE] = "module",
	[VIGIL_ARG_KIOCB] = "kiocb",
	[VIGIL_ARG_IOV_ITER] = "iov_iter",
	[VIGIL_ARG_CONST_BUF] = "const_buf",
};

/* Aliases that collapse onto another type (the canonical names are found above). */
static const struct {
	const char *name;
	enum vigil_arg_type type;
} type_aliases[] = {
	{ "sint32", VIGIL_ARG_INT },		{ "int32", VIGIL_ARG_INT },
	{ "int8", VIGIL_ARG_SINT8 },		{ "int16", VIGIL_ARG_SINT16 },
	{ "sint64", VIGIL_ARG_LONG },		{ "int64", VIGIL_ARG_LONG },
	{ "uint64", VIGIL_ARG_ULONG },
};

const char *vigil_arg_type_name(enum vigil_arg_type t)
{
	return (unsigned int)t < VIGIL_ARG_TYPE_COUNT ? type_names[t] : NULL;
}

int policy_arg_type_lookup(const char *name, enum vigil_arg_type *out)
{
	size_t i;

	for (i = 0; i < VIGIL_ARG_TYPE_COUNT; i++) {
		if (!strcmp(name, type_names[i])) {
			*out = (enum vigil_arg_type)i;
			return 0;
		}
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(type_aliases); i++) {
		if (!strcmp(name, type_aliases[i].name)) {
			*out = type_aliases[i].type;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- operators ---- */

static const char *const op_names[VIGIL_OP_COUNT] = {
	[VIGIL_OP_EQUAL] = "Equal",
	[VIGIL_OP_NOT_EQUAL] = "NotEqual",
	[VIGIL_OP_PREFIX] = "Prefix",
	[VIGIL_OP_NOT_PREFIX] = "NotPrefix",
	[VIGIL_OP_POSTFIX] = "Postfix",
	[VIGIL_OP_NOT_POSTFIX] = "NotPostfix",
	[VIGIL_OP_GT] = "GT",
	[VIGIL_OP_LT] = "LT",
	[VIGIL_OP_MASK] = "Mask",
	[VIGIL_OP_IN_MAP] = "InMap",
	[VIGIL_OP_NOT_IN_MAP] = "NotInMap",
	[VIGIL_OP_IN_RANGE] = "InRange",
	[VIGIL_OP_NOT_IN_RANGE] = "NotInRange",
	[VIGIL_OP_SADDR] = "SAddr",
	[VIGIL_OP_NOT_SADDR] = "NotSAddr",
	[VIGIL_OP_DADDR] = "DAddr",
	[VIGIL_OP_NOT_DADDR] = "NotDAddr",
	[VIGIL_OP_SPORT] = "SPort",
	[VIGIL_OP_NOT_SPORT] = "NotSPort",
	[VIGIL_OP_SPORT_PRIV] = "SPortPriv",
	[VIGIL_OP_NOT_SPORT_PRIV] = "NotSPortPriv",
	[VIGIL_OP_DPORT] = "DPort",
	[VIGIL_OP_NOT_DPORT] = "NotDPort",
	[VIGIL_OP_DPORT_PRIV] = "DPortPriv",
	[VIGIL_OP_NOT_DPORT_PRIV] = "NotDPortPriv",
	[VIGIL_OP_PROTOCOL] = "Protocol",
	[VIGIL_OP_FAMILY] = "Family",
	[VIGIL_OP_STATE] = "State",
	[VIGIL_OP_FILE_TYPE] = "FileType",
	[VIGIL_OP_NOT_FILE_TYPE] = "NotFileType",
	[VIGIL_OP_CAPABILITIES_GAINED] = "CapabilitiesGained",
	[VIGIL_OP_SUBSTRING] = "SubString",
	[VIGIL_OP_IN] = "In",
	[VIGIL_OP_NOT_IN] = "NotIn",
};

/* The other spellings pkg/selectors/kernel.go SelectorOp() accepts (case-sensitive there). */
static const struct {
	const char *name;
	enum vigil_op op;
} op_aliases[] = {
	{ "eq", VIGIL_OP_EQUAL },		{ "neq", VIGIL_OP_NOT_EQUAL },
	{ "gt", VIGIL_OP_GT },			{ "GreaterThan", VIGIL_OP_GT },
	{ "lt", VIGIL_OP_LT },			{ "LessThan", VIGIL_OP_LT },
	{ "prefix", VIGIL_OP_PREFIX },		{ "notprefix", VIGIL_OP_NOT_PREFIX },
	{ "postfix", VIGIL_OP_POSTFIX },	{ "notpostfix", VIGIL_OP_NOT_POSTFIX },
	{ "mask", VIGIL_OP_MASK },
	{ "saddr", VIGIL_OP_SADDR },		{ "Saddr", VIGIL_OP_SADDR },
	{ "daddr", VIGIL_OP_DADDR },		{ "Daddr", VIGIL_OP_DADDR },
	{ "notsaddr", VIGIL_OP_NOT_SADDR },	{ "NotSaddr", VIGIL_OP_NOT_SADDR },
	{ "notdaddr", VIGIL_OP_NOT_DADDR },	{ "NotDaddr", VIGIL_OP_NOT_DADDR },
	{ "sport", VIGIL_OP_SPORT },		{ "Sport", VIGIL_OP_SPORT },
	{ "dport", VIGIL_OP_DPORT },		{ "Dport", VIGIL_OP_DPORT },
	{ "notsport", VIGIL_OP_NOT_SPORT },	{ "NotSport", VIGIL_OP_NOT_SPORT },
	{ "notdport", VIGIL_OP_NOT_DPORT },	{ "NotDport", VIGIL_OP_NOT_DPORT },
	{ "sportpriv", VIGIL_OP_SPORT_PRIV },	{ "SportPriv", VIGIL_OP_SPORT_PRIV },
	{ "dportpriv", VIGIL_OP_DPORT_PRIV },	{ "DportPriv", VIGIL_OP_DPORT_PRIV },
	{ "notsportpriv", VIGIL_OP_NOT_SPORT_PRIV }, { "NotSportPriv", VIGIL_OP_NOT_SPORT_PRIV },
	{ "notdportpriv", VIGIL_OP_NOT_DPORT_PRIV }, { "NotDportPriv", VIGIL_OP_NOT_DPORT_PRIV },
	{ "protocol", VIGIL_OP_PROTOCOL },	{ "family", VIGIL_OP_FAMILY },
	{ "state", VIGIL_OP_STATE },
};

/* Tetragon operators vigil has no kernel side for: SubStringIgnCase needs bpf_strncasestr
 * (newer than our 6.18 kernels), CelExpr a CEL-to-BPF compiler. (SubString parses; the
 * compiler refuses it on kernels without bpf_strnstr.) */
static const char *const ops_unsupported[] = { "SubStringIgnCase", "CelExpr" };

const char *vigil_op_name(enum vigil_op op)
{
	return (unsigned int)op < VIGIL_OP_COUNT ? op_names[op] : NULL;
}

int policy_op_lookup(const char *name, enum vigil_op *out)
{
	size_t i;

	for (i = 0; i < VIGIL_OP_COUNT; i++) {
		if (!strcmp(name, op_names[i])) {
			*out = (enum vigil_op)i;
			return 0;
		}
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(op_aliases); i++) {
		if (!strcmp(name, op_aliases[i].name)) {
			*out = op_aliases[i].op;
			return 0;
		}
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(ops_unsupported); i++)
		if (!strcmp(name, ops_unsupported[i]))
			return -ENOTSUP;
	return -ENOENT;
}

/* ---- actions ---- */

static const char *const action_names[VIGIL_ACTION_COUNT] = {
	[VIGIL_ACTION_POST] = "Post",
	[VIGIL_ACTION_NOPOST] = "NoPost",
	[VIGIL_ACTION_SIGKILL] = "Sigkill",
	[VIGIL_ACTION_SIGNAL] = "Signal",
	[VIGIL_ACTION_OVERRIDE] = "Override",
	[VIGIL_ACTION_NOTIFY_ENFORCER] = "NotifyEnforcer",
	[VIGIL_ACTION_GETURL] = "GetUrl",
	[VIGIL_ACTION_DNSLOOKUP] = "DnsLookup",
	[VIGIL_ACTION_TRACKSOCK] = "TrackSock",
	[VIGIL_ACTION_UNTRACKSOCK] = "UntrackSock",
	[VIGIL_ACTION_FOLLOWFD] = "FollowFD",
	[VIGIL_ACTION_UNFOLLOWFD] = "UnfollowFD",
	[VIGIL_ACTION_COPYFD] = "CopyFD",
	[VIGIL_ACTION_SET] = "Set",
};

/* CleanupEnforcerNotification is Tetragon-internal. */
static const char *const actions_unsupported[] = { "CleanupEnforcerNotification" };

const char *vigil_action_name(enum vigil_action_kind k)
{
	return (unsigned int)k < VIGIL_ACTION_COUNT ? action_names[k] : NULL;
}

/* Tetragon lowercases the action before its table lookup, so "sigkill" and "SIGKILL" work. */
int policy_action_lookup(const char *name, enum vigil_action_kind *out)
{
	size_t i;

	for (i = 0; i < VIGIL_ACTION_COUNT; i++) {
		if (!strcasecmp(name, action_names[i])) {
			*out = (enum vigil_action_kind)i;
			return 0;
		}
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(actions_unsupported); i++)
		if (!strcasecmp(name, actions_unsupported[i]))
			return -ENOTSUP;
	return -ENOENT;
}
