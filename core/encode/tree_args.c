/* tree_args.c - a policy event's argument as Tetragon's KprobeArgument: a map whose first
 * key names the oneof member holding the value ("int_arg", "file_arg", ...), then "label"
 * when the hook names the argument (pkg/grpc/tracing getKprobeArgument, tetragon.proto).
 *
 * A oneof member is written even at its default value (protojson does: {"int_arg":0});
 * inside the nested messages, fields at their default are left out like everywhere else.
 * Where Tetragon turns a number into a name (families, protocols, TCP states) an unknown
 * number is written in decimal, as Tetragon does; a zero is left out, since vigil's decoder
 * leaves zero in a field it could not read.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "encode_internal.h"
#include "../policy/policy.h"

/* What the argument becomes; 0 (skip) for types with no Tetragon spelling here. */
enum form {
	FORM_SKIP,
	FORM_INT,	/* int_arg: int32 */
	FORM_UINT,	/* uint_arg: uint32 */
	FORM_LONG,	/* long_arg: int64, a decimal string in protojson */
	FORM_SIZE,	/* size_arg: uint64, likewise */
	FORM_STRING,	/* string_arg */
	FORM_BYTES,	/* bytes_arg / truncated_bytes_arg: base64 */
	FORM_FILE,	/* file_arg {path, flags, permission} */
	FORM_PATH,	/* path_arg, same fields */
	FORM_BINPRM,	/* linux_binprm_arg, same fields */
	FORM_SOCK,	/* sock_arg */
	FORM_SOCKADDR,	/* sockaddr_arg, or sockaddrun_arg for AF_UNIX */
	FORM_CRED,	/* process_credentials_arg */
	FORM_CAPABILITY,	/* capability_arg {value, name} */
	FORM_CAP_MASK,	/* kernel_cap_t_arg, cap_{inheritable,permitted,effective}_arg: hex string */
	FORM_SYSCALL,	/* syscall_id {id, abi} */
	FORM_SKB,	/* skb_arg */
	FORM_NET_DEV,	/* net_dev_arg {name} */
	FORM_SOCKADDR_UN,	/* sockaddrun_arg, whatever the family */
	FORM_KOBJ,	/* kernel objects and bpf_cmd: tree_kobj.c */
};

