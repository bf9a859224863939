/* constraints.c - a small JSON reader for a generate request's context: it follows the one
 * path it needs (constraints[].name, constraints[].list[].op/expr) and skips the rest. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "constraints.h"

/* Nesting the reader follows before it gives up; osquery's context is 4 levels deep. */
#define JSON_MAX_DEPTH 32
/* Longest key, column name or expression kept; longer ones are cut and then match
 * nothing (no column name or integer is this long). */
#define TOKEN_MAX 64

struct json {
	const char *p;
	size_t len, off;
	unsigned int depth;
};

static void ws(struct json *j)
{
	while (j->off < j->len && strchr(" \t\r\n", j->p[j->off]) && j->p[j->off])
		j->off++;
}

/* Skip white space, then consume c if it is next. */
static bool eat(struct json *j, char c)
{
	ws(j);
	if (j->off < j->len && j->p[j->off] == c) {
		j->off++;
		return true;
	}
	return false;
}

static int hex4(struct json *j)
{
	size_t i;
	char c;

	if (j->len - j->off < 4)
		return -EINVAL;
	for (i = 0; i < 4; i++) {
		c = j->p[j->off + i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return -EINVAL;
	}
	j->off += 4;
	return 0;
}

/* A string at the cursor, its decoded bytes copied into out (TOKEN_MAX, cut and
 * NUL-terminated; may be NULL). Escapes are checked; \u escapes decode to '?', since
 * nothing this reader compares holds non-ASCII text. */
static int string(struct json *j, char *out)
{
	size_t n = 0;
	char c;

	if (!eat(j, '"'))
		return -EINVAL;
	for (;;) {
		if (j->off >= j->len)
			return -EINVAL;
		c = j->p[j->off++];
		if (c == '"')
			break;
		if ((unsigned char)c < 0x20)
			return -EINVAL;
		if (c == '\\') {
			if (j->off >= j->len)
				return -EINVAL;
			c = j->p[j->off++];
			switch (c) {
			case '"': case '\\': case '/': break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'u':
				if (hex4(j))
					return -EINVAL;
				c = '?';
				break;
			default:
				return -EINVAL;
			}
		}
		if (out && n < TOKEN_MAX - 1)
			out[n++] = c;
	}
	if (out)
		out[n] = '\0';
	return 0;
}

/* A number at the cursor, as its raw text (JSON's grammar, checked loosely: the digits
 * are validated again where the value is used). */
static int number(struct json *j, char *out)
{
	size_t start, n;

	ws(j);
	start = j->off;
	while (j->off < j->len && strchr("+-0123456789.eE", j->p[j->off]) && j->p[j->off])
		j->off++;
	n = j->off - start;
	if (!n)
		return -EINVAL;
	if (out) {
		if (n > TOKEN_MAX - 1)
			n = TOKEN_MAX - 1;
		memcpy(out, j->p + start, n);
		out[n] = '\0';
	}
	return 0;
}

static int literal(struct json *j, const char *word)
{
	size_t n = strlen(word);

	if (j->len - j->off < n || memcmp(j->p + j->off, word, n))
		return -EINVAL;
	j->off += n;
	return 0;
}

static int skip_value(struct json *j);

/* Walk an object or array, calling each on every element (or every member, with its key);
 * each must consume the value. */
typedef int (*member_fn)(struct json *j, const char *key, void *arg);

static int walk(struct json *j, char open, member_fn each, void *arg)
{
	char close = open == '{' ? '}' : ']';
	char key[TOKEN_MAX] = "";
	int err = 0;

	if (!eat(j, open) || j->depth >= JSON_MAX_DEPTH)
		return -EINVAL;
	j->depth++;
	if (eat(j, close))
		goto out;
	do {
		if (open == '{') {
			err = string(j, key);
			if (!err && !eat(j, ':'))
				err = -EINVAL;
		}
		if (!err)
			err = each(j, key, arg);
	} while (!err && eat(j, ','));
	if (!err && !eat(j, close))
		err = -EINVAL;
out:
	j->depth--;
	return err;
}

static int skip_member(struct json *j, const char *key, void *arg)
{
	return skip_value(j);
}

static int skip_value(struct json *j)
{
	ws(j);
	if (j->off >= j->len)
		return -EINVAL;
	switch (j->p[j->off]) {
	case '{':
	case '[':
		return walk(j, j->p[j->off], skip_member, NULL);
	case '"':
		return string(j, NULL);
	case 't':
		return literal(j, "true");
	case 'f':
		return literal(j, "false");
	case 'n':
		return literal(j, "null");
	default:
		return number(j, NULL);
	}
}

/* A decimal integer with nothing after it. */
static bool parse_i64(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	uint64_t v = 0, d;

	s += neg;
	if (!*s)
		return false;
	for (; *s; s++) {
		d = (uint64_t)(*s - '0');
		if (d > 9 || v > ((uint64_t)INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = neg ? -(int64_t)v : (int64_t)v;
	return true;
}

/* One constraint as read: a column name and up to this many (op, expr) pairs. */
#define MAX_TERMS 32

struct constraint {
	char name[TOKEN_MAX];
	size_t nterms;
	struct {
		int64_t op;
		char expr[TOKEN_MAX];
		bool has_op, has_expr;
	} terms[MAX_TERMS];
	bool dropped;		/* more terms than MAX_TERMS: the constraint is ignored */
};

static int term_member(struct json *j, const char *key, void *arg)
{
	struct constraint *c = arg;
	char tok[TOKEN_MAX];
	int err;

	if (c->nterms >= MAX_TERMS)
		return skip_value(j);
	if (!strcmp(key, "op")) {
		err = number(j, tok);
		if (!err)
			c->terms[c->nterms].has_op = parse_i64(tok, &c->terms[c->nterms].op);
		return err;
	}
	if (!strcmp(key, "expr")) {
		ws(j);
		/* osquery sends expressions as strings; a number is read the same way */
		if (j->off < j->len && j->p[j->off] == '"')
			err = string(j, c->terms[c->nterms].expr);
		else
			err = number(j, c->terms[c->nterms].expr);
		c->terms[c->nterms].has_expr = !err;
		return err;
	}
	return skip_value(j);
}

static int term(struct json *j, const char *key, void *arg)
{
	struct constraint *c = arg;
	int err;

	ws(j);
	if (j->off >= j->len || j->p[j->off] != '{')
		return skip_value(j);
	if (c->nterms < MAX_TERMS)
		memset(&c->terms[c->nterms], 0, sizeof(c->terms[0]));
	err = walk(j, '{', term_member, c);
	if (c->nterms < MAX_TERMS)
		c->nterms++;
	else
		c->dropped = true;
	return err;
}

static int constraint_member(struct json *j, const char *key, void *arg)
{
	struct constraint *c = arg;

	ws(j);
	if (!strcmp(key, "name") && j->off < j->len && j->p[j->off] == '"')
		return string(j, c->name);
	if (!strcmp(key, "list") && j->off < j->len && j->p[j->off] == '[')
		return walk(j, '[', term, c);
	return skip_value(j);
}

static void apply_pid(struct osq_constraints *out, const struct constraint *c, bool *pid_overflow)
{
	int64_t v;
	size_t i;

	for (i = 0; i < c->nterms; i++) {
		if (!c->terms[i].has_op || c->terms[i].op != OSQ_OP_EQUALS || !c->terms[i].has_expr ||
		    !parse_i64(c->terms[i].expr, &v) || v < 0)
			continue;
		if (out->npids == OSQ_MAX_PIDS)
			*pid_overflow = true;
		else
			out->pids[out->npids++] = (uint64_t)v;
	}
}

static void apply_time(struct osq_constraints *out, const struct constraint *c)
{
	int64_t v, lo, hi;
	size_t i;

	for (i = 0; i < c->nterms; i++) {
		if (!c->terms[i].has_op || !c->terms[i].has_expr || !parse_i64(c->terms[i].expr, &v))
			continue;
		lo = INT64_MIN;
		hi = INT64_MAX;
		switch (c->terms[i].op) {
		case OSQ_OP_EQUALS: lo = hi = v; break;
		case OSQ_OP_GT: lo = v == INT64_MAX ? v : v + 1; break;
		case OSQ_OP_GE: lo = v; break;
		case OSQ_OP_LT: hi = v == INT64_MIN ? v : v - 1; break;
		case OSQ_OP_LE: hi = v; break;
		default: break;
		}
		if (lo > out->time_min)
			out->time_min = lo;
		if (hi < out->time_max)
			out->time_max = hi;
	}
}

struct parse_state {
	struct osq_constraints *out;
	bool pid_overflow;
};

static int constraint(struct json *j, const char *key, void *arg)
{
	struct parse_state *st = arg;
	struct constraint c = { .nterms = 0 };
	int err;

	ws(j);
	if (j->off >= j->len || j->p[j->off] != '{')
		return skip_value(j);
	err = walk(j, '{', constraint_member, &c);
	if (err || c.dropped)
		return err;
	if (!strcmp(c.name, "pid"))
		apply_pid(st->out, &c, &st->pid_overflow);
	else if (!strcmp(c.name, "time"))
		apply_time(st->out, &c);
	return 0;
}

static int top_member(struct json *j, const char *key, void *arg)
{
	ws(j);
	if (!strcmp(key, "constraints") && j->off < j->len && j->p[j->off] == '[')
		return walk(j, '[', constraint, arg);
	return skip_value(j);
}

void osq_constraints_init(struct osq_constraints *c)
{
	memset(c, 0, sizeof(*c));
	c->time_min = INT64_MIN;
	c->time_max = INT64_MAX;
}

int osq_constraints_parse(const char *json, size_t len, struct osq_constraints *c)
{
	struct json j = { .p = json, .len = len };
	struct parse_state st = { .out = c };
	int err;

	osq_constraints_init(c);
	err = walk(&j, '{', top_member, &st);
	if (!err) {
		ws(&j);
		if (j.off != j.len)
			err = -EINVAL;
	}
	if (err)
		osq_constraints_init(c);
	else if (st.pid_overflow)
		c->npids = 0;
	return err;
}

bool osq_constraints_pass(const struct osq_constraints *c, bool has_pid, uint64_t pid, int64_t time)
{
	size_t i;

	if (time < c->time_min || time > c->time_max)
		return false;
	if (!c->npids)
		return true;
	if (!has_pid)
		return false;
	for (i = 0; i < c->npids; i++)
		if (c->pids[i] == pid)
			return true;
	return false;
}
