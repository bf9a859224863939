/* regex.c - what a filter regex may cost before glibc's regcomp sees it.
 *
 * Filter regexes come from users (--export-allowlist, getevents, plugin configs) and
 * glibc compiles a POSIX ERE by copying a repeated subexpression out: `x+` becomes `xx*`
 * and `x{n,m}` becomes m copies of x, so repetitions multiply. "a" followed by 150 '+'
 * made regcomp allocate until it died (found by tests/fuzz export_filter_fuzz), and
 * `(a{1000}){1000}` asks for a million copies. Tetragon compiles the same patterns with
 * RE2, which refuses both: a repetition operator right after another ("bad repetition
 * operator: ++"), and counts above 1000. Those two rules are kept here, and the copies
 * glibc would make are counted without building anything; a pattern whose copies exceed
 * REGEX_MAX_COPIES is refused. Repeated groups are limited too: glibc computes closures
 * over them that grow exponentially with their nesting and about cubically with their
 * number ("(((((((((((()+)+)+)+)+)+)+)+))+)+)+)+" kept regcomp busy for over 10 s, found
 * by the same target; "()*" 1000 times takes 2.3 s, "(((()+)+)+)" 100 times 0.7 s, while
 * 2000 "a*" take 0.02 s). Worst are repetitions of what can match nothing ("(a*)*",
 * "(a|)*", "($)*") next to an anchor: each one doubles the closure, 24 of them between
 * '^' and '$' took 16 s, so they are capped at 8 (found by the same target). Back-references, which RE2 lacks and glibc matches by backtracking,
 * are refused as well. What passes is still compiled and checked by regcomp.
 */
#include <errno.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"

#define REGEX_MAX_REPEAT 1000		/* RE2's kMaxRepeat */
#define REGEX_MAX_COPIES 1024		/* atoms after glibc's expansion; a filter rarely needs 100 */
#define REGEX_MAX_DEPTH 64		/* nested groups */
#define REGEX_MAX_NESTED_REPEAT 3	/* repetitions inside repetitions: ((a+)+)+ is the most */
#define REGEX_MAX_REPEATED_GROUPS 64	/* copies of repeated groups, e.g. (x)* or ((x)+){20} */
#define REGEX_MAX_EMPTY_REPEATS 8	/* copies of repetitions of what can match nothing: (a*)*, ($)* */

/* How many copies of the preceding atom a repetition at p makes, and its length in *len;
 * 0 when p is no repetition ('{' not starting a valid interval is a literal to glibc). */
static unsigned long repeat(const char *p, size_t *len, unsigned long *min)
{
	unsigned long n = 0, m = 0;
	const char *q = p + 1;
	bool digits_n, comma, digits_m = false;

	*len = 1;
	*min = *p == '+';
	if (*p == '*' || *p == '?')
		return 1;
	if (*p == '+')
		return 2;			/* x+ is xx* */
	if (*p != '{')
		return 0;
	/* {n}, {n,}, {n,m} and glibc's {,m} */
	digits_n = *q >= '0' && *q <= '9';
	/* every digit is read (stopping early left "{20501}" looking like a literal to us and
	 * like 20501 copies to glibc; found by export_filter_fuzz); the value saturates */
	for (; *q >= '0' && *q <= '9'; q++)
		n = n > REGEX_MAX_REPEAT ? n : n * 10 + (unsigned long)(*q - '0');
	comma = *q == ',';
	if (comma) {
		q++;
		digits_m = *q >= '0' && *q <= '9';
		for (; *q >= '0' && *q <= '9'; q++)
			m = m > REGEX_MAX_REPEAT ? m : m * 10 + (unsigned long)(*q - '0');
	}
	if (*q != '}' || (!digits_n && !comma))
		return 0;
	*len = (size_t)(q + 1 - p);
	*min = n;
	if (n > REGEX_MAX_REPEAT || m > REGEX_MAX_REPEAT)
		return REGEX_MAX_COPIES + 1;
	if (!comma)
		m = n;
	/* x{n,m}: m copies; x{n,}: n copies and a star */
	if (comma && !digits_m)
		return n + 1;
	return m > 1 ? m : 1;
}

