/* args.c - the raw argv area turned into Tetragon's single `arguments` string. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pcache.h"

/* An argument is quoted when it is empty or holds a character that could blur where it
 * begins or ends once joined with spaces: whitespace, a quote, a backslash. Without the
 * last two, ["\"-rf", "/\""] and ["-rf", "/"] would read alike once one is quoted. */
static bool needs_quotes(const char *arg, size_t len)
{
	size_t i;

	if (len == 0)
		return true;
	/* a switch, not strchr per byte: a compiler's command line is ~130 bytes an exec */
	for (i = 0; i < len; i++) {
		switch (arg[i]) {
		case ' ':
		case '\t':
		case '\n':
		case '"':
		case '\\':
			return true;
		}
	}
	return false;
}

/* Quoted form: "..." with '"' and '\' escaped, so the string splits back unambiguously. */
static int append_quoted(struct vigil_buf *out, const char *arg, size_t len)
{
	size_t i, run = 0;
	int err;

	err = vigil_buf_append(out, "\"", 1);
	for (i = 0; !err && i < len; i++) {
		if (arg[i] != '"' && arg[i] != '\\')
			continue;
		err = vigil_buf_append(out, arg + run, i - run);
		if (!err)
			err = vigil_buf_append(out, "\\", 1);
		run = i;
	}
	if (!err)
		err = vigil_buf_append(out, arg + run, len - run);
	if (!err)
		err = vigil_buf_append(out, "\"", 1);
	return err;
}

static int append_arg(struct vigil_buf *out, const char *arg, size_t len)
{
	if (needs_quotes(arg, len))
		return append_quoted(out, arg, len);
	return vigil_buf_append(out, arg, len);
}

int vigil_args_format(const char *raw, size_t len, struct vigil_buf *out)
{
	size_t start_len = out->len;
	const char *nul;
	size_t pos, first, arg_len;
	int err = 0;

	if (!raw)
		len = 0;
	/* Skip argv[0]; with no NUL at all there is nothing after it. */
	nul = len ? memchr(raw, '\0', len) : NULL;
	pos = nul ? (size_t)(nul - raw) + 1 : len;
	first = pos;

	/* Each argument ends at a NUL; a truncated area ends without one, and its partial
	 * last argument is kept rather than dropped. */
	while (!err && pos < len) {
		nul = memchr(raw + pos, '\0', len - pos);
		arg_len = nul ? (size_t)(nul - raw) - pos : len - pos;
		if (pos > first)
			err = vigil_buf_append(out, " ", 1);
		if (!err)
			err = append_arg(out, raw + pos, arg_len);
		pos += arg_len + 1;
	}
	if (!err)
		err = vigil_buf_append(out, "", 0);	/* out->data is a string even when empty */
	if (err) {
		/* Leave out as it was: a half-appended argument list is worse than none. */
		out->len = start_len;
		if (out->data)
			out->data[start_len] = '\0';
	}
	return err;
}
