/* table_delivery.c - vigil_delivery: what the extension's bus subscription received and
 * missed, counted from the sequence numbers the agent stamps on every message (core/bus).
 * One row; missed > 0 means rows the event tables never got because the extension fell
 * behind and the bus dropped them. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "table.h"

static const struct column columns[] = {
	{ "bus", "TEXT", 0 },
	{ "subscribed", "INTEGER", 0 },
	{ "received", "UNSIGNED BIGINT", 0 },
	{ "missed", "UNSIGNED BIGINT", 0 },
	{ "gaps", "UNSIGNED BIGINT", 0 },
	{ "restarts", "UNSIGNED BIGINT", 0 },
	{ "incarnation", "TEXT", 0 },
	{ "first_seq", "UNSIGNED BIGINT", 0 },
	{ "last_seq", "UNSIGNED BIGINT", 0 },
	{ "last_gap_first", "UNSIGNED BIGINT", 0 },
	{ "last_gap_last", "UNSIGNED BIGINT", 0 },
	{ "unstamped", "UNSIGNED BIGINT", 0 },
	{ "malformed", "UNSIGNED BIGINT", 0 },
};

static int generate(const struct table *t, const struct live_ctx *ctx, const struct osq_constraints *c,
		    struct tb_writer *w, struct osq_rows *rows)
{
	const struct vigil_delivery *d = &ctx->delivery.d;
	struct row_builder rb;
	struct row *row;
	int err = 0;

	rb_init(&rb);
	rb_reset(&rb, t);
	rb_set(&rb, "bus", ctx->bus_url ? ctx->bus_url : "");
	rb_set(&rb, "subscribed", ctx->delivery.subscribed ? "1" : "0");
	rb_setf(&rb, "received", "%" PRIu64, d->received);
	rb_setf(&rb, "missed", "%" PRIu64, d->missed);
	rb_setf(&rb, "gaps", "%" PRIu64, d->gaps);
	rb_setf(&rb, "restarts", "%" PRIu64, d->restarts);
	if (d->incarnation)
		rb_setf(&rb, "incarnation", "%016" PRIx64, d->incarnation);
	rb_setf(&rb, "first_seq", "%" PRIu64, d->first_seq);
	rb_setf(&rb, "last_seq", "%" PRIu64, d->last_seq);
	rb_setf(&rb, "last_gap_first", "%" PRIu64, d->last_gap_first);
	rb_setf(&rb, "last_gap_last", "%" PRIu64, d->last_gap_last);
	rb_setf(&rb, "unstamped", "%" PRIu64, d->unstamped);
	rb_setf(&rb, "malformed", "%" PRIu64, ctx->delivery.malformed);
	row = rb_finish(&rb, 0);
	if (!row) {
		err = -ENOMEM;
		goto out;
	}
	table_write_row(w, rows, t, row);
	free(row);
out:
	rb_free(&rb);
	return err;
}

const struct table table_delivery = {
	.name = "vigil_delivery",
	.columns = columns,
	.ncolumns = VIGIL_ARRAY_SIZE(columns),
	.generate = generate,
};
