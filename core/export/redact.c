/* redact.c - Tetragon's --redaction-filters: what a capture group of a "redact" regex
 * matches in a process's arguments is replaced with "*****" before the event leaves the
 * agent (bus, terminal and export alike, as Tetragon applies them at the agent).
 *
 * Tetragon writes the patterns for RE2; glibc's ERE lacks RE2's non-capturing group
 * "(?:...)", which the documented example uses ("(?:--password|-p)(?:\s+|=)(\S*)"), so
 * such a group is compiled as a plain group and remembered as not to be redacted. Other
 * "(?" forms (flags, named groups) are refused with the reason. A regex without a
 * capturing group would redact nothing: refused too, rather than accepted and idle.
 */
#include <errno.h>
#include <regex.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

#define REDACT_MASK "*****"
#define REDACT_GROUPS 10		/* the whole match and up to 9 groups */

struct redact_regex {
	regex_t re;
	regex_t search;			/* the same as ^.*(re): whether it matches at all, in one pass */
	bool capturing[REDACT_GROUPS];	/* group i is redacted */
};

struct redact_filter {
	regex_t *binary;		/* any of them must match process.binary; none: every binary */
	size_t nbinary;
	struct redact_regex *redact;
	size_t nredact;
};

struct vigil_redaction {
	struct redact_filter *f;
	size_t n;
};

