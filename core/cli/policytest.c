/* policytest.c - `vigil policytest` (alias `pt`), tetra's: list the policy tests, run them
 * against the live agent (load the test's policy under a temporary name unless it is loaded,
 * subscribe, trigger, match the trigger's events, unload), dump a test's policy. The tests
 * are data: rules/policytests/shipped.yaml (policytest.h). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bus/bus.h"
#include "cli.h"
#include "encode/encode.h"
#include "policytest.h"

/* Adding a policy loads its BPF programs: as tracingpolicy add, allow a slow machine. */
#define PT_ADD_TIMEOUT_MS 120000
/* After the trigger ended: events still on their way (ring buffer wake-ups, the bus). */
#define PT_SETTLE_MS 2000
#define PT_QUIET_MS 300

struct pt_opts {
	const char *file, *policy_dir, *control, *bus, *output_file, *dump_policy_path;
	bool json, all_tests, monitor_mode, enforce, list_params;
};

/* One scenario's result, tetra's ScenarioRes. */
struct pt_sres {
	const char *name;
	char *trigger_error, *checker_error;
};

/* One test's result, tetra's Result. */
struct pt_result {
	char name[192];
	char *skipped, *error;
	struct pt_sres *sres;
	size_t nsres;
	double seconds;
};

/* A loaded policy the test runs against. */
struct pt_policy {
	char name[256];
	bool ours;		/* loaded by this run: unloaded at the end */
	bool enforce;
};

static char *dup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dup_printf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

/* ---- where the tests and the policies are ---- */

static bool in_build_tree(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t len = strlen(VIGIL_BUILD_TREE);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	return !strncmp(exe, VIGIL_BUILD_TREE, len) && exe[len] == '/';
}

static void default_paths(struct pt_opts *o)
{
	bool tree = in_build_tree();

	if (!o->file)
		o->file = tree ? VIGIL_SOURCE_TREE "/rules/policytests/shipped.yaml" : VIGIL_DATA_DIR "/policytests/shipped.yaml";
	if (!o->policy_dir)
		o->policy_dir = tree ? VIGIL_SOURCE_TREE "/rules/policies" : VIGIL_SYSCONF_DIR "/policies";
}

/* ---- the policy, renamed ---- */

static int write_buf(void *data, unsigned char *buf, size_t size)
{
	return !vigil_buf_append(data, buf, size);
}

/* The value node of key in mapping id; 0 when absent. Ids, not pointers: adding a node to the
 * document may move every node. */
static int lookup(yaml_document_t *doc, int id, const char *key)
{
	yaml_node_t *m = yaml_document_get_node(doc, id), *k;
	yaml_node_pair_t *p;

	for (p = m && m->type == YAML_MAPPING_NODE ? m->data.mapping.pairs.start : NULL;
	     p && p < m->data.mapping.pairs.top; p++) {
		k = yaml_document_get_node(doc, p->key);
		if (k && k->type == YAML_SCALAR_NODE && !strcmp((const char *)k->data.scalar.value, key))
			return p->value;
	}
	return 0;
}

