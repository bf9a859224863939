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
 * -EINVAL with a reason; the same event gives the same answer decoded and viewed in place,
 * and twice in a row.
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
		if (root && !msgpack_pack_object(&pk, *root) &&
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
