/* parse.c - CEL's grammar to an AST (recursive descent, one token of look-ahead):
 *   Expr = Or ["?" Or ":" Expr]; Or = And {"||" And}; And = Rel {"&&" Rel};
 *   Rel = Add {relop Add}; Add = Mul {("+"|"-") Mul}; Mul = Unary {("*"|"/"|"%") Unary};
 *   Unary = Member | "!"... Member | "-"... Member;
 *   Member = Primary {"." IDENT ["(" args ")"] | "[" Expr "]"};
 *   Primary = ["."] IDENT ["(" args ")"] | "(" Expr ")" | "[" list "]" | "{" map "}" | literal.
 * Message construction (Name{field: ...}) is refused: no Tetragon filter builds messages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cel_internal.h"

struct parser {
	struct vigil_cel *p;
	const char *text;
	struct cel_token tok;
	struct vigil_cel_error *err;
	int depth;
};

static int next(struct parser *ps)
{
	return cel_lex(ps->p, ps->text, ps->tok.pos + ps->tok.len, &ps->tok, ps->err);
}

static int col(const struct parser *ps)
{
	return (int)ps->tok.pos + 1;
}

/* A new node; its index, or -ENOMEM / -EINVAL past CEL_MAX_NODES. */
static int node(struct parser *ps, enum cel_nop op, int column)
{
	struct vigil_cel *p = ps->p;
	struct cel_node *grown;

	if (p->nnodes == CEL_MAX_NODES)
		return cel_fail(ps->err, column, "expression too large (more than %d nodes)", CEL_MAX_NODES);
	if (p->nnodes == p->cap) {
		int cap = p->cap ? p->cap * 2 : 32;

		grown = realloc(p->nodes, (size_t)cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		p->nodes = grown;
		p->cap = cap;
	}
	memset(&p->nodes[p->nnodes], 0, sizeof(p->nodes[0]));
	p->nodes[p->nnodes].op = (unsigned char)op;
	p->nodes[p->nnodes].col = column;
	p->nodes[p->nnodes].a = p->nodes[p->nnodes].b = p->nodes[p->nnodes].c = -1;
	return p->nnodes++;
}

/* Node n is complete: its height (1 + its tallest child's) bounds the checker's and the
 * evaluator's recursion, which left-deep chains (a.b.c..., 1+1+1...) would otherwise deepen
 * without the parser's own recursion noticing. n, or -EINVAL past CEL_MAX_DEPTH. */
static int seal(struct parser *ps, int n)
{
	struct cel_node *nd;
	int h = 0, kids[3], i;

	if (n < 0)
		return n;
	nd = &ps->p->nodes[n];
	kids[0] = nd->a;
	kids[1] = nd->b;
	kids[2] = nd->c;
	for (i = 0; i < 3; i++)
		if (kids[i] >= 0 && ps->p->nodes[kids[i]].height > h)
			h = ps->p->nodes[kids[i]].height;
	for (i = 0; i < nd->nargs; i++)
		if (ps->p->nodes[nd->args[i]].height > h)
			h = ps->p->nodes[nd->args[i]].height;
	nd->height = h + 1;
	if (nd->height > CEL_MAX_DEPTH)
		return cel_fail(ps->err, nd->col, "expression nested deeper than %d", CEL_MAX_DEPTH);
	return n;
}

static int expect(struct parser *ps, enum cel_tok kind, const char *what)
{
	if (ps->tok.kind != kind)
		return cel_fail(ps->err, col(ps), "expected %s", what);
	return next(ps);
}

static int expr(struct parser *ps);

static int binary(struct parser *ps, enum cel_nop op, enum cel_fn fn, int column, int a, int b)
{
	int n = node(ps, op, column);

	if (n < 0)
		return n;
	ps->p->nodes[n].fn = (unsigned char)fn;
	ps->p->nodes[n].a = a;
	ps->p->nodes[n].b = b;
	return seal(ps, n);
}

/* Comma-separated expressions up to close, into a node's args (owned). */
static int args(struct parser *ps, enum cel_tok close, int n)
{
	int list[256], count = 0, e, ret;

	while (ps->tok.kind != close) {
		if (count == (int)VIGIL_ARRAY_SIZE(list))
			return cel_fail(ps->err, col(ps), "more than %zu arguments or items", VIGIL_ARRAY_SIZE(list));
		e = expr(ps);
		if (e < 0)
			return e;
		list[count++] = e;
		if (ps->tok.kind != TK_COMMA)
			break;
		ret = next(ps);
		if (ret)
			return ret;
	}
	ret = expect(ps, close, close == TK_RPAREN ? "')'" : "']'");
	if (ret)
		return ret;
	if (count) {
		ps->p->nodes[n].args = cel_own(ps->p, (size_t)count * sizeof(int));
		if (!ps->p->nodes[n].args)
			return -ENOMEM;
		memcpy(ps->p->nodes[n].args, list, (size_t)count * sizeof(int));
	}
	ps->p->nodes[n].nargs = count;
	return 0;
}

static int map_literal(struct parser *ps, int column)
{
	int list[256], count = 0, e, n, ret;

	n = node(ps, N_MAP, column);
	if (n < 0)
		return n;
	while (ps->tok.kind != TK_RBRACE) {
		if (count + 2 > (int)VIGIL_ARRAY_SIZE(list))
			return cel_fail(ps->err, col(ps), "more than %zu map entries", VIGIL_ARRAY_SIZE(list) / 2);
		e = expr(ps);
		if (e < 0)
			return e;
		list[count++] = e;
		ret = expect(ps, TK_COLON, "':' in a map literal");
		if (ret)
			return ret;
		e = expr(ps);
		if (e < 0)
			return e;
		list[count++] = e;
		if (ps->tok.kind != TK_COMMA)
			break;
		ret = next(ps);
		if (ret)
			return ret;
	}
	ret = expect(ps, TK_RBRACE, "'}'");
	if (ret)
		return ret;
	if (count) {
		ps->p->nodes[n].args = cel_own(ps->p, (size_t)count * sizeof(int));
		if (!ps->p->nodes[n].args)
			return -ENOMEM;
		memcpy(ps->p->nodes[n].args, list, (size_t)count * sizeof(int));
	}
	ps->p->nodes[n].nargs = count;
	return seal(ps, n);
}

static int literal(struct parser *ps)
{
	struct cel_node *nd;
	int n = node(ps, N_LIT, col(ps)), ret;

	if (n < 0)
		return n;
	nd = &ps->p->nodes[n];
	switch (ps->tok.kind) {
	case TK_INT:
		if (ps->tok.v.u > INT64_MAX)
			return cel_fail(ps->err, col(ps), "integer literal out of range");
		nd->lit.kind = V_INT;
		nd->lit.v.i = (int64_t)ps->tok.v.u;
		break;
	case TK_UINT: nd->lit.kind = V_UINT; nd->lit.v.u = ps->tok.v.u; break;
	case TK_DOUBLE: nd->lit.kind = V_DOUBLE; nd->lit.v.d = ps->tok.v.d; break;
	case TK_STRING:
	case TK_BYTES:
		nd->lit.kind = ps->tok.kind == TK_STRING ? V_STRING : V_BYTES;
		nd->lit.v.s.p = ps->tok.v.s.p;
		nd->lit.v.s.n = ps->tok.v.s.n;
		break;
	case TK_TRUE:
	case TK_FALSE: nd->lit.kind = V_BOOL; nd->lit.v.b = ps->tok.kind == TK_TRUE; break;
	case TK_NULL: nd->lit.kind = V_NULL; break;
	default: return cel_fail(ps->err, col(ps), "expected an expression");
	}
	ret = next(ps);
	return ret ? ret : n;
}

static int primary(struct parser *ps)
{
	int n, column = col(ps), ret;
	bool leading_dot = false;

	switch (ps->tok.kind) {
	case TK_LPAREN:
		ret = next(ps);
		if (ret)
			return ret;
		n = expr(ps);
		if (n < 0)
			return n;
		ret = expect(ps, TK_RPAREN, "')'");
		return ret ? ret : n;
	case TK_LBRACKET:
		n = node(ps, N_LIST, column);
		if (n < 0)
			return n;
		ret = next(ps);
		if (!ret)
			ret = args(ps, TK_RBRACKET, n);
		return ret ? ret : seal(ps, n);
	case TK_LBRACE:
		ret = next(ps);
		return ret ? ret : map_literal(ps, column);
	case TK_DOT:
		/* ".name": the name from the root scope, as without the dot here (no container) */
		leading_dot = true;
		ret = next(ps);
		if (ret)
			return ret;
		if (ps->tok.kind != TK_IDENT)
			return cel_fail(ps->err, col(ps), "expected a name after '.'");
		/* fall through */
	case TK_IDENT:
		n = node(ps, N_IDENT, column);
		if (n < 0)
			return n;
		ps->p->nodes[n].name = ps->text + ps->tok.pos;
		ps->p->nodes[n].name_len = ps->tok.len;
		ret = next(ps);
		if (ret)
			return ret;
		if (ps->tok.kind == TK_LPAREN) {
			ps->p->nodes[n].op = N_CALL;
			ret = next(ps);
			if (!ret)
				ret = args(ps, TK_RPAREN, n);
			return ret ? ret : seal(ps, n);
		}
		if (ps->tok.kind == TK_LBRACE && !leading_dot)
			return cel_fail(ps->err, col(ps), "message construction (Name{...}) is not supported");
		return n;
	default:
		return literal(ps);
	}
}

static int member(struct parser *ps)
{
	int n = primary(ps), m, column, ret;

	while (n >= 0 && (ps->tok.kind == TK_DOT || ps->tok.kind == TK_LBRACKET)) {
		column = col(ps);
		if (ps->tok.kind == TK_LBRACKET) {
			ret = next(ps);
			if (ret)
				return ret;
			m = expr(ps);
			if (m < 0)
				return m;
			ret = expect(ps, TK_RBRACKET, "']'");
			if (ret)
				return ret;
			n = binary(ps, N_INDEX, F_NONE, column, n, m);
			continue;
		}
		ret = next(ps);
		if (ret)
			return ret;
		if (ps->tok.kind != TK_IDENT)
			return cel_fail(ps->err, col(ps), "expected a field or method name after '.'");
		m = node(ps, N_SELECT, col(ps));
		if (m < 0)
			return m;
		ps->p->nodes[m].a = n;
		ps->p->nodes[m].name = ps->text + ps->tok.pos;
		ps->p->nodes[m].name_len = ps->tok.len;
		ret = next(ps);
		if (ret)
			return ret;
		if (ps->tok.kind == TK_LPAREN) {
			ps->p->nodes[m].op = N_CALL;
			ps->p->nodes[m].receiver = true;
			ret = next(ps);
			if (!ret)
				ret = args(ps, TK_RPAREN, m);
			if (ret)
				return ret;
		} else if (ps->tok.kind == TK_LBRACE) {
			return cel_fail(ps->err, col(ps), "message construction (Name{...}) is not supported");
		}
		n = seal(ps, m);
	}
	return n;
}

static int unary(struct parser *ps)
{
	int column = col(ps), n, ret;
	enum cel_tok kind = ps->tok.kind;

	if (kind != TK_NOT && kind != TK_MINUS)
		return member(ps);
	if (++ps->depth > CEL_MAX_DEPTH)
		return cel_fail(ps->err, column, "expression nested deeper than %d", CEL_MAX_DEPTH);
	ret = next(ps);
	if (ret)
		return ret;
	/* -9223372036854775808 and other negative literals fold at once */
	if (kind == TK_MINUS && (ps->tok.kind == TK_INT || ps->tok.kind == TK_DOUBLE)) {
		struct cel_token lit = ps->tok;

		n = node(ps, N_LIT, column);
		if (n < 0)
			return n;
		if (lit.kind == TK_INT) {
			ps->p->nodes[n].lit.kind = V_INT;
			ps->p->nodes[n].lit.v.i = lit.v.u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)lit.v.u;
		} else {
			ps->p->nodes[n].lit.kind = V_DOUBLE;
			ps->p->nodes[n].lit.v.d = -lit.v.d;
		}
		ret = next(ps);
		/* a member access binds tighter than the minus: -1.size() is refused later */
		ps->depth--;
		return ret ? ret : n;
	}
	n = unary(ps);
	ps->depth--;
	if (n < 0)
		return n;
	return binary(ps, kind == TK_NOT ? N_NOT : N_NEG, F_NONE, column, n, -1);
}

