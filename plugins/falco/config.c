/* config.c - the plugin's init config: a flat JSON object, parsed strictly.
 *
 * Falco and sysdig validate the config against fp_init_schema() before init, but a host
 * that does not (the test driver, older embedders) must get the same refusals, so the
 * parser accepts exactly what the schema allows and says which key was wrong and why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bus/bus.h"
#include "falco_internal.h"

#define BATCH_DEFAULT 256
#define TIMEOUT_DEFAULT 50	/* ms: short enough for latency, long enough not to spin */

struct cursor {
	const char *s;
	size_t pos;
	char *err;
	size_t errlen;
};

static int fail(struct cursor *c, const char *fmt, const char *what)
{
	snprintf(c->err, c->errlen, fmt, what, c->pos);
	return -EINVAL;
}

static void skip_ws(struct cursor *c)
{
	while (c->s[c->pos] == ' ' || c->s[c->pos] == '\t' || c->s[c->pos] == '\n' || c->s[c->pos] == '\r')
		c->pos++;
}

static int expect(struct cursor *c, char ch)
{
	char want[2] = { ch, '\0' };

	skip_ws(c);
	if (c->s[c->pos] != ch)
		return fail(c, "init config is not valid JSON: expected '%s' at offset %zu", want);
	c->pos++;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Four hex digits of a \u escape. */
static int hex4(struct cursor *c, unsigned int *cp)
{
	int i, h;

	*cp = 0;
	for (i = 0; i < 4; i++) {
		h = hexval(c->s[c->pos]);
		if (h < 0)
			return fail(c, "init config is not valid JSON: %s at offset %zu", "bad \\u escape");
		*cp = *cp << 4 | (unsigned int)h;
		c->pos++;
	}
	return 0;
}

static size_t put_utf8(char *out, unsigned int cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A JSON string into a new NUL-terminated copy (*out, owned by the caller). An escaped
 * NUL is refused: every string here ends up as a C string. */
static int parse_string(struct cursor *c, char **out)
{
	static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
	const char *e;
	unsigned int cp, lo;
	size_t start, n = 0;
	char *s = NULL;
	int err;

	err = expect(c, '"');
	if (err)
		goto out;
	start = c->pos;
	/* every escape is at least as long as what it decodes to */
	while (c->s[c->pos] && c->s[c->pos] != '"')
		c->pos += c->s[c->pos] == '\\' && c->s[c->pos + 1] ? 2 : 1;
	s = malloc(c->pos - start + 1);
	if (!s) {
		err = -ENOMEM;
		goto out;
	}
	for (c->pos = start; c->s[c->pos] != '"';) {
		if (!c->s[c->pos]) {
			err = fail(c, "init config is not valid JSON: %s at offset %zu", "unterminated string");
			goto out;
		}
		if ((unsigned char)c->s[c->pos] < 0x20) {
			err = fail(c, "init config is not valid JSON: %s at offset %zu", "control character in string");
			goto out;
		}
		if (c->s[c->pos] != '\\') {
			s[n++] = c->s[c->pos++];
			continue;
		}
		c->pos++;
		e = c->s[c->pos] ? strchr(esc_in, c->s[c->pos]) : NULL;
		if (e) {
			s[n++] = esc_out[e - esc_in];
			c->pos++;
			continue;
		}
		if (c->s[c->pos] != 'u') {
			err = fail(c, "init config is not valid JSON: %s at offset %zu", "bad escape");
			goto out;
		}
		c->pos++;
		err = hex4(c, &cp);
		if (err)
			goto out;
		if (cp >= 0xd800 && cp < 0xdc00 && c->s[c->pos] == '\\' && c->s[c->pos + 1] == 'u') {
			c->pos += 2;
			err = hex4(c, &lo);
			if (err)
				goto out;
			if (lo < 0xdc00 || lo > 0xdfff) {
				err = fail(c, "init config is not valid JSON: %s at offset %zu", "bad surrogate pair");
				goto out;
			}
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		} else if (!cp || (cp >= 0xd800 && cp <= 0xdfff)) {
			err = fail(c, "init config is not valid JSON: %s at offset %zu", "NUL or lone surrogate escape");
			goto out;
		}
		/* \uXXXX is 6 bytes and yields at most 3; a pair is 12 and yields 4 */
		n += put_utf8(s + n, cp);
	}
	c->pos++;
	s[n] = '\0';
	*out = s;
	s = NULL;
out:
	free(s);
	return err;
}

/* A non-negative integer in [min, max]; anything else (sign, fraction, exponent, another
 * type) is the key's error, not a syntax error. */
static int parse_uint(struct cursor *c, const char *key, long min, long max, long *out)
{
	long v = 0;
	size_t digits = 0;
	char ch;

	skip_ws(c);
	while ((ch = c->s[c->pos]) >= '0' && ch <= '9') {
		if (v <= max)
			v = v * 10 + (ch - '0');
		c->pos++;
		digits++;
	}
	ch = c->s[c->pos];
	if (!digits || (digits > 1 && c->s[c->pos - digits] == '0') || ch == '.' || ch == 'e' || ch == 'E' ||
	    v < min || v > max) {
		snprintf(c->err, c->errlen, "init config: '%s' must be an integer from %ld to %ld", key, min, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int key_type_error(struct cursor *c, const char *key, const char *what)
{
	snprintf(c->err, c->errlen, "init config: '%s' must be %s", key, what);
	return -EINVAL;
}

/* "exec", "process_exec" and "PROCESS_EXEC" name the same events: keep the bus key. */
static int add_type(struct cursor *c, struct fp_config *cfg, const char *name)
{
	size_t i, n = strlen(name);
	bool ok = n > 0;
	char *key;

	for (i = 0; ok && i < n; i++)
		ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') || name[i] == '_';
	if (!ok)
		return key_type_error(c, "event_types", "a list of event names such as \"process_exec\"");
	if (cfg->ntypes == CONFIG_TYPES_MAX) {
		snprintf(c->err, c->errlen, "init config: 'event_types' lists more than %d names", CONFIG_TYPES_MAX);
		return -EINVAL;
	}
	key = malloc(n + sizeof("process_"));
	if (!key)
		return -ENOMEM;
	if (strncasecmp(name, "process_", 8))
		strcpy(key, "process_");
	else
		key[0] = '\0';
	strcat(key, name);
	for (i = 0; key[i]; i++)
		key[i] = (char)(key[i] >= 'A' && key[i] <= 'Z' ? key[i] - 'A' + 'a' : key[i]);
	cfg->types[cfg->ntypes++] = key;
	return 0;
}

static int parse_types(struct cursor *c, struct fp_config *cfg)
{
	char *name = NULL;
	int err;

	skip_ws(c);
	if (c->s[c->pos] != '[')
		return key_type_error(c, "event_types", "a list of event names such as \"process_exec\"");
	c->pos++;
	skip_ws(c);
	if (c->s[c->pos] == ']') {
		c->pos++;
		return 0;
	}
	for (;;) {
		skip_ws(c);
		if (c->s[c->pos] != '"')
			return key_type_error(c, "event_types", "a list of event names such as \"process_exec\"");
		err = parse_string(c, &name);
		if (!err)
			err = add_type(c, cfg, name);
		free(name);
		name = NULL;
		if (err)
			return err;
		skip_ws(c);
		if (c->s[c->pos] == ']') {
			c->pos++;
			return 0;
		}
		err = expect(c, ',');
		if (err)
			return err;
	}
}

static int parse_value(struct cursor *c, struct fp_config *cfg, const char *key)
{
	long v;
	int err;

	skip_ws(c);
	if (!strcmp(key, "bus")) {
		if (c->s[c->pos] != '"')
			return key_type_error(c, key, "a string such as \"" VIGIL_BUS_DEFAULT_EVENTS "\"");
		free(cfg->bus);
		cfg->bus = NULL;
		err = parse_string(c, &cfg->bus);
		if (!err && !cfg->bus[0])
			err = key_type_error(c, key, "a non-empty nanomsg URL");
		return err;
	}
	if (!strcmp(key, "event_types"))
		return parse_types(c, cfg);
	if (!strcmp(key, "batch_size")) {
		err = parse_uint(c, key, 1, CONFIG_BATCH_MAX, &v);
		cfg->batch_size = (uint32_t)v;
		return err;
	}
	if (!strcmp(key, "timeout_ms")) {
		err = parse_uint(c, key, 1, CONFIG_TIMEOUT_MAX, &v);
		cfg->timeout_ms = (int)v;
		return err;
	}
	snprintf(c->err, c->errlen, "init config: unknown property '%s' (known: bus, event_types, batch_size, timeout_ms)",
		 key);
	return -EINVAL;
}

static int parse_object(struct cursor *c, struct fp_config *cfg)
{
	char *key = NULL;
	int err;

	err = expect(c, '{');
	if (err)
		goto out;
	skip_ws(c);
	if (c->s[c->pos] == '}') {
		c->pos++;
		goto end;
	}
	for (;;) {
		skip_ws(c);
		if (c->s[c->pos] != '"') {
			err = fail(c, "init config is not valid JSON: %s at offset %zu", "expected a property name");
			goto out;
		}
		err = parse_string(c, &key);
		if (!err)
			err = expect(c, ':');
		if (!err)
			err = parse_value(c, cfg, key);
		free(key);
		key = NULL;
		if (err)
			goto out;
		skip_ws(c);
		if (c->s[c->pos] == '}') {
			c->pos++;
			break;
		}
		err = expect(c, ',');
		if (err)
			goto out;
	}
end:
	skip_ws(c);
	if (c->s[c->pos])
		err = fail(c, "init config is not valid JSON: %s at offset %zu", "trailing characters");
out:
	return err;
}

static int set_defaults(struct fp_config *cfg)
{
	config_free(cfg);
	cfg->bus = strdup(VIGIL_BUS_DEFAULT_EVENTS);
	cfg->batch_size = BATCH_DEFAULT;
	cfg->timeout_ms = TIMEOUT_DEFAULT;
	return cfg->bus ? 0 : -ENOMEM;
}

int config_parse(const char *json, struct fp_config *cfg, char *err, size_t errlen)
{
	struct cursor c = { .s = json ? json : "", .err = err, .errlen = errlen };
	int ret;

	ret = set_defaults(cfg);
	if (ret)
		goto out;
	skip_ws(&c);
	/* Falco passes "" for a plugin without init_config, and sysdig without ":config" */
	if (!c.s[c.pos])
		goto out;
	ret = parse_object(&c, cfg);
	if (ret && set_defaults(cfg))
		ret = -ENOMEM;
out:
	if (ret == -ENOMEM)
		snprintf(err, errlen, "init config: out of memory");
	return ret;
}

void config_free(struct fp_config *cfg)
{
	size_t i;

	free(cfg->bus);
	cfg->bus = NULL;
	for (i = 0; i < cfg->ntypes; i++)
		free(cfg->types[i]);
	cfg->ntypes = 0;
}

bool config_wants(const struct fp_config *cfg, const char *type_key)
{
	size_t i;

	for (i = 0; i < cfg->ntypes; i++)
		if (!strcmp(cfg->types[i], type_key))
			return true;
	return !cfg->ntypes;
}
