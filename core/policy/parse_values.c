/* parse_values.c - the values a policy writes as strings: integers in an argument type's
 * range, capabilities, namespaces, durations, signals, errnos, addresses, ports, socket
 * names and Kubernetes names. Pure functions: no document, no allocation. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "events/events.h"
#include "policy_internal.h"

/* ---- integers ---- */

/* Go's strconv base-0 syntax, which Tetragon's ParseInt(v, 0, n) accepts: so "0644" in a
 * Mask is octal for both of us. Magnitude only; the sign is the caller's. */
static int parse_magnitude(const char *s, uint64_t *out)
{
	unsigned int base = 10, d;
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
		base = 2;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
		base = 8;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
		s++;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s))
			d = (unsigned int)(*s - '0');
		else if (isxdigit((unsigned char)*s))
			d = (unsigned int)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int policy_parse_s64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	bool neg = false;
	uint64_t mag;
	int64_t v;
	int err;

	if (*s == '-' || *s == '+') {
		neg = *s == '-';
		s++;
	}
	err = parse_magnitude(s, &mag);
	if (err)
		return err;
	if (neg) {
		if (mag > (uint64_t)INT64_MAX + 1)
			return -ERANGE;
		v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
	} else {
		if (mag > (uint64_t)INT64_MAX)
			return -ERANGE;
		v = (int64_t)mag;
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int policy_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v;
	int err;

	if (*s == '+')
		s++;
	if (*s == '-')
		return isdigit((unsigned char)s[1]) ? -ERANGE : -EINVAL;
	err = parse_magnitude(s, &v);
	if (err)
		return err;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

bool policy_int_bounds(enum vigil_arg_type t, struct policy_int_bounds *b)
{
	static const struct {
		enum vigil_arg_type type;
		bool is_signed;
		int64_t min, max;
		uint64_t umax;
	} bounds[] = {
		{ VIGIL_ARG_INT, true, INT32_MIN, INT32_MAX, 0 },
		{ VIGIL_ARG_SINT8, true, INT8_MIN, INT8_MAX, 0 },
		{ VIGIL_ARG_UINT8, false, 0, 0, UINT8_MAX },
		{ VIGIL_ARG_SINT16, true, INT16_MIN, INT16_MAX, 0 },
		{ VIGIL_ARG_UINT16, false, 0, 0, UINT16_MAX },
		{ VIGIL_ARG_UINT32, false, 0, 0, UINT32_MAX },
		{ VIGIL_ARG_LONG, true, INT64_MIN, INT64_MAX, 0 },
		{ VIGIL_ARG_ULONG, false, 0, 0, UINT64_MAX },
		{ VIGIL_ARG_SIZE_T, false, 0, 0, UINT64_MAX },
		{ VIGIL_ARG_SYSCALL64, true, INT64_MIN, INT64_MAX, 0 },
		{ VIGIL_ARG_CAPABILITY, true, INT32_MIN, INT32_MAX, 0 },
	};
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(bounds); i++) {
		if (bounds[i].type == t) {
			b->is_signed = bounds[i].is_signed;
			b->min = bounds[i].min;
			b->max = bounds[i].max;
			b->umax = bounds[i].umax;
			return true;
		}
	}
	return false;
}

int policy_arg_int(enum vigil_arg_type t, const char *s, uint64_t *out)
{
	struct policy_int_bounds b;
	unsigned int cap;
	int64_t sv;
	int err;

	if (!policy_int_bounds(t, &b))
		return -EINVAL;
	if (t == VIGIL_ARG_CAPABILITY && !policy_cap_lookup(s, &cap)) {
		*out = cap;
		return 0;
	}
	if (!b.is_signed)
		return policy_parse_u64(s, b.umax, out);
	err = policy_parse_s64(s, b.min, b.max, &sv);
	if (!err)
		*out = (uint64_t)sv;
	return err;
}

/* ---- capabilities ---- */