static const enum form forms[VIGIL_ARG_TYPE_COUNT] = {
	[VIGIL_ARG_INT] = FORM_INT,		[VIGIL_ARG_SINT8] = FORM_INT,
	[VIGIL_ARG_SINT16] = FORM_INT,		[VIGIL_ARG_UINT8] = FORM_UINT,
	[VIGIL_ARG_UINT16] = FORM_UINT,		[VIGIL_ARG_UINT32] = FORM_UINT,
	[VIGIL_ARG_LONG] = FORM_LONG,		[VIGIL_ARG_ULONG] = FORM_SIZE,
	[VIGIL_ARG_SIZE_T] = FORM_SIZE,		[VIGIL_ARG_STRING] = FORM_STRING,
	[VIGIL_ARG_FILENAME] = FORM_STRING,	[VIGIL_ARG_DATA_LOC] = FORM_STRING,
	[VIGIL_ARG_CHAR_BUF] = FORM_BYTES,	[VIGIL_ARG_CHAR_IOVEC] = FORM_BYTES,
	[VIGIL_ARG_FD] = FORM_FILE,		[VIGIL_ARG_FILE] = FORM_FILE,
	[VIGIL_ARG_PATH] = FORM_PATH,		[VIGIL_ARG_DENTRY] = FORM_PATH,
	[VIGIL_ARG_LINUX_BINPRM] = FORM_BINPRM,	[VIGIL_ARG_SOCK] = FORM_SOCK,
	[VIGIL_ARG_SOCKADDR] = FORM_SOCKADDR,	[VIGIL_ARG_CRED] = FORM_CRED,
	[VIGIL_ARG_CAPABILITY] = FORM_CAPABILITY,	[VIGIL_ARG_KERNEL_CAP_T] = FORM_CAP_MASK,
	[VIGIL_ARG_SYSCALL64] = FORM_SYSCALL,
	[VIGIL_ARG_CAP_INHERITABLE] = FORM_CAP_MASK,	[VIGIL_ARG_CAP_PERMITTED] = FORM_CAP_MASK,
	[VIGIL_ARG_CAP_EFFECTIVE] = FORM_CAP_MASK,	[VIGIL_ARG_SOCKET] = FORM_SOCK,
	[VIGIL_ARG_SKB] = FORM_SKB,			[VIGIL_ARG_NET_DEVICE] = FORM_NET_DEV,
	[VIGIL_ARG_IOV_ITER] = FORM_BYTES,	[VIGIL_ARG_CONST_BUF] = FORM_BYTES,
	[VIGIL_ARG_KIOCB] = FORM_FILE,		[VIGIL_ARG_SOCKADDR_UN] = FORM_SOCKADDR_UN,
	[VIGIL_ARG_BPF_CMD] = FORM_KOBJ,	[VIGIL_ARG_BPF_ATTR] = FORM_KOBJ,
	[VIGIL_ARG_BPF_PROG] = FORM_KOBJ,	[VIGIL_ARG_BPF_MAP] = FORM_KOBJ,
	[VIGIL_ARG_PERF_EVENT] = FORM_KOBJ,	[VIGIL_ARG_USER_NAMESPACE] = FORM_KOBJ,
	[VIGIL_ARG_LOAD_INFO] = FORM_KOBJ,	[VIGIL_ARG_MODULE] = FORM_KOBJ,
};

/* The oneof member of a capability mask: each policy type has its own (tetragon.proto
 * KprobeArgument 22..25), so a consumer knows which set it is looking at. */
static const char *cap_mask_key(int type)
{
	switch (type) {
	case VIGIL_ARG_CAP_INHERITABLE:
		return "cap_inheritable_arg";
	case VIGIL_ARG_CAP_PERMITTED:
		return "cap_permitted_arg";
	case VIGIL_ARG_CAP_EFFECTIVE:
		return "cap_effective_arg";
	default:
		return "kernel_cap_t_arg";
	}
}

static enum form form_of(const struct vigil_event_arg *a)
{
	return a->type >= 0 && a->type < VIGIL_ARG_TYPE_COUNT ? forms[a->type] : FORM_SKIP;
}

/* An argument the kernel failed to read is still reported (as error_arg), so a policy
 * author sees which one went missing; nop stays silent either way. */
bool encode_arg_present(const struct vigil_event_arg *a)
{
	return form_of(a) != FORM_SKIP ||
	       (a->type > VIGIL_ARG_NOP && a->type < VIGIL_ARG_TYPE_COUNT && (a->flags & VIGIL_ARG_ERROR));
}

/* ---- names Tetragon gives socket numbers (pkg/reader/network/inet.go) ---- */

/* Linux address families, as golang.org/x/sys/unix names them; 22 (AF_SNA) is missing from
 * Tetragon's table, so it is written as a number there and here. */
