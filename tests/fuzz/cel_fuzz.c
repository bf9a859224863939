/* cel_fuzz.c - libFuzzer target for the CEL expressions of core/cel (getevents
 * --cel-expression, Filter.cel_expression in the agent's export lists): compile an
 * expression, then evaluate it against an event, decoded and through the agent's view.
 *
 * One input holds two parts separated by a NUL byte:
 *   <expression> \0 <msgpack event>
 * (no event: only the compile runs).
 *
 * Properties besides memory safety: a refused expression says why, with a column inside
 * the text (or 0); an accepted one evaluates to 1, 0, -ENOENT (a kind it does not name) or
 * -EINVAL with a reason; the same event gives the same answer twice in a row, and decoded
 * and viewed in place when it holds only what vigil's encoder writes (the view stops at
 * floats, ext and keys that are not strings, which the agent's own bytes never hold).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel/cel.h"
#include "encode/encode.h"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "cel_fuzz: property violated: %s\n", what);
		abort();
	}
}

/* Whether o holds only the forms vigil's encoder writes (no floats, no ext, string keys):
 * the agent's view reads only those, and stops at anything else. */
static int plain(const msgpack_object *o)
{
	uint32_t i;

	switch (o->type) {
	case MSGPACK_OBJECT_FLOAT32: case MSGPACK_OBJECT_FLOAT64: case MSGPACK_OBJECT_EXT:
		return 0;
	case MSGPACK_OBJECT_ARRAY:
		for (i = 0; i < o->via.array.size; i++)
			if (!plain(&o->via.array.ptr[i]))
				return 0;
		return 1;
	case MSGPACK_OBJECT_MAP:
		for (i = 0; i < o->via.map.size; i++)
			if (o->via.map.ptr[i].key.type != MSGPACK_OBJECT_STR || !plain(&o->via.map.ptr[i].val))
				return 0;
		return 1;
	default:
		return 1;
	}
}

static int eval(struct vigil_cel *p, const struct vigil_msg *m)
{
	int rc = vigil_cel__eval(p, m);

	check(rc == 0 || rc == 1 || rc == -ENOENT || rc == -EINVAL, "eval: unexpected result");
	check(rc != -EINVAL || vigil_cel__last_error(p)[0], "eval: an error without a reason");
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t n = nul ? (size_t)(nul - data) : size;
	char *expr = malloc(n + 1);
	struct vigil_cel_error err;
	struct vigil_cel *p;
	struct vigil_msg *m = NULL, *view = NULL;
	int rc;

	check(expr != NULL, "out of memory");
	memcpy(expr, data, n);
	expr[n] = '\0';
	p = vigil_cel__compile(expr, &err);
	if (!p) {
		check(errno == EINVAL || errno == ENOMEM, "compile: unexpected errno");
		check(errno != EINVAL || err.reason[0], "compile: a refusal without a reason");
		check(err.column >= 0 && (size_t)err.column <= n + 1, "compile: a column outside the text");
		goto out;
	}
	if (!nul)
		goto out;
	m = vigil_msg__decode(nul + 1, size - n - 1);
	if (!m)
		goto out;
	rc = eval(p, m);
	check(eval(p, m) == rc, "eval: a second evaluation differs");
	/* the agent's view reads bytes its own encoder wrote; decoded bytes re-encoded are that */
	view = vigil_msg__new_view();
	check(view != NULL, "out of memory");
	{
		const msgpack_object *root = vigil_msg__root(m);
		msgpack_sbuffer sb;
		msgpack_packer pk;

		msgpack_sbuffer_init(&sb);
		msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
		if (root && plain(root) && !msgpack_pack_object(&pk, *root) &&
		    !vigil_msg__view_own(view, sb.data, sb.size, 0))
			check(eval(p, view) == rc, "eval: the view and the decoded event differ");
		vigil_msg__free(view);
		view = NULL;
		msgpack_sbuffer_destroy(&sb);
	}
out:
	vigil_msg__free(m);
	vigil_cel__free(p);
	free(expr);
	return 0;
}
