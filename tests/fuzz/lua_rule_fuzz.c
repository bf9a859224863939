/* lua_rule_fuzz.c - libFuzzer target for Lua rule files (core/luahost): whoever can write
 * to --rules-dir hands the agent Lua source, which must stay inside its sandbox (no os,
 * io, debug, package, bytecode), its memory cap and its instruction budget, and whose
 * table the host checks (rules.c check_table).
 *
 * Each input is written as the one rule file of a temporary rules directory and loaded
 * by a fresh host (small cap and budget, so both fire often); then the events of the
 * bus_msg corpus (Tetragon-shaped events of every kind) go through vigil_luahost__event,
 * timers run on a clock the harness moves, and the host lists, reloads (unchanged) and
 * closes. kill() and deny() reach fakes, never the kernel.
 *
 * Properties besides memory safety: a rule that loads has a name and is listed; a refused
 * file is listed as refused with a reason; a reload of an unchanged file changes nothing.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_quiet.h"
#include "luahost/luahost.h"

#define MAX_EVENTS 32

static char dir[64], file[96];
static struct vigil_msg *events[MAX_EVENTS];
static size_t nevents;
static uint64_t now_ns;

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "lua_rule_fuzz: property violated: %s\n", what);
		abort();
	}
}

static void cleanup(void)
{
	size_t i;

	unlink(file);
	rmdir(dir);
	for (i = 0; i < nevents; i++)
		vigil_msg__free(events[i]);
}

/* The bus_msg seeds that decode: real event shapes for on_event. */
static void load_events(void)
{
	struct dirent **names = NULL;
	char path[4096], buf[65536];
	int n, i;

	n = scandir(FUZZ_EVENTS_DIR, &names, NULL, alphasort);
	for (i = 0; i < n; i++) {
		FILE *f;
		size_t len;

		snprintf(path, sizeof(path), "%s/%s", FUZZ_EVENTS_DIR, names[i]->d_name);
		f = names[i]->d_name[0] != '.' ? fopen(path, "rb") : NULL;
		if (f) {
			len = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			if (nevents < MAX_EVENTS && (events[nevents] = vigil_msg__decode(buf, len)))
				nevents++;
		}
		free(names[i]);
	}
	free(names);
	check(nevents > 0, "no events in " FUZZ_EVENTS_DIR);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	vigil_set_print(fuzz_quiet);
	snprintf(dir, sizeof(dir), "/tmp/vigil-lua-rule-fuzz.XXXXXX");
	check(mkdtemp(dir) != NULL, "mkdtemp");
	snprintf(file, sizeof(file), "%s/rule.lua", dir);
	load_events();
	atexit(cleanup);
	return 0;
}

static uint64_t clock_fn(void *ctx)
{
	return now_ns;
}

static void emit(void *ctx, const struct vigil_event *ev)
{
	(*(size_t *)ctx)++;
}

static int deny(void *ctx, const struct vigil_deny_request *req, struct vigil_deny_outcome *out)
{
	check(req->list != NULL && req->value != NULL, "deny without a list or value");
	return 1;
}

static int kill_fake(void *ctx, int pid, int sig)
{
	return 0;
}

struct listing {
	size_t enabled, refused;
};

static void on_status(const struct vigil_rule_status *st, void *ctx)
{
	struct listing *l = ctx;

	check(st->name != NULL && st->file != NULL && st->state != NULL, "status without name, file or state");
	if (!strcmp(st->state, "refused")) {
		check(st->reason != NULL && st->reason[0] != '\0', "refused without a reason");
		l->refused++;
	} else if (!strcmp(st->state, "enabled")) {
		l->enabled++;
	}
}

static void on_reload(const char *f, const char *name, enum vigil_rule_outcome outcome,
		      const struct vigil_rule_error *err, void *ctx)
{
	check(outcome == VIGIL_RULE_UNCHANGED || outcome == VIGIL_RULE_REFUSED || outcome == VIGIL_RULE_REPLACED,
	      "reload of the same file: unexpected outcome");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t emitted = 0, i, round;
	struct vigil_luahost_opts opts = {
		.sz = sizeof(opts), .rules_dir = dir, .node_name = "fuzz",
		.mem_limit = 4u << 20, .budget = 200000,
		.clock = clock_fn, .emit = emit, .deny = deny, .kill = kill_fake, .ctx = &emitted,
	};
	struct listing l = {0};
	struct vigil_luahost *h;
	FILE *f = fopen(file, "wb");

	check(f != NULL && fwrite(data, 1, size, f) == size, "cannot write the rule file");
	fclose(f);
	now_ns = 1000000000ull;
	h = vigil_luahost__new(&opts);
	check(h != NULL, "host not created");
	vigil_luahost__list(h, on_status, &l);
	check(l.enabled + l.refused == 1, "the file is neither a rule nor refused");

	for (round = 0; round < 2; round++)
		for (i = 0; i < nevents; i++) {
			vigil_luahost__event(h, events[i]);
			now_ns += 700000000ull;
			vigil_luahost__tick(h);
		}
	now_ns += 60000000000ull;
	vigil_luahost__tick(h);

	vigil_luahost__reload(h, on_reload, NULL);
	vigil_luahost__count(h);
	vigil_luahost__free(h);
	return 0;
}
