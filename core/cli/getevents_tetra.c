/* getevents_tetra.c - tetra getevents' filter flags, field masks and durations, and events
 * read back from an export file (JSON lines) into the same decoded form the bus gives. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "export/export.h"
#include "getevents_tetra.h"

/* ---- filter flags ---- */

/* Call add for each comma-separated value of list. */
static int each_value(const char *list, int (*add)(void *ctx, const char *v), void *ctx)
{
	char *copy = strdup(list), *save = NULL, *tok;
	int err = copy ? 0 : -ENOMEM, n = 0;

	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; !err && tok; tok = strtok_r(NULL, ",", &save), n++)
		err = add(ctx, tok);
	free(copy);
	return err ? err : n ? 0 : -EINVAL;
}

struct regex_list {
	regex_t **v;
	size_t *n;
};

static int add_regex(void *ctx, const char *pattern)
{
	struct regex_list *l = ctx;
	regex_t *grown = realloc(*l->v, (*l->n + 1) * sizeof(**l->v));
	char why[160];
	int rc;

	if (!grown)
		return -ENOMEM;
	*l->v = grown;
	/* unanchored, as Go's regexp MatchString that tetra uses, searched in one pass: a+b
	 * took 30 ms an event against a 4 KiB binary path as glibc's unanchored search */
	rc = vigil_regex_search_compile(&grown[*l->n], pattern, why, sizeof(why));
	if (rc == -EINVAL)
		fprintf(stderr, "vigil getevents: bad regex '%s': %s\n", pattern, why);
	if (rc)
		return rc;
	(*l->n)++;
	return 0;
}

int tetra_filter_add_process(struct tetra_filter *f, const char *list)
{
	return each_value(list, add_regex, &(struct regex_list){&f->process, &f->nprocess});
}

int tetra_filter_add_ns_regex(struct tetra_filter *f, const char *list)
{
	return each_value(list, add_regex, &(struct regex_list){&f->ns_regex, &f->nns_regex});
}

static int add_policy(void *ctx, const char *name)
{
	struct tetra_filter *f = ctx;
	char **grown = realloc(f->policies, (f->npolicies + 1) * sizeof(*f->policies));

	if (!grown)
		return -ENOMEM;
	f->policies = grown;
	f->policies[f->npolicies] = strdup(name);
	if (!f->policies[f->npolicies])
		return -ENOMEM;
	f->npolicies++;
	return 0;
}

int tetra_filter_add_policies(struct tetra_filter *f, const char *list)
{
	return each_value(list, add_policy, f);
}

static bool any_regex(const regex_t *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!regexec(&v[i], s, 0, NULL, 0))
			return true;
	return false;
}

bool tetra_filter_match(const struct tetra_filter *f, const struct vigil_msg *m)
{
	char text[4096], ns[256] = "";
	bool ok = true;
	size_t i;

	if (f->nprocess)
		ok = vigil_msg__find_str(m, "process.binary", text, sizeof(text)) >= 0 &&
		     any_regex(f->process, f->nprocess, text);
	/* a process outside any pod has namespace "" (Tetragon's Filter.namespace) */
	if (ok && (f->host || f->nns_regex) && vigil_msg__find_str(m, "process.pod.namespace", ns, sizeof(ns)) < 0)
		ns[0] = '\0';
	if (ok && f->host)
		ok = !ns[0];
	if (ok && f->nns_regex)
		ok = any_regex(f->ns_regex, f->nns_regex, ns);
	if (ok && f->npolicies) {
		ok = vigil_msg__find_str(m, "policy_name", text, sizeof(text)) >= 0;
		for (i = 0; ok && i < f->npolicies && strcmp(text, f->policies[i]); i++)
			;
		ok = ok && i < f->npolicies;
	}
	return ok;
}

void tetra_filter_free(struct tetra_filter *f)
{
	size_t i;

	for (i = 0; i < f->nprocess; i++)
		regfree(&f->process[i]);
	for (i = 0; i < f->nns_regex; i++)
		regfree(&f->ns_regex[i]);
	for (i = 0; i < f->npolicies; i++)
		free(f->policies[i]);
	free(f->process);
	free(f->ns_regex);
	free(f->policies);
	memset(f, 0, sizeof(*f));
}