int policy_cap_lookup(const char *name, unsigned int *cap)
{
	const char *known;
	unsigned int i;

	/* events/names.c holds the names Tetragon's JSON prints, where capability 1 is
	 * "DAC_OVERRIDE" without its prefix; Tetragon's selectors accept exactly those names
	 * (upper-cased), and we also take the CAP_DAC_OVERRIDE users expect */
	for (i = 0; (known = vigil_cap_name(i)); i++) {
		if (!strcasecmp(name, known) ||
		    (!strncasecmp(name, "CAP_", 4) && strncmp(known, "CAP_", 4) && !strcasecmp(name + 4, known))) {
			*cap = i;
			return 0;
		}
	}
	return -ENOENT;
}

int vigil_policy_parse_cap_mask(const char *s, uint64_t *mask)
{
	char name[64];
	const char *end;
	unsigned int cap;
	uint64_t m = 0;
	size_t len;

	if (!policy_parse_u64(s, UINT64_MAX, mask))
		return 0;
	for (;;) {
		end = strchr(s, ',');
		len = end ? (size_t)(end - s) : strlen(s);
		while (len && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		if (!len || len >= sizeof(name))
			return -EINVAL;
		memcpy(name, s, len);
		name[len] = '\0';
		if (policy_cap_lookup(name, &cap))
			return -EINVAL;
		m |= 1ULL << cap;
		if (!end)
			break;
		s = end + 1;
	}
	*mask = m;
	return 0;
}

/* ---- namespaces ---- */

int policy_ns_lookup(const char *name, bool exact, enum vigil_ns_kind *out)
{
	/* the CRD enum's spelling, in enum vigil_ns_kind order */
	static const char *const names[VIGIL_NS_COUNT] = {
		[VIGIL_NS_UTS] = "Uts",
		[VIGIL_NS_IPC] = "Ipc",
		[VIGIL_NS_MNT] = "Mnt",
		[VIGIL_NS_PID] = "Pid",
		[VIGIL_NS_PID_FOR_CHILDREN] = "PidForChildren",
		[VIGIL_NS_NET] = "Net",
		[VIGIL_NS_TIME] = "Time",
		[VIGIL_NS_TIME_FOR_CHILDREN] = "TimeForChildren",
		[VIGIL_NS_CGROUP] = "Cgroup",
		[VIGIL_NS_USER] = "User",
	};
	size_t i;

	for (i = 0; i < VIGIL_NS_COUNT; i++) {
		if (exact ? !strcmp(name, names[i]) : !strcasecmp(name, names[i])) {
			*out = (enum vigil_ns_kind)i;
			return 0;
		}
	}
	return -ENOENT;
}

/* ---- durations, signals, errnos ---- */

/* Tetragon's parseRateLimit: one unit letter at the end, the number a uint32. */
int policy_parse_rate_limit(const char *s, uint32_t *ms)
{
	char digits[16];
	uint64_t mult = 1, v;
	size_t len = strlen(s);

	if (!len || len >= sizeof(digits))
		return -EINVAL;
	switch (s[len - 1]) {
	case 's': case 'S':
		len--;
		break;
	case 'm': case 'M':
		mult = 60;
		len--;
		break;
	case 'h': case 'H':
		mult = 60 * 60;
		len--;
		break;
	}
	memcpy(digits, s, len);
	digits[len] = '\0';
	if (!len || strspn(digits, "0123456789") != len)
		return -EINVAL;		/* decimal, as Tetragon's ParseUint(s, 10, 32) */
	errno = 0;
	v = strtoull(digits, NULL, 10);
	if (errno || v > UINT32_MAX)
		return -EINVAL;
	v = v * mult * 1000;
	*ms = v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	return 0;
}

int policy_parse_signal(const char *s, int32_t *sig)
{
	const char *name;
	uint64_t v;
	int i;

	if (!policy_parse_u64(s, 64, &v)) {
		if (!v)
			return -ERANGE;
		*sig = (int32_t)v;
		return 0;
	}
	for (i = 1; i < 32; i++) {
		name = vigil_signal_name(i);
		if (name && !strcmp(s, name)) {
			*sig = i;
			return 0;
		}
	}
	return -EINVAL;
}

int policy_parse_errno(const char *s, int32_t *err)
{
	const char *name;
	int64_t v;
	int i;

	/* any int32, as the CRD: Tetragon's own examples override with 1 (a hook's "skip") */
	if (!policy_parse_s64(s, INT32_MIN, INT32_MAX, &v)) {
		*err = (int32_t)v;
		return 0;
	}
	if (*s == '-')
		s++;
	if (*s != 'E')
		return -EINVAL;
	for (i = 1; i < 4096; i++) {
		name = strerrorname_np(i);
		if (name && !strcmp(s, name)) {
			*err = -i;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- sockets ---- */

int policy_parse_addr(const char *s, struct policy_addr *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t prefix;
	uint32_t max;

	if (!len || len >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, len);
	host[len] = '\0';
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, host, out->addr) == 1) {
		out->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, out->addr) == 1) {
		out->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	out->prefix = max;
	if (slash) {
		/* decimal only: "/024" is not a prefix length anyone means */
		if (!isdigit((unsigned char)slash[1]) || (slash[1] == '0' && slash[2]) ||
		    policy_parse_u64(slash + 1, max, &prefix))
			return -EINVAL;
		out->prefix = (uint32_t)prefix;
	}
	return 0;
}

static int parse_port(const char *s, size_t len, uint32_t *out)
{
	uint32_t v = 0;
	size_t i;

	if (!len || len > 5)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (uint32_t)(s[i] - '0');
	}
	if (v > 65535)
		return -ERANGE;
	*out = v;
	return 0;
}

int policy_parse_port_range(const char *s, uint32_t *lo, uint32_t *hi)
{
	const char *colon = strchr(s, ':');
	int err;

	if (!colon) {
		err = parse_port(s, strlen(s), lo);
		if (!err)
			*hi = *lo;
		return err;
	}
	err = parse_port(s, (size_t)(colon - s), lo);
	if (!err)
		err = parse_port(colon + 1, strlen(colon + 1), hi);
	if (!err && *lo > *hi)
		err = -ERANGE;
	return err;
}

struct named {
	const char *name;
	uint32_t value;
};

static int name_or_number(const struct named *t, size_t n, const char *s, uint64_t max, uint32_t *out)
{
	uint64_t v;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(s, t[i].name)) {
			*out = t[i].value;
			return 0;
		}
	}
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	if (policy_parse_u64(s, max, &v))
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