/* pattern with "(?:" turned into "(", the capturing groups marked; -EINVAL + why */
static int translate(const char *pattern, char *out, bool *capturing, char *why, size_t size)
{
	size_t i, o = 0, group = 0;
	bool bracket = false;

	for (i = 0; pattern[i]; i++) {
		char c = pattern[i];

		if (c == '\\' && pattern[i + 1]) {
			out[o++] = c;
			out[o++] = pattern[++i];
			continue;
		}
		if (bracket) {
			if (c == ']')
				bracket = false;
		} else if (c == '[') {
			bracket = true;
			out[o++] = c;
			if (pattern[i + 1] == '^')
				out[o++] = pattern[++i];
			if (pattern[i + 1] == ']')	/* a literal ']' first */
				out[o++] = pattern[++i];
			continue;
		} else if (c == '(') {
			bool plain = pattern[i + 1] != '?';

			if (!plain && pattern[i + 2] != ':') {
				snprintf(why, size, "only the (?:...) group of RE2's (? forms is supported");
				return -EINVAL;
			}
			if (++group >= REDACT_GROUPS) {
				snprintf(why, size, "more than %d groups", REDACT_GROUPS - 1);
				return -EINVAL;
			}
			capturing[group] = plain;
			out[o++] = c;
			if (!plain)
				i += 2;
			continue;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	for (i = 1; i <= group; i++)
		if (capturing[i])
			return 0;
	snprintf(why, size, "no capture group: nothing to redact");
	return -EINVAL;
}

/* A redact regex: its groups are needed, so it is searched as written, and once more as
 * ^.*(pattern) (vigil_regex_search_compile) to skip, in one pass, the arguments it does not
 * match at all: glibc retries an unanchored search at every start, and (a+)b took 0.8 s
 * against 16 KiB of "a" (50 s against the 128 KiB any user can pass to exec). */
static int compile_redact(struct redact_regex *r, const char *pattern, char *why, size_t size)
{
	int rc = vigil_regex_search_compile(&r->search, pattern, why, size);

	if (rc)
		return rc;
	rc = regcomp(&r->re, pattern, REG_EXTENDED);
	if (rc) {
		regerror(rc, &r->re, why, size);
		regfree(&r->search);
		return rc == REG_ESPACE ? -ENOMEM : -EINVAL;
	}
	return 0;
}

static int bad_regex(struct vigil_export_error *err, int index, int line, const char *key, const char *pattern,
		     const char *why)
{
	return export_fail(err, line, 0, index, "--redaction-filters: %s: bad regex '%.64s%s': %s", key, pattern,
			   strlen(pattern) > 64 ? "..." : "", why);
}

static int parse_binary(struct redact_filter *f, json_t *v, int index, int line, struct vigil_export_error *err)
{
	char why[160];
	size_t i;
	int rc;

	if (!json_is_array(v))
		return export_fail(err, line, 0, index, "--redaction-filters: binary_regex: expected a list of regexes");
	f->binary = calloc(json_array_size(v) + 1, sizeof(*f->binary));
	if (!f->binary)
		return -ENOMEM;
	for (i = 0; i < json_array_size(v); i++) {
		const char *p = json_string_value(json_array_get(v, i));

		if (!p)
			return export_fail(err, line, 0, index, "--redaction-filters: binary_regex: expected strings");
		rc = vigil_regex_search_compile(&f->binary[i], p, why, sizeof(why));
		if (rc == -ENOMEM)
			return rc;
		if (rc)
			return bad_regex(err, index, line, "binary_regex", p, why);
		f->nbinary++;
	}
	return 0;
}

static int parse_redact(struct redact_filter *f, json_t *v, int index, int line, struct vigil_export_error *err)
{
	char why[160], *plain;
	size_t i;
	int rc;

	if (!json_is_array(v) || !json_array_size(v))
		return export_fail(err, line, 0, index, "--redaction-filters: redact: expected a non-empty list of regexes");
	f->redact = calloc(json_array_size(v), sizeof(*f->redact));
	if (!f->redact)
		return -ENOMEM;
	for (i = 0; i < json_array_size(v); i++) {
		const char *p = json_string_value(json_array_get(v, i));
		struct redact_regex *r = &f->redact[i];

		if (!p)
			return export_fail(err, line, 0, index, "--redaction-filters: redact: expected strings");
		plain = malloc(strlen(p) + 1);
		if (!plain)
			return -ENOMEM;
		rc = translate(p, plain, r->capturing, why, sizeof(why));
		if (!rc)
			rc = compile_redact(r, plain, why, sizeof(why));
		free(plain);
		if (rc == -ENOMEM)
			return rc;
		if (rc)
			return bad_regex(err, index, line, "redact", p, why);
		f->nredact++;
	}
	return 0;
}

/* one object: {"binary_regex": [...], "redact": [...]}, or the first form Tetragon had,
 * {"match": {"binary_regex": [...]}, "redact": [...]} */
static int parse_one(void *ctx, json_t *obj, int index, int line, struct vigil_export_error *err)
{
	struct vigil_redaction *r = ctx;
	struct redact_filter *f = &r->f[r->n];
	const char *key;
	json_t *v, *match;
	int rc = 0;

	json_object_foreach(obj, key, v) {
		if (!strcmp(key, "binary_regex")) {
			rc = parse_binary(f, v, index, line, err);
		} else if (!strcmp(key, "redact")) {
			rc = parse_redact(f, v, index, line, err);
		} else if (!strcmp(key, "match")) {
			match = json_object_get(v, "binary_regex");
			if (!json_is_object(v) || json_object_size(v) != (match != NULL))
				return export_fail(err, line, 0, index,
						   "--redaction-filters: match: only binary_regex is supported");
			if (match)
				rc = parse_binary(f, match, index, line, err);
		} else {
			return export_fail(err, line, 0, index, "--redaction-filters: unknown key '%s'", key);
		}
		if (rc)
			return rc;
	}
	if (!f->nredact)
		return export_fail(err, line, 0, index, "--redaction-filters: a filter needs \"redact\"");
	r->n++;
	return 0;
}

static int count_one(void *ctx, json_t *obj, int index, int line, struct vigil_export_error *err)
{
	(void)obj, (void)index, (void)line, (void)err;
	(*(size_t *)ctx)++;
	return 0;
}

struct vigil_redaction *vigil_redaction__new_json(const char *text, struct vigil_export_error *err)
{
	struct vigil_redaction *r = calloc(1, sizeof(*r));
	size_t n = 0;
	int rc;

	if (!r)
		return NULL;
	rc = export_json_each(text, count_one, &n, err);
	if (!rc && !n)
		rc = export_fail(err, 0, 0, 0, "--redaction-filters: no filter object");
	if (!rc) {
		r->f = calloc(n + 1, sizeof(*r->f));	/* + the one being parsed when it fails */
		rc = r->f ? export_json_each(text, parse_one, r, err) : -ENOMEM;
	}
	if (rc) {
		vigil_redaction__free(r);
		errno = -rc;
		return NULL;
	}
	return r;
}

void vigil_redaction__free(struct vigil_redaction *r)
{
	size_t i, k;

	if (!r)
		return;
	for (i = 0; r->f && i <= r->n; i++) {
		struct redact_filter *f = &r->f[i];

		for (k = 0; k < f->nbinary; k++)
			regfree(&f->binary[k]);
		for (k = 0; k < f->nredact; k++) {
			regfree(&f->redact[k].re);
			regfree(&f->redact[k].search);
		}
		free(f->binary);
		free(f->redact);
	}
	free(r->f);
	free(r);
}

static bool binary_matches(const struct redact_filter *f, const char *binary)
{
	size_t i;

	for (i = 0; i < f->nbinary; i++)
		if (!regexec(&f->binary[i], binary ? binary : "", 0, NULL, 0))
			return true;
	return !f->nbinary;
}

/* every match of one regex in in: its capturing groups replaced; 1 when something was */
static int redact_all(const struct redact_regex *r, const char *in, struct vigil_buf *out)
{
	regmatch_t m[REDACT_GROUPS];
	size_t off = 0, len = strlen(in), k;
	int changed = 0, flags = 0;

	vigil_buf_reset(out);
	if (regexec(&r->search, in, 0, NULL, 0))
		return 0;
	while (off <= len && !regexec(&r->re, in + off, REDACT_GROUPS, m, flags)) {
		size_t at = 0;

		for (k = 1; k < REDACT_GROUPS; k++) {
			if (!r->capturing[k] || m[k].rm_so < 0 || m[k].rm_eo == m[k].rm_so || (size_t)m[k].rm_so < at)
				continue;
			if (vigil_buf_append(out, in + off + at, (size_t)m[k].rm_so - at) || vigil_buf_puts(out, REDACT_MASK))
				return -ENOMEM;
			at = (size_t)m[k].rm_eo;
			changed = 1;
		}
		/* an empty match moves on by one byte, kept as it was */
		if ((size_t)m[0].rm_eo == 0 && off < len)
			m[0].rm_eo = 1;
		if (vigil_buf_append(out, in + off + at, (size_t)m[0].rm_eo > at ? (size_t)m[0].rm_eo - at : 0))
			return -ENOMEM;
		if (!m[0].rm_eo)
			break;
		off += (size_t)m[0].rm_eo;
		flags = REG_NOTBOL;
	}
	if (off < len && vigil_buf_append(out, in + off, len - off))
		return -ENOMEM;
	if (!out->data && vigil_buf_append(out, "", 0))
		return -ENOMEM;
	return changed;
}

const char *vigil_redaction__apply(const struct vigil_redaction *r, const char *binary, const char *s,
				   struct vigil_buf *scratch)
{
	struct vigil_buf tmp = {0};
	const char *cur = s;
	bool changed = false;
	size_t i, k;

	if (!r || !s || !s[0])
		return s;
	for (i = 0; i < r->n; i++) {
		if (!binary_matches(&r->f[i], binary))
			continue;
		for (k = 0; k < r->f[i].nredact; k++) {
			int rc = redact_all(&r->f[i].redact[k], cur, &tmp);

			if (rc < 0)
				goto fail;
			if (rc) {
				/* tmp becomes the current text; scratch the next output */
				vigil_buf_reset(scratch);
				if (vigil_buf_append(scratch, tmp.data, tmp.len))
					goto fail;
				cur = scratch->data;
				changed = true;
			}
		}
	}
	vigil_buf_free(&tmp);
	return changed ? scratch->data : s;
fail:
	/* never the secret when redaction could not be done */
	vigil_buf_free(&tmp);
	return REDACT_MASK;
}
