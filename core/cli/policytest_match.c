/* policytest_match.c - an expected event (a YAML tree in Tetragon's JSON shape, partial) against
 * an event from the bus (msgpack): every key the expectation gives must be there and match. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "encode/encode.h"
#include "export/export.h"
#include "policytest.h"

struct walk {
	yaml_document_t *doc;
	const struct pt_vars *vars;
	char path[256];
	struct vigil_buf *why;
};

const char *pt_event_kind(yaml_document_t *doc, int id)
{
	yaml_node_t *m = yaml_document_get_node(doc, id), *k;

	if (!m || m->type != YAML_MAPPING_NODE || m->data.mapping.pairs.top - m->data.mapping.pairs.start != 1)
		return NULL;
	k = yaml_document_get_node(doc, m->data.mapping.pairs.start->key);
	return k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : NULL;
}

/* The expected text with ${dir} and ${policy} replaced, into out. */
static void substitute(const struct pt_vars *v, const char *s, struct vigil_buf *out)
{
	vigil_buf_reset(out);
	while (*s) {
		if (!strncmp(s, "${dir}", 6)) {
			vigil_buf_puts(out, v->dir);
			s += 6;
		} else if (!strncmp(s, "${policy}", 9)) {
			vigil_buf_puts(out, v->policy);
			s += 9;
		} else {
			vigil_buf_append(out, s++, 1);
		}
	}
	if (!out->data)
		vigil_buf_puts(out, "");
}

/* A scalar of the event as text (long_arg is a string in Tetragon's JSON, a number here or there). */
static bool event_text(const msgpack_object *o, char *buf, size_t size, const char **s, size_t *len)
{
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		*s = o->via.str.ptr;
		*len = o->via.str.size;
		return true;
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		snprintf(buf, size, "%" PRIu64, o->via.u64);
		break;
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		snprintf(buf, size, "%" PRId64, o->via.i64);
		break;
	case MSGPACK_OBJECT_BOOLEAN:
		snprintf(buf, size, "%s", o->via.boolean ? "true" : "false");
		break;
	case MSGPACK_OBJECT_NIL:
		snprintf(buf, size, "null");
		break;
	default:
		return false;
	}
	*s = buf;
	*len = strlen(buf);
	return true;
}

static bool mismatch(struct walk *w, const char *fmt, const char *want, int glen, const char *got)
{
	if (w->why) {
		vigil_buf_reset(w->why);
		vigil_buf_printf(w->why, "%s: ", w->path);
		vigil_buf_printf(w->why, fmt, want, glen, got);
	}
	return false;
}

static bool compare(const char *tag, const char *want, const char *got, size_t len)
{
	size_t wl = strlen(want);
	char text[4096], why[160];
	regex_t re;
	bool ok;

	if (!strcmp(tag, "!prefix"))
		return len >= wl && !memcmp(got, want, wl);
	if (!strcmp(tag, "!suffix"))
		return len >= wl && !memcmp(got + len - wl, want, wl);
	if (!strcmp(tag, "!contains") || !strcmp(tag, "!regex")) {
		snprintf(text, sizeof(text), "%.*s", (int)len, got);
		if (tag[1] == 'c')
			return strstr(text, want) != NULL;
		/* a tests file's regex, searched in one pass over what the trigger's user passed */
		if (vigil_regex_search_compile(&re, want, why, sizeof(why)))
			return false;
		ok = !regexec(&re, text, 0, NULL, 0);
		regfree(&re);
		return ok;
	}
	return len == wl && !memcmp(got, want, wl);
}

static bool match_node(struct walk *w, int id, const msgpack_object *o);

static bool match_scalar(struct walk *w, yaml_node_t *n, const msgpack_object *o)
{
	const char *tag = (const char *)n->tag, *got;
	struct vigil_buf want = {0};
	char buf[64];
	size_t len;
	bool ok;

	if (!event_text(o, buf, sizeof(buf), &got, &len))
		return mismatch(w, "want %s, got %.*s", (const char *)n->data.scalar.value, 9, "a map or a list");
	substitute(w->vars, (const char *)n->data.scalar.value, &want);
	ok = compare(tag && tag[0] == '!' ? tag : "", want.data, got, len);
	if (!ok)
		mismatch(w, "want %s, got %.*s", want.data, (int)len, got);
	vigil_buf_free(&want);
	return ok;
}

static bool match_map(struct walk *w, yaml_node_t *n, const msgpack_object *o)
{
	size_t at = strlen(w->path);
	yaml_node_pair_t *p;

	if (o->type != MSGPACK_OBJECT_MAP)
		return mismatch(w, "want %s%.*s", "a map", 0, "");
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		const char *key = k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : "";
		const msgpack_object *v = vigil_msgpack_get(o, key);

		snprintf(w->path + at, sizeof(w->path) - at, "%s%s", at ? "." : "", key);
		if (!v)
			return mismatch(w, "want %s, got %.*s", "the field", 6, "absent");
		if (!match_node(w, p->value, v))
			return false;
		w->path[at] = '\0';
	}
	return true;
}