/* Linux numbering (include/linux/socket.h), Tetragon's pkg/reader/network names. */
static const struct named families[] = {
	{ "AF_UNSPEC", 0 },	 { "AF_UNIX", 1 },	   { "AF_INET", 2 },	   { "AF_AX25", 3 },
	{ "AF_IPX", 4 },	 { "AF_APPLETALK", 5 },	   { "AF_NETROM", 6 },	   { "AF_BRIDGE", 7 },
	{ "AF_ATMPVC", 8 },	 { "AF_X25", 9 },	   { "AF_INET6", 10 },	   { "AF_ROSE", 11 },
	{ "AF_DECnet", 12 },	 { "AF_NETBEUI", 13 },	   { "AF_SECURITY", 14 },  { "AF_KEY", 15 },
	{ "AF_NETLINK", 16 },	 { "AF_PACKET", 17 },	   { "AF_ASH", 18 },	   { "AF_ECONET", 19 },
	{ "AF_ATMSVC", 20 },	 { "AF_RDS", 21 },	   { "AF_IRDA", 23 },	   { "AF_PPPOX", 24 },
	{ "AF_WANPIPE", 25 },	 { "AF_LLC", 26 },	   { "AF_IB", 27 },	   { "AF_MPLS", 28 },
	{ "AF_CAN", 29 },	 { "AF_TIPC", 30 },	   { "AF_BLUETOOTH", 31 }, { "AF_IUCV", 32 },
	{ "AF_RXRPC", 33 },	 { "AF_ISDN", 34 },	   { "AF_PHONET", 35 },	   { "AF_IEEE802154", 36 },
	{ "AF_CAIF", 37 },	 { "AF_ALG", 38 },	   { "AF_NFC", 39 },	   { "AF_VSOCK", 40 },
	{ "AF_KCM", 41 },	 { "AF_QIPCRTR", 42 },	   { "AF_SMC", 43 },	   { "AF_XDP", 44 },
	{ "AF_MCTP", 45 },
};