static const struct {
	enum cel_tok tok;
	enum cel_fn fn;
} relops[] = {
	{TK_EQ, F_EQ}, {TK_NE, F_NE}, {TK_LT, F_LT}, {TK_LE, F_LE}, {TK_GT, F_GT}, {TK_GE, F_GE}, {TK_IN, F_IN},
};

/* level 0: * / %; 1: + -; 2: relations */
static int binary_level(struct parser *ps, int level)
{
	int n = level ? binary_level(ps, level - 1) : unary(ps), m, column, ret;
	enum cel_fn fn;
	size_t k;

	while (n >= 0) {
		fn = F_NONE;
		if (level == 0)
			fn = ps->tok.kind == TK_STAR ? F_MUL : ps->tok.kind == TK_SLASH ? F_DIV :
			     ps->tok.kind == TK_PERCENT ? F_MOD : F_NONE;
		else if (level == 1)
			fn = ps->tok.kind == TK_PLUS ? F_ADD : ps->tok.kind == TK_MINUS ? F_SUB : F_NONE;
		else
			for (k = 0; k < VIGIL_ARRAY_SIZE(relops); k++)
				if (ps->tok.kind == relops[k].tok)
					fn = relops[k].fn;
		if (fn == F_NONE)
			break;
		column = col(ps);
		ret = next(ps);
		if (ret)
			return ret;
		m = level ? binary_level(ps, level - 1) : unary(ps);
		if (m < 0)
			return m;
		n = binary(ps, N_BINOP, fn, column, n, m);
	}
	return n;
}

