/* series.c - the labelled counters the reader thread bumps: a chained hash table keyed by
 * family and labels, and the capped set of binary label values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"

#define INITIAL_BUCKETS 256

static uint64_t mix(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;	/* FNV-1a */
	return (h ^ 0xff) * 1099511628211ULL;			/* a separator between labels */
}

static uint64_t key_hash(enum series_family f, const char *const l[SERIES_LABELS])
{
	uint64_t h = 1469598103934665603ULL ^ (uint64_t)f;
	int i;

	for (i = 0; i < SERIES_LABELS; i++)
		h = mix(h, l[i]);
	return h;
}

int series_init(struct series_table *t, size_t binary_cap)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = INITIAL_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->nbinaries_buckets = binary_cap * 2 + 1;
	t->binaries = calloc(t->nbinaries_buckets, sizeof(*t->binaries));
	t->binary_cap = binary_cap;
	if (!t->buckets || !t->binaries || memo_init(t)) {
		series_free(t);
		return -ENOMEM;
	}
	return 0;
}

static void series_destroy(struct series *s)
{
	int i;

	for (i = 0; i < SERIES_LABELS; i++)
		free(s->label[i]);
	free(s);
}

void series_free(struct series_table *t)
{
	struct series *s, *next;
	size_t i;

	for (i = 0; t->buckets && i < t->nbuckets; i++) {
		for (s = t->buckets[i]; s; s = next) {
			next = s->next;
			series_destroy(s);
		}
	}
	for (i = 0; t->binaries && i < t->nbinaries_buckets; i++)
		free(t->binaries[i]);
	memo_free(t);
	free(t->buckets);
	free(t->binaries);
	memset(t, 0, sizeof(*t));
}

/* Double the buckets when the chains get long; on failure keep the old ones. */
static void grow(struct series_table *t)
{
	size_t n = t->nbuckets * 2, i;
	struct series **b = calloc(n, sizeof(*b)), *s, *next;

	if (!b)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (s = t->buckets[i]; s; s = next) {
			size_t k = key_hash(s->family, (const char *const *)s->label) & (n - 1);

			next = s->next;
			s->next = b[k];
			b[k] = s;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

static bool same_labels(const struct series *s, const char *const l[SERIES_LABELS])
{
	int i;

	for (i = 0; i < SERIES_LABELS; i++)
		if (strcmp(s->label[i], l[i]))
			return false;
	return true;
}

int series_add(struct series_table *t, enum series_family f, const char *l0, const char *l1, const char *l2,
	       uint64_t delta)
{
	const char *l[SERIES_LABELS] = {l0, l1, l2};

	return series_addv(t, f, l, delta);
}

struct series *series_get(struct series_table *t, enum series_family f, const char *const labels[SERIES_LABELS])
{
	const char *l[SERIES_LABELS];
	struct series *s;
	size_t k;
	int i;

	for (i = 0; i < SERIES_LABELS; i++)
		l[i] = labels[i] ? labels[i] : "";
	k = key_hash(f, l) & (t->nbuckets - 1);
	for (s = t->buckets[k]; s; s = s->next)
		if (s->family == f && same_labels(s, l))
			return s;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->family = f;
	for (i = 0; i < SERIES_LABELS; i++) {
		s->label[i] = strdup(l[i]);
		if (!s->label[i]) {
			series_destroy(s);
			return NULL;
		}
	}
	s->next = t->buckets[k];
	t->buckets[k] = s;
	if (++t->count > t->nbuckets * 2)
		grow(t);
	return s;
}

int series_addv(struct series_table *t, enum series_family f, const char *const labels[SERIES_LABELS], uint64_t delta)
{
	struct series *s = series_get(t, f, labels);
	struct series_record *r = t->record;

	if (r && (!s || r->n == MEMO_ROWS))
		r->failed = true;
	else if (r)
		r->rows[r->n++] = s;
	if (!s)
		return -ENOMEM;
	s->value += delta;
	return 0;
}

/* Open addressing over binary_cap * 2 + 1 slots: never more than half full. */
const char *series_binary_label(struct series_table *t, const char *binary)
{
	size_t k = mix(1469598103934665603ULL, binary) % t->nbinaries_buckets;

	for (;;) {
		if (!t->binaries[k])
			break;
		if (!strcmp(t->binaries[k], binary))
			return t->binaries[k];
		k = (k + 1) % t->nbinaries_buckets;
	}
	if (t->nbinaries >= t->binary_cap)
		return "other";
	t->binaries[k] = strdup(binary);
	if (!t->binaries[k])
		return "other";
	t->nbinaries++;
	return t->binaries[k];
}

bool series_has_binary(enum series_family f)
{
	return f == SERIES_EVENTS || f == SERIES_TG_POLICY_EVENTS || f == SERIES_TG_SYSCALLS;
}

int series_hide_binaries(struct series_table *t, const char *value)
{
	struct series_table fresh;
	struct series *s;
	size_t i;
	int err;

	series_fold(t);
	err = series_init(&fresh, t->binary_cap);
	for (i = 0; !err && i < t->nbuckets; i++) {
		for (s = t->buckets[i]; !err && s; s = s->next) {
			const char *l[SERIES_LABELS];
			int j;

			for (j = 0; j < SERIES_LABELS; j++)
				l[j] = s->label[j];
			if (series_has_binary(s->family))
				l[1] = value;
			err = series_addv(&fresh, s->family, l, s->value);
		}
	}
	if (!err)
		err = memo_rebind(t, &fresh, value);
	if (err) {
		series_free(&fresh);
		return err;
	}
	/* the memo (its entries now on fresh's rows) moves over with the counting it holds */
	memo_free(&fresh);
	fresh.memo = t->memo;
	t->memo = NULL;
	series_free(t);
	*t = fresh;
	return 0;
}

static int cmp_series(const void *a, const void *b)
{
	const struct series *x = *(struct series *const *)a, *y = *(struct series *const *)b;
	int i, c;

	for (i = 0; i < SERIES_LABELS; i++) {
		c = strcmp(x->label[i], y->label[i]);
		if (c)
			return c;
	}
	return 0;
}

size_t series_sorted(struct series_table *t, enum series_family f, struct series ***out)
{
	struct series *s, **v;
	size_t n = 0, i;

	*out = NULL;
	series_fold(t);
	v = malloc((t->count ? t->count : 1) * sizeof(*v));
	if (!v)
		return 0;
	for (i = 0; i < t->nbuckets; i++)
		for (s = t->buckets[i]; s; s = s->next)
			if (s->family == f)
				v[n++] = s;
	qsort(v, n, sizeof(*v), cmp_series);
	*out = v;
	return n;
}