/* The policy file with metadata.name set to name, as YAML in out. 0 or 1 (said why). */
static int renamed_policy(const char *path, const char *name, struct vigil_buf *out)
{
	yaml_parser_t parser;
	yaml_emitter_t emitter;
	yaml_document_t doc;
	yaml_node_pair_t *p;
	yaml_node_t *meta;
	int rc = 1, fresh, old, meta_id;
	FILE *f = fopen(path, "re");

	if (!f) {
		fprintf(stderr, "vigil policytest: cannot read %s: %s\n", path, strerror(errno));
		return 1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		fprintf(stderr, "vigil policytest: %s:%zu:%zu: %s\n", path, parser.problem_mark.line + 1,
			parser.problem_mark.column + 1, parser.problem ? parser.problem : "not YAML");
		goto out_parser;
	}
	meta_id = lookup(&doc, 1, "metadata");
	old = lookup(&doc, meta_id, "name");
	fresh = old ? yaml_document_add_scalar(&doc, NULL, (yaml_char_t *)name, (int)strlen(name),
					       YAML_DOUBLE_QUOTED_SCALAR_STYLE) : 0;
	if (!fresh) {
		fprintf(stderr, "vigil policytest: %s: no metadata.name to rename\n", path);
		yaml_document_delete(&doc);
		goto out_parser;
	}
	meta = yaml_document_get_node(&doc, meta_id);
	for (p = meta->data.mapping.pairs.start; p < meta->data.mapping.pairs.top; p++)
		if (p->value == old)
			p->value = fresh;
	yaml_emitter_initialize(&emitter);
	yaml_emitter_set_output(&emitter, write_buf, out);
	yaml_emitter_set_unicode(&emitter, 1);
	/* dump takes the document and frees it */
	rc = yaml_emitter_open(&emitter) && yaml_emitter_dump(&emitter, &doc) && yaml_emitter_close(&emitter) ? 0 : 1;
	if (rc)
		fprintf(stderr, "vigil policytest: cannot rename %s: %s\n", path, emitter.problem ? emitter.problem : "?");
	yaml_emitter_delete(&emitter);
out_parser:
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

/* ---- the agent ---- */

static void pack_str(msgpack_packer *pk, const char *s)
{
	msgpack_pack_str_with_body(pk, s, strlen(s));
}

/* A request of string fields (key, value, ..., NULL): 0, or 1 with the agent's word in err. */
static int ask(const struct pt_opts *o, int timeout_ms, struct cli_reply *r, char **err, ...)
{
	msgpack_sbuffer sb;
	msgpack_packer pk;
	const msgpack_object *e;
	const char *k;
	va_list ap;
	size_t n = 0;
	int rc;

	va_start(ap, err);
	while (va_arg(ap, const char *))
		n++;
	va_end(ap);
	msgpack_sbuffer_init(&sb);
	msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
	msgpack_pack_map(&pk, n / 2);
	va_start(ap, err);
	while ((k = va_arg(ap, const char *)))
		pack_str(&pk, k);
	va_end(ap);
	/* tetra's --timeout (globals.c), when given, for every request */
	rc = cli_request_quiet(o->control, sb.data, sb.size, cli_globals.timeout_ms ? cli_globals.timeout_ms : timeout_ms, r);
	msgpack_sbuffer_destroy(&sb);
	if (!rc)
		return 0;
	e = rc == -EREMOTEIO ? vigil_msgpack_get(&r->up.data, "error") : NULL;
	if (e && e->type == MSGPACK_OBJECT_STR)
		*err = dup_printf("%.*s", (int)e->via.str.size, e->via.str.ptr);
	else
		*err = dup_printf("no answer from the agent at %s: %s", o->control,
				  rc == -ETIMEDOUT ? "timed out (is vigild running?)" : strerror(-rc));
	return 1;
}

/* Is the policy loaded? Its mode in *enforce. 1 yes, 0 no, -1 (said in err) no answer. */
static int policy_loaded(const struct pt_opts *o, const char *name, bool *enforce, char **err)
{
	const msgpack_object *pols, *n, *m;
	struct cli_reply r;
	uint32_t i;
	int found = 0;

	if (ask(o, 10000, &r, err, "cmd", "policy_list", NULL)) {
		cli_reply_free(&r);
		return -1;
	}
	pols = vigil_msgpack_get(r.root, "policies");
	for (i = 0; pols && pols->type == MSGPACK_OBJECT_ARRAY && i < pols->via.array.size; i++) {
		n = vigil_msgpack_get(&pols->via.array.ptr[i], "name");
		m = vigil_msgpack_get(&pols->via.array.ptr[i], "mode");
		if (!n || n->type != MSGPACK_OBJECT_STR || n->via.str.size != strlen(name) ||
		    memcmp(n->via.str.ptr, name, n->via.str.size))
			continue;
		found = 1;
		*enforce = m && m->type == MSGPACK_OBJECT_STR && m->via.str.size == 7 && !memcmp(m->via.str.ptr, "enforce", 7);
	}
	cli_reply_free(&r);
	return found;
}

/* The test's policy in place: the loaded one, or its file loaded under a temporary name. */
static char *load_policy(const struct pt_opts *o, const struct pt_test *t, struct pt_policy *pol)
{
	struct vigil_buf yaml = {0};
	struct cli_reply r;
	char path[PATH_MAX], *err = NULL;
	int loaded;

	memset(pol, 0, sizeof(*pol));
	loaded = policy_loaded(o, t->policy, &pol->enforce, &err);
	if (loaded < 0)
		return err;
	if (loaded) {
		snprintf(pol->name, sizeof(pol->name), "%s", t->policy);
		return NULL;
	}
	if (geteuid() != 0)
		return dup_printf("policy %s is not loaded, and loading it is root's (or load it first: "
				  "vigil tracingpolicy add)", t->policy);
	snprintf(path, sizeof(path), "%s/%s.yaml", o->policy_dir, t->policy);
	snprintf(pol->name, sizeof(pol->name), "%s-policytest-%d", t->policy, (int)getpid());
	if (pt_check_owner("policy", path) || renamed_policy(path, pol->name, &yaml)) {
		vigil_buf_free(&yaml);
		return dup_printf("cannot use the policy file %s (said above)", path);
	}
	if (o->dump_policy_path) {
		FILE *f = fopen(o->dump_policy_path, "we");

		if (!f || fwrite(yaml.data, 1, yaml.len, f) != yaml.len)
			fprintf(stderr, "vigil policytest: cannot write %s: %s\n", o->dump_policy_path, strerror(errno));
		if (f)
			fclose(f);
	}
	pol->enforce = t->enforce && o->enforce && !o->monitor_mode;
	if (!ask(o, PT_ADD_TIMEOUT_MS, &r, &err, "cmd", "policy_add", "file", path, "yaml", yaml.data, "mode",
		 pol->enforce ? "enforce" : "monitor", NULL))
		pol->ours = true;
	cli_reply_free(&r);
	vigil_buf_free(&yaml);
	return pol->ours ? NULL : dup_printf("loading %s: %s", path, err ? err : "?");
}

static char *unload_policy(const struct pt_opts *o, struct pt_policy *pol)
{
	struct cli_reply r;
	char *err = NULL;

	if (!pol->ours)
		return NULL;
	ask(o, 30000, &r, &err, "cmd", "policy_delete", "name", pol->name, NULL);
	cli_reply_free(&r);
	return err;
}

/* ---- one scenario ---- */

struct pt_run {
	const struct pt_opts *o;
	struct pt_file *f;
	struct vigil_sub *sub;
};

/* Is the event the trigger's? Its process (or parent) is the trigger's shell, or it ran in the
 * trigger's directory, which only the trigger's processes have as their working directory. */
static bool from_trigger(const struct vigil_msg *m, const struct pt_trigger *t)
{
	const msgpack_object *body = vigil_msg__body(m), *p, *pid, *cwd;
	size_t dl = strlen(t->dir);
	const char *keys[] = {"process", "parent"};
	size_t i;

	for (i = 0; body && i < 2; i++) {
		p = vigil_msgpack_get(body, keys[i]);
		pid = p ? vigil_msgpack_get(p, "pid") : NULL;
		cwd = p ? vigil_msgpack_get(p, "cwd") : NULL;
		if (pid && pid->type == MSGPACK_OBJECT_POSITIVE_INTEGER && pid->via.u64 == (uint64_t)t->pid)
			return true;
		if (i == 0 && cwd && cwd->type == MSGPACK_OBJECT_STR && cwd->via.str.size >= dl &&
		    !memcmp(cwd->via.str.ptr, t->dir, dl) && (cwd->via.str.size == dl || cwd->via.str.ptr[dl] == '/'))
			return true;
	}
	return false;
}

static size_t seq_len(yaml_document_t *doc, int id)
{
	yaml_node_t *n = id ? yaml_document_get_node(doc, id) : NULL;

	return n ? (size_t)(n->data.sequence.items.top - n->data.sequence.items.start) : 0;
}

static int seq_item(yaml_document_t *doc, int id, size_t i)
{
	return yaml_document_get_node(doc, id)->data.sequence.items.start[i];
}

struct pt_check {
	const struct pt_scenario *sc;
	struct pt_vars vars;
	bool *seen;		/* per expected event */
	size_t nseen, events;
	char *unwanted;		/* the first no_events match */
	struct vigil_buf closest;	/* why the last event of an unseen kind did not match */
};

static void check_event(struct pt_run *run, struct pt_check *c, const struct vigil_msg *m)
{
	yaml_document_t *doc = &run->f->doc;
	const msgpack_object *root = vigil_msg__root(m);
	struct vigil_buf why = {0}, json = {0};
	size_t i;

	c->events++;
	if (cli_globals.debug && !vigil_json_from_msgpack(root, &json))
		fprintf(stderr, "vigil policytest: event: %s\n", json.data);
	vigil_buf_free(&json);
	for (i = 0; i < c->nseen; i++) {
		int id = seq_item(doc, c->sc->events, i);

		if (c->seen[i])
			continue;
		if (pt_match_event(doc, id, root, &c->vars, &why))
			c->seen[i] = true;
		else if (why.len) {
			vigil_buf_reset(&c->closest);
			vigil_buf_printf(&c->closest, "%s", why.data);
		}
		vigil_buf_reset(&why);
	}
	for (i = 0; !c->unwanted && i < seq_len(doc, c->sc->no_events); i++)
		if (pt_match_event(doc, seq_item(doc, c->sc->no_events, i), root, &c->vars, NULL))
			c->unwanted = dup_printf("no_events[%zu] (%s) was seen", i,
						 pt_event_kind(doc, seq_item(doc, c->sc->no_events, i)));
	vigil_buf_free(&why);
}

static bool all_seen(const struct pt_check *c)
{
	size_t i;

	for (i = 0; i < c->nseen; i++)
		if (!c->seen[i])
			return false;
	return true;
}

/* Read the bus while the trigger runs and a little after. */
static void watch(struct pt_run *run, struct pt_trigger *t, struct pt_check *c)
{
	long ended = 0, now;
	void *data;
	int n;

	for (;;) {
		/* the clock is read after every message too: a busy bus never stops the deadline */
		if (vigil_sub__wait(run->sub, 20) > 0 && (n = vigil_sub__recv(run->sub, &data)) > 0) {
			struct vigil_msg *m = vigil_msg__decode(data, (size_t)n);

			if (m && from_trigger(m, t))
				check_event(run, c, m);
			vigil_msg__free(m);
			vigil_bus_msg_free(data);
		}
		now = pt_now_ms();
		if (!ended && pt_trigger_poll(t))
			ended = now;
		if (ended && ((all_seen(c) && !seq_len(&run->f->doc, c->sc->no_events) && now - ended >= PT_QUIET_MS) ||
			      now - ended >= PT_SETTLE_MS))
			return;
	}
}

static const char *signame(int sig)
{
	return sig == SIGKILL ? "SIGKILL" : sig == SIGTERM ? "SIGTERM" : strsignal(sig);
}

/* How the trigger ended against the outcome the mode asks for: NULL or why not. */
static char *outcome_error(const struct pt_scenario *sc, const struct pt_trigger *t, bool enforce)
{
	const struct pt_outcome *w = enforce && sc->enforce_outcome.set ? &sc->enforce_outcome : &sc->outcome;
	char how[64];

	if (t->timed_out)
		return dup_printf("timed out after %ld ms (killed)", sc->timeout_ms);
	if (WIFSIGNALED(t->status))
		snprintf(how, sizeof(how), "killed by %s", signame(WTERMSIG(t->status)));
	else
		snprintf(how, sizeof(how), "exited %d", WEXITSTATUS(t->status));
	if (w->signal && !(WIFSIGNALED(t->status) && WTERMSIG(t->status) == w->signal))
		return dup_printf("%s, want killed by %s (%s mode)", how, signame(w->signal), enforce ? "enforce" : "monitor");
	if (w->has_code && !(WIFEXITED(t->status) && WEXITSTATUS(t->status) == w->code))
		return dup_printf("%s, want exit %d (%s mode)", how, w->code, enforce ? "enforce" : "monitor");
	if (w->stderr_has && !strstr(t->err.data ? t->err.data : "", w->stderr_has))
		return dup_printf("%s; its stderr does not say \"%s\" (%s mode): %.200s", how, w->stderr_has,
				  enforce ? "enforce" : "monitor", t->err.data ? t->err.data : "(empty)");
	return NULL;
}

static char *checker_error(struct pt_run *run, struct pt_check *c)
{
	size_t i;

	if (c->unwanted)
		return dup_printf("%s", c->unwanted);
	for (i = 0; i < c->nseen; i++) {
		if (c->seen[i])
			continue;
		return dup_printf("events[%zu] (%s, policy %s) not seen: %zu event(s) from the trigger%s%s", i,
				  pt_event_kind(&run->f->doc, seq_item(&run->f->doc, c->sc->events, i)), c->vars.policy,
				  c->events, c->closest.len ? "; closest: " : "", c->closest.len ? c->closest.data : "");
	}
	return NULL;
}

static void run_scenario(struct pt_run *run, const struct pt_scenario *sc, const struct pt_policy *pol,
			 struct pt_sres *res)
{
	struct pt_trigger t;
	struct pt_check c = {.sc = sc, .vars = {.policy = pol->name}};
	const char *why = NULL;
	int err;

	res->name = sc->name;
	c.nseen = seq_len(&run->f->doc, sc->events);
	c.seen = calloc(c.nseen + 1, sizeof(*c.seen));
	err = c.seen ? pt_trigger_start(&t, sc, &why) : -ENOMEM;
	if (err) {
		res->trigger_error = dup_printf("cannot start: %s: %s", why ? why : "", strerror(-err));
	} else {
		c.vars.dir = t.dir;
		watch(run, &t, &c);
		res->trigger_error = outcome_error(sc, &t, pol->enforce);
		res->checker_error = checker_error(run, &c);
	}
	if (!err || t.pid > 0 || t.dir[0])
		pt_trigger_cleanup(&t);
	vigil_buf_free(&c.closest);
	free(c.unwanted);
	free(c.seen);
}

/* ---- one test ---- */

static void run_test(struct pt_run *run, const struct pt_test *t, struct pt_result *res)
{
	struct pt_policy pol;
	long t0 = pt_now_ms();
	char *err;
	size_t i;

	for (i = 0; i < t->nrequires; i++)
		if (!pt_have_program(t->requires[i])) {
			res->skipped = dup_printf("%s is not installed", t->requires[i]);
			snprintf(res->name, sizeof(res->name), "%s", t->name);
			return;
		}
	res->error = load_policy(run->o, t, &pol);
	snprintf(res->name, sizeof(res->name), "%s (mode=%s)", t->name, pol.enforce ? "enforce" : "monitor");
	if (res->error)
		goto out;
	res->sres = calloc(t->nscenarios, sizeof(*res->sres));
	for (i = 0; res->sres && i < t->nscenarios; i++, res->nsres++)
		run_scenario(run, &t->scenarios[i], &pol, &res->sres[i]);
	err = unload_policy(run->o, &pol);
	if (err) {
		res->error = dup_printf("failed to clean up policy %s: %s", pol.name, err);
		free(err);
	}
out:
	res->seconds = (pt_now_ms() - t0) / 1000.0;
}

static bool result_failed(const struct pt_result *r)
{
	size_t i;

	if (r->error)
		return true;
	for (i = 0; i < r->nsres; i++)
		if (r->sres[i].trigger_error || r->sres[i].checker_error)
			return true;
	return false;
}

static json_t *json_err(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* tetra's -o json: a NamedResult a line */
static void print_json(FILE *out, const struct pt_result *r)
{
	json_t *res = json_object(), *top = json_object(), *sc = r->nsres ? json_array() : json_null();
	size_t i;
	char *s;

	if (r->skipped)
		json_object_set_new(res, "skipped", json_string(r->skipped));
	json_object_set_new(res, "error", json_err(r->error));
	for (i = 0; i < r->nsres; i++)
		json_array_append_new(sc, json_pack("{s:s, s:o, s:o, s:o}", "name", r->sres[i].name, "trigger_error",
						   json_err(r->sres[i].trigger_error), "checker_error",
						   json_err(r->sres[i].checker_error), "action_counts_error", json_null()));
	json_object_set_new(res, "scenarios", sc);
	json_object_set_new(res, "total_time", json_integer((json_int_t)(r->seconds * 1e9)));
	json_object_set_new(top, "name", json_string(r->name));
	json_object_set_new(top, "result", res);
	s = json_dumps(top, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s)
		fprintf(out, "%s\n", s);
	free(s);
	json_decref(top);
}

/* tetra's text: a P: line per test, an S: line per scenario */
static void print_text(FILE *out, const struct pt_result *r)
{
	size_t i, ok = 0;
	char note[96];
	const char *icon;

	for (i = 0; i < r->nsres; i++)
		ok += !r->sres[i].trigger_error && !r->sres[i].checker_error;
	if (r->error) {
		icon = "❌";
	} else if (r->skipped) {
		icon = "⏭️";
	} else {
		icon = ok == r->nsres ? "✅" : ok ? "🟠" : "🔴";
		snprintf(note, sizeof(note), "%zu/%zu scenario(s) succeeded", ok, r->nsres);
	}
	fprintf(out, "P: %-40s   %s   %s (%.2fs)\n", r->name, icon, r->error ? r->error : r->skipped ? r->skipped : note,
		r->seconds);
	for (i = 0; i < r->nsres; i++) {
		const struct pt_sres *s = &r->sres[i];
		bool bad = s->trigger_error || s->checker_error;

		fprintf(out, "%sS: %-37s   %s   ", i + 1 == r->nsres ? "└" : "├", s->name, bad ? "🔴" : "🟢");
		if (s->trigger_error)
			fprintf(out, "trigger error: %s%s", s->trigger_error, s->checker_error ? ", " : "");
		if (s->checker_error)
			fprintf(out, "checker error: %s", s->checker_error);
		fputc('\n', out);
	}
}

static void result_free(struct pt_result *r)
{
	size_t i;

	for (i = 0; i < r->nsres; i++) {
		free(r->sres[i].trigger_error);
		free(r->sres[i].checker_error);
	}
	free(r->sres);
	free(r->skipped);
	free(r->error);
}

/* ---- the subcommands ---- */

/* The tests named in argv (every test with --all-tests), in the file's order; 0 or 2. */
static int select_tests(const struct pt_opts *o, const struct pt_file *f, int argc, char **argv, bool *pick)
{
	size_t i;
	int a;

	if (!argc && !o->all_tests) {
		fprintf(stderr, "vigil policytest: name the tests to run (vigil policytest list), or --all-tests\n");
		return 2;
	}
	for (i = 0; i < f->ntests; i++)
		pick[i] = o->all_tests;
	for (a = 0; a < argc; a++) {
		for (i = 0; i < f->ntests; i++)
			if (!strcmp(argv[a], f->tests[i].name))
				break;
		if (i == f->ntests) {
			fprintf(stderr, "vigil policytest: no test named '%s' in %s (vigil policytest list)\n", argv[a],
				o->file);
			return 2;
		}
		pick[i] = true;
	}
	return 0;
}

static int pt_run_tests(const struct pt_opts *o, struct pt_file *f, int argc, char **argv)
{
	struct pt_run run = {.o = o, .f = f};
	struct pt_result *res = NULL;
	bool *pick = calloc(f->ntests + 1, sizeof(*pick));
	FILE *out = stdout;
	size_t i, failed = 0, total = 0;
	int rc = select_tests(o, f, argc, argv, pick);

	if (!pick || rc)
		goto out;
	if (o->output_file && !(out = fopen(o->output_file, "we"))) {
		fprintf(stderr, "vigil policytest: cannot write %s: %s\n", o->output_file, strerror(errno));
		rc = 1;
		goto out;
	}
	run.sub = vigil_sub__open(o->bus, 0);
	res = calloc(f->ntests + 1, sizeof(*res));
	if (!run.sub || !res) {
		fprintf(stderr, "vigil policytest: cannot subscribe to %s: %s\n", o->bus, strerror(errno));
		rc = 1;
		goto out;
	}
	/* nanomsg connects lazily: give the subscription its first reconnect interval */
	usleep(300 * 1000);
	for (i = 0; i < f->ntests; i++) {
		if (!pick[i])
			continue;
		run_test(&run, &f->tests[i], &res[i]);
		o->json ? print_json(out, &res[i]) : print_text(out, &res[i]);
		fflush(out);
		total++;
		failed += result_failed(&res[i]);
	}
	if (failed)
		fprintf(stderr, "vigil policytest: result errors: %zu/%zu\n", failed, total);
	rc = failed ? 1 : 0;
out:
	for (i = 0; res && i < f->ntests; i++)
		result_free(&res[i]);
	free(res);
	free(pick);
	vigil_sub__close(run.sub);
	if (out && out != stdout)
		fclose(out);
	return rc;
}

static int pt_list(const struct pt_opts *o, const struct pt_file *f)
{
	size_t i, l;

	for (i = 0; i < f->ntests; i++) {
		const struct pt_test *t = &f->tests[i];

		printf("%s [", t->name);
		for (l = 0; l < t->nlabels; l++)
			printf("%s%s", l ? " " : "", t->labels[l]);
		printf("]\n");
		if (o->list_params)
			printf(" policy: %s%s\n", t->policy, t->enforce ? " (enforce with --enforce)" : "");
	}
	return 0;
}

static int pt_dump_policy(const struct pt_opts *o, struct pt_file *f, int argc, char **argv)
{
	char path[PATH_MAX], buf[4096];
	size_t i, n;
	int a;

	for (a = 0; a < argc; a++)
		for (i = 0; i < f->ntests; i++) {
			FILE *in;

			if (strcmp(argv[a], f->tests[i].name))
				continue;
			snprintf(path, sizeof(path), "%s/%s.yaml", o->policy_dir, f->tests[i].policy);
			in = fopen(path, "re");
			if (!in) {
				fprintf(stderr, "vigil policytest: cannot read %s: %s\n", path, strerror(errno));
				return 1;
			}
			while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
				fwrite(buf, 1, n, stdout);
			fclose(in);
		}
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil policytest list [--list-params]\n"
		   "       vigil policytest run NAME... | --all-tests [-o text|json] [--output-file FILE]\n"
		   "                  [--enforce] [--monitor-mode] [--dump-policy-path FILE]\n"
		   "       vigil policytest dump-policy NAME...\n"
		   "Each test loads its policy (from --policy-dir) under a temporary name unless a policy of\n"
		   "that name is loaded, runs its scenarios' triggers and matches their events on the bus.\n"
		   "Policies load in monitor mode; --enforce loads the tests that ask for it in enforce mode.\n"
		   "options: --file FILE        the tests (default: the shipped policytests/shipped.yaml)\n"
		   "         --policy-dir DIR   where <policy>.yaml files are (default: the shipped policies)\n"
		   "         --server-address URL, --control URL   the agent's control socket (default %s)\n"
		   "         --bus URL          its event bus (default %s)\n",
		VIGIL_BUS_DEFAULT_CONTROL, VIGIL_BUS_DEFAULT_EVENTS);
}

enum { OPT_FILE = 0x100, OPT_POLICY_DIR, OPT_BUS, OPT_OUTPUT_FILE, OPT_ALL_TESTS, OPT_MONITOR, OPT_ENFORCE,
       OPT_LIST_PARAMS, OPT_DUMP_PATH, OPT_REFUSED };

static int pt_options(int argc, char **argv, struct pt_opts *o)
{
	static const struct option options[] = {
		{"output", required_argument, NULL, 'o'},
		{"output-file", required_argument, NULL, OPT_OUTPUT_FILE},
		{"all-tests", no_argument, NULL, OPT_ALL_TESTS},
		{"monitor-mode", no_argument, NULL, OPT_MONITOR},
		{"enforce", no_argument, NULL, OPT_ENFORCE},
		{"list-params", no_argument, NULL, OPT_LIST_PARAMS},
		{"dump-policy-path", required_argument, NULL, OPT_DUMP_PATH},
		{"file", required_argument, NULL, OPT_FILE},
		{"policy-dir", required_argument, NULL, OPT_POLICY_DIR},
		{"server-address", required_argument, NULL, 'c'},
		{"control", required_argument, NULL, 'c'},
		{"bus", required_argument, NULL, OPT_BUS},
		{"bindir", required_argument, NULL, OPT_REFUSED},
		{"set-param", required_argument, NULL, OPT_REFUSED},
		{"all-params", no_argument, NULL, OPT_REFUSED},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, at = 0;

	optind = 2;
	while ((c = getopt_long(argc, argv, "o:c:h", options, &at)) != -1) {
		switch (c) {
		case 'o':
			if (strcmp(optarg, "json") && strcmp(optarg, "text"))
				return cli_bad_value("policytest", "output", optarg);
			o->json = !strcmp(optarg, "json");
			break;
		case 'c': o->control = optarg; break;
		case OPT_BUS: o->bus = optarg; break;
		case OPT_FILE: o->file = optarg; break;
		case OPT_POLICY_DIR: o->policy_dir = optarg; break;
		case OPT_OUTPUT_FILE: o->output_file = optarg; break;
		case OPT_DUMP_PATH: o->dump_policy_path = optarg; break;
		case OPT_ALL_TESTS: o->all_tests = true; break;
		case OPT_MONITOR: o->monitor_mode = true; break;
		case OPT_ENFORCE: o->enforce = true; break;
		case OPT_LIST_PARAMS: o->list_params = true; break;
		case OPT_REFUSED:
			fprintf(stderr, "vigil policytest: --%s refused: vigil's tests are data (--file) with no "
					"parameters and no test binaries; their triggers are commands\n", options[at].name);
			return 2;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (o->enforce && o->monitor_mode) {
		fprintf(stderr, "vigil policytest: --enforce and --monitor-mode contradict each other\n");
		return 2;
	}
	return -1;
}

int cmd_policytest(int argc, char **argv)
{
	struct pt_opts o = {.control = VIGIL_BUS_DEFAULT_CONTROL, .bus = VIGIL_BUS_DEFAULT_EVENTS};
	struct pt_file f;
	const char *sub = argc > 1 ? argv[1] : "";
	int rc;

	if (!strcmp(sub, "-h") || !strcmp(sub, "--help")) {
		usage(stdout);
		return 0;
	}
	if (strcmp(sub, "list") && strcmp(sub, "run") && strcmp(sub, "dump-policy")) {
		usage(stderr);
		return 2;
	}
	rc = pt_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	default_paths(&o);
	if (pt_check_owner("test file", o.file))
		return 1;
	rc = pt_file_load(o.file, &f);
	if (!rc) {
		if (!strcmp(sub, "list"))
			rc = pt_list(&o, &f);
		else if (!strcmp(sub, "run"))
			rc = pt_run_tests(&o, &f, argc - optind, argv + optind);
		else
			rc = pt_dump_policy(&o, &f, argc - optind, argv + optind);
	}
	pt_file_free(&f);
	return rc;
}
