/* pattern.c - what one call of Lua's pattern matcher can cost on a given subject, before it
 * runs (limits.c charges it to the rule's budget).
 *
 * Lua's matcher (lstrlib.c) backtracks: an item with '*', '+', '-' or '?' tries each length
 * its class allows at that position, and for each one matches the rest of the pattern; an
 * unanchored search does that from every start. The calls it makes in the worst case (no
 * match anywhere) are the paths of a graph over (item, position): from (i, p) to
 * (i + 1, p + k) for each length k that item i can take at p. For patterns of plain items
 * (a character, '.', a %class, a [set], each with or without a quantifier; captures and %f
 * count as nothing) that count is computed exactly, in one pass per item over the subject:
 * calls(i, p) = 1 + run(i, p) + sum over k of calls(i + 1, p + k), where run is the length
 * of the class's run at p (the scan a greedy item makes first), the sum a difference of
 * suffix sums. Other patterns (%b, back references) and subjects over LH_DP_MAX bytes get
 * the bound lh_pattern_work. Small bounds skip the exact count: it costs a pass per item.
 */
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "luahost_internal.h"

#define LH_DP_MAX (64u << 10)		/* subject bytes the exact count runs on (16 bytes each) */
#define LH_DP_SKIP 4096.0		/* a bound below this is charged as it is */
#define LH_DP_STACK 258			/* subjects of up to 256 bytes count on the stack */

/* The end of the set starting at p ('[' already skipped), or ep when it has none. */
static const char *set_end(const char *p, const char *ep)
{
	if (p < ep && *p == '^')
		p++;
	do {	/* a ']' first in the set is a member */
		if (p >= ep)
			return ep;
		if (*p == '%' && p + 1 < ep)
			p++;
		p++;
	} while (p < ep && *p != ']');
	return p < ep ? p + 1 : ep;
}

double lh_pattern_work(const char *p, size_t lp, size_t n, bool anchored)
{
	const char *ep = p + lp;
	double work = 1.0, items = 0;
	unsigned int q = 0, opt = 0, i;

	if (p < ep && *p == '^') {
		anchored = true;
		p++;
	}
	while (p < ep) {
		items++;
		if (*p == '(' || *p == ')') {
			p++;
			continue;
		}
		if (*p == '%' && p + 1 < ep) {
			if (p[1] == 'b') {		/* %bxy scans to the balancing y */
				q++;
				p += 4;
				continue;
			}
			if (p[1] == 'f') {		/* %f[set]: one position */
				p = set_end(p + 3, ep);
				continue;
			}
			if (p[1] >= '0' && p[1] <= '9') {	/* a back reference compares a capture */
				q++;
				p += 2;
				continue;
			}
			p += 2;
		} else if (*p == '[') {
			p = set_end(p + 1, ep);
		} else if (*p == '$' && p + 1 == ep) {
			break;
		} else {
			p++;
		}
		if (p < ep) {
			if (*p == '*' || *p == '+' || *p == '-') {
				q++;
				p++;
			} else if (*p == '?') {
				opt++;
				p++;
			}
		}
	}
	for (i = 1; i <= q; i++)
		work *= ((double)n + i) / i;
	work *= ldexp(1.0, (int)(opt < 60 ? opt : 60));
	work += items;
	return anchored ? work : work * ((double)n + 1);
}


struct item {
	const char *cls, *cls_end;	/* the class: "x", ".", "%a", "[...]" */
	char quant;			/* '*', '+', '-', '?' or 0 */
};

/* %a ... %x as Lua's lstrlib defines them; another character after '%' is itself */
static bool class_is(unsigned char c, unsigned char cl)
{
	bool r;

	switch (tolower(cl)) {
	case 'a': r = isalpha(c); break;
	case 'c': r = iscntrl(c); break;
	case 'd': r = isdigit(c); break;
	case 'g': r = isgraph(c); break;
	case 'l': r = islower(c); break;
	case 'p': r = ispunct(c); break;
	case 's': r = isspace(c); break;
	case 'u': r = isupper(c); break;
	case 'w': r = isalnum(c); break;
	case 'x': r = isxdigit(c); break;
	default: return cl == c;
	}
	return isupper(cl) ? !r : r;
}