static const char *const families[] = {
	[AF_UNIX] = "AF_UNIX",		[AF_INET] = "AF_INET",		[3] = "AF_AX25",
	[4] = "AF_IPX",			[5] = "AF_APPLETALK",		[6] = "AF_NETROM",
	[7] = "AF_BRIDGE",		[8] = "AF_ATMPVC",		[9] = "AF_X25",
	[AF_INET6] = "AF_INET6",	[11] = "AF_ROSE",		[12] = "AF_DECnet",
	[13] = "AF_NETBEUI",		[14] = "AF_SECURITY",		[15] = "AF_KEY",
	[16] = "AF_NETLINK",		[17] = "AF_PACKET",		[18] = "AF_ASH",
	[19] = "AF_ECONET",		[20] = "AF_ATMSVC",		[21] = "AF_RDS",
	[23] = "AF_IRDA",		[24] = "AF_PPPOX",		[25] = "AF_WANPIPE",
	[26] = "AF_LLC",		[27] = "AF_IB",			[28] = "AF_MPLS",
	[29] = "AF_CAN",		[30] = "AF_TIPC",		[31] = "AF_BLUETOOTH",
	[32] = "AF_IUCV",		[33] = "AF_RXRPC",		[34] = "AF_ISDN",
	[35] = "AF_PHONET",		[36] = "AF_IEEE802154",		[37] = "AF_CAIF",
	[38] = "AF_ALG",		[39] = "AF_NFC",		[40] = "AF_VSOCK",
	[41] = "AF_KCM",		[42] = "AF_QIPCRTR",		[43] = "AF_SMC",
	[44] = "AF_XDP",		[45] = "AF_MCTP",
};

/* sk_type as the kernel numbers it (include/linux/net.h enum sock_type). */
static const char *const sock_types[] = {
	[1] = "SOCK_STREAM",	[2] = "SOCK_DGRAM",	[3] = "SOCK_RAW",	[4] = "SOCK_RDM",
	[5] = "SOCK_SEQPACKET",	[6] = "SOCK_DCCP",	[10] = "SOCK_PACKET",
};

static const struct {
	uint16_t num;
	const char *name;
} protocols[] = {
	{ 1, "IPPROTO_ICMP" },	  { 2, "IPPROTO_IGMP" },     { 4, "IPPROTO_IPIP" },
	{ 6, "IPPROTO_TCP" },	  { 8, "IPPROTO_EGP" },	     { 12, "IPPROTO_PUP" },
	{ 17, "IPPROTO_UDP" },	  { 22, "IPPROTO_IDP" },     { 29, "IPPROTO_TP" },
	{ 33, "IPPROTO_DCCP" },	  { 41, "IPPROTO_IPV6" },    { 46, "IPPROTO_RSVP" },
	{ 47, "IPPROTO_GRE" },	  { 50, "IPPROTO_ESP" },     { 51, "IPPROTO_AH" },
	{ 58, "IPPROTO_ICMPV6" }, { 92, "IPPROTO_MTP" },     { 94, "IPPROTO_BEETPH" },
	{ 98, "IPPROTO_ENCAP" },  { 103, "IPPROTO_PIM" },    { 108, "IPPROTO_COMP" },
	{ 132, "IPPROTO_SCTP" },  { 136, "IPPROTO_UDPLITE" }, { 137, "IPPROTO_MPLS" },
	{ 143, "IPPROTO_ETHERNET" }, { 255, "IPPROTO_RAW" },  { 262, "IPPROTO_MPTCP" },
};

/* sk_state for TCP (include/net/tcp_states.h) */
static const char *const tcp_states[] = {
	[1] = "TCP_ESTABLISHED", [2] = "TCP_SYN_SENT",	 [3] = "TCP_SYN_RECV",
	[4] = "TCP_FIN_WAIT1",	 [5] = "TCP_FIN_WAIT2",	 [6] = "TCP_TIME_WAIT",
	[7] = "TCP_CLOSE",	 [8] = "TCP_CLOSE_WAIT", [9] = "TCP_LAST_ACK",
	[10] = "TCP_LISTEN",	 [11] = "TCP_CLOSING",	 [12] = "TCP_NEW_SYN_RECV",
};

/* name from a table indexed by number, else the number in decimal (into num) */
static const char *number_name(const char *const *names, size_t count, unsigned int v, char num[12])
{
	const char *name = v < count ? names[v] : NULL;

	if (!name) {
		snprintf(num, 12, "%u", v);
		name = num;
	}
	return name;
}

