/* policytest_spec.c - the policy test file: read with libyaml, checked field by field
 * (an unknown or misplaced field is refused with its line and column), its strings left in
 * the document the tests point into. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "getevents_tetra.h"
#include "policytest.h"

#define PT_DEFAULT_TIMEOUT_MS 10000

struct spec {
	const char *path;
	yaml_document_t *doc;
};

static yaml_node_t *node(const struct spec *s, int id)
{
	return yaml_document_get_node(s->doc, id);
}

static int fail(const struct spec *s, int id, const char *fmt, const char *arg)
{
	yaml_node_t *n = node(s, id);

	fprintf(stderr, "vigil policytest: %s:%zu:%zu: ", s->path, n ? n->start_mark.line + 1 : 0,
		n ? n->start_mark.column + 1 : 0);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return 1;
}

static const char *scalar(const struct spec *s, int id)
{
	yaml_node_t *n = node(s, id);

	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Each pair of mapping id whose key is one of keys, in turn; any other key is refused. */
typedef int (*field_fn)(const struct spec *s, const char *key, int value, void *ctx);

static int each_field(const struct spec *s, int id, const char *what, const char *const *keys, field_fn fn,
		      void *ctx)
{
	yaml_node_t *m = node(s, id);
	yaml_node_pair_t *p;
	size_t k;

	if (!m || m->type != YAML_MAPPING_NODE)
		return fail(s, id, "%s must be a mapping", what);
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *key = scalar(s, p->key);

		for (k = 0; key && keys[k]; k++)
			if (!strcmp(key, keys[k]))
				break;
		if (!key || !keys[k])
			return fail(s, p->key, "unknown field '%s'", key ? key : "?");
		if (fn(s, key, p->value, ctx))
			return 1;
	}
	return 0;
}

static int want_str(const struct spec *s, int id, const char *key, const char **out)
{
	*out = scalar(s, id);
	if (!*out || !**out)
		return fail(s, id, "%s must be a non-empty string", key);
	return 0;
}

static int want_list(const struct spec *s, int id, const char *key, const char **out, size_t *n)
{
	yaml_node_t *l = node(s, id);
	yaml_node_item_t *it;

	if (!l || l->type != YAML_SEQUENCE_NODE)
		return fail(s, id, "%s must be a list of strings", key);
	for (it = l->data.sequence.items.start; it < l->data.sequence.items.top; it++) {
		if (*n == PT_MAX_LIST)
			return fail(s, *it, "%s: too many entries (16 at most)", key);
		if (want_str(s, *it, key, &out[(*n)++]))
			return 1;
	}
	return 0;
}

static int want_events(const struct spec *s, int id, const char *key, int *out)
{
	yaml_node_t *l = node(s, id);
	yaml_node_item_t *it;

	if (!l || l->type != YAML_SEQUENCE_NODE)
		return fail(s, id, "%s must be a list of events", key);
	for (it = l->data.sequence.items.start; it < l->data.sequence.items.top; it++) {
		char why[192];
		int bad;

		if (!pt_event_kind(s->doc, *it))
			return fail(s, *it, "%s: each event is a mapping with one key, its kind (process_kprobe: {...})", key);
		bad = pt_check_expected(s->doc, *it, why, sizeof(why));
		if (bad)
			return fail(s, bad, "%s", why);
	}
	*out = id;
	return 0;
}

static int signal_number(const char *name)
{
	static const struct {
		const char *name;
		int sig;
	} sigs[] = {
		{"KILL", SIGKILL}, {"TERM", SIGTERM}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
		{"HUP", SIGHUP},   {"INT", SIGINT},   {"SEGV", SIGSEGV}, {"SYS", SIGSYS},
	};
	size_t i;

	if (!strncmp(name, "SIG", 3))
		name += 3;
	for (i = 0; i < VIGIL_ARRAY_SIZE(sigs); i++)
		if (!strcmp(name, sigs[i].name))
			return sigs[i].sig;
	return 0;
}

static int outcome_field(const struct spec *s, const char *key, int value, void *ctx)
{
	struct pt_outcome *o = ctx;
	const char *v;
	long n;

	if (want_str(s, value, key, &v))
		return 1;
	o->set = true;
	if (!strcmp(key, "code")) {
		if (vigil_parse_long(v, 0, 255, &n))
			return fail(s, value, "code must be an exit status (0-255), not '%s'", v);
		o->has_code = true;
		o->code = (int)n;
	} else if (!strcmp(key, "signal")) {
		o->signal = signal_number(v);
		if (!o->signal)
			return fail(s, value, "signal '%s' is not one of KILL, TERM, USR1, USR2, HUP, INT, SEGV, SYS", v);
	} else {
		o->stderr_has = v;
	}
	return 0;
}

static int want_outcome(const struct spec *s, int id, const char *what, struct pt_outcome *o)
{
	static const char *const keys[] = {"code", "signal", "stderr", NULL};

	return each_field(s, id, what, keys, outcome_field, o);
}

