/* prom.c - Prometheus' text exposition format (version 0.0.4): writing families and
 * samples, and reading samples back. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_internal.h"

#define MAX_LABELS 16

static void put(struct prom_out *o, const char *s, size_t n)
{
	if (!o->err)
		o->err = vigil_buf_append(o->buf, s, n);
}

static void puts_(struct prom_out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* HELP text escapes '\\' and newline; label values also '"'. */
static void put_escaped(struct prom_out *o, const char *s, bool quote)
{
	const char *run = s;

	for (; *s; s++) {
		const char *e = *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : quote && *s == '"' ? "\\\"" : NULL;

		if (!e)
			continue;
		put(o, run, (size_t)(s - run));
		puts_(o, e);
		run = s + 1;
	}
	put(o, run, (size_t)(s - run));
}

void prom_family(struct prom_out *o, const char *name, const char *type, const char *help)
{
	puts_(o, "# HELP ");
	puts_(o, name);
	puts_(o, " ");
	put_escaped(o, help, false);
	puts_(o, "\n# TYPE ");
	puts_(o, name);
	puts_(o, " ");
	puts_(o, type);
	puts_(o, "\n");
}

static void put_name_labels(struct prom_out *o, const char *name, const char *const *labels, size_t npairs)
{
	size_t i;

	puts_(o, name);
	if (!npairs)
		return;
	puts_(o, "{");
	for (i = 0; i < npairs; i++) {
		if (i)
			puts_(o, ",");
		puts_(o, labels[2 * i]);
		puts_(o, "=\"");
		put_escaped(o, labels[2 * i + 1] ? labels[2 * i + 1] : "", true);
		puts_(o, "\"");
	}
	puts_(o, "}");
}

void prom_sample_u64(struct prom_out *o, const char *name, const char *const *labels, size_t npairs, uint64_t v)
{
	char num[32];

	put_name_labels(o, name, labels, npairs);
	snprintf(num, sizeof(num), " %" PRIu64 "\n", v);
	puts_(o, num);
}

void prom_sample_f64(struct prom_out *o, const char *name, const char *const *labels, size_t npairs, double v)
{
	char num[40];

	put_name_labels(o, name, labels, npairs);
	if (isnan(v))
		snprintf(num, sizeof(num), " NaN\n");
	else if (isinf(v))
		snprintf(num, sizeof(num), " %sInf\n", v > 0 ? "+" : "-");
	else
		snprintf(num, sizeof(num), " %.17g\n", v);
	puts_(o, num);
}

void prom_sample_ns(struct prom_out *o, const char *name, const char *const *labels, size_t npairs, uint64_t ns)
{
	char num[48];

	put_name_labels(o, name, labels, npairs);
	snprintf(num, sizeof(num), " %" PRIu64 ".%09" PRIu64 "\n", ns / UINT64_C(1000000000), ns % UINT64_C(1000000000));
	puts_(o, num);
}

/* ---- reading ---- */

static bool name_start(char c)
{
	return isalpha((unsigned char)c) || c == '_' || c == ':';
}

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == ':';
}

/* Parse one sample line (NUL-terminated, in a writable copy: names and values are cut in
 * place, label values unescaped in place). */
static int parse_line(char *s, vigil_metrics_sample_fn fn, void *ctx)
{
	struct vigil_metrics_label labels[MAX_LABELS];
	size_t n = 0;
	char *name = s, *end, *w;
	double v;

	if (!name_start(*s))
		return -EBADMSG;
	while (name_char(*s))
		s++;
	if (*s == '{') {
		*s++ = '\0';
		for (;;) {
			while (*s == ' ')
				s++;
			if (*s == '}')
				break;
			if (n == MAX_LABELS || !name_start(*s))
				return -EBADMSG;
			labels[n].name = s;
			while (name_char(*s))
				s++;
			if (s[0] != '=' || s[1] != '"')
				return -EBADMSG;
			*s = '\0';
			s += 2;
			labels[n].value = w = s;
			while (*s != '"') {
				if (!*s)
					return -EBADMSG;
				if (*s == '\\') {
					s++;
					if (*s == 'n')
						*w++ = '\n';
					else if (*s == '\\' || *s == '"')
						*w++ = *s;
					else
						return -EBADMSG;
					s++;
				} else {
					*w++ = *s++;
				}
			}
			s++;
			*w = '\0';
			n++;
			while (*s == ' ')
				s++;
			if (*s == ',')
				s++;
			else if (*s != '}')
				return -EBADMSG;
		}
		s++;
	} else if (*s != ' ') {
		return -EBADMSG;
	}
	if (*s != ' ')
		return -EBADMSG;
	*s++ = '\0';
	while (*s == ' ')
		s++;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE)
		return -EBADMSG;
	/* an optional timestamp in ms */
	while (*end == ' ')
		end++;
	if (*end) {
		strtoll(end, &w, 10);
		if (w == end || *w)
			return -EBADMSG;
	}
	return fn(ctx, name, labels, n, v);
}

int vigil_metrics_parse(const char *text, size_t len, vigil_metrics_sample_fn fn, void *ctx, int *bad_line)
{
	const char *p = text, *end = text + len, *nl;
	char *line = NULL, *grown;
	size_t cap = 0, n;
	int lineno = 0, ret = 0;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		lineno++;
		if (n && *p != '#') {
			if (n + 1 > cap) {
				grown = realloc(line, n + 1);
				if (!grown) {
					ret = -ENOMEM;
					break;
				}
				line = grown;
				cap = n + 1;
			}
			memcpy(line, p, n);
			line[n] = '\0';
			ret = parse_line(line, fn, ctx);
			if (ret) {
				if (ret == -EBADMSG && bad_line)
					*bad_line = lineno;
				break;
			}
		}
		p += n + 1;
	}
	free(line);
	return ret;
}