static const char *protocol_name(unsigned int v, char num[12])
{
	const char *name = NULL;
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(protocols); i++)
		if (protocols[i].num == v)
			name = protocols[i].name;
	if (!name) {
		snprintf(num, 12, "%u", v);
		name = num;
	}
	return name;
}

/* IPv4 from the first four bytes, IPv6 in RFC 5952 form; false for other families. */
static bool addr_text(uint16_t family, const uint8_t addr[16], char out[INET6_ADDRSTRLEN])
{
	return (family == AF_INET || family == AF_INET6) &&
	       inet_ntop(family, addr, out, INET6_ADDRSTRLEN);
}

/* ---- the members ---- */

static void put_kv_name(struct encode_tree *t, const char *key, const char *const *names, size_t count,
			unsigned int v)
{
	char num[12];

	encode_tree_kv_str(t, key, number_name(names, count, v, num));
}

static void put_kv_u64_text(struct encode_tree *t, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	encode_tree_kv_str(t, key, num);
}

static void put_text(struct encode_tree *t, const struct vigil_event_arg *a)
{
	encode_tree_strn(t, a->bytes ? a->bytes : "", a->bytes ? a->len : 0);
}

static void base64_sink(void *ctx, const char *s, size_t len)
{
	struct encode_tree *t = ctx;

	msgpack_pack_str_body(&t->pk, s, len);
}

/* protojson writes bytes as base64 text, so the tree holds that text: a msgpack bin here
 * would make the tree differ from the JSON it stands for. */
static void put_base64(struct encode_tree *t, const struct vigil_event_arg *a)
{
	size_t n = a->bytes ? a->len : 0;

	msgpack_pack_str(&t->pk, encode_base64_len(n));
	encode_base64(a->bytes, n, base64_sink, t);
}

/* orig_size: the size the call gave the buffer where the kernel side knew it (char_buf
 * with a size argument, iov_iter), else the length we have. */
static void put_bytes(struct encode_tree *t, const struct vigil_event_arg *a)
{
	size_t n = a->bytes ? a->len : 0;
	size_t orig = a->orig_len > n ? a->orig_len : n;

	if (a->flags & VIGIL_ARG_TRUNCATED) {
		encode_tree_str(t, "truncated_bytes_arg");
		msgpack_pack_map(&t->pk, n ? 2 : 0);
		if (n) {
			encode_tree_str(t, "bytes_arg");
			put_base64(t, a);
			put_kv_u64_text(t, "orig_size", orig);
		}
	} else {
		encode_tree_str(t, "bytes_arg");
		put_base64(t, a);
	}
}

/* Tetragon's FilePathModeToStr (pkg/reader/path): the type letter (none for an unknown
 * type), then rwx triplets with s/S and t/T as ls -l writes them. */
static void permission_text(uint32_t mode, char out[11])
{
	static const struct {
		uint32_t fmt;
		char c;
	} types[] = {
		{ S_IFBLK, 'b' }, { S_IFCHR, 'c' }, { S_IFDIR, 'd' }, { S_IFIFO, 'p' },
		{ S_IFLNK, 'l' }, { S_IFREG, '-' }, { S_IFSOCK, 's' },
	};
	static const uint32_t special[3] = { S_ISUID, S_ISGID, S_ISVTX };
	size_t i, n = 0;
	uint32_t bits;

	for (i = 0; i < VIGIL_ARRAY_SIZE(types); i++)
		if ((mode & S_IFMT) == types[i].fmt)
			out[n++] = types[i].c;
	for (i = 0; i < 3; i++) {
		bits = mode >> (6 - 3 * i);
		out[n++] = bits & 4 ? 'r' : '-';
		out[n++] = bits & 2 ? 'w' : '-';
		if (mode & special[i])
			out[n++] = (char)(bits & 1 ? (i == 2 ? 't' : 's') : (i == 2 ? 'T' : 'S'));
		else
			out[n++] = bits & 1 ? 'x' : '-';
	}
	out[n] = '\0';
}

