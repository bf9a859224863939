/* execid.c - exec_id: base64("node:ktime:pid"), the key Tetragon's consumers join on. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcache.h"

/* ":<v>" at out, v in decimal; its length. Two digits a division: a ktime has 13 to 20. */
static size_t put_field(char *out, uint64_t v)
{
	static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				    "8081828384858687888990919293949596979899";
	char digits[20];
	size_t n = sizeof(digits);

	while (v >= 100) {
		n -= 2;
		memcpy(digits + n, pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		n -= 2;
		memcpy(digits + n, pairs + 2 * v, 2);
	} else {
		digits[--n] = (char)('0' + v);
	}
	out[0] = ':';
	memcpy(out + 1, digits + n, sizeof(digits) - n);
	return sizeof(digits) - n + 1;
}

int vigil_exec_id_format(const char *node, uint64_t ktime, uint32_t pid, char *out)
{
	char raw[VIGIL_EXEC_ID_MAX];
	size_t n, len;

	if (!node || !out)
		return -EINVAL;
	/* by hand, not snprintf: every exec, clone and stand-in formats one or two (the numbers
	 * take at most 21 + 11 bytes) */
	len = strlen(node);
	if (len + 32 >= sizeof(raw))
		return -ENAMETOOLONG;
	memcpy(raw, node, len);
	n = len + put_field(raw + len, ktime);
	n += put_field(raw + n, pid);
	/* 4 output bytes per 3 input bytes, plus the NUL. */
	if ((n + 2) / 3 * 4 + 1 > VIGIL_EXEC_ID_MAX)
		return -ENAMETOOLONG;
	return (int)vigil_base64_encode(raw, n, out);
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
	int n;

	n = exec_id ? vigil_base64_decode(exec_id, strlen(exec_id), raw, sizeof(raw) - 1) : -EINVAL;
	if (n < 0)
		return -EINVAL;
	raw[n] = '\0';
	/* the node name may hold ':' too: the last two fields are the numbers */
	if (last_number(raw, &p) || p > UINT32_MAX || last_number(raw, &kt))
		return -EINVAL;
	*ktime = kt;
	*pid = (uint32_t)p;
	return 0;
}
