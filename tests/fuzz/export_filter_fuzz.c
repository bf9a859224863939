/* export_filter_fuzz.c - libFuzzer target for the export filters (core/export): Tetragon's
 * allow/deny `Filter` objects (JSON, from --export-allowlist, getevents and plugin
 * configs, with POSIX regexes inside) and --field-filters, each then applied to an event.
 *
 * One input holds three parts separated by NUL bytes:
 *   <event filter JSON> \0 <field filter JSON> \0 <msgpack event>
 * (a part that is missing is empty). The event goes through both filters, as the exporter
 * does: match (with and without an ancestor resolver), then the pruned tree rendered.
 *
 * Properties besides memory safety: a refused filter text says why; matching is stable
 * (the same event matches the same way twice without pid_set learning in between); an
 * INCLUDE/EXCLUDE result keeps node_name.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export.h"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "export_filter_fuzz: property violated: %s\n", what);
		abort();
	}
}

/* The next NUL-separated part of [*p, end) as a NUL-terminated copy. */
static char *part(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nul = memchr(*p, '\0', (size_t)(end - *p));
	size_t n = nul ? (size_t)(nul - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);

	check(s != NULL, "out of memory");
	memcpy(s, *p, n);
	s[n] = '\0';
	*p = nul ? nul + 1 : end;
	return s;
}

static size_t ancestors(void *ctx, const struct vigil_msg *m, uint32_t *pids, size_t max)
{
	static const uint32_t chain[] = {4242, 1000, 1};
	size_t n = max < 3 ? max : 3;

	memcpy(pids, chain, n * sizeof(*pids));
	return n;
}

static void run_filter(const char *text, const struct vigil_msg *m)
{
	struct vigil_export_error err = {0};
	struct vigil_filter *f = vigil_filter__new_json(text, &err);

	if (!f) {
		check(errno == EINVAL || errno == ENOMEM, "filter: unexpected errno");
		check(errno != EINVAL || err.reason[0] != '\0', "filter: a refusal without a reason");
		return;
	}
	vigil_filter__count(f);
	if (m) {
		vigil_filter__match(f, m);
		vigil_filter__pass(f, NULL, m);
		vigil_filter__pass(NULL, f, m);
		vigil_filter__set_ancestors(f, ancestors, NULL);
		check(vigil_filter__match(f, m) == vigil_filter__match(f, m), "filter: match not stable");
	}
	vigil_filter__free(f);
}

static void run_fields(const char *text, const struct vigil_msg *m)
{
	struct vigil_export_error err = {0};
	struct vigil_field_filter *ff = vigil_field_filter__new_json(text, &err);
	const msgpack_object *o;
	struct vigil_buf out = {0};

	if (!ff) {
		check(errno == EINVAL || errno == ENOMEM, "fields: unexpected errno");
		check(errno != EINVAL || err.reason[0] != '\0', "fields: a refusal without a reason");
		return;
	}
	if (m) {
		o = vigil_field_filter__apply(ff, m);
		if (o) {
			check(o->type == MSGPACK_OBJECT_MAP, "fields: result not a map");
			check(!vigil_msgpack_get(vigil_msg__root(m), "node_name") || vigil_msgpack_get(o, "node_name"),
			      "fields: node_name removed");
			vigil_json_from_msgpack(o, &out);
		}
		/* twice: the second call reuses the first one's scratch */
		vigil_field_filter__apply(ff, m);
	}
	vigil_buf_free(&out);
	vigil_field_filter__free(ff);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *filter = part(&p, end), *fields = part(&p, end);
	struct vigil_msg *m = vigil_msg__decode(p, (size_t)(end - p));

	run_filter(filter, m);
	run_fields(fields, m);
	vigil_msg__free(m);
	free(filter);
	free(fields);
	return 0;
}
