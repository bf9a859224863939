/* source.c - the event source: a subscription to vigild's bus, read in batches.
 *
 * A batch is taken as soon as anything is queued (a partial batch beats latency), and
 * next() waits on the subscription (vigil_sub__wait) until the configured timeout when nothing is:
 * Falco calls next_batch again at once after SS_PLUGIN_TIMEOUT, so returning early would
 * spin a CPU. Every message is read here, once, into a view (view.c): malformed ones are
 * counted and skipped, unwanted event types dropped, and the view stays with the event so
 * extraction reads values without decoding the event again.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bus/bus.h"
#include "falco_internal.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A hole in the stamps: the agent published these and the bus dropped them for us. Told
 * to the framework's log as it happens, and counted for its metrics. */
static void on_gap(void *ctx, uint64_t incarnation, uint64_t first, uint64_t last)
{
	struct fp_state *st = ctx;
	char msg[200];

	st->cnt.missed += last - first + 1;
	st->cnt.gaps++;
	if (!st->log)
		return;
	snprintf(msg, sizeof(msg),
		 "missed %" PRIu64 " events (seq %" PRIu64 "..%" PRIu64 " of agent incarnation %016" PRIx64
		 "): Falco fell behind the vigil bus; %" PRIu64 " missed in all",
		 last - first + 1, first, last, incarnation, st->cnt.missed);
	st->log(st->log_owner, "vigil", msg, 4 /* SS_PLUGIN_LOG_SEV_WARNING */);
}

static void release_batch(struct fp_state *st, struct fp_source *src)
{
	lookup_forget_batch(&st->lookup);
	if (st->cur && src == st->src)
		st->cur = NULL;
	src->n = 0;
	src->cursor = 0;
}

void fp_source__close(struct fp_state *st, struct fp_source *src)
{
	uint32_t i;

	if (!src)
		return;
	release_batch(st, src);
	for (i = 0; i < src->nslots; i++)
		free(src->slots[i].ev.buf);
	free(src->slots);
	vigil_sub__close(src->sub);
	free(src->url);
	if (st->src == src)
		st->src = NULL;
	free(src);
}

struct fp_source *fp_source__open(struct fp_state *st, const char *params)
{
	const char *url = params && params[0] ? params : st->cfg.bus;
	struct fp_source *src = calloc(1, sizeof(*src));
	int err;

	if (!src) {
		state_fail(st, "vigil: cannot open the event source: out of memory");
		goto err_out;
	}
	src->url = strdup(url);
	src->nslots = st->cfg.batch_size;
	src->slots = calloc(src->nslots, sizeof(*src->slots));
	if (!src->url || !src->slots) {
		state_fail(st, "vigil: cannot open the event source: out of memory");
		goto err_out;
	}
	/* a receive timeout of 0 makes vigil_sub__recv a non-blocking take: waiting is vigil_sub__wait's */
	src->sub = vigil_sub__open(url, 0);
	if (!src->sub) {
		err = errno;
		state_fail(st, "vigil: cannot subscribe to the event bus '%s': %s", url, strerror(err));
		goto err_out;
	}
	vigil_sub__on_gap(src->sub, on_gap, st);
	st->src = src;
	st->error[0] = '\0';
	return src;

err_out:
	fp_source__close(st, src);
	return NULL;
}

/* Does the config want events of the view's type? */
static bool wanted(const struct fp_state *st, const struct fp_view *v)
{
	char key[128];

	if (!st->cfg.ntypes)
		return true;
	/* no configured type is this long: see config.c */
	if (v->type_len >= sizeof(key))
		return false;
	memcpy(key, v->data + v->type_off, v->type_len);
	key[v->type_len] = '\0';
	return config_wants(&st->cfg, key);
}

/* Copy one message into the next free slot and read it there. Returns 1 when it joined
 * the batch, 0 when it was skipped (malformed or unwanted), -ENOMEM. */
