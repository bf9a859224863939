/* values.c - getters append typed values here; the 0.3.0 shim gets them flattened. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "falco_internal.h"

/* Room for one more value; values live in the arena like the strings they point to. */
static void *grow(struct fx *x, size_t elem)
{
	uint32_t cap = x->cap ? x->cap * 2 : 4;
	void *old = x->str, *p;

	if (x->err)
		return NULL;
	if (x->n < x->cap)
		return x->str;
	if (!x->cap && x->one) {
		/* most fields have one value: it needs no allocation */
		x->str = x->one;
		x->cap = 1;
		return x->str;
	}
	p = arena_alloc(&x->st->arena, cap * elem);
	if (!p) {
		x->err = -ENOMEM;
		return NULL;
	}
	if (x->n)
		memcpy(p, old, x->n * elem);
	x->str = p;
	x->cap = cap;
	return p;
}

void fx_str(struct fx *x, const char *s, size_t n)
{
	char *copy;

	if (!grow(x, sizeof(*x->str)))
		return;
	/* msgpack strings are not NUL-terminated; the framework wants C strings */
	copy = arena_strndup(&x->st->arena, s, n);
	if (!copy) {
		x->err = -ENOMEM;
		return;
	}
	x->str[x->n++] = copy;
}

void fx_u64(struct fx *x, uint64_t v)
{
	if (grow(x, sizeof(*x->u64)))
		x->u64[x->n++] = v;
}

void fx_ip(struct fx *x, const void *addr, uint32_t len)
{
	void *copy;

	if (!grow(x, sizeof(*x->buf)))
		return;
	copy = arena_alloc(&x->st->arena, len);
	if (!copy) {
		x->err = -ENOMEM;
		return;
	}
	memcpy(copy, addr, len);
	x->buf[x->n++] = (struct fp_bytes){ .len = len, .ptr = copy };
}

void fx_text(struct fx *x, const msgpack_object *o)
{
	struct vigil_buf *b = &x->st->scratch;
	char num[32];
	int err;

	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		fx_str(x, o->via.str.ptr, o->via.str.size);
		break;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(num, sizeof(num), "%" PRIu64, o->via.u64);
		fx_str(x, num, strlen(num));
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(num, sizeof(num), "%" PRId64, o->via.i64);
		fx_str(x, num, strlen(num));
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		fx_str(x, o->via.boolean ? "true" : "false", o->via.boolean ? 4 : 5);
		break;
	case MSGPACK_OBJECT_NIL:
		break;
	default:
		/* maps, arrays, floats, binary: as the JSON export writes them */
		vigil_buf_reset(b);
		err = vigil_json_from_msgpack(o, b);
		if (err)
			x->err = err;
		else
			fx_str(x, b->data ? b->data : "", b->len);
		break;
	}
}

/* 0.3.0 frameworks know one string or one uint64 per field: lists become "a,b,c" and
 * addresses their text form. */
int fx_flatten(struct fx *x)
{
	char text[INET6_ADDRSTRLEN], *joined, *p;
	size_t total = 0, n;
	uint32_t i;

	if (x->err || !x->n)
		goto out;
	if (x->type == FP_ABSTIME) {
		x->type = FP_U64;
	} else if (x->type == FP_IPADDR) {
		if (!inet_ntop(x->buf[0].len == 4 ? AF_INET : AF_INET6, x->buf[0].ptr, text, sizeof(text))) {
			x->n = 0;
			goto out;
		}
		x->n = 0;
		x->cap = 0;
		x->type = FP_STRING;
		fx_str(x, text, strlen(text));
	} else if (x->type == FP_STRING && x->n > 1) {
		for (i = 0; i < x->n; i++)
			total += strlen(x->str[i]) + 1;
		joined = arena_alloc(&x->st->arena, total);
		if (!joined) {
			x->err = -ENOMEM;
			goto out;
		}
		for (i = 0, p = joined; i < x->n; i++) {
			n = strlen(x->str[i]);
			memcpy(p, x->str[i], n);
			p += n;
			*p++ = i + 1 < x->n ? ',' : '\0';
		}
		x->str[0] = joined;
		x->n = 1;
	}
out:
	return x->err;
}
