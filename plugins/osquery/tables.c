/* tables.c - the list of tables the extension registers, and their routes. */
#include <stdio.h>
#include <string.h>

#include "table.h"

const struct table *const tables[] = {
	&table_process_events,
	&table_socket_events,
	&table_file_events,
	&table_policy_events,
	&table_alerts,
	&table_policies,
	&table_delivery,
};

const size_t ntables = VIGIL_ARRAY_SIZE(tables);

const struct table *table_find(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < ntables; i++)
		if (strlen(tables[i]->name) == len && !memcmp(tables[i]->name, name, len))
			return tables[i];
	return NULL;
}

size_t table_index(const struct table *t)
{
	size_t i;

	for (i = 0; i < ntables && tables[i] != t; i++)
		;
	return i;
}

/* TableAttributes: none. osquery's EVENT_BASED (4) would make osquery warn "events are
 * disabled" under its default --disable_events, though its event machinery never
 * touches an extension's tables: the extension buffers and expires rows itself. */
#define TABLE_ATTRIBUTES "0"

static void write_column(struct tb_writer *w, const struct column *c)
{
	char op[16];

	snprintf(op, sizeof(op), "%u", c->options);
	tb_write_map_begin(w, TB_STRING, TB_STRING, 4);
	osq_write_pair(w, "id", "column");
	osq_write_pair(w, "name", c->name);
	osq_write_pair(w, "type", c->type);
	osq_write_pair(w, "op", op);
}

static void write_attributes(struct tb_writer *w)
{
	tb_write_map_begin(w, TB_STRING, TB_STRING, 2);
	osq_write_pair(w, "id", "attributes");
	osq_write_pair(w, "attributes", TABLE_ATTRIBUTES);
}

void table_write_routes(struct tb_writer *w, const struct table *t)
{
	size_t i;

	tb_write_list_begin(w, TB_MAP, (uint32_t)t->ncolumns + 1);
	for (i = 0; i < t->ncolumns; i++)
		write_column(w, &t->columns[i]);
	write_attributes(w);
}

void table_write_route_rows(struct tb_writer *w, const struct table *t, struct osq_rows *rows)
{
	size_t i;

	for (i = 0; i < t->ncolumns; i++) {
		rows->count++;
		write_column(w, &t->columns[i]);
	}
	rows->count++;
	write_attributes(w);
}