/* KprobeFile / KprobePath / KprobeLinuxBinprm {path, flags, permission}. A path the kernel
 * could not walk to the root is what Tetragon flags "unresolvedPathComponents". A mode of
 * 0 means the decoder had no inode: no real file has it (every inode has a type), so the
 * permission is left out rather than printed as "---------". */
static void put_file(struct encode_tree *t, const char *key, const struct vigil_event_arg *a)
{
	bool path = a->bytes && a->len, trunc = a->flags & VIGIL_ARG_TRUNCATED;
	char perm[11];

	encode_tree_str(t, key);
	msgpack_pack_map(&t->pk, path + trunc + !!a->mode);
	if (path) {
		encode_tree_str(t, "path");
		put_text(t, a);
	}
	if (trunc)
		encode_tree_kv_str(t, "flags", "unresolvedPathComponents");
	if (a->mode) {
		permission_text(a->mode, perm);
		encode_tree_kv_str(t, "permission", perm);
	}
}

/* KprobeSock, fields in proto order. Addresses are written whenever the family has them:
 * "0.0.0.0" is a real (unbound) address, not a missing one. */
static void put_sock(struct encode_tree *t, const struct vigil_sock_info *s)
{
	char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN], num[12];
	bool addrs = addr_text(s->family, s->saddr, saddr) && addr_text(s->family, s->daddr, daddr);

	encode_tree_str(t, "sock_arg");
	msgpack_pack_map(&t->pk, !!s->family + !!s->type + !!s->protocol + !!s->mark + !!s->priority +
				 2 * addrs + !!s->sport + !!s->dport + !!s->cookie + !!s->state);
	if (s->family)
		put_kv_name(t, "family", families, VIGIL_ARRAY_SIZE(families), s->family);
	if (s->type)
		put_kv_name(t, "type", sock_types, VIGIL_ARRAY_SIZE(sock_types), s->type);
	if (s->protocol)
		encode_tree_kv_str(t, "protocol", protocol_name(s->protocol, num));
	if (s->mark)
		encode_tree_kv_u32(t, "mark", s->mark);
	if (s->priority)
		encode_tree_kv_u32(t, "priority", s->priority);
	if (addrs) {
		encode_tree_kv_str(t, "saddr", saddr);
		encode_tree_kv_str(t, "daddr", daddr);
	}
	if (s->sport)
		encode_tree_kv_u32(t, "sport", s->sport);
	if (s->dport)
		encode_tree_kv_u32(t, "dport", s->dport);
	if (s->cookie)
		put_kv_u64_text(t, "cookie", s->cookie);
	if (s->state)
		put_kv_name(t, "state", tcp_states, VIGIL_ARRAY_SIZE(tcp_states), s->state);
}

/* KprobeSkb, fields in proto order: proto is the number, protocol its name. A packet that
 * is not IP has family 0 and no addresses. */
static void put_skb(struct encode_tree *t, const struct vigil_event_arg *a)
{
	const struct vigil_sock_info *s = &a->sock;
	const struct vigil_skb_info *k = &a->skb;
	char saddr[INET6_ADDRSTRLEN], daddr[INET6_ADDRSTRLEN], num[12];
	bool addrs = addr_text(s->family, s->saddr, saddr) && addr_text(s->family, s->daddr, daddr);

	encode_tree_str(t, "skb_arg");
	msgpack_pack_map(&t->pk, !!k->hash + !!k->len + !!s->priority + !!s->mark + 2 * addrs + !!s->sport +
				 !!s->dport + 2 * !!s->protocol + !!k->secpath_len + !!k->secpath_olen + !!s->family);
	if (k->hash)
		encode_tree_kv_u32(t, "hash", k->hash);
	if (k->len)
		encode_tree_kv_u32(t, "len", k->len);
	if (s->priority)
		encode_tree_kv_u32(t, "priority", s->priority);
	if (s->mark)
		encode_tree_kv_u32(t, "mark", s->mark);
	if (addrs) {
		encode_tree_kv_str(t, "saddr", saddr);
		encode_tree_kv_str(t, "daddr", daddr);
	}
	if (s->sport)
		encode_tree_kv_u32(t, "sport", s->sport);
	if (s->dport)
		encode_tree_kv_u32(t, "dport", s->dport);
	if (s->protocol)
		encode_tree_kv_u32(t, "proto", s->protocol);
	if (k->secpath_len)
		encode_tree_kv_u32(t, "sec_path_len", k->secpath_len);
	if (k->secpath_olen)
		encode_tree_kv_u32(t, "sec_path_olen", k->secpath_olen);
	if (s->protocol)
		encode_tree_kv_str(t, "protocol", protocol_name(s->protocol, num));
	if (s->family)
		put_kv_name(t, "family", families, VIGIL_ARRAY_SIZE(families), s->family);
}