static int take(struct fp_state *st, struct fp_source *src, const void *data, size_t len)
{
	struct slot *s = &src->slots[src->n];
	struct vigil_msgpack_tail tail;
	const msgpack_object *t;
	size_t need = st->headroom + len + VIEW_PAD;
	uint8_t *buf;
	int err = 0;

	st->cnt.received++;
	if (len > UINT32_MAX - st->headroom) {
		vigil_sub__note(src->sub, data, len, NULL);
		st->cnt.malformed++;
		return 0;
	}
	if (s->cap < need) {
		buf = realloc(s->ev.buf, need);
		if (!buf) {
			vigil_sub__note(src->sub, data, len, NULL);
			return -ENOMEM;
		}
		s->ev.buf = buf;
		s->cap = need;
	}
	memcpy(s->ev.buf + st->headroom, data, len);
	/* one walk validates the event, notes its root keys and finds the bus's stamp for the
	 * gap count; the body's keys are found when a field first asks (view_index) */
	s->view.memo = &st->memo;
	if (view_scan(&s->view, s->ev.buf + st->headroom, len, &tail)) {
		vigil_sub__note(src->sub, data, len, NULL);
		st->cnt.malformed++;
		return 0;
	}
	vigil_sub__note(src->sub, s->ev.buf + st->headroom, len, &tail);
	if (!wanted(st, &s->view)) {
		st->cnt.filtered++;
		return 0;
	}
	s->ev.len = (uint32_t)len;
	/* the kernel's time, not the time we read it; unreadable: the framework stamps it */
	t = view_get(st, &s->view, VK_TIME, &err);
	if (err)
		return -ENOMEM;
	if (!t || t->type != MSGPACK_OBJECT_STR || evtime_parse(&st->evtime, t->via.str.ptr, t->via.str.size, &s->ev.ts))
		s->ev.ts = UINT64_MAX;
	src->n++;
	st->cnt.delivered++;
	return 1;
}

/* Take what is queued, without waiting, until the batch is full. */
static int drain(struct fp_state *st, struct fp_source *src)
{
	struct vigil_delivery d;
	void *msg = NULL;
	int n, err = 0;

	while (src->n < src->nslots) {
		n = vigil_sub__take(src->sub, &msg);
		if (n == -ETIMEDOUT || n == -EAGAIN || n == -EINTR)
			break;
		if (n < 0) {
			err = n;
			state_fail(st, "vigil: receiving from the event bus '%s' failed: %s", src->url,
				   strerror(-n));
			break;
		}
		err = take(st, src, msg, (size_t)n);
		vigil_bus_msg_free(msg);
		msg = NULL;
		if (err < 0) {
			state_fail(st, "vigil: out of memory while reading the event bus");
			break;
		}
		err = 0;
	}
	vigil_sub__delivery(src->sub, &d);
	st->cnt.restarts = d.restarts;
	st->cnt.last_seq = d.last_seq;
	return err;
}

int fp_source__next(struct fp_state *st, struct fp_source *src)
{
	int64_t deadline = now_ms() + st->cfg.timeout_ms, left;
	int err;

	release_batch(st, src);
	for (;;) {
		err = drain(st, src);
		if (err || src->n)
			break;
		left = deadline - now_ms();
		if (left <= 0)
			break;
		err = vigil_sub__wait(src->sub, (int)left);
		if (err < 0) {
			/* a signal (sysdig's SIGINT) ends the wait: the caller checks its flags */
			if (err == -EINTR) {
				err = 0;
				break;
			}
			state_fail(st, "vigil: waiting on the event bus '%s' failed: %s", src->url, strerror(-err));
			break;
		}
		err = 0;
	}
	return err ? err : (int)src->n;
}

const struct fp_event *fp_source__event(const struct fp_source *src, uint32_t i)
{
	return &src->slots[i].ev;
}

struct fp_instance *fp_instance__open(struct fp_state *st, const char *params, size_t elem_size)
{
	struct fp_instance *inst = calloc(1, sizeof(*inst));

	if (!inst)
		return NULL;
	inst->evts = calloc(fp_state__batch_size(st), elem_size);
	if (inst->evts)
		inst->src = fp_source__open(st, params);
	if (!inst->src) {
		fp_instance__close(st, inst);
		return NULL;
	}
	return inst;
}

void fp_instance__close(struct fp_state *st, struct fp_instance *inst)
{
	if (!inst)
		return;
	if (inst->src)
		fp_source__close(st, inst->src);
	free(inst->evts);
	free(inst);
}
