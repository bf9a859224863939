/* policytest.c - `vigil policytest` (alias `pt`), tetra's: list the policy tests, run them
 * against the live agent (load the test's policy under a temporary name unless it is loaded,
 * subscribe, trigger, match the trigger's events, unload), dump a test's policy. The tests
 * are data: rules/policytests/shipped.yaml (policytest.h). */
#include <errno.h>
#include <getopt.h>
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

/* After the trigger ended: events still on their way (ring buffer wake-ups, the bus). */
#define PT_SETTLE_MS 2000
#define PT_QUIET_MS 300

/* ---- where the tests and the policies are ---- */


static void default_paths(struct pt_opts *o)
{
	bool tree = cli_in_build_tree();

	if (!o->file)
		o->file = tree ? VIGIL_SOURCE_TREE "/rules/policytests/shipped.yaml" : VIGIL_DATA_DIR "/policytests/shipped.yaml";
	if (!o->policy_dir)
		o->policy_dir = tree ? VIGIL_SOURCE_TREE "/rules/policies" : VIGIL_SYSCONF_DIR "/policies";
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
			c->unwanted = pt_dup_printf("no_events[%zu] (%s) was seen", i,
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
		return pt_dup_printf("timed out after %ld ms (killed)", sc->timeout_ms);
	if (WIFSIGNALED(t->status))
		snprintf(how, sizeof(how), "killed by %s", signame(WTERMSIG(t->status)));
	else
		snprintf(how, sizeof(how), "exited %d", WEXITSTATUS(t->status));
	if (w->signal && !(WIFSIGNALED(t->status) && WTERMSIG(t->status) == w->signal))
		return pt_dup_printf("%s, want killed by %s (%s mode)", how, signame(w->signal), enforce ? "enforce" : "monitor");
	if (w->has_code && !(WIFEXITED(t->status) && WEXITSTATUS(t->status) == w->code))
		return pt_dup_printf("%s, want exit %d (%s mode)", how, w->code, enforce ? "enforce" : "monitor");
	if (w->stderr_has && !strstr(t->err.data ? t->err.data : "", w->stderr_has))
		return pt_dup_printf("%s; its stderr does not say \"%s\" (%s mode): %.200s", how, w->stderr_has,
				  enforce ? "enforce" : "monitor", t->err.data ? t->err.data : "(empty)");
	return NULL;
}

static char *checker_error(struct pt_run *run, struct pt_check *c)
{
	size_t i;

	if (c->unwanted)
		return pt_dup_printf("%s", c->unwanted);
	for (i = 0; i < c->nseen; i++) {
		if (c->seen[i])
			continue;
		return pt_dup_printf("events[%zu] (%s, policy %s) not seen: %zu event(s) from the trigger%s%s", i,
				  pt_event_kind(&run->f->doc, seq_item(&run->f->doc, c->sc->events, i)), c->vars.policy,
				  c->events, c->closest.len ? "; closest: " : "", c->closest.len ? c->closest.data : "");
	}
	return NULL;
}

static bool counts_actions(const struct pt_scenario *sc)
{
	size_t a;

	for (a = 0; a < PT_ACTIONS; a++)
		if (sc->actions[a] >= 0)
			return true;
	return false;
}

/* tetra's action counter check: each expected count against the policy's counter's growth;
 * in monitor mode against what it reported it would have done, and nothing enforced. */
static char *actions_error(const struct pt_scenario *sc, bool enforce, const uint64_t *before, const uint64_t *after)
{
	struct vigil_buf why = {0};
	size_t a, m;
	char *out;

	for (a = 0; a < PT_ACTIONS; a++) {
		if (sc->actions[a] < 0)
			continue;
		/* post is post in either mode; the others are monitor_<action> in monitor mode */
		m = a == PT_POST || enforce ? a : PT_ACTIONS + a;
		if (after[m] - before[m] != (uint64_t)sc->actions[a])
			vigil_buf_printf(&why, "%s%s%s: expected:%ld before:%llu, after:%llu", why.len ? ", " : "",
					 m >= PT_ACTIONS ? "monitor_" : "", pt_action_names[a], sc->actions[a],
					 (unsigned long long)before[m], (unsigned long long)after[m]);
		if (m != a && after[a] != before[a])
			vigil_buf_printf(&why, "%s%s: enforced %llu time(s) in monitor mode", why.len ? ", " : "",
					 pt_action_names[a], (unsigned long long)(after[a] - before[a]));
	}
	out = why.len ? pt_dup_printf("%s", why.data) : NULL;
	vigil_buf_free(&why);
	return out;
}

static void run_scenario(struct pt_run *run, const struct pt_scenario *sc, const struct pt_policy *pol,
			 struct pt_sres *res)
{
	uint64_t before[2 * PT_ACTIONS], after[2 * PT_ACTIONS];
	struct pt_trigger t;
	struct pt_check c = {.sc = sc, .vars = {.policy = pol->name}};
	const char *why = NULL;
	int err;

	res->name = sc->name;
	c.nseen = seq_len(&run->f->doc, sc->events);
	c.seen = calloc(c.nseen + 1, sizeof(*c.seen));
	if (counts_actions(sc))
		res->action_counts_error = pt_action_counts(run->o, pol->name, before);
	err = c.seen ? pt_trigger_start(&t, sc, &why) : -ENOMEM;
	if (err) {
		res->trigger_error = pt_dup_printf("cannot start: %s: %s", why ? why : "", strerror(-err));
	} else {
		c.vars.dir = t.dir;
		watch(run, &t, &c);
		res->trigger_error = outcome_error(sc, &t, pol->enforce);
		res->checker_error = checker_error(run, &c);
		if (counts_actions(sc) && !res->action_counts_error)
			res->action_counts_error = pt_action_counts(run->o, pol->name, after);
		if (counts_actions(sc) && !res->action_counts_error)
			res->action_counts_error = actions_error(sc, pol->enforce, before, after);
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
			res->skipped = pt_dup_printf("%s is not installed", t->requires[i]);
			snprintf(res->name, sizeof(res->name), "%s", t->name);
			return;
		}
	res->error = pt_load_policy(run->o, t, &pol);
	snprintf(res->name, sizeof(res->name), "%s (mode=%s)", t->name, pol.enforce ? "enforce" : "monitor");
	if (res->error)
		goto out;
	res->sres = calloc(t->nscenarios, sizeof(*res->sres));
	for (i = 0; res->sres && i < t->nscenarios; i++, res->nsres++)
		run_scenario(run, &t->scenarios[i], &pol, &res->sres[i]);
	err = pt_unload_policy(run->o, &pol);
	if (err) {
		res->error = pt_dup_printf("failed to clean up policy %s: %s", pol.name, err);
		free(err);
	}
out:
	res->seconds = (pt_now_ms() - t0) / 1000.0;
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
	char *err;

	if (!pick || rc)
		goto out;
	if (o->output_file && !(out = fopen(o->output_file, "we"))) {
		fprintf(stderr, "vigil policytest: cannot write %s: %s\n", o->output_file, strerror(errno));
		rc = 1;
		goto out;
	}
	/* an agent that does not answer fails every test alike: say it once */
	err = pt_agent_check(o);
	if (err) {
		fprintf(stderr, "vigil policytest: %s\n", err);
		free(err);
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
		o->json ? pt_print_json(out, &res[i]) : pt_print_text(out, &res[i]);
		fflush(out);
		total++;
		failed += pt_result_failed(&res[i]);
	}
	if (failed)
		fprintf(stderr, "vigil policytest: result errors: %zu/%zu\n", failed, total);
	rc = failed ? 1 : 0;
out:
	for (i = 0; res && i < f->ntests; i++)
		pt_result_free(&res[i]);
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
	/* the triggers run here and their events are read off this node's bus */
	if (!strcmp(sub, "run") && vigil_bus_tls_address(o.control)) {
		fprintf(stderr, "vigil policytest: %s is a remote agent: the tests trigger on this node and read "
				"its bus; give this node's agent (ipc://, unix://)\n", o.control);
		return 2;
	}
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