/* Length of the bracket expression at p ('['), or 0 when it does not close. */
static size_t bracket(const char *p)
{
	const char *q = p + 1;

	if (*q == '^')
		q++;
	if (*q == ']')
		q++;				/* a leading ']' is a member */
	while (*q && *q != ']') {
		if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
			const char *end = strchr(q + 2, q[1]);

			while (end && end[1] != ']')
				end = strchr(end + 1, q[1]);
			if (!end)
				return 0;
			q = end + 2;
		} else {
			q++;
		}
	}
	return *q ? (size_t)(q + 1 - p) : 0;
}

/* What the scan knows of the group open at one depth (depth 0: the whole pattern). */
struct level {
	unsigned long copies, last;		/* atoms after expansion; the last atom's */
	unsigned long groups, last_groups;	/* copies of repeated groups */
	unsigned long empties, last_empties;	/* copies of repetitions of what can match nothing */
	int nest, last_nest;			/* repetitions nested in it; in the last atom */
	bool last_group;			/* the last atom is a group */
	bool last_nullable;			/* the last atom can match nothing */
	bool has_elem, elem_nullable;		/* the last atom with its repetition, not yet in branch */
	bool branch_nullable, any_nullable;	/* the present alternative; an earlier one */
};

static void level_open(struct level *l)
{
	memset(l, 0, sizeof(*l));
	l->branch_nullable = true;
}

/* The last element ends: the present alternative can match nothing only if it could. */
static void level_commit(struct level *l)
{
	if (l->has_elem)
		l->branch_nullable = l->branch_nullable && l->elem_nullable;
	l->has_elem = false;
}

/* A new atom: weight copies, repeated groups, empties; nest; whether it matches nothing. */
static void level_atom(struct level *l, unsigned long copies, unsigned long groups, unsigned long empties,
		       int nest, bool group, bool nullable)
{
	level_commit(l);
	l->copies += copies;
	l->last = copies;
	l->groups += groups;
	l->last_groups = groups;
	l->empties += empties;
	l->last_empties = empties;
	l->last_nest = nest;
	if (nest > l->nest)
		l->nest = nest;
	l->last_group = group;
	l->last_nullable = l->elem_nullable = nullable;
	l->has_elem = true;
}

static bool is_anchor(const char *p)
{
	return *p == '^' || *p == '$' || (*p == '\\' && p[1] && strchr("bB<>`'", p[1]));
}

