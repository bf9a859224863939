/* keys.c - growable lists of map keys, and the shared error helper. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensors_internal.h"

int keys_push(struct key_list *l, const void *key)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 8;
		void *p = realloc(l->keys, cap * l->size);

		if (!p)
			return -ENOMEM;
		l->keys = p;
		l->cap = cap;
	}
	memcpy((char *)l->keys + l->n * l->size, key, l->size);
	l->n++;
	return 0;
}

void keys_free(struct key_list *l)
{
	free(l->keys);
	l->keys = NULL;
	l->n = l->cap = 0;
}

void compiled_hook_free(struct compiled_hook *h)
{
	if (!h)
		return;
	keys_free(&h->str_eq);
	keys_free(&h->str_prefix);
	keys_free(&h->str_postfix);
	keys_free(&h->int_set);
	keys_free(&h->addr4);
	keys_free(&h->addr6);
	keys_free(&h->str_sub);
	keys_free(&h->fan_equal);
	keys_free(&h->fan_prefix);
}

int sensor_error(struct compile_ctx *ctx, struct vigil_pos pos, int errcode, const char *fmt, ...)
{
	struct vigil_policy_error *e = ctx->err;
	va_list ap;

	if (e) {
		snprintf(e->file, sizeof(e->file), "%s", ctx->policy->file ? ctx->policy->file : "<policy>");
		e->line = pos.line;
		e->col = pos.col;
		va_start(ap, fmt);
		vsnprintf(e->reason, sizeof(e->reason), fmt, ap);
		va_end(ap);
	}
	return errcode;
}