static int logical(struct parser *ps, bool or)
{
	int n = or ? logical(ps, false) : binary_level(ps, 2), m, column, ret;

	while (n >= 0 && ps->tok.kind == (or ? TK_OR : TK_AND)) {
		column = col(ps);
		ret = next(ps);
		if (ret)
			return ret;
		m = or ? logical(ps, false) : binary_level(ps, 2);
		if (m < 0)
			return m;
		n = binary(ps, or ? N_OR : N_AND, F_NONE, column, n, m);
	}
	return n;
}

static int expr(struct parser *ps)
{
	int n, t, f, c, column, ret;

	if (++ps->depth > CEL_MAX_DEPTH)
		return cel_fail(ps->err, col(ps), "expression nested deeper than %d", CEL_MAX_DEPTH);
	n = logical(ps, true);
	if (n >= 0 && ps->tok.kind == TK_QUESTION) {
		column = col(ps);
		ret = next(ps);
		if (ret)
			return ret;
		t = logical(ps, true);
		if (t < 0)
			return t;
		ret = expect(ps, TK_COLON, "':' of '?:'");
		if (ret)
			return ret;
		f = expr(ps);
		if (f < 0)
			return f;
		c = node(ps, N_COND, column);
		if (c < 0)
			return c;
		ps->p->nodes[c].a = n;
		ps->p->nodes[c].b = t;
		ps->p->nodes[c].c = f;
		n = seal(ps, c);
	}
	ps->depth--;
	return n;
}

int cel_parse(struct vigil_cel *p, const char *text, struct vigil_cel_error *err)
{
	struct parser ps = {.p = p, .text = text, .err = err};
	int ret;

	if (strlen(text) > CEL_MAX_TEXT)
		return cel_fail(err, 0, "expression longer than %d bytes", CEL_MAX_TEXT);
	ret = cel_lex(p, text, 0, &ps.tok, err);
	if (ret)
		return ret;
	if (ps.tok.kind == TK_END)
		return cel_fail(err, 1, "empty expression");
	p->root = expr(&ps);
	if (p->root < 0)
		return p->root;
	if (ps.tok.kind != TK_END)
		return cel_fail(err, col(&ps), "unexpected '%.*s' after the expression", (int)(ps.tok.len ? ps.tok.len : 1),
				text + ps.tok.pos);
	return 0;
}