static int refuse(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int refuse(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int export_regex_check(const char *pattern, char *why, size_t size)
{
	struct level lv[REGEX_MAX_DEPTH + 1], *l = &lv[0];
	const char *p = pattern;
	bool after_repeat = false;
	unsigned long k, min;
	size_t len;

	level_open(l);
	while (*p) {
		k = repeat(p, &len, &min);
		if (k && after_repeat) {
			return refuse(why, size, "bad repetition operator at offset %zu: a repetition cannot follow another",
				      (size_t)(p - pattern));
		}
		after_repeat = k != 0;
		if (k) {
			if (l->last_nest + 1 > REGEX_MAX_NESTED_REPEAT)
				return refuse(why, size, "repetitions nested deeper than %d", REGEX_MAX_NESTED_REPEAT);
			if (l->last_nest + 1 > l->nest)
				l->nest = l->last_nest + 1;
			/* the last atom, and what it holds, now counts k times */
			l->copies += l->last * (k - 1);
			l->groups += l->last_groups * (k - 1) + (l->last_group ? k : 0);
			l->empties += l->last_empties * (k - 1) + (l->last_nullable ? k : 0);
			l->elem_nullable = min == 0 || l->last_nullable;
			l->last = l->last_groups = l->last_empties = 0;
			l->last_group = l->last_nullable = false;
		} else if (*p == '(') {
			if (l == &lv[REGEX_MAX_DEPTH])
				return refuse(why, size, "groups nested deeper than %d", REGEX_MAX_DEPTH);
			level_commit(l);
			level_open(++l);
		} else if (*p == ')' && l > lv) {
			struct level *in = l--;

			level_commit(in);
			/* "()" is still a node */
			level_atom(l, in->copies ? in->copies : 1, in->groups, in->empties, in->nest, true,
				   in->any_nullable || in->branch_nullable);
		} else if (*p == ')') {
			/* glibc takes it as a literal; RE2 refuses it ("unexpected )"). Refused here,
			 * as the searches compile ^.*(pattern), where it would close that group and
			 * let what follows repeat it unseen by these counts (export_filter_fuzz:
			 * "(^^|...)+)+)+..." kept regcomp busy past libFuzzer's 10 s) */
			return refuse(why, size, "unmatched ')' at offset %zu", (size_t)(p - pattern));
		} else if (*p == '|') {
			level_commit(l);
			l->any_nullable = l->any_nullable || l->branch_nullable;
			l->branch_nullable = true;
			l->last = l->last_groups = l->last_empties = 0;
			l->last_nest = 0;
			l->last_group = l->last_nullable = false;
		} else {
			/* glibc matches back-references by backtracking, exponential in the subject;
			 * RE2 (Tetragon) has none, so no Tetragon filter uses them */
			if (*p == '\\' && p[1] >= '1' && p[1] <= '9')
				return refuse(why, size, "back-references (\\%c) are not supported", p[1]);
			level_atom(l, 1, 0, 0, 0, false, is_anchor(p));
			if (*p == '\\' && p[1])
				len = 2;
			else if (*p == '[' && bracket(p))
				len = bracket(p);
		}
		p += len;
		if (l->empties > REGEX_MAX_EMPTY_REPEATS)
			return refuse(why, size, "more than %d repetitions of what can match nothing, such as (a*)* or ($)*",
				      REGEX_MAX_EMPTY_REPEATS);
		if (l->groups > REGEX_MAX_REPEATED_GROUPS)
			return refuse(why, size, "more than %d repeated groups (counting the copies repetitions make)",
				      REGEX_MAX_REPEATED_GROUPS);
		if (l->copies > REGEX_MAX_COPIES)
			return refuse(why, size, "repetitions expand beyond %d copies (counts above %d are refused)",
				      REGEX_MAX_COPIES, REGEX_MAX_REPEAT);
	}
	return 0;
}

/* The pattern alone is compiled first, for its own error message: wrapped, glibc would
 * report the group the wrapping adds. */
int vigil_regex_search_compile(regex_t *re, const char *pattern, char *why, size_t size)
{
	char *wrapped;
	int rc = export_regex_check(pattern, why, size);

	if (rc)
		return rc;
	rc = regcomp(re, pattern, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		regerror(rc, re, why, size);
		return rc == REG_ESPACE ? -ENOMEM : -EINVAL;
	}
	regfree(re);
	/* glibc's regexec tries an unanchored pattern at every start in turn, each try scanning
	 * on to the end: a+b against 128 KiB of "a" (an argument any user can pass) took over
	 * 10 s; behind .* it is one pass, 0.5 ms. A ^ or $ inside still anchors where it did. */
	wrapped = malloc(strlen(pattern) + 6);
	if (!wrapped)
		return -ENOMEM;
	sprintf(wrapped, "^.*(%s)", pattern);
	rc = regcomp(re, wrapped, REG_EXTENDED | REG_NOSUB);
	free(wrapped);
	if (rc) {
		regerror(rc, re, why, size);
		return rc == REG_ESPACE ? -ENOMEM : -EINVAL;
	}
	return 0;
}