static bool in_set(unsigned char c, const char *p, const char *end)
{
	bool neg = false, found = false;

	p++;			/* '[' */
	end--;			/* ']' */
	if (p < end && *p == '^') {
		neg = true;
		p++;
	}
	for (; p < end && !found; p++) {
		if (*p == '%' && p + 1 < end) {
			p++;
			found = class_is(c, (unsigned char)*p);
		} else if (p + 2 < end && p[1] == '-') {
			found = (unsigned char)p[0] <= c && c <= (unsigned char)p[2];
			p += 2;
		} else {
			found = (unsigned char)*p == c;
		}
	}
	return found != neg;
}

static bool item_matches(const struct item *it, unsigned char c)
{
	switch (*it->cls) {
	case '.':
		return true;
	case '%':
		return class_is(c, (unsigned char)it->cls[1]);
	case '[':
		return in_set(c, it->cls, it->cls_end);
	default:
		return (unsigned char)*it->cls == c;
	}
}

/* The plain items of p, or -1 when it has others (%b, back references) or too many. */
static int parse_items(const char *p, size_t lp, struct item *items, int max, bool *anchored)
{
	const char *ep = p + lp, *start;
	int n = 0;

	*anchored = p < ep && *p == '^';
	p += *anchored;
	while (p < ep) {
		if (*p == '(' || *p == ')') {
			p++;
			continue;
		}
		if (*p == '$' && p + 1 == ep)
			break;
		start = p;
		if (*p == '%') {
			if (p + 1 >= ep)
				return -1;
			if (p[1] == 'b' || (p[1] >= '0' && p[1] <= '9'))
				return -1;
			if (p[1] == 'f') {	/* zero width: passes as nothing */
				p = set_end(p + 3, ep);
				continue;
			}
			p += 2;
		} else if (*p == '[') {
			p = set_end(p + 1, ep);
		} else {
			p++;
		}
		if (n == max)
			return -1;
		items[n].cls = start;
		items[n].cls_end = p;
		items[n].quant = 0;
		if (p < ep && (*p == '*' || *p == '+' || *p == '-' || *p == '?'))
			items[n].quant = *p++;
		n++;
	}
	return n;
}

double lh_pattern_cost(const char *p, size_t lp, const char *s, size_t n)
{
	struct item items[LH_MAX_PATTERN];
	double bound = lh_pattern_work(p, lp, n, false), total = 0, *next = NULL, *cur = NULL, *tmp;
	double stack_next[LH_DP_STACK], stack_cur[LH_DP_STACK];
	size_t pos, k, kmin, kmax, run;
	bool anchored;
	int ni, i;

	if (bound < LH_DP_SKIP || n > LH_DP_MAX)
		return bound;
	ni = parse_items(p, lp, items, LH_MAX_PATTERN, &anchored);
	/* suffix sums of calls(i + 1, .) over positions 0..n, and one past for the empty tail;
	 * on the stack for the short subjects rules match most (a path, a name) */
	if (ni >= 0 && n + 2 <= LH_DP_STACK) {
		next = stack_next;
		cur = stack_cur;
	} else if (ni >= 0) {
		next = malloc((n + 2) * sizeof(*next));
		cur = next ? malloc((n + 2) * sizeof(*cur)) : NULL;
	}
	if (!cur) {
		if (next != stack_next)
			free(next);
		return bound;
	}
	/* past the last item: one call per position */
	next[n + 1] = 0;
	for (pos = n + 1; pos-- > 0;)
		next[pos] = next[pos + 1] + 1;
	for (i = ni - 1; i >= 0; i--) {
		cur[n + 1] = 0;
		run = 0;
		for (pos = n + 1; pos-- > 0;) {
			run = pos < n && item_matches(&items[i], (unsigned char)s[pos]) ? run + 1 : 0;
			kmin = items[i].quant == '+' || !items[i].quant ? 1 : 0;
			kmax = items[i].quant == '?' || !items[i].quant ? (run ? 1 : 0) : run;
			k = 1 + (items[i].quant == '*' || items[i].quant == '+' ? run : 0);
			/* calls(i, pos) = 1 + scan + sum of calls(i + 1, pos + k), kmin <= k <= kmax */
			cur[pos] = cur[pos + 1] + (double)k +
				   (kmin <= kmax ? next[pos + kmin] - next[pos + kmax + 1] : 0);
		}
		tmp = next;
		next = cur;
		cur = tmp;
	}
	/* next holds suffix sums of calls(0, .): one start, or every start */
	total = anchored ? next[0] - next[1] : next[0];
	if (next != stack_next && next != stack_cur) {
		free(next);
		free(cur);
	}
	return total < bound ? total : bound;
}
