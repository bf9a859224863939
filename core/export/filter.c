/* filter.c - Tetragon's allow/deny list Filter objects, compiled once and matched against
 * decoded bus messages: OR across objects, AND across the keys of one. */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_filter.h"

/* ---- compiling ---- */

static int parse_types(struct filter_obj *o, json_t *v, const char *key, int index, int line,
		       struct vigil_export_error *err)
{
	enum vigil_event_type t;
	size_t i;

	for (i = 0; i < json_array_size(v); i++) {
		if (export_event_type(json_array_get(v, i), &t) || export_types_add(&o->types, t))
			return export_fail(err, line, 0, index, "%s: unknown event type at position %zu", key, i + 1);
	}
	o->has_types = true;
	return 0;
}

static int parse_regexes(struct filter_regexes *r, json_t *v, const char *key, int index, int line,
			 struct vigil_export_error *err)
{
	char msg[128];
	size_t i;
	int rc;

	r->re = calloc(json_array_size(v) ? json_array_size(v) : 1, sizeof(*r->re));
	if (!r->re)
		return -ENOMEM;
	for (i = 0; i < json_array_size(v); i++) {
		const char *pattern = json_string_value(json_array_get(v, i));

		if (!pattern)
			return export_fail(err, line, 0, index, "%s: expected strings", key);
		/* searched as ^.*(pattern): arguments_regex a+b against a 128 KiB argument took
		 * over 10 s an event as an unanchored search */
		rc = vigil_regex_search_compile(&r->re[i], pattern, msg, sizeof(msg));
		if (rc == -ENOMEM)
			return rc;
		/* a long pattern is cut so that the reason still fits the error */
		if (rc)
			return export_fail(err, line, 0, index, "%s: bad regex '%.64s%s': %s", key, pattern,
					   strlen(pattern) > 64 ? "..." : "", msg);
		r->n++;
	}
	return 0;
}

static int parse_pids(struct filter_pids *p, json_t *v, const char *key, int index, int line,
		      struct vigil_export_error *err)
{
	json_int_t n;
	size_t i;

	p->pid = calloc(json_array_size(v) ? json_array_size(v) : 1, sizeof(*p->pid));
	if (!p->pid)
		return -ENOMEM;
	for (i = 0; i < json_array_size(v); i++) {
		n = json_integer_value(json_array_get(v, i));
		if (!json_is_integer(json_array_get(v, i)) || n < 0 || n > UINT32_MAX)
			return export_fail(err, line, 0, index, "%s: expected pids (integers 0-4294967295)", key);
		p->pid[p->n++] = (uint32_t)n;
	}
	return 0;
}

static int key_event_set(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	return parse_types(o, v, "event_set", index, line, err);
}

static int key_binary_regex(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	return parse_regexes(&o->binary, v, "binary_regex", index, line, err);
}

static int key_parent_binary_regex(struct filter_obj *o, json_t *v, int index, int line,
				   struct vigil_export_error *err)
{
	return parse_regexes(&o->parent_binary, v, "parent_binary_regex", index, line, err);
}

static int key_arguments_regex(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	return parse_regexes(&o->arguments, v, "arguments_regex", index, line, err);
}

/* Tetragon matches these against process.docker, the id's first 31 characters */
static int key_container_id(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	return parse_regexes(&o->container, v, "container_id", index, line, err);
}

/* namespace: the pod's namespace, "" for events outside pods (Tetragon's host) */
static int key_namespace(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	size_t i;

	o->namespaces = calloc(json_array_size(v) ? json_array_size(v) : 1, sizeof(*o->namespaces));
	if (!o->namespaces)
		return -ENOMEM;
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i)))
			return export_fail(err, line, 0, index, "namespace: expected strings");
		o->namespaces[i] = strdup(json_string_value(json_array_get(v, i)));
		if (!o->namespaces[i])
			return -ENOMEM;
		o->nnamespaces++;
	}
	o->has_namespaces = true;
	return 0;
}

static int key_pod_regex(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	return parse_regexes(&o->pod, v, "pod_regex", index, line, err);
}

