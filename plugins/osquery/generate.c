/* generate.c - the rows of an answer to "generate": a table's store read under the
 * request's constraints, each row as osquery's map<string,string>. */
#include "table.h"

void table_write_row(struct tb_writer *w, struct osq_rows *rows, const struct table *t, const struct row *row)
{
	uint32_t n = 0;
	size_t i;

	/* a column the event had nothing for is left out: osquery reads it as NULL */
	for (i = 0; i < t->ncolumns; i++)
		n += row->values[i] != NULL;
	osq_write_row_begin(w, rows, n);
	for (i = 0; i < t->ncolumns; i++)
		if (row->values[i])
			osq_write_pair(w, t->columns[i].name, row->values[i]);
}

struct generate_ctx {
	const struct table *t;
	const struct osq_constraints *c;
	struct tb_writer *w;
	struct osq_rows *rows;
};

static int write_if_passes(const struct row *row, void *arg)
{
	struct generate_ctx *g = arg;

	if (osq_constraints_pass(g->c, row->has_pid, row->pid, row->time))
		table_write_row(g->w, g->rows, g->t, row);
	return g->w->err;
}

int table_generate_store(const struct table *t, struct store *s, const struct osq_constraints *c, uint64_t now,
			 struct tb_writer *w, struct osq_rows *rows)
{
	struct generate_ctx g = { .t = t, .c = c, .w = w, .rows = rows };

	return store_each(s, now, write_if_passes, &g);
}