/* KprobeNetDev {name} */
static void put_net_dev(struct encode_tree *t, const struct vigil_event_arg *a)
{
	bool name = a->bytes && a->len;

	encode_tree_str(t, "net_dev_arg");
	msgpack_pack_map(&t->pk, name);
	if (name) {
		encode_tree_str(t, "name");
		put_text(t, a);
	}
}

/* KprobeSockaddr {family, addr, port}; AF_UNIX is KprobeSockaddrUn {family, path}, the
 * path as the decoder gives it (abstract names already "@"-prefixed). */
static void put_sockaddr(struct encode_tree *t, const struct vigil_sockaddr_info *sa, bool un)
{
	char addr[INET6_ADDRSTRLEN], num[12];
	bool has_addr = addr_text(sa->family, sa->addr, addr), path = sa->path && sa->path[0];

	if (un && sa->family != AF_UNIX) {
		/* a sockaddr_un argument whose family is not AF_UNIX: Tetragon's family name */
		encode_tree_str(t, "sockaddrun_arg");
		msgpack_pack_map(&t->pk, 1 + path);
		encode_tree_kv_str(t, "family", number_name(families, VIGIL_ARRAY_SIZE(families), sa->family, num));
		if (path)
			encode_tree_kv_str(t, "path", sa->path);
	} else if (sa->family == AF_UNIX) {
		encode_tree_str(t, "sockaddrun_arg");
		msgpack_pack_map(&t->pk, 1 + path);
		encode_tree_kv_str(t, "family", "AF_UNIX");
		if (path)
			encode_tree_kv_str(t, "path", sa->path);
	} else {
		encode_tree_str(t, "sockaddr_arg");
		msgpack_pack_map(&t->pk, !!sa->family + has_addr + !!sa->port);
		if (sa->family)
			put_kv_name(t, "family", families, VIGIL_ARRAY_SIZE(families), sa->family);
		if (has_addr)
			encode_tree_kv_str(t, "addr", addr);
		if (sa->port)
			encode_tree_kv_u32(t, "port", sa->port);
	}
}

/* ProcessCredentials: the ids are wrappers (always there), then caps when any is known.
 * securebits and user_ns are not read by vigil's kernel side. */
static void put_cred(struct encode_tree *t, const struct vigil_event_arg *a)
{
	bool caps = encode_caps_known(&a->cred_caps);

	encode_tree_str(t, "process_credentials_arg");
	msgpack_pack_map(&t->pk, 8 + caps);
	encode_tree_cred_ids(t, &a->creds);
	if (caps)
		encode_tree_caps(t, "caps", &a->cred_caps);
}

/* KprobeCapability {value (Int32Value: always), name (when the number has one)} */
static void put_capability(struct encode_tree *t, const struct vigil_event_arg *a)
{
	const char *name = a->value <= UINT32_MAX ? vigil_cap_name((unsigned int)a->value) : NULL;

	encode_tree_str(t, "capability_arg");
	msgpack_pack_map(&t->pk, 1 + !!name);
	encode_tree_str(t, "value");
	msgpack_pack_int32(&t->pk, (int32_t)(uint32_t)a->value);
	if (name)
		encode_tree_kv_str(t, "name", name);
}