static bool match_list(struct walk *w, yaml_node_t *n, const msgpack_object *o)
{
	size_t at = strlen(w->path), i = 0;
	yaml_node_item_t *it;

	if (o->type != MSGPACK_OBJECT_ARRAY)
		return mismatch(w, "want %s%.*s", "a list", 0, "");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++, i++) {
		snprintf(w->path + at, sizeof(w->path) - at, "[%zu]", i);
		if (i >= o->via.array.size)
			return mismatch(w, "want %s, got %.*s", "an element", 6, "absent");
		if (!match_node(w, *it, &o->via.array.ptr[i]))
			return false;
		w->path[at] = '\0';
	}
	return true;
}

static bool match_node(struct walk *w, int id, const msgpack_object *o)
{
	yaml_node_t *n = yaml_document_get_node(w->doc, id);

	if (!n)
		return false;
	if (n->type == YAML_SCALAR_NODE)
		return match_scalar(w, n, o);
	if (n->type == YAML_MAPPING_NODE)
		return match_map(w, n, o);
	return match_list(w, n, o);
}

/* Is a scalar's tag one compare() honours? An unknown one would silently compare as text. */
static bool known_tag(const char *tag)
{
	static const char *const tags[] = {"!prefix", "!suffix", "!contains", "!regex", NULL};
	size_t i;

	if (!tag || tag[0] != '!')
		return true;	/* libyaml's own (tag:yaml.org,2002:...) */
	for (i = 0; tags[i]; i++)
		if (!strcmp(tag, tags[i]))
			return true;
	return false;
}

int pt_check_expected(yaml_document_t *doc, int id, char *why, size_t size)
{
	yaml_node_t *n = yaml_document_get_node(doc, id);
	struct pt_vars probe = {.dir = "dir", .policy = "policy"};
	struct vigil_buf text = {0};
	yaml_node_pair_t *p;
	yaml_node_item_t *it;
	regex_t re;
	int bad = 0;

	if (!n)
		return 0;
	if (n->type == YAML_MAPPING_NODE) {
		for (p = n->data.mapping.pairs.start; !bad && p < n->data.mapping.pairs.top; p++)
			bad = pt_check_expected(doc, p->value, why, size);
		return bad;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		for (it = n->data.sequence.items.start; !bad && it < n->data.sequence.items.top; it++)
			bad = pt_check_expected(doc, *it, why, size);
		return bad;
	}
	if (!known_tag((const char *)n->tag)) {
		snprintf(why, size, "unknown tag %s (known: !prefix, !suffix, !contains, !regex)", (const char *)n->tag);
		return id;
	}
	if (!n->tag || strcmp((const char *)n->tag, "!regex"))
		return 0;
	/* ${dir} and ${policy} hold plain paths and names: a stand-in checks the pattern */
	substitute(&probe, (const char *)n->data.scalar.value, &text);
	if (vigil_regex_search_compile(&re, text.data, why, size))
		bad = id;
	else
		regfree(&re);
	vigil_buf_free(&text);
	return bad;
}

/* The policy the expectation means unless it names one: the policy under test. */
static bool policy_is(struct walk *w, int id, const msgpack_object *body)
{
	yaml_node_t *m = yaml_document_get_node(w->doc, id);
	const msgpack_object *pn = vigil_msgpack_get(body, "policy_name");
	yaml_node_pair_t *p;

	if (!pn || pn->type != MSGPACK_OBJECT_STR || !m || m->type != YAML_MAPPING_NODE)
		return true;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(w->doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, "policy_name"))
			return true;
	}
	if (pn->via.str.size == strlen(w->vars->policy) && !memcmp(pn->via.str.ptr, w->vars->policy, pn->via.str.size))
		return true;
	return mismatch(w, "want %s, got %.*s", w->vars->policy, (int)pn->via.str.size, pn->via.str.ptr);
}

bool pt_match_event(yaml_document_t *doc, int id, const msgpack_object *root, const struct pt_vars *vars,
		    struct vigil_buf *why)
{
	struct walk w = {.doc = doc, .vars = vars, .why = why};
	yaml_node_t *m = yaml_document_get_node(doc, id);
	const char *kind = pt_event_kind(doc, id);
	const msgpack_object *body = kind ? vigil_msgpack_get(root, kind) : NULL;

	if (!body)
		return false;
	snprintf(w.path, sizeof(w.path), "%s.policy_name", kind);
	if (!policy_is(&w, m->data.mapping.pairs.start->value, body))
		return false;
	snprintf(w.path, sizeof(w.path), "%s", kind);
	return match_node(&w, m->data.mapping.pairs.start->value, body);
}
