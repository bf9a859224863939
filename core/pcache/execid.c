/* execid.c - exec_id: base64("node:ktime:pid"), the key Tetragon's consumers join on. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

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
