/* cel.c - the compiled expression: compile (parse, check), evaluate against an event, free;
 * and the two memories behind it, owned (for the program's life) and scratch (per event). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel_internal.h"

int cel_fail(struct vigil_cel_error *err, int col, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		err->column = col;
		va_start(ap, fmt);
		vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* n bytes from the chain at *head, a new block when the first has no room */
static void *take(struct cel_alloc **head, size_t n, size_t block)
{
	struct cel_alloc *a = *head;
	void *out;

	n = (n + 15) & ~(size_t)15;
	if (!a || a->size - a->used < n) {
		size_t size = n > block ? n : block;

		a = malloc(sizeof(*a) + size);
		if (!a)
			return NULL;
		a->size = size;
		a->used = 0;
		a->next = *head;
		*head = a;
	}
	out = a->data + a->used;
	a->used += n;
	return out;
}

static void release(struct cel_alloc *a)
{
	struct cel_alloc *next;

	for (; a; a = next) {
		next = a->next;
		free(a);
	}
}

void *cel_own(struct vigil_cel *p, size_t n)
{
	void *out = take(&p->owned, n, 4096);

	if (out)
		memset(out, 0, n);
	return out;
}

void *cel_scratch(struct vigil_cel *p, size_t n)
{
	if (n > CEL_MAX_SCRATCH || p->scratch_total + n > CEL_MAX_SCRATCH)
		return NULL;
	p->scratch_total += (n + 15) & ~(size_t)15;
	return take(&p->scratch, n, 8192);
}

/* Forget this event's scratch: the newest block is kept for the next event. */
static void scratch_reset(struct vigil_cel *p)
{
	if (p->scratch) {
		release(p->scratch->next);
		p->scratch->next = NULL;
		p->scratch->used = 0;
	}
	p->scratch_total = 0;
}

struct vigil_cel *vigil_cel__compile(const char *expr, struct vigil_cel_error *err)
{
	struct vigil_cel *p = calloc(1, sizeof(*p));
	int ret;

	if (err)
		memset(err, 0, sizeof(*err));
	if (!p)
		return NULL;
	p->msg_event = -1;
	ret = expr ? cel_parse(p, expr, err) : cel_fail(err, 0, "no expression");
	if (!ret)
		ret = cel_check(p, err);
	if (ret) {
		vigil_cel__free(p);
		errno = -ret;
		return NULL;
	}
	return p;
}

void vigil_cel__free(struct vigil_cel *p)
{
	int i;

	if (!p)
		return;
	for (i = 0; i < p->nnodes; i++) {
		if (p->nodes[i].re) {
			regfree(p->nodes[i].re);
			free(p->nodes[i].re);
		}
	}
	free(p->nodes);
	release(p->owned);
	release(p->scratch);
	free(p);
}

/* The event index of a kind's key, -1 when it is no event variable. */
static int event_index(const char *key)
{
	size_t i;

	for (i = 0; key && i < cel_schema_nevents; i++)
		if (cel_schema_events[i].kind == CELF_MSG && !strcmp(cel_schema_events[i].name, key))
			return (int)i;
	return -1;
}

bool vigil_cel__names_kind(const struct vigil_cel *p, const char *type_key)
{
	int e = event_index(type_key);

	return e >= 0 && (p->events & (1ull << e));
}

int vigil_cel__eval(struct vigil_cel *p, const struct vigil_msg *m)
{
	struct cel_value v;
	int e = event_index(vigil_msg__type_key(m));

	if (e < 0 || !(p->events & (1ull << e)))
		return -ENOENT;
	p->stats.evals++;
	p->msg = m;
	p->msg_event = e;
	p->steps = CEL_MAX_STEPS;
	p->last_error[0] = '\0';
	v = cel_eval(p, p->root, 0);
	scratch_reset(p);
	p->msg = NULL;
	if (v.kind == V_BOOL)
		return v.v.b;
	p->stats.errors++;
	snprintf(p->last_error, sizeof(p->last_error), "%s", v.kind == V_ERR ? v.v.err : "a result that is not bool");
	return -EINVAL;
}

const char *vigil_cel__last_error(const struct vigil_cel *p)
{
	return p->last_error;
}

void vigil_cel__stats(const struct vigil_cel *p, struct vigil_cel_stats *out)
{
	*out = p->stats;
}
