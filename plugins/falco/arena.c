/* arena.c - a bump allocator for extraction results.
 *
 * The framework keeps the pointers extract_fields returns until the next call, and one call
 * may extract several fields, so results cannot live in one growable buffer (growing it
 * would move what earlier fields point to). Blocks never move; a reset keeps the largest
 * one, so steady-state extraction allocates nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "falco_internal.h"

#define BLOCK_MIN 4096

struct arena_block {
	struct arena_block *next;
	size_t size, used;
	_Alignas(8) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *b = a->head;
	size_t need = (size + 7) & ~(size_t)7, bsize;
	void *p = NULL;

	if (need < size)
		goto out;
	if (!b || b->size - b->used < need) {
		bsize = need > BLOCK_MIN ? need : BLOCK_MIN;
		b = malloc(sizeof(*b) + bsize);
		if (!b)
			goto out;
		b->size = bsize;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	b->used += need;
out:
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	struct arena_block *b = a->head;
	size_t need = (n + 8) & ~(size_t)7;
	char *p;

	/* the common case without a call: room in the current block */
	if (b && need > n && b->size - b->used >= need) {
		p = (char *)b->data + b->used;
		b->used += need;
	} else {
		p = n + 1 ? arena_alloc(a, n + 1) : NULL;
	}

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void arena_reset(struct arena *a)
{
	struct arena_block *b, *next, *keep = NULL;

	for (b = a->head; b; b = next) {
		next = b->next;
		if (!keep || b->size > keep->size) {
			free(keep);
			keep = b;
		} else {
			free(b);
		}
	}
	if (keep) {
		keep->next = NULL;
		keep->used = 0;
	}
	a->head = keep;
}

void arena_free(struct arena *a)
{
	arena_reset(a);
	free(a->head);
	a->head = NULL;
}
