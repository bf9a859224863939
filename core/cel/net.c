/* net.c - the Kubernetes IP and CIDR library that Tetragon's CEL environment includes:
 * ip(), isIP(), cidr(), isCIDR(), an IP's family() and is*() tests, a CIDR's containsIP(),
 * containsCIDR(), ip(), masked() and prefixLength(), and string() of both. As that library
 * does, an address with a zone (fe80::1%eth0) or an IPv4-mapped IPv6 address (::ffff:1.2.3.4)
 * is no IP. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel_internal.h"

static struct cel_value boolean(bool b)
{
	struct cel_value v = {.kind = V_BOOL};

	v.v.b = b;
	return v;
}

static bool mapped4(const unsigned char *a)
{
	static const unsigned char prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

	return !memcmp(a, prefix, sizeof(prefix));
}

/* s[0..n) as an address into v (V_IP). 0 or -1. */
static int parse_ip(const char *s, size_t n, struct cel_value *v)
{
	char buf[64];

	if (!n || n >= sizeof(buf) || memchr(s, '\0', n) || memchr(s, '%', n))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(v, 0, sizeof(*v));
	v->kind = V_IP;
	if (inet_pton(AF_INET, buf, v->v.ip.a) == 1) {
		v->v.ip.family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, v->v.ip.a) == 1 && !mapped4(v->v.ip.a)) {
		v->v.ip.family = 6;
		return 0;
	}
	return -1;
}

static int parse_cidr(const char *s, size_t n, struct cel_value *v)
{
	const char *slash = memchr(s, '/', n);
	size_t k, digits = n - (size_t)(slash ? slash + 1 - s : (ptrdiff_t)n);
	unsigned bits = 0;

	if (!slash || !digits || digits > 3 || parse_ip(s, (size_t)(slash - s), v))
		return -1;
	for (k = 0; k < digits; k++) {
		if (slash[1 + k] < '0' || slash[1 + k] > '9' || (k == 0 && digits > 1 && slash[1] == '0'))
			return -1;
		bits = bits * 10 + (unsigned)(slash[1 + k] - '0');
	}
	if (bits > (v->v.ip.family == 4 ? 32u : 128u))
		return -1;
	v->kind = V_CIDR;
	v->v.ip.bits = (unsigned char)bits;
	return 0;
}

