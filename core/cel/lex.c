/* lex.c - CEL's tokens: numbers (int, 1u, doubles, hex), strings and bytes in their quote
 * forms ('', "", ''' ''', """ """, r/b prefixes) with CEL's escapes, names and operators. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cel_internal.h"

/* CEL's reserved words: names an expression may not use */
static const char *const reserved[] = {
	"as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package",
	"namespace", "return", "var", "void", "while",
};

static const struct {
	const char *text;
	enum cel_tok kind;
} puncts[] = {
	{"==", TK_EQ}, {"!=", TK_NE}, {"<=", TK_LE}, {">=", TK_GE}, {"&&", TK_AND}, {"||", TK_OR},
	{"(", TK_LPAREN}, {")", TK_RPAREN}, {"[", TK_LBRACKET}, {"]", TK_RBRACKET}, {"{", TK_LBRACE},
	{"}", TK_RBRACE}, {".", TK_DOT}, {",", TK_COMMA}, {":", TK_COLON}, {"?", TK_QUESTION}, {"+", TK_PLUS},
	{"-", TK_MINUS}, {"*", TK_STAR}, {"/", TK_SLASH}, {"%", TK_PERCENT}, {"!", TK_NOT}, {"<", TK_LT},
	{">", TK_GT},
};

static int col(size_t pos)
{
	return (int)pos + 1;
}

/* Append code point cp as UTF-8 to out (4 bytes room). */
static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* One escape at s (after the backslash): its value into out. Returns the characters read,
 * or 0 for an invalid escape. bytes: \x and octal are bytes, not code points. */
static size_t escape(const char *s, bool bytes, char *out, size_t *outn)
{
	static const char simple[] = "abfnrtv\\'\"`?";
	static const char value[] = "\a\b\f\n\r\t\v\\'\"`?";
	const char *hit = *s ? strchr(simple, *s) : NULL;
	uint32_t cp = 0;
	size_t digits, i;
	int h;

	if (hit) {
		out[0] = value[hit - simple];
		*outn = 1;
		return 1;
	}
	if (*s >= '0' && *s <= '3') {
		for (i = 0; i < 3; i++) {
			if (s[i] < '0' || s[i] > '7')
				return 0;
			cp = cp * 8 + (uint32_t)(s[i] - '0');
		}
		digits = 3;
	} else {
		digits = *s == 'x' || *s == 'X' ? 2 : *s == 'u' ? 4 : *s == 'U' ? 8 : 0;
		if (!digits)
			return 0;
		for (i = 1; i <= digits; i++) {
			h = hexval(s[i]);
			if (h < 0)
				return 0;
			cp = cp * 16 + (uint32_t)h;
		}
		digits++;
		if ((*s == 'u' || *s == 'U') && bytes)
			return 0;
	}
	if (bytes && cp < 256) {
		out[0] = (char)cp;
		*outn = 1;
		return digits;
	}
	if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	*outn = put_utf8(out, cp);
	return digits;
}

/* A quoted literal at text[pos] (after its prefix): decoded into t. */
static int quoted(struct vigil_cel *p, const char *text, size_t pos, size_t start, bool raw, bool bytes,
		  struct cel_token *t, struct vigil_cel_error *err)
{
	char q = text[pos];
	bool triple = text[pos + 1] == q && text[pos + 2] == q;
	size_t i = pos + (triple ? 3 : 1), n = 0, k, outn;
	char *out;

	/* the literal's raw length bounds its decoded one: find its end first */
	for (k = i; text[k]; k++) {
		if (triple ? (text[k] == q && text[k + 1] == q && text[k + 2] == q) : text[k] == q)
			break;
		if (text[k] == '\\' && !raw && text[k + 1])
			k++;
	}
	out = cel_own(p, k - i + 1);
	if (!out)
		return -ENOMEM;
	for (;;) {
		if (!text[i])
			return cel_fail(err, col(start), "unterminated %s literal", bytes ? "bytes" : "string");
		if (triple ? (text[i] == q && text[i + 1] == q && text[i + 2] == q) : text[i] == q)
			break;
		if (!triple && (text[i] == '\n' || text[i] == '\r'))
			return cel_fail(err, col(i), "a newline in a single-quoted literal (use ''' or \"\"\")");
		if (text[i] == '\\' && !raw) {
			k = escape(text + i + 1, bytes, out + n, &outn);
			if (!k)
				return cel_fail(err, col(i), "invalid escape sequence");
			n += outn;
			i += k + 1;
			continue;
		}
		out[n++] = text[i++];
	}
	out[n] = '\0';
	t->kind = bytes ? TK_BYTES : TK_STRING;
	t->v.s.p = out;
	t->v.s.n = n;
	t->len = i + (triple ? 3 : 1) - start;
	return 0;
}

