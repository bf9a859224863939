/* lookup.c - from the payload the framework hands back to the view next() built.
 *
 * The framework asks for one field at a time, so the same event comes back once per field
 * of every rule: it must be decoded once, not per call. Three places are tried in turn:
 * the event resolved last (same pointer, length and event number), the current batch (a
 * 3.x framework passes our own buffer back; a 0.3.0 one copies the payload into its own
 * event, so there the bytes are compared, starting where the last match left off since
 * events come back in order), and a private decode for anything else (capture files).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "falco_internal.h"

static void remember(struct lookup *lk, const void *data, size_t len, uint64_t evtnum, struct fp_view *v)
{
	lk->data = data;
	lk->len = len;
	lk->evtnum = evtnum;
	lk->view = v;
}

static struct fp_view *in_batch(struct fp_state *st, const void *data, size_t len)
{
	struct fp_source *src = st->src;
	struct slot *s;
	const uint8_t *payload;
	uint32_t k, i;

	for (k = 0; src && k < src->n; k++) {
		i = (src->cursor + k) % src->n;
		s = &src->slots[i];
		payload = s->ev.buf + st->headroom;
		if (s->ev.len == len && (payload == data || !memcmp(payload, data, len))) {
			src->cursor = i + 1 < src->n ? i + 1 : 0;
			return &s->view;
		}
	}
	return NULL;
}

static struct fp_view *own_view(struct fp_state *st, struct lookup *lk, const void *data, size_t len)
{
	uint8_t *buf;

	if (lk->own_ok && lk->own_len == len && !memcmp(lk->own, data, len))
		return &lk->own_view;
	lk->own_ok = false;
	lk->own_len = 0;
	if (lk->own_cap < len + VIEW_PAD) {
		buf = realloc(lk->own, len + VIEW_PAD);
		if (!buf) {
			errno = ENOMEM;
			return NULL;
		}
		lk->own = buf;
		lk->own_cap = len + VIEW_PAD;
	}
	memcpy(lk->own, data, len);
	lk->own_view.memo = &st->memo;
	if (view_build(&lk->own_view, lk->own, len, NULL)) {
		errno = EBADMSG;
		return NULL;
	}
	lk->own_len = len;
	lk->own_ok = true;
	return &lk->own_view;
}

struct fp_view *lookup_view(struct fp_state *st, const void *payload, size_t len, uint64_t evtnum)
{
	struct lookup *lk = &st->lookup;
	struct fp_view *m;

	/* the event number tells events apart that the framework stores at one address */
	if (lk->view && payload == lk->data && len == lk->len && evtnum == lk->evtnum && evtnum != FP_NO_EVTNUM)
		return lk->view;
	m = in_batch(st, payload, len);
	if (!m)
		m = own_view(st, lk, payload, len);
	if (m)
		remember(lk, payload, len, evtnum, m);
	else
		remember(lk, NULL, 0, FP_NO_EVTNUM, NULL);
	return m;
}

void lookup_forget_batch(struct lookup *lk)
{
	if (lk->view != &lk->own_view)
		remember(lk, NULL, 0, FP_NO_EVTNUM, NULL);
}

void lookup_free(struct lookup *lk)
{
	free(lk->own);
	memset(lk, 0, sizeof(*lk));
}