/* whether a's first bits bits equal b's */
static bool prefix_equal(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole))
		return false;
	return !rest || ((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static struct cel_value masked(const struct cel_value *c)
{
	struct cel_value v = *c;
	unsigned i, bits = c->v.ip.bits;

	for (i = 0; i < 16; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			v.v.ip.a[i] &= (unsigned char)(0xff << (8 - bits));
			bits = 0;
		}
	}
	return v;
}

struct cel_value cel_net_string(struct vigil_cel *p, const struct cel_value *v)
{
	struct cel_value s = {.kind = V_STRING};
	char *out = cel_scratch(p, INET6_ADDRSTRLEN + 8);

	if (!out)
		return cel_err("evaluation memory limit");
	if (!inet_ntop(v->v.ip.family == 4 ? AF_INET : AF_INET6, v->v.ip.a, out, INET6_ADDRSTRLEN))
		return cel_err("an address that does not print");
	if (v->kind == V_CIDR)
		snprintf(out + strlen(out), 8, "/%u", v->v.ip.bits);
	s.v.s.p = out;
	s.v.s.n = strlen(out);
	return s;
}

bool cel_net_equal(const struct cel_value *a, const struct cel_value *b)
{
	return a->v.ip.family == b->v.ip.family && !memcmp(a->v.ip.a, b->v.ip.a, 16) &&
	       (a->kind != V_CIDR || a->v.ip.bits == b->v.ip.bits);
}

/* the is*() tests of an address, as Go's netip names them */
static bool ip_test(enum cel_fn fn, const struct cel_value *ip)
{
	const unsigned char *a = ip->v.ip.a;
	static const unsigned char zero[16];
	bool v4 = ip->v.ip.family == 4;

	switch (fn) {
	case F_IS_UNSPECIFIED: return !memcmp(a, zero, v4 ? 4 : 16);
	case F_IS_LOOPBACK: return v4 ? a[0] == 127 : !memcmp(a, zero, 15) && a[15] == 1;
	case F_IS_LL_MULTICAST: return v4 ? a[0] == 224 && a[1] == 0 && a[2] == 0 : a[0] == 0xff && (a[1] & 0x0f) == 0x02;
	case F_IS_LL_UNICAST: return v4 ? a[0] == 169 && a[1] == 254 : a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
	default:	/* global unicast: none of the above, no multicast, no broadcast */
		if (ip_test(F_IS_UNSPECIFIED, ip) || ip_test(F_IS_LOOPBACK, ip) || ip_test(F_IS_LL_UNICAST, ip))
			return false;
		if (v4)
			return !(a[0] >= 224 && a[0] <= 239) && !(a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255);
		return a[0] != 0xff;
	}
}

struct cel_value cel_net_call(struct vigil_cel *p, const struct cel_node *n, const struct cel_value *args, int nargs)
{
	struct cel_value v = {.kind = V_INT}, other;
	const struct cel_value *a = &args[0];

	switch (n->fn) {
	case F_IP:
		if (a->kind == V_CIDR) {
			v = *a;
			v.kind = V_IP;
			v.v.ip.bits = 0;
			return v;
		}
		if (a->kind != V_STRING || parse_ip(a->v.s.p, a->v.s.n, &v))
			return cel_err("ip(): not an IP address (zones and IPv4-mapped IPv6 addresses are refused)");
		return v;
	case F_CIDR:
		if (a->kind != V_STRING || parse_cidr(a->v.s.p, a->v.s.n, &v))
			return cel_err("cidr(): not a CIDR");
		return v;
	case F_IS_IP: case F_IS_CIDR:
		if (a->kind != V_STRING)
			return cel_err("no matching overload for isIP()/isCIDR()");
		return boolean(n->fn == F_IS_IP ? !parse_ip(a->v.s.p, a->v.s.n, &v) : !parse_cidr(a->v.s.p, a->v.s.n, &v));
	case F_FAMILY:
		if (a->kind != V_IP)
			return cel_err("no matching overload for family()");
		v.v.i = a->v.ip.family;
		return v;
	case F_IS_UNSPECIFIED: case F_IS_LOOPBACK: case F_IS_LL_MULTICAST: case F_IS_LL_UNICAST: case F_IS_GLOBAL_UNICAST:
		if (a->kind != V_IP)
			return cel_err("no matching overload for an IP test");
		return boolean(ip_test(n->fn, a));
	case F_PREFIX_LENGTH:
		if (a->kind != V_CIDR)
			return cel_err("no matching overload for prefixLength()");
		v.v.i = a->v.ip.bits;
		return v;
	case F_MASKED:
		if (a->kind != V_CIDR)
			return cel_err("no matching overload for masked()");
		return masked(a);
	case F_CONTAINS_IP: case F_CONTAINS_CIDR:
		if (a->kind != V_CIDR || nargs != 2)
			return cel_err("no matching overload for containsIP()/containsCIDR()");
		other = args[1];
		if (other.kind == V_STRING &&
		    (n->fn == F_CONTAINS_IP ? parse_ip(other.v.s.p, other.v.s.n, &other) :
					      parse_cidr(other.v.s.p, other.v.s.n, &other)))
			return cel_err(n->fn == F_CONTAINS_IP ? "containsIP(): not an IP address" : "containsCIDR(): not a CIDR");
		if (other.kind != (n->fn == F_CONTAINS_IP ? V_IP : V_CIDR))
			return cel_err("no matching overload for containsIP()/containsCIDR()");
		if (other.v.ip.family != a->v.ip.family)
			return boolean(false);
		if (n->fn == F_CONTAINS_CIDR && other.v.ip.bits < a->v.ip.bits)
			return boolean(false);
		return boolean(prefix_equal(a->v.ip.a, other.v.ip.a, a->v.ip.bits));
	default:
		return cel_err("an unknown function");
	}
}