static int key_labels(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	const char *text;
	size_t i;

	o->selectors = calloc(json_array_size(v) ? json_array_size(v) : 1, sizeof(*o->selectors));
	if (!o->selectors)
		return -ENOMEM;
	for (i = 0; i < json_array_size(v); i++) {
		text = json_string_value(json_array_get(v, i));
		if (!text)
			return export_fail(err, line, 0, index, "labels: expected strings");
		o->selectors[i] = filter_selector_parse(text);
		if (!o->selectors[i] && errno == ENOMEM)
			return -ENOMEM;
		if (!o->selectors[i])
			return export_fail(err, line, 0, index, "labels: '%.64s' is not a label selector", text);
		o->nselectors++;
	}
	return 0;
}

static int key_pid(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	return parse_pids(&o->pid, v, "pid", index, line, err);
}

static int key_pid_set(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	return parse_pids(&o->pid_set, v, "pid_set", index, line, err);
}

static int key_policy_names(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	size_t i;

	o->policies = calloc(json_array_size(v) ? json_array_size(v) : 1, sizeof(*o->policies));
	if (!o->policies)
		return -ENOMEM;
	for (i = 0; i < json_array_size(v); i++) {
		if (!json_is_string(json_array_get(v, i)))
			return export_fail(err, line, 0, index, "policy_names: expected strings");
		o->policies[i] = strdup(json_string_value(json_array_get(v, i)));
		if (!o->policies[i])
			return -ENOMEM;
		o->npolicies++;
	}
	o->has_policies = true;
	return 0;
}

/* cel_expression: each compiled (and type-checked) now, so that a wrong one is refused
 * with its column before any event is filtered */
static int key_cel_expression(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	struct vigil_cel_error cerr;
	const char *text;
	size_t i;

	o->cel = calloc(json_array_size(v) ? json_array_size(v) : 1, sizeof(*o->cel));
	if (!o->cel)
		return -ENOMEM;
	for (i = 0; i < json_array_size(v); i++) {
		text = json_string_value(json_array_get(v, i));
		if (!text)
			return export_fail(err, line, 0, index, "cel_expression: expected strings");
		o->cel[i] = vigil_cel__compile(text, &cerr);
		if (!o->cel[i] && errno == ENOMEM)
			return -ENOMEM;
		if (!o->cel[i])
			return export_fail(err, line, 0, index, "cel_expression: expression %zu: column %d: %s", i + 1,
					   cerr.column, cerr.reason);
		o->ncel++;
	}
	return 0;
}

static int key_health_check(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err)
{
	o->health = json_is_true(v);
	return 0;
}

/* Every key vigil knows; `array` says the JSON type its value must have. */
static const struct {
	const char *key;
	bool array;
	int (*parse)(struct filter_obj *o, json_t *v, int index, int line, struct vigil_export_error *err);
} keys[] = {
	{"event_set", true, key_event_set},
	{"binary_regex", true, key_binary_regex},
	{"parent_binary_regex", true, key_parent_binary_regex},
	{"arguments_regex", true, key_arguments_regex},
	{"container_id", true, key_container_id},
	{"namespace", true, key_namespace},
	{"pod_regex", true, key_pod_regex},
	{"labels", true, key_labels},
	{"pid", true, key_pid},
	{"pid_set", true, key_pid_set},
	{"policy_names", true, key_policy_names},
	{"health_check", false, key_health_check},
	{"cel_expression", true, key_cel_expression},
};

static void obj_free(struct filter_obj *o)
{
	struct filter_regexes *rs[] = {&o->binary, &o->parent_binary, &o->arguments, &o->container, &o->pod};
	size_t i, k;

	for (k = 0; k < VIGIL_ARRAY_SIZE(rs); k++) {
		for (i = 0; i < rs[k]->n; i++)
			regfree(&rs[k]->re[i]);
		free(rs[k]->re);
	}
	free(o->pid.pid);
	free(o->pid_set.pid);
	for (i = 0; i < o->npolicies; i++)
		free(o->policies[i]);
	free(o->policies);
	for (i = 0; i < o->nnamespaces; i++)
		free(o->namespaces[i]);
	free(o->namespaces);
	for (i = 0; i < o->nselectors; i++)
		filter_selector_free(o->selectors[i]);
	free(o->selectors);
	filter_learned_free(&o->learned);
	for (i = 0; i < o->ncel; i++)
		vigil_cel__free(o->cel[i]);
	free(o->cel);
}

