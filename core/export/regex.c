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
 * 2000 "a*" take 0.02 s). Back-references, which RE2 lacks and glibc matches by backtracking,
 * are refused as well. What passes is still compiled and checked by regcomp.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "export_internal.h"

#define REGEX_MAX_REPEAT 1000		/* RE2's kMaxRepeat */
#define REGEX_MAX_COPIES 4096		/* atoms after glibc's expansion: the longest shipped filter needs < 100 */
#define REGEX_MAX_DEPTH 64		/* nested groups */
#define REGEX_MAX_NESTED_REPEAT 3	/* repetitions inside repetitions: ((a+)+)+ is the most */
#define REGEX_MAX_REPEATED_GROUPS 64	/* copies of repeated groups, e.g. (x)* or ((x)+){20} */

/* How many copies of the preceding atom a repetition at p makes, and its length in *len;
 * 0 when p is no repetition ('{' not starting a valid interval is a literal to glibc). */
static unsigned long repeat(const char *p, size_t *len)
{
	unsigned long n = 0, m = 0;
	const char *q = p + 1;
	bool digits_n, comma, digits_m = false;

	*len = 1;
	if (*p == '*' || *p == '?')
		return 1;
	if (*p == '+')
		return 2;			/* x+ is xx* */
	if (*p != '{')
		return 0;
	/* {n}, {n,}, {n,m} and glibc's {,m} */
	digits_n = *q >= '0' && *q <= '9';
	while (*q >= '0' && *q <= '9' && n <= REGEX_MAX_REPEAT)
		n = n * 10 + (unsigned long)(*q++ - '0');
	comma = *q == ',';
	if (comma) {
		q++;
		digits_m = *q >= '0' && *q <= '9';
		while (*q >= '0' && *q <= '9' && m <= REGEX_MAX_REPEAT)
			m = m * 10 + (unsigned long)(*q++ - '0');
	}
	if (*q != '}' || (!digits_n && !comma))
		return 0;
	*len = (size_t)(q + 1 - p);
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

int export_regex_check(const char *pattern, char *why, size_t size)
{
	/* copies[d]: atoms of the group open at depth d so far; last[d]: the last atom's;
	 * nest[d]: the deepest nesting of repetitions in it; last_nest[d]: the last atom's */
	unsigned long copies[REGEX_MAX_DEPTH + 1] = {0}, last[REGEX_MAX_DEPTH + 1] = {0}, k;
	int nest[REGEX_MAX_DEPTH + 1] = {0}, last_nest[REGEX_MAX_DEPTH + 1] = {0};
	/* groups[d]: copies of repeated groups in the group at depth d; last_groups[d]: in
	 * the last atom, which is a group when last_group[d] */
	unsigned long groups[REGEX_MAX_DEPTH + 1] = {0}, last_groups[REGEX_MAX_DEPTH + 1] = {0};
	bool last_group[REGEX_MAX_DEPTH + 1] = {false};
	const char *p = pattern;
	bool after_repeat = false;
	size_t len;
	int depth = 0;

	while (*p) {
		k = repeat(p, &len);
		if (k && after_repeat) {
			snprintf(why, size, "bad repetition operator at offset %zu: a repetition cannot follow another",
				 (size_t)(p - pattern));
			return -EINVAL;
		}
		after_repeat = k != 0;
		if (k) {
			copies[depth] += last[depth] * (k - 1);	/* the last atom now counts k times */
			last[depth] = 0;
			if (last_nest[depth] + 1 > REGEX_MAX_NESTED_REPEAT) {
				snprintf(why, size, "repetitions nested deeper than %d", REGEX_MAX_NESTED_REPEAT);
				return -EINVAL;
			}
			if (last_nest[depth] + 1 > nest[depth])
				nest[depth] = last_nest[depth] + 1;
			/* the group and the repeated groups inside it, each now k times */
			if (last_group[depth])
				groups[depth] += last_groups[depth] * (k - 1) + k;
			last_group[depth] = false;
			last_groups[depth] = 0;
		} else if (*p == '(') {
			if (depth == REGEX_MAX_DEPTH) {
				snprintf(why, size, "groups nested deeper than %d", REGEX_MAX_DEPTH);
				return -EINVAL;
			}
			depth++;
			copies[depth] = last[depth] = 0;
			nest[depth] = last_nest[depth] = 0;
			groups[depth] = last_groups[depth] = 0;
			last_group[depth] = false;
		} else if (*p == ')' && depth > 0) {
			k = copies[depth] ? copies[depth] : 1;	/* "()" is still a node */
			depth--;
			copies[depth] += k;
			last[depth] = k;
			last_nest[depth] = nest[depth + 1];
			if (nest[depth + 1] > nest[depth])
				nest[depth] = nest[depth + 1];
			groups[depth] += groups[depth + 1];
			last_groups[depth] = groups[depth + 1];
			last_group[depth] = true;
		} else if (*p == '|') {
			last[depth] = 0;
			last_nest[depth] = 0;
			last_groups[depth] = 0;
			last_group[depth] = false;
		} else {
			/* glibc matches back-references by backtracking, exponential in the subject;
			 * RE2 (Tetragon) has none, so no Tetragon filter uses them */
			if (*p == '\\' && p[1] >= '1' && p[1] <= '9') {
				snprintf(why, size, "back-references (\\%c) are not supported", p[1]);
				return -EINVAL;
			}
			if (*p == '\\' && p[1])
				len = 2;
			else if (*p == '[' && bracket(p))
				len = bracket(p);
			copies[depth]++;
			last[depth] = 1;
			last_nest[depth] = 0;
			last_groups[depth] = 0;
			last_group[depth] = false;
		}
		p += len;
		if (groups[depth] > REGEX_MAX_REPEATED_GROUPS) {
			snprintf(why, size, "more than %d repeated groups (counting the copies repetitions make)",
				 REGEX_MAX_REPEATED_GROUPS);
			return -EINVAL;
		}
		if (copies[depth] > REGEX_MAX_COPIES) {
			snprintf(why, size, "repetitions expand beyond %d copies (counts above %d are refused)",
				 REGEX_MAX_COPIES, REGEX_MAX_REPEAT);
			return -EINVAL;
		}
	}
	return 0;
}