static const struct named protocols[] = {
	{ "IPPROTO_IP", 0 },	    { "IPPROTO_ICMP", 1 },	{ "IPPROTO_IGMP", 2 },
	{ "IPPROTO_IPIP", 4 },	    { "IPPROTO_TCP", 6 },	{ "IPPROTO_EGP", 8 },
	{ "IPPROTO_PUP", 12 },	    { "IPPROTO_UDP", 17 },	{ "IPPROTO_IDP", 22 },
	{ "IPPROTO_TP", 29 },	    { "IPPROTO_DCCP", 33 },	{ "IPPROTO_IPV6", 41 },
	{ "IPPROTO_RSVP", 46 },	    { "IPPROTO_GRE", 47 },	{ "IPPROTO_ESP", 50 },
	{ "IPPROTO_AH", 51 },	    { "IPPROTO_MTP", 92 },	{ "IPPROTO_BEETPH", 94 },
	{ "IPPROTO_ENCAP", 98 },    { "IPPROTO_PIM", 103 },	{ "IPPROTO_COMP", 108 },
	{ "IPPROTO_SCTP", 132 },    { "IPPROTO_UDPLITE", 136 },	{ "IPPROTO_MPLS", 137 },
	{ "IPPROTO_ETHERNET", 143 }, { "IPPROTO_RAW", 255 },	{ "IPPROTO_MPTCP", 262 },
};

static const struct named tcp_states[] = {
	{ "TCP_ESTABLISHED", 1 }, { "TCP_SYN_SENT", 2 },  { "TCP_SYN_RECV", 3 },   { "TCP_FIN_WAIT1", 4 },
	{ "TCP_FIN_WAIT2", 5 },	  { "TCP_TIME_WAIT", 6 }, { "TCP_CLOSE", 7 },	   { "TCP_CLOSE_WAIT", 8 },
	{ "TCP_LAST_ACK", 9 },	  { "TCP_LISTEN", 10 },	  { "TCP_CLOSING", 11 },   { "TCP_NEW_SYN_RECV", 12 },
};

static const struct named file_types[] = {
	{ "sock", S_IFSOCK }, { "socket", S_IFSOCK }, { "lnk", S_IFLNK },   { "link", S_IFLNK },
	{ "reg", S_IFREG },   { "regular", S_IFREG }, { "blk", S_IFBLK },   { "block", S_IFBLK },
	{ "dir", S_IFDIR },   { "chr", S_IFCHR },     { "char", S_IFCHR },  { "fifo", S_IFIFO },
	{ "pipe", S_IFIFO },
};

int policy_parse_family(const char *s, uint32_t *out)
{
	return name_or_number(families, VIGIL_ARRAY_SIZE(families), s, UINT16_MAX, out);
}

int policy_parse_protocol(const char *s, uint32_t *out)
{
	return name_or_number(protocols, VIGIL_ARRAY_SIZE(protocols), s, UINT16_MAX, out);
}

int policy_parse_tcp_state(const char *s, uint32_t *out)
{
	return name_or_number(tcp_states, VIGIL_ARRAY_SIZE(tcp_states), s, UINT8_MAX, out);
}

int policy_parse_file_type(const char *s, uint32_t *mode)
{
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(file_types); i++) {
		if (!strcmp(s, file_types[i].name)) {
			*mode = file_types[i].value;
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- names ---- */

static bool dns_label(const char *s, size_t len)
{
	size_t i;

	if (!len || len > 63 || s[0] == '-' || s[len - 1] == '-')
		return false;
	for (i = 0; i < len; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

/* apimachinery's IsDNS1123Subdomain: dot-separated labels, 253 characters in all. */
bool policy_dns1123_subdomain(const char *s)
{
	const char *dot;
	size_t len = strlen(s);

	if (!len || len > 253)
		return false;
	for (;;) {
		dot = strchr(s, '.');
		if (!dns_label(s, dot ? (size_t)(dot - s) : strlen(s)))
			return false;
		if (!dot)
			return true;
		s = dot + 1;
	}
}

bool policy_dns1123_label(const char *s)
{
	return dns_label(s, strlen(s));
}

bool policy_syscall_name_ok(const char *s)
{
	static const char *const abis[] = { "x64/", "i386/", "arm64/", "arm32/" };
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(abis); i++) {
		if (!strncmp(s, abis[i], strlen(abis[i]))) {
			s += strlen(abis[i]);
			break;
		}
	}
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return false;
	return true;
}
