/* execid.c - exec_id: base64("node:ktime:pid"), the key Tetragon's consumers join on. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcache.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 with '=' padding, as Go's base64.StdEncoding writes it. */
static size_t encode(const unsigned char *in, size_t len, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

int vigil_exec_id_format(const char *node, uint64_t ktime, uint32_t pid, char *out)
{
	char raw[VIGIL_EXEC_ID_MAX];
	int n;

	if (!node || !out)
		return -EINVAL;
	n = snprintf(raw, sizeof(raw), "%s:%" PRIu64 ":%" PRIu32, node, ktime, pid);
	if (n < 0)
		return -EINVAL;
	/* 4 output bytes per 3 input bytes, plus the NUL. */
	if ((size_t)n >= sizeof(raw) || ((size_t)n + 2) / 3 * 4 + 1 > VIGIL_EXEC_ID_MAX)
		return -ENAMETOOLONG;
	return (int)encode((const unsigned char *)raw, (size_t)n, out);
}

static int decode_char(char c)
{
	const char *at = c ? strchr(alphabet, c) : NULL;

	return at ? (int)(at - alphabet) : -1;
}

/* The last ':'-separated field of raw as a number, cut off; -EINVAL when it is none. */
static int last_number(char *raw, unsigned long long *out)
{
	char *colon = strrchr(raw, ':'), *end;

	if (!colon)
		return -EINVAL;
	*out = strtoull(colon + 1, &end, 10);
	if (*end || end == colon + 1)
		return -EINVAL;
	*colon = '\0';
	return 0;
}

int vigil_exec_id_parse(const char *exec_id, uint64_t *ktime, uint32_t *pid)
{
	char raw[VIGIL_EXEC_ID_MAX];
	unsigned long long kt, p;
	uint32_t acc = 0;
	size_t n = 0, i;
	int bits = 0, v;

	for (i = 0; exec_id && exec_id[i] && exec_id[i] != '='; i++) {
		v = decode_char(exec_id[i]);
		if (v < 0 || n + 1 >= sizeof(raw))
			return -EINVAL;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			raw[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	raw[n] = '\0';
	/* the node name may hold ':' too: the last two fields are the numbers */
	if (last_number(raw, &p) || p > UINT32_MAX || last_number(raw, &kt))
		return -EINVAL;
	*ktime = kt;
	*pid = (uint32_t)p;
	return 0;
}