/* ---- field masks ---- */

int tetra_field_mask(struct vigil_buf *text, const char *fields, bool include)
{
	json_t *o;
	char *s;
	int err;

	if (!fields[0])
		return -EINVAL;
	o = json_pack("{s:s, s:s}", "fields", fields, "action", include ? "INCLUDE" : "EXCLUDE");
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	err = s ? (vigil_buf_puts(text, s) || vigil_buf_puts(text, "\n") ? -ENOMEM : 0) : -ENOMEM;
	free(s);
	json_decref(o);
	return err;
}

/* ---- values ---- */

int tetra_duration_ms(const char *s, long *out)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
	double total = 0, n;
	char *end;
	size_t i;

	if (!*s)
		return -EINVAL;
	while (*s) {
		if ((*s < '0' || *s > '9') && *s != '.')
			return -EINVAL;
		n = strtod(s, &end);
		if (end == s)
			return -EINVAL;
		if (!*end && !total) {
			total = n * 1000;	/* bare number: seconds */
			s = end;
			break;
		}
		for (i = 0; i < VIGIL_ARRAY_SIZE(units); i++)
			if (!strncmp(end, units[i].unit, strlen(units[i].unit)) &&
			    (end[strlen(units[i].unit)] == '\0' || (end[strlen(units[i].unit)] >= '0' &&
								   end[strlen(units[i].unit)] <= '9')))
				break;
		if (i == VIGIL_ARRAY_SIZE(units))
			return -EINVAL;
		total += n * units[i].ms;
		s = end + strlen(units[i].unit);
	}
	if (total < 0 || total > 365.0 * 86400 * 1000)
		return -EINVAL;
	*out = (long)total;
	return 0;
}

int tetra_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "1", "t", "T", "TRUE", "True"};
	static const char *const no[] = {"false", "0", "f", "F", "FALSE", "False"};
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*out = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* ---- export files ---- */

static int pack_write(void *data, const char *buf, size_t len)
{
	return vigil_buf_append(data, buf, len);
}

/* JSON into msgpack, key order kept (jansson keeps insertion order): the tree the bus
 * carries has the same shape, strings where protojson writes strings. */
static void pack_json(msgpack_packer *pk, json_t *j)
{
	const char *key;
	json_t *v;
	size_t i;

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		msgpack_pack_map(pk, json_object_size(j));
		json_object_foreach(j, key, v) {
			msgpack_pack_str_with_body(pk, key, strlen(key));
			pack_json(pk, v);
		}
		break;
	case JSON_ARRAY:
		msgpack_pack_array(pk, json_array_size(j));
		json_array_foreach(j, i, v)
			pack_json(pk, v);
		break;
	case JSON_STRING:
		msgpack_pack_str_with_body(pk, json_string_value(j), json_string_length(j));
		break;
	case JSON_INTEGER:
		msgpack_pack_int64(pk, json_integer_value(j));
		break;
	case JSON_REAL:
		msgpack_pack_double(pk, json_real_value(j));
		break;
	case JSON_TRUE:
		msgpack_pack_true(pk);
		break;
	case JSON_FALSE:
		msgpack_pack_false(pk);
		break;
	default:
		msgpack_pack_nil(pk);
		break;
	}
}

struct vigil_msg *tetra_read_event(FILE *in, char **line, size_t *cap, struct vigil_buf *scratch)
{
	struct vigil_msg *m;
	msgpack_packer pk;
	json_error_t jerr;
	json_t *j;
	ssize_t n;

	do {
		n = getline(line, cap, in);
		if (n < 0) {
			errno = 0;
			return NULL;
		}
		while (n && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r'))
			(*line)[--n] = '\0';
	} while (!n);
	j = json_loadb(*line, (size_t)n, 0, &jerr);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		errno = EINVAL;
		return NULL;
	}
	vigil_buf_reset(scratch);
	msgpack_packer_init(&pk, scratch, pack_write);
	pack_json(&pk, j);
	json_decref(j);
	m = vigil_msg__decode(scratch->data, scratch->len);
	if (!m)
		errno = EINVAL;
	return m;
}
