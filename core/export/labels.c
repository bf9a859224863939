/* labels.c - Kubernetes label selectors ("app=web,tier!=db,env in (a,b),!legacy") in export
 * filters, matched against an event's process.pod.pod_labels. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "export_filter.h"

enum req_op { REQ_EQ, REQ_NE, REQ_IN, REQ_NOTIN, REQ_EXISTS, REQ_ABSENT };

struct label_req {
	enum req_op op;
	char *key;
	char **values;
	size_t nvalues;
};

struct label_selector {
	struct label_req *reqs;
	size_t n;
};

static void skip_ws(const char **s)
{
	while (isspace((unsigned char)**s))
		(*s)++;
}

/* A key or value: letters, digits, '-', '_', '.', '/'. */
static char *word(const char **s)
{
	const char *b;

	skip_ws(s);
	b = *s;
	while (isalnum((unsigned char)**s) || (**s && strchr("-_./", **s)))
		(*s)++;
	return *s > b ? strndup(b, (size_t)(*s - b)) : NULL;
}

static int add_value(struct label_req *r, char *v)
{
	char **grown;

	if (!v)
		return -EINVAL;
	grown = realloc(r->values, (r->nvalues + 1) * sizeof(*grown));
	if (!grown) {
		free(v);
		return -ENOMEM;
	}
	r->values = grown;
	r->values[r->nvalues++] = v;
	return 0;
}

static void req_free(struct label_req *r)
{
	size_t i;

	free(r->key);
	for (i = 0; i < r->nvalues; i++)
		free(r->values[i]);
	free(r->values);
}

/* One requirement at *s; advances past it. */
static int parse_req(const char **s, struct label_req *r)
{
	bool bang;
	int err;

	skip_ws(s);
	bang = **s == '!';
	if (bang)
		(*s)++;
	r->key = word(s);
	if (!r->key)
		return -EINVAL;
	skip_ws(s);
	if (bang) {
		r->op = REQ_ABSENT;
		return 0;
	}
	if (!**s || **s == ',') {
		r->op = REQ_EXISTS;
		return 0;
	}
	if (!strncmp(*s, "!=", 2) || !strncmp(*s, "==", 2) || **s == '=') {
		r->op = **s == '!' ? REQ_NE : REQ_EQ;
		*s += (**s == '=' && (*s)[1] != '=') ? 1 : 2;
		return add_value(r, word(s));
	}
	if (!strncmp(*s, "in", 2) || !strncmp(*s, "notin", 5)) {
		r->op = **s == 'i' ? REQ_IN : REQ_NOTIN;
		*s += r->op == REQ_IN ? 2 : 5;
		skip_ws(s);
		if (**s != '(')
			return -EINVAL;
		(*s)++;
		do {
			err = add_value(r, word(s));
			if (err)
				return err;
			skip_ws(s);
		} while (**s == ',' && (*s)++);
		if (**s != ')')
			return -EINVAL;
		(*s)++;
		return 0;
	}
	return -EINVAL;
}

struct label_selector *filter_selector_parse(const char *text)
{
	struct label_selector *sel = calloc(1, sizeof(*sel));
	struct label_req *grown;
	const char *s = text;
	int err = 0;

	if (!sel)
		return NULL;
	skip_ws(&s);
	while (!err && *s) {
		grown = realloc(sel->reqs, (sel->n + 1) * sizeof(*grown));
		if (!grown) {
			err = -ENOMEM;
			break;
		}
		sel->reqs = grown;
		memset(&sel->reqs[sel->n], 0, sizeof(*grown));
		err = parse_req(&s, &sel->reqs[sel->n++]);
		skip_ws(&s);
		if (!err && *s && *s++ != ',')
			err = -EINVAL;
		if (!err && !*s && s > text && s[-1] == ',')
			err = -EINVAL;
	}
	if (err) {
		filter_selector_free(sel);
		errno = -err;
		return NULL;
	}
	return sel;
}

void filter_selector_free(struct label_selector *sel)
{
	size_t i;

	if (!sel)
		return;
	for (i = 0; i < sel->n; i++)
		req_free(&sel->reqs[i]);
	free(sel->reqs);
	free(sel);
}

static const msgpack_object *label_value(const msgpack_object *labels, const char *key)
{
	size_t n = strlen(key);
	uint32_t i;

	for (i = 0; labels && i < labels->via.map.size; i++) {
		const msgpack_object *k = &labels->via.map.ptr[i].key;

		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == n && !memcmp(k->via.str.ptr, key, n))
			return &labels->via.map.ptr[i].val;
	}
	return NULL;
}

static bool value_in(const msgpack_object *v, const struct label_req *r)
{
	size_t i;

	for (i = 0; v && v->type == MSGPACK_OBJECT_STR && i < r->nvalues; i++)
		if (strlen(r->values[i]) == v->via.str.size && !memcmp(r->values[i], v->via.str.ptr, v->via.str.size))
			return true;
	return false;
}

bool filter_selector_match(const struct label_selector *sel, const struct vigil_msg *m)
{
	const msgpack_object *pod = vigil_msg__find(m, "process.pod"), *labels, *v;
	size_t i;

	if (!pod || pod->type != MSGPACK_OBJECT_MAP)
		return false;	/* Tetragon: no pod, no match */
	labels = vigil_msg__find(m, "process.pod.pod_labels");
	if (labels && labels->type != MSGPACK_OBJECT_MAP)
		labels = NULL;
	for (i = 0; i < sel->n; i++) {
		const struct label_req *r = &sel->reqs[i];

		v = label_value(labels, r->key);
		switch (r->op) {
		case REQ_EXISTS: if (!v) return false; break;
		case REQ_ABSENT: if (v) return false; break;
		case REQ_EQ:
		case REQ_IN: if (!value_in(v, r)) return false; break;
		case REQ_NE:
		case REQ_NOTIN: if (value_in(v, r)) return false; break;
		}
	}
	return true;
}