const char *const pt_action_names[PT_ACTIONS] = {"post", "sigkill", "signal", "override"};

static int action_field(const struct spec *s, const char *key, int value, void *ctx)
{
	struct pt_scenario *sc = ctx;
	const char *v;
	size_t a;
	long n;

	for (a = 0; a < PT_ACTIONS && strcmp(key, pt_action_names[a]); a++)
		;
	if (want_str(s, value, key, &v))
		return 1;
	if (vigil_parse_long(v, 0, 1000000, &n))
		return fail(s, value, "an action count is a number (0-1000000), not '%s'", v);
	sc->actions[a] = n;
	return 0;
}

static int expect_field(const struct spec *s, const char *key, int value, void *ctx)
{
	static const char *const action_keys[] = {"post", "sigkill", "signal", "override", NULL};
	struct pt_scenario *sc = ctx;

	if (!strcmp(key, "actions"))
		return each_field(s, value, key, action_keys, action_field, sc);

	if (!strcmp(key, "events"))
		return want_events(s, value, key, &sc->events);
	if (!strcmp(key, "no_events"))
		return want_events(s, value, key, &sc->no_events);
	if (!strcmp(key, "outcome"))
		return want_outcome(s, value, key, &sc->outcome);
	return want_outcome(s, value, key, &sc->enforce_outcome);
}

static int trigger_field(const struct spec *s, const char *key, int value, void *ctx)
{
	struct pt_scenario *sc = ctx;
	const char *v;

	if (want_str(s, value, key, &v))
		return 1;
	if (!strcmp(key, "run"))
		sc->run = v;
	else if (!strcmp(key, "user"))
		sc->user = v;
	else if (tetra_duration_ms(v, &sc->timeout_ms) || sc->timeout_ms < 100 || sc->timeout_ms > 600000)
		return fail(s, value, "timeout must be a duration from 100ms to 10m, not '%s'", v);
	return 0;
}

static int scenario_field(const struct spec *s, const char *key, int value, void *ctx)
{
	static const char *const trigger_keys[] = {"run", "user", "timeout", NULL};
	static const char *const expect_keys[] = {"events", "no_events", "outcome", "enforce_outcome", "actions", NULL};
	struct pt_scenario *sc = ctx;

	if (!strcmp(key, "name"))
		return want_str(s, value, key, &sc->name);
	if (!strcmp(key, "trigger"))
		return each_field(s, value, key, trigger_keys, trigger_field, sc);
	return each_field(s, value, key, expect_keys, expect_field, sc);
}

static int want_scenarios(const struct spec *s, int id, struct pt_test *t)
{
	static const char *const keys[] = {"name", "trigger", "expect", NULL};
	yaml_node_t *l = node(s, id);
	yaml_node_item_t *it;

	if (!l || l->type != YAML_SEQUENCE_NODE || l->data.sequence.items.start == l->data.sequence.items.top)
		return fail(s, id, "%s must be a non-empty list", "scenarios");
	t->scenarios = calloc(l->data.sequence.items.top - l->data.sequence.items.start, sizeof(*t->scenarios));
	if (!t->scenarios)
		return fail(s, id, "%s", strerror(ENOMEM));
	for (it = l->data.sequence.items.start; it < l->data.sequence.items.top; it++) {
		struct pt_scenario *sc = &t->scenarios[t->nscenarios++];

		sc->timeout_ms = PT_DEFAULT_TIMEOUT_MS;
		for (size_t a = 0; a < PT_ACTIONS; a++)
			sc->actions[a] = -1;
		if (each_field(s, *it, "a scenario", keys, scenario_field, sc))
			return 1;
		if (!sc->name || !sc->run)
			return fail(s, *it, "a scenario needs %s", "a name and a trigger with run");
		if (!sc->events && !sc->no_events && !sc->outcome.set && !sc->enforce_outcome.set && sc->actions[0] < 0 &&
		    sc->actions[1] < 0 && sc->actions[2] < 0 && sc->actions[3] < 0)
			return fail(s, *it, "scenario %s expects nothing: give expect events, no_events, an outcome or actions",
				    sc->name);
	}
	return 0;
}

static int test_field(const struct spec *s, const char *key, int value, void *ctx)
{
	struct pt_test *t = ctx;
	const char *v;

	if (!strcmp(key, "name"))
		return want_str(s, value, key, &t->name);
	if (!strcmp(key, "policy"))
		return want_str(s, value, key, &t->policy);
	if (!strcmp(key, "description"))
		return want_str(s, value, key, &t->description);
	if (!strcmp(key, "labels"))
		return want_list(s, value, key, t->labels, &t->nlabels);
	if (!strcmp(key, "requires"))
		return want_list(s, value, key, t->requires, &t->nrequires);
	if (!strcmp(key, "mode")) {
		if (want_str(s, value, key, &v))
			return 1;
		if (strcmp(v, "enforce") && strcmp(v, "monitor"))
			return fail(s, value, "mode must be enforce or monitor, not '%s'", v);
		t->enforce = !strcmp(v, "enforce");
		return 0;
	}
	return want_scenarios(s, value, t);
}