static int add_obj(void *ctx, json_t *obj, int index, int line, struct vigil_export_error *err)
{
	struct vigil_filter *f = ctx;
	struct filter_obj *o, *grown;
	const char *key;
	json_t *v;
	size_t k;
	int ret;

	grown = realloc(f->objs, (f->n + 1) * sizeof(*f->objs));
	if (!grown)
		return -ENOMEM;
	f->objs = grown;
	o = &f->objs[f->n++];
	memset(o, 0, sizeof(*o));
	o->health = -1;
	json_object_foreach(obj, key, v) {
		for (k = 0; k < VIGIL_ARRAY_SIZE(keys); k++)
			if (!strcmp(key, keys[k].key))
				break;
		if (k == VIGIL_ARRAY_SIZE(keys))
			return export_fail(err, line, 0, index, "unknown or unsupported filter key '%s'", key);
		if (keys[k].array ? !json_is_array(v) : !json_is_boolean(v))
			return export_fail(err, line, 0, index, "%s: expected %s", key,
					   keys[k].array ? "a list" : "true or false");
		ret = keys[k].parse(o, v, index, line, err);
		if (ret)
			return ret;
	}
	return 0;
}

static bool uses_health(const struct vigil_filter *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (f->objs[i].health >= 0)
			return true;
	return false;
}

struct vigil_filter *vigil_filter__new_json(const char *text, struct vigil_export_error *err)
{
	struct vigil_filter *f = calloc(1, sizeof(*f));
	int ret;

	if (err)
		memset(err, 0, sizeof(*err));
	if (!f)
		return NULL;
	if (!text) {
		ret = -EINVAL;
		goto err_out;
	}
	ret = export_json_each(text, add_obj, f, err);
	if (ret)
		goto err_out;
	if (uses_health(f)) {
		ret = filter_client_default(f);
		if (ret)
			goto err_out;
	}
	return f;

err_out:
	vigil_filter__free(f);
	errno = -ret;
	return NULL;
}

void vigil_filter__free(struct vigil_filter *f)
{
	size_t i;

	if (!f)
		return;
	for (i = 0; i < f->n; i++)
		obj_free(&f->objs[i]);
	free(f->objs);
	free(f->client);
	free(f);
}

uint64_t vigil_filter__cel_errors(const struct vigil_filter *f, const char **last)
{
	if (last)
		*last = f && f->cel_errors ? f->cel_error : NULL;
	return f ? f->cel_errors : 0;
}

size_t vigil_filter__count(const struct vigil_filter *f)
{
	return f ? f->n : 0;
}

void vigil_filter__set_ancestors(struct vigil_filter *f, vigil_filter_ancestors_fn fn, void *ctx)
{
	f->ancestors = fn;
	f->ancestors_ctx = ctx;
}

/* ---- matching ---- */

static bool str_at(const struct vigil_msg *m, const char *path, const char **s, size_t *n)
{
	const msgpack_object *o = vigil_msg__find(m, path);

	if (!o || o->type != MSGPACK_OBJECT_STR)
		return false;
	*s = o->via.str.ptr;
	*n = o->via.str.size;
	return true;
}

/* regexec on a copy with its NUL: msgpack strings are not terminated, and REG_STARTEND,
 * which would spare the copy, is not honoured by every regexec a build may get (the
 * sanitizers' interceptor measures the string with strlen first). */
static bool any_regex(const struct filter_regexes *r, const struct vigil_msg *m, const char *path)
{
	char local[512], *text = local;
	bool hit = false;
	const char *s;
	size_t n, i;

	if (!str_at(m, path, &s, &n))
		return false;
	if (n >= sizeof(local) && !(text = malloc(n + 1)))
		return false;
	memcpy(text, s, n);
	text[n] = '\0';
	for (i = 0; i < r->n && !hit; i++)
		hit = !regexec(&r->re[i], text, 0, NULL, 0);
	if (text != local)
		free(text);
	return hit;
}

