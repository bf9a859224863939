/* regex.c - matches() patterns: CEL means RE2 syntax, vigil has POSIX ERE (glibc regcomp).
 * Most patterns mean the same in both; the RE2 constructs that mean something else or nothing
 * to glibc are refused with the reason rather than matched differently: flags ((?i)),
 * non-capturing and named groups, Perl classes (\d \w \s), assertions (\A \z), \p{..}
 * classes, \Q..\E, C escapes (\n \t \x41), and lazy quantifiers (*? +? ?? {n}?). The cost
 * rules of filter regexes (core/export regex.c: RE2's repetition limits, glibc's copies) apply
 * too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cel_internal.h"
#include "export/export_internal.h"

/* Why the escape at p (a backslash) is refused, or NULL. */
static const char *bad_escape(const char *p)
{
	if (!p[1])
		return "a trailing backslash";
	if (strchr("dDwWsS", p[1]))
		return "Perl character classes (\\d, \\w, \\s) are RE2's; write [0-9], [[:alnum:]_], [[:space:]]";
	if (strchr("AzZ", p[1]))
		return "\\A and \\z are RE2's; write ^ and $";
	if (p[1] == 'p' || p[1] == 'P')
		return "Unicode classes (\\p{...}) are not supported";
	if (p[1] == 'Q' || p[1] == 'E')
		return "\\Q...\\E is not supported";
	if (strchr("ntrfvaxC0123456789", p[1]))
		return "C escapes (\\n, \\t, \\x41) and back-references mean something else in POSIX ERE; put the "
		       "character itself in the pattern";
	if (p[1] == 'b' || p[1] == 'B')
		return "\\b and \\B (word boundaries) are not supported";
	return NULL;
}

static size_t bracket_len(const char *p)
{
	const char *q = p + 1;

	if (*q == '^')
		q++;
	if (*q == ']')
		q++;
	while (*q && *q != ']') {
		if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
			const char *end = strstr(q + 2, q[1] == ':' ? ":]" : q[1] == '.' ? ".]" : "=]");

			if (!end)
				return 0;
			q = end + 2;
		} else {
			q++;
		}
	}
	return *q ? (size_t)(q + 1 - p) : 0;
}

int cel_regex_compile(const char *pattern, regex_t **out, char *why, size_t size)
{
	const char *p = pattern, *reason;
	regex_t *re;
	size_t len;
	int rc;

	*out = NULL;
	while (*p) {
		if (*p == '\\') {
			reason = bad_escape(p);
			if (reason) {
				snprintf(why, size, "at offset %zu: %s", (size_t)(p - pattern), reason);
				return -EINVAL;
			}
			p += 2;
			continue;
		}
		if (*p == '[') {
			len = bracket_len(p);
			if (!len) {
				snprintf(why, size, "at offset %zu: missing ]", (size_t)(p - pattern));
				return -EINVAL;
			}
			/* inside brackets RE2 still reads escapes: [\d] is a digit to it, "\" or "d" to glibc */
			if (memchr(p, '\\', len)) {
				snprintf(why, size, "at offset %zu: a backslash inside [...] means an escape to RE2 and "
					 "a backslash to POSIX ERE", (size_t)(p - pattern));
				return -EINVAL;
			}
			p += len;
			continue;
		}
		if (*p == '(' && p[1] == '?') {
			snprintf(why, size, "at offset %zu: (?...) groups and flags such as (?i) are RE2's; "
				 "POSIX ERE has none", (size_t)(p - pattern));
			return -EINVAL;
		}
		if ((*p == '*' || *p == '+' || *p == '?' || *p == '}') && p[1] == '?') {
			snprintf(why, size, "at offset %zu: lazy quantifiers (*?, +?, ?\?) are RE2's; "
				 "POSIX ERE has none", (size_t)(p - pattern));
			return -EINVAL;
		}
		p++;
	}
	re = calloc(1, sizeof(*re));
	if (!re)
		return -ENOMEM;
	/* searched as ^.*(pattern), one pass: a+b against 128 KiB of "a" took over 10 s as an
	 * unanchored search */
	rc = vigil_regex_search_compile(re, pattern, why, size);
	if (rc) {
		free(re);
		return rc;
	}
	*out = re;
	return 0;
}