static int load_tests(const struct spec *s, struct pt_file *f)
{
	static const char *const keys[] = {"name", "policy", "description", "labels", "requires", "mode",
					   "scenarios", NULL};
	yaml_node_t *root = yaml_document_get_root_node(s->doc), *l;
	yaml_node_item_t *it;
	size_t i;

	if (!root || root->type != YAML_MAPPING_NODE || root->data.mapping.pairs.top - root->data.mapping.pairs.start != 1 ||
	    strcmp(scalar(s, root->data.mapping.pairs.start->key) ?: "", "tests"))
		return fail(s, 1, "%s", "the file is a mapping with one key, tests: a list of tests");
	l = node(s, root->data.mapping.pairs.start->value);
	if (!l || l->type != YAML_SEQUENCE_NODE)
		return fail(s, root->data.mapping.pairs.start->value, "%s", "tests must be a list");
	f->tests = calloc(l->data.sequence.items.top - l->data.sequence.items.start + 1, sizeof(*f->tests));
	if (!f->tests)
		return fail(s, 1, "%s", strerror(ENOMEM));
	for (it = l->data.sequence.items.start; it < l->data.sequence.items.top; it++) {
		struct pt_test *t = &f->tests[f->ntests++];

		if (each_field(s, *it, "a test", keys, test_field, t))
			return 1;
		if (!t->name || !t->policy || !t->nscenarios)
			return fail(s, *it, "a test needs %s", "a name, a policy and scenarios");
		for (i = 0; i + 1 < f->ntests; i++)
			if (!strcmp(f->tests[i].name, t->name))
				return fail(s, *it, "test name '%s' given twice", t->name);
	}
	return 0;
}

int pt_file_load(const char *path, struct pt_file *f)
{
	struct spec s = {.path = path, .doc = &f->doc};
	yaml_parser_t parser;
	FILE *in;
	int rc;

	memset(f, 0, sizeof(*f));
	in = fopen(path, "re");
	if (!in) {
		fprintf(stderr, "vigil policytest: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, in);
	if (!yaml_parser_load(&parser, &f->doc)) {
		fprintf(stderr, "vigil policytest: %s:%zu:%zu: %s\n", path, parser.problem_mark.line + 1,
			parser.problem_mark.column + 1, parser.problem ? parser.problem : "not YAML");
		rc = 1;
	} else {
		f->loaded = true;
		rc = load_tests(&s, f);
	}
	yaml_parser_delete(&parser);
	fclose(in);
	return rc;
}

void pt_file_free(struct pt_file *f)
{
	size_t i;

	for (i = 0; i < f->ntests; i++)
		free(f->tests[i].scenarios);
	free(f->tests);
	if (f->loaded)
		yaml_document_delete(&f->doc);
	memset(f, 0, sizeof(*f));
}

/* Nobody but root or the caller may write it (0), else 1: whoever may, decides. */
static int owned_safely(const char *what, const char *path, const struct stat *st, bool dir)
{
	/* a sticky directory (/tmp) lets others add files, never replace this one's */
	mode_t open_to_others = dir && (st->st_mode & S_ISVTX) ? 0 : (st->st_mode & (S_IWGRP | S_IWOTH));

	if ((st->st_uid != 0 && st->st_uid != geteuid()) || open_to_others) {
		fprintf(stderr, "vigil policytest: %s %s%s is writable by others (owner uid %u, mode %03o): refused, "
				"as its content decides what runs as root\n",
			what, dir ? "directory of " : "", path, (unsigned)st->st_uid, (unsigned)(st->st_mode & 0777));
		return 1;
	}
	return 0;
}

int pt_check_owner(const char *what, const char *path)
{
	char parent[4096], *slash;
	struct stat st;

	snprintf(parent, sizeof(parent), "%s", path);
	slash = strrchr(parent, '/');
	if (!slash)
		snprintf(parent, sizeof(parent), ".");
	else if (slash == parent)
		parent[1] = '\0';
	else
		*slash = '\0';
	if (stat(path, &st)) {
		fprintf(stderr, "vigil policytest: cannot read %s %s: %s\n", what, path, strerror(errno));
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "vigil policytest: %s %s is not a file\n", what, path);
		return 1;
	}
	if (owned_safely(what, path, &st, false))
		return 1;
	if (stat(parent, &st)) {
		fprintf(stderr, "vigil policytest: cannot read %s's directory %s: %s\n", what, parent, strerror(errno));
		return 1;
	}
	return owned_safely(what, path, &st, true);
}
