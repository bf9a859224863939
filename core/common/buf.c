/* buf.c - growable NUL-terminated byte buffer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static int reserve(struct vigil_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;
	size_t cap = b->cap ? b->cap : 256;
	char *p;

	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	p = realloc(b->data, cap);
	if (!p)
		return -ENOMEM;
	b->data = p;
	b->cap = cap;
	return 0;
}

int vigil_buf_append(struct vigil_buf *b, const void *data, size_t len)
{
	int err = reserve(b, len);

	if (err)
		return err;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int vigil_buf_puts(struct vigil_buf *b, const char *s)
{
	return vigil_buf_append(b, s, strlen(s));
}

int vigil_buf_printf(struct vigil_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	err = reserve(b, (size_t)n);
	if (err)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void vigil_buf_reset(struct vigil_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void vigil_buf_free(struct vigil_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}