static int number(const char *text, size_t pos, struct cel_token *t, struct vigil_cel_error *err)
{
	const char *s = text + pos;
	size_t i = 0;
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X'), fractional = false;
	unsigned long long u;
	char *end;

	if (hex) {
		i = 2;
		while (isxdigit((unsigned char)s[i]))
			i++;
		if (i == 2)
			return cel_fail(err, col(pos), "hexadecimal literal without digits");
	} else {
		while (isdigit((unsigned char)s[i]))
			i++;
		if (s[i] == '.' && isdigit((unsigned char)s[i + 1])) {
			fractional = true;
			for (i++; isdigit((unsigned char)s[i]);)
				i++;
		}
		if (s[i] == 'e' || s[i] == 'E') {
			size_t e = i + 1;

			if (s[e] == '+' || s[e] == '-')
				e++;
			if (isdigit((unsigned char)s[e])) {
				fractional = true;
				for (i = e; isdigit((unsigned char)s[i]);)
					i++;
			}
		}
	}
	if (fractional) {
		t->kind = TK_DOUBLE;
		t->v.d = strtod(s, &end);
		t->len = i;
		return 0;
	}
	errno = 0;
	u = strtoull(hex ? s + 2 : s, &end, hex ? 16 : 10);
	if (errno)
		return cel_fail(err, col(pos), "integer literal out of range");
	if (s[i] == 'u' || s[i] == 'U') {
		t->kind = TK_UINT;
		t->v.u = u;
		t->len = i + 1;
		return 0;
	}
	/* 9223372036854775808 is only valid after a minus (the parser folds it) */
	if (u > (unsigned long long)INT64_MAX + 1)
		return cel_fail(err, col(pos), "integer literal out of range");
	t->kind = TK_INT;
	t->v.u = u;
	t->len = i;
	return 0;
}

/* a name, a keyword (true, false, null, in), or a reserved word (refused) */
static int name(const char *text, size_t pos, struct cel_token *t, struct vigil_cel_error *err)
{
	const char *s = text + pos;
	size_t i, k;

	for (i = 0; isalnum((unsigned char)s[i]) || s[i] == '_'; i++)
		;
	t->kind = TK_IDENT;
	t->len = i;
	if (i == 4 && !memcmp(s, "true", 4))
		t->kind = TK_TRUE;
	else if (i == 5 && !memcmp(s, "false", 5))
		t->kind = TK_FALSE;
	else if (i == 4 && !memcmp(s, "null", 4))
		t->kind = TK_NULL;
	else if (i == 2 && !memcmp(s, "in", 2))
		t->kind = TK_IN;
	for (k = 0; k < VIGIL_ARRAY_SIZE(reserved); k++)
		if (strlen(reserved[k]) == i && !memcmp(reserved[k], s, i))
			return cel_fail(err, col(pos), "'%s' is a reserved word", reserved[k]);
	return 0;
}

int cel_lex(struct vigil_cel *p, const char *text, size_t pos, struct cel_token *t, struct vigil_cel_error *err)
{
	const char *s;
	size_t i, k;

	/* white space and // comments */
	for (;;) {
		while (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r' ||
		       text[pos] == '\f')
			pos++;
		if (text[pos] == '/' && text[pos + 1] == '/') {
			while (text[pos] && text[pos] != '\n')
				pos++;
			continue;
		}
		break;
	}
	memset(t, 0, sizeof(*t));
	t->pos = pos;
	s = text + pos;
	if (!*s) {
		t->kind = TK_END;
		return 0;
	}
	if (isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))) {
		if (*s == '.') {
			char *end;

			t->kind = TK_DOUBLE;
			t->v.d = strtod(s, &end);
			t->len = (size_t)(end - s);
			return 0;
		}
		return number(text, pos, t, err);
	}
	/* string and bytes literals with their prefixes: r, b, rb, br (any case) */
	for (i = 0; i < 2 && (s[i] == 'r' || s[i] == 'R' || s[i] == 'b' || s[i] == 'B'); i++)
		;
	if ((s[i] == '\'' || s[i] == '"') && (i < 2 || tolower((unsigned char)s[0]) != tolower((unsigned char)s[1]))) {
		bool raw = false, bytes = false;

		for (k = 0; k < i; k++) {
			raw |= s[k] == 'r' || s[k] == 'R';
			bytes |= s[k] == 'b' || s[k] == 'B';
		}
		return quoted(p, text, pos + i, pos, raw, bytes, t, err);
	}
	if (isalpha((unsigned char)*s) || *s == '_')
		return name(text, pos, t, err);
	for (k = 0; k < VIGIL_ARRAY_SIZE(puncts); k++) {
		size_t n = strlen(puncts[k].text);

		if (!strncmp(s, puncts[k].text, n)) {
			t->kind = puncts[k].kind;
			t->len = n;
			return 0;
		}
	}
	if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
		return cel_fail(err, col(pos), "unexpected byte 0x%02x", (unsigned char)*s);
	return cel_fail(err, col(pos), "unexpected character '%c'", *s);
}