bool filter_pid_in(const struct filter_pids *p, uint32_t pid)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		if (p->pid[i] == pid)
			return true;
	return false;
}

static bool policy_in(const struct filter_obj *o, const struct vigil_msg *m)
{
	const char *s;
	size_t n, i;

	if (!str_at(m, "policy_name", &s, &n))
		return false;
	for (i = 0; i < o->npolicies; i++)
		if (strlen(o->policies[i]) == n && !memcmp(o->policies[i], s, n))
			return true;
	return false;
}

static bool namespace_in(const struct filter_obj *o, const struct vigil_msg *m)
{
	const char *s = "";
	size_t n = 0, i;

	str_at(m, "process.pod.namespace", &s, &n);
	for (i = 0; i < o->nnamespaces; i++)
		if (strlen(o->namespaces[i]) == n && !memcmp(o->namespaces[i], s, n))
			return true;
	return false;
}

static bool any_selector(const struct filter_obj *o, const struct vigil_msg *m)
{
	size_t i;

	for (i = 0; i < o->nselectors; i++)
		if (filter_selector_match(o->selectors[i], m))
			return true;
	return false;
}

/* cel_expression as Tetragon runs it: in order, only the expressions that name the event's
 * kind; the first true one matches; an evaluation error ends the object unmatched (counted,
 * as Tetragon logs it) */
static bool cel_match(struct vigil_filter *f, const struct filter_obj *o, const struct vigil_msg *m)
{
	size_t i;
	int rc;

	for (i = 0; i < o->ncel; i++) {
		rc = vigil_cel__eval(o->cel[i], m);
		if (rc == 1)
			return true;
		if (rc == -EINVAL) {
			f->cel_errors++;
			snprintf(f->cel_error, sizeof(f->cel_error), "%s", vigil_cel__last_error(o->cel[i]));
			return false;
		}
	}
	return false;
}

static bool obj_match(struct vigil_filter *f, struct filter_obj *o, const struct vigil_msg *m)
{
	uint64_t pid;
	enum vigil_event_type t = vigil_msg__type(m);

	if (o->has_types && !export_types_has(&o->types, t))
		return false;
	if (o->pid.n && (vigil_msg__find_u64(m, "process.pid", &pid) || !filter_pid_in(&o->pid, (uint32_t)pid)))
		return false;
	if (o->has_policies && !policy_in(o, m))
		return false;
	if (o->health >= 0 && (filter_is_probe(f, m, "process") || filter_is_probe(f, m, "parent")) != (o->health == 1))
		return false;
	if (o->binary.n && !any_regex(&o->binary, m, "process.binary"))
		return false;
	if (o->parent_binary.n && !any_regex(&o->parent_binary, m, "parent.binary"))
		return false;
	if (o->arguments.n && !any_regex(&o->arguments, m, "process.arguments"))
		return false;
	if (o->container.n && !any_regex(&o->container, m, "process.docker"))
		return false;
	if (o->has_namespaces && !namespace_in(o, m))
		return false;
	if (o->pod.n && !any_regex(&o->pod, m, "process.pod.name"))
		return false;
	if (o->nselectors && !any_selector(o, m))
		return false;
	if (o->pid_set.n && !filter_pid_set_match(f, o, m))
		return false;
	/* last: the dearest key, and the only one whose failure is counted */
	if (o->ncel && !cel_match(f, o, m))
		return false;
	return true;
}

bool vigil_filter__match(struct vigil_filter *f, const struct vigil_msg *m)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		if (obj_match(f, &f->objs[i], m))
			return true;
	return false;
}

bool vigil_filter__pass(struct vigil_filter *allow, struct vigil_filter *deny, const struct vigil_msg *m)
{
	/* an empty list is no list, as in Tetragon */
	if (allow && allow->n && !vigil_filter__match(allow, m))
		return false;
	return !(deny && deny->n && vigil_filter__match(deny, m));
}