/* The kernel side sets bit 31 of a syscall64 value for a 32-bit (i386) syscall, as
 * Tetragon's IS_32BIT does; id 0 (read) is uint32's default and so left out. */
#define SYSCALL_32BIT 0x80000000u

static void put_syscall(struct encode_tree *t, const struct vigil_event_arg *a)
{
	uint32_t id = (uint32_t)a->value & ~SYSCALL_32BIT;

	encode_tree_str(t, "syscall_id");
	msgpack_pack_map(&t->pk, 1 + !!id);
	if (id)
		encode_tree_kv_u32(t, "id", id);
	encode_tree_kv_str(t, "abi", a->value & SYSCALL_32BIT ? "i386" : "x64");
}

static void put_value(struct encode_tree *t, const struct vigil_event_arg *a)
{
	char text[24];

	switch (form_of(a)) {
	case FORM_INT:
		encode_tree_str(t, "int_arg");
		msgpack_pack_int32(&t->pk, (int32_t)(uint32_t)a->value);
		break;
	case FORM_UINT:
		encode_tree_kv_u32(t, "uint_arg", (uint32_t)a->value);
		break;
	case FORM_LONG:
		snprintf(text, sizeof(text), "%" PRId64, (int64_t)a->value);
		encode_tree_kv_str(t, "long_arg", text);
		break;
	case FORM_SIZE:
		put_kv_u64_text(t, "size_arg", a->value);
		break;
	case FORM_STRING:
		encode_tree_str(t, "string_arg");
		put_text(t, a);
		break;
	case FORM_BYTES:
		put_bytes(t, a);
		break;
	case FORM_FILE:
		put_file(t, "file_arg", a);
		break;
	case FORM_PATH:
		put_file(t, "path_arg", a);
		break;
	case FORM_BINPRM:
		put_file(t, "linux_binprm_arg", a);
		break;
	case FORM_SOCK:
		put_sock(t, &a->sock);
		break;
	case FORM_SOCKADDR:
	case FORM_SOCKADDR_UN:
		put_sockaddr(t, &a->sockaddr, form_of(a) == FORM_SOCKADDR_UN);
		break;
	case FORM_KOBJ:
		encode_tree_kobj(t, a);
		break;
	case FORM_CRED:
		put_cred(t, a);
		break;
	case FORM_CAPABILITY:
		put_capability(t, a);
		break;
	case FORM_CAP_MASK:
		/* Tetragon's caps.GetCapabilitiesHex: %016x, no 0x */
		snprintf(text, sizeof(text), "%016" PRIx64, a->value);
		encode_tree_kv_str(t, cap_mask_key(a->type), text);
		break;
	case FORM_SYSCALL:
		put_syscall(t, a);
		break;
	case FORM_SKB:
		put_skb(t, a);
		break;
	case FORM_NET_DEV:
		put_net_dev(t, a);
		break;
	case FORM_SKIP:
		break;
	}
}

void encode_tree_arg(struct encode_tree *t, const struct vigil_event_arg *a, const char *label)
{
	bool has_label = label && label[0];

	msgpack_pack_map(&t->pk, 1 + has_label);
	if (a->flags & VIGIL_ARG_ERROR) {
		/* KprobeError's one field is spelled "Message" in tetragon.proto, and
		 * protojson with proto names keeps that spelling */
		encode_tree_str(t, "error_arg");
		msgpack_pack_map(&t->pk, 1);
		encode_tree_kv_str(t, "Message", "could not read argument");
	} else {
		put_value(t, a);
	}
	if (has_label)
		encode_tree_kv_str(t, "label", label);
}
