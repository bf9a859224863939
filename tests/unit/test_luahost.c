/* test_luahost.c - the Lua rule host: the sandbox, the memory cap and instruction budget,
 * the lazy event view, alerts and their templates, actions, timers, the helper modules
 * with a fake clock, and reloading. Rules are real files in a temporary directory; events
 * are real msgpack messages built by the encoder; what the host emits is rendered to JSON. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/bus.h"
#include "encode/encode.h"
#include "events/events.h"
#include "luahost/luahost.h"
#include "luahost/luahost_internal.h"
#include "pcache/pcache.h"

#define MAX_EMITTED 64
#define MAX_PROCS 8

struct state {
	char dir[64];
	struct vigil_luahost *h;
	uint64_t clock_ns;
	char *emitted[MAX_EMITTED];	/* JSON of each emitted event */
	size_t nemitted;
	struct vigil_process procs[MAX_PROCS];	/* the fake process cache */
	char ids[MAX_PROCS][2][VIGIL_EXEC_ID_MAX];	/* their exec_id and parent_exec_id */
	size_t nprocs;
	char denied[8][128];
	size_t ndenied;
	int deny_rc;
	int killed_pid, killed_sig;
	unsigned int deadline_ms;	/* 0: the host's default */
	size_t queue_len;		/* 0: the host's default */
	bool real_kill;			/* kill through the host's own pidfd path */
	bool real_clock;		/* the host's own clock (CLOCK_MONOTONIC), not clock_ns */
};

/* ---- the host's collaborators ---- */

static uint64_t fake_clock(void *ctx)
{
	return ((struct state *)ctx)->clock_ns;
}

static void capture(void *ctx, const struct vigil_event *ev)
{
	struct state *s = ctx;
	struct vigil_buf wire = { 0 }, json = { 0 };
	struct vigil_msg *m;

	assert_int_equal(vigil_encode_msgpack(ev, &wire), 0);
	m = vigil_msg__decode(wire.data, wire.len);
	assert_non_null(m);
	assert_int_equal(vigil_msg__to_json(m, &json), 0);
	assert_true(s->nemitted < MAX_EMITTED);
	s->emitted[s->nemitted++] = json.data;
	vigil_msg__free(m);
	vigil_buf_free(&wire);
}

static const struct vigil_process *find_process(void *ctx, const char *exec_id)
{
	struct state *s = ctx;
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (!strcmp(s->procs[i].exec_id, exec_id))
			return &s->procs[i];
	return NULL;
}

static const struct vigil_process *find_pid(void *ctx, uint32_t pid)
{
	struct state *s = ctx;
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

static int fake_deny(void *ctx, const struct vigil_deny_request *req, struct vigil_deny_outcome *out)
{
	struct state *s = ctx;

	snprintf(s->denied[s->ndenied++ % 8], sizeof(s->denied[0]), "%s=%s by %s pid %u on %s", req->list,
		 req->value, req->rule, req->process ? req->process->pid : 0, req->evidence ? req->evidence : "-");
	if (s->deny_rc < 0)
		snprintf(out->reason, sizeof(out->reason), "refused for the test");
	return s->deny_rc;
}

static int fake_kill(void *ctx, int pid, int sig)
{
	struct state *s = ctx;

	s->killed_pid = pid;
	s->killed_sig = sig;
	return 0;
}

/* A process in the fake cache: exec_id "id-<pid>", its parent "id-<ppid>". */
static struct vigil_process *add_proc(struct state *s, uint32_t pid, uint32_t ppid, const char *binary, uint32_t uid)
{
	char (*ids)[VIGIL_EXEC_ID_MAX] = s->ids[s->nprocs];
	struct vigil_process *p = &s->procs[s->nprocs++];

	memset(p, 0, sizeof(*p));
	p->pid = p->tid = pid;
	p->ppid = ppid;
	p->exec_id = ids[0];
	p->parent_exec_id = ids[1];
	snprintf(ids[0], VIGIL_EXEC_ID_MAX, "id-%u", pid);
	ids[1][0] = '\0';
	if (ppid)
		snprintf(ids[1], VIGIL_EXEC_ID_MAX, "id-%u", ppid);
	p->binary = (char *)binary;
	p->arguments = (char *)"-x y";
	p->cwd = (char *)"/tmp";
	p->container_id = (char *)"";
	p->auid = 4294967295u;
	p->creds.uid = p->creds.euid = uid;
	p->refcnt = 1;
	return p;
}

/* ---- fixture ---- */

static int setup(void **ctx)
{
	struct state *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	strcpy(s->dir, "/tmp/vigil-luahost-XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	s->clock_ns = 1000000000000ULL;
	s->deny_rc = 1;
	*ctx = s;
	return 0;
}

static int teardown(void **ctx)
{
	struct state *s = *ctx;
	char cmd[128];
	size_t i;

	vigil_luahost__free(s->h);
	for (i = 0; i < s->nemitted; i++)
		free(s->emitted[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", s->dir);
	if (system(cmd))
		return -1;
	free(s);
	return 0;
}

static void write_rule(struct state *s, const char *file, const char *src)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", s->dir, file);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(src, f);
	fclose(f);
}

static void start_host_opts(struct state *s, size_t mem, uint64_t budget, uint32_t deny_rate)
{
	struct vigil_luahost_opts o = {
		.sz = sizeof(o), .rules_dir = s->dir, .node_name = "test-node", .mem_limit = mem,
		.budget = budget, .clock = s->real_clock ? NULL : fake_clock, .emit = capture, .process = find_process,
		.process_by_pid = find_pid, .deny = fake_deny, .kill = s->real_kill ? NULL : fake_kill, .ctx = s,
		.deny_rate = deny_rate, .deadline_ms = s->deadline_ms, .queue_len = s->queue_len,
	};

	s->h = vigil_luahost__new(&o);
	assert_non_null(s->h);
}

static void start_host(struct state *s, size_t mem, uint64_t budget)
{
	start_host_opts(s, mem, budget, 0);
}

static void start_host_rate(struct state *s, uint32_t deny_rate)
{
	start_host_opts(s, 0, 0, deny_rate);
}

/* Run one exec event of p (parent from the cache) through the host. */
static int feed(struct state *s, enum vigil_event_type type, const struct vigil_process *p)
{
	struct vigil_event ev = { .type = type, .time = 1666062981373327754ULL, .node_name = "test-node",
				  .process = p, .parent = find_process(s, p->parent_exec_id) };
	struct vigil_buf wire = { 0 };
	struct vigil_msg *m;
	int called;

	assert_int_equal(vigil_encode_msgpack(&ev, &wire), 0);
	m = vigil_msg__decode(wire.data, wire.len);
	assert_non_null(m);
	called = vigil_luahost__event(s->h, m);
	vigil_msg__free(m);
	vigil_buf_free(&wire);
	return called;
}

static const char *emitted_with(struct state *s, const char *needle)
{
	size_t i;

	for (i = 0; i < s->nemitted; i++)
		if (strstr(s->emitted[i], needle))
			return s->emitted[i];
	return NULL;
}

/* Fails showing what was emitted instead. */
static void assert_emitted(struct state *s, const char *needle)
{
	size_t i;

	if (emitted_with(s, needle))
		return;
	for (i = 0; i < s->nemitted; i++)
		print_message("emitted: %s\n", s->emitted[i]);
	fail_msg("nothing emitted with %s", needle);
}

static size_t count_with(struct state *s, const char *needle)
{
	size_t i, n = 0;

	for (i = 0; i < s->nemitted; i++)
		n += strstr(s->emitted[i], needle) != NULL;
	return n;
}

struct listing {
	char state[16];
	char reason[1024];
	uint64_t calls, alerts, actions, errors, denies_limited, dropped;
	size_t memory, timers;
	int found;
};

static void list_one(const struct vigil_rule_status *st, void *ctx)
{
	struct listing *l = ctx;

	if (strcmp(st->name, l->state))
		return;
	l->found++;
	snprintf(l->state, sizeof(l->state), "%s", st->state);
	snprintf(l->reason, sizeof(l->reason), "%s", st->reason ? st->reason : "");
	l->calls = st->calls;
	l->alerts = st->alerts;
	l->actions = st->actions;
	l->errors = st->errors;
	l->denies_limited = st->denies_limited;
	l->dropped = st->dropped;
	l->memory = st->memory;
	l->timers = st->timers;
}

/* The listing of the rule named name (l->state holds the name on the way in). */
static struct listing rule_status(struct state *s, const char *name)
{
	struct listing l = { 0 };

	snprintf(l.state, sizeof(l.state), "%s", name);
	vigil_luahost__list(s->h, list_one, &l);
	assert_int_equal(l.found, 1);
	return l;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define RULE_HEAD(name) "return { name = \"" name "\", events = {\"process_exec\"}, "

/* ---- the sandbox ---- */

struct refusal_ctx {
	char reason[1024];
	int refused;
};

static void note_refusal(const char *file, const char *name, enum vigil_rule_outcome o,
			 const struct vigil_rule_error *err, void *ctx)
{
	struct refusal_ctx *r = ctx;

	if (o == VIGIL_RULE_REFUSED) {
		r->refused++;
		snprintf(r->reason, sizeof(r->reason), "%s:%d: %s", err->file, err->line, err->reason);
	}
}

static void test_sandbox_refuses_each_forbidden_facility(void **ctx)
{
	static const struct {
		const char *code;
		const char *why;
	} cases[] = {
		{ "os.execute('touch /tmp/vigil-pwned')", "global 'os'" },
		{ "io.open('/etc/passwd')", "global 'io'" },
		{ "debug.sethook()", "global 'debug'" },
		{ "package.loadlib('/lib/x86_64-linux-gnu/libc.so.6', 'system')", "global 'package'" },
		{ "dofile('/etc/passwd')", "global 'dofile'" },
		{ "loadfile('/etc/passwd')", "global 'loadfile'" },
		{ "coroutine.create(print)", "global 'coroutine'" },
		{ "string.dump(print)", "field 'dump'" },
		{ "assert(load('\\27Lua\\x54\\0\\x19\\x93\\r\\n\\x1a\\n'))", "attempt to load a binary chunk" },
		{ "assert(load('return 1', 'x', 'b'))() ; assert(load('\\27Lua', 'x', 'b'))", "binary chunk" },
		{ "require('os')", "module 'os' not found" },
		{ "require('../../../etc/passwd')", "not found" },
		{ "require('vigil.nope')", "not found" },
		{ "collectgarbage('stop')", "invalid option 'stop'" },
		{ "collectgarbage('collect')", "invalid option 'collect'" },
		{ "collectgarbage()", "invalid option 'collect'" },
		{ "warn('@on')", "global 'warn'" },
	};
	struct state *s = *ctx;
	struct refusal_ctx r;
	char src[512];
	size_t i;

	start_host(s, 0, 0);
	for (i = 0; i < VIGIL_ARRAY_SIZE(cases); i++) {
		snprintf(src, sizeof(src), "%s\n" RULE_HEAD("r") "on_event = function() end }\n", cases[i].code);
		write_rule(s, "forbidden.lua", src);
		memset(&r, 0, sizeof(r));
		assert_int_equal(vigil_luahost__reload(s->h, note_refusal, &r), 1);
		if (!strstr(r.reason, cases[i].why))
			fail_msg("case %zu (%s): refused as \"%s\", expected \"%s\"", i, cases[i].code, r.reason,
				 cases[i].why);
		assert_non_null(strstr(r.reason, "forbidden.lua:1:"));
	}
	assert_int_equal(access("/tmp/vigil-pwned", F_OK), -1);
}

static void test_sandbox_keeps_the_safe_library(void **ctx)
{
	struct state *s = *ctx;
	struct refusal_ctx r = { 0 };

	write_rule(s, "ok.lua",
		   "assert(string.format('%d', 3) == '3' and table.concat({1, 2}, ',') == '1,2')\n"
		   "assert(math.max(1, 2) == 2 and utf8.char(72) == 'H' and select('#', 1, 2) == 2)\n"
		   "assert(load('return 1 + 1')() == 2)\n"
		   "assert(pcall(error, 'x') == false)\n"
		   "assert(select(2, xpcall(error, function(m) return 'handled' end, 'x')) == 'handled')\n"
		   "assert(type(collectgarbage('count')) == 'number' and collectgarbage('step') ~= nil)\n"
		   "assert(require('vigil.lru') == require('vigil.lru'))\n" RULE_HEAD("ok") "on_event = function() end }\n");
	start_host(s, 0, 0);
	assert_int_equal(vigil_luahost__reload(s->h, note_refusal, &r), 0);
	assert_int_equal(vigil_luahost__count(s->h), 1);
}

static void test_infinite_loop_is_stopped_and_the_rule_disabled(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct listing l;
	double t0;

	write_rule(s, "a_loop.lua", RULE_HEAD("loop") "on_event = function(ev) while true do end end }\n");
	write_rule(s, "b_other.lua", RULE_HEAD("other") "on_event = function(ev) alert{} end }\n");
	s->deadline_ms = 10000;		/* the budget's test: the deadline must not fire first on a loaded machine */
	start_host(s, 0, 0);
	t0 = mono_s();
	assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 2);
	assert_true(mono_s() - t0 < 0.5);
	l = rule_status(s, "loop");
	assert_string_equal(l.state, "disabled");
	assert_non_null(strstr(l.reason, "instruction budget"));
	assert_emitted(s, "\"rule_status\":{\"rule\":\"loop\"");
	assert_emitted(s, "\"state\":\"disabled\",\"reason\":\"instruction budget");
	/* the other rule went on, and still does */
	assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 1);
	assert_int_equal(count_with(s, "\"process_alert\""), 2);
}

static void test_loop_that_catches_the_budget_error_still_stops(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	double t0;

	write_rule(s, "loop.lua",
		   RULE_HEAD("sly") "on_event = function(ev)\n"
				    "  while true do pcall(function() while true do end end) end\n"
				    "end }\n");
	s->deadline_ms = 10000;
	start_host(s, 0, 0);
	t0 = mono_s();
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_true(mono_s() - t0 < 0.5);
	assert_string_equal(rule_status(s, "sly").state, "disabled");
}

static void test_memory_bomb_is_stopped_and_the_rule_disabled(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct listing l;
	double t0;

	write_rule(s, "bomb.lua",
		   "local hoard = {}\n" RULE_HEAD("bomb") "on_event = function(ev)\n"
							   "  while true do hoard[#hoard + 1] = string.rep('x', 4096) .. #hoard end\n"
							   "end }\n");
	/* a budget and a deadline it cannot reach first: filling a capped state takes ~50 ms
	 * of emergency collections */
	s->deadline_ms = 10000;
	start_host(s, 8u << 20, 1000000000000ULL);
	t0 = mono_s();
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_true(mono_s() - t0 < 2.0);	/* the cap, well before the 10 s deadline (ASan, loaded CI) */
	l = rule_status(s, "bomb");
	assert_string_equal(l.state, "disabled");
	if (!strstr(l.reason, "memory cap of 8388608 bytes exceeded"))
		fail_msg("reason: %s", l.reason);
	assert_int_equal(l.memory, 0);	/* the state is closed at once */
	assert_emitted(s, "memory cap");
}

static void test_memory_bomb_caught_by_pcall_still_disables(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);

	write_rule(s, "bomb.lua",
		   RULE_HEAD("bomb") "on_event = function(ev)\n"
				     "  local ok = pcall(function() local t = {}\n"
				     "    while true do t[#t + 1] = string.rep('x', 1 << 16) .. #t end end)\n"
				     "  alert{output = 'survived'}\n"
				     "end }\n");
	s->deadline_ms = 10000;
	start_host(s, 4u << 20, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_string_equal(rule_status(s, "bomb").state, "disabled");
	assert_null(emitted_with(s, "survived"));
}

static void test_runtime_error_disables_with_file_and_line(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct listing l;

	write_rule(s, "err.lua", RULE_HEAD("err") "on_event = function(ev)\n  local x = nil\n  return x.y\nend }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	l = rule_status(s, "err");
	assert_string_equal(l.state, "disabled");
	assert_non_null(strstr(l.reason, "err.lua:3: attempt to index a nil value"));
	assert_int_equal(l.errors, 1);
	/* disabled rules are no longer called, and no longer wanted */
	assert_false(vigil_luahost__wants(s->h, VIGIL_EVENT_EXEC));
	assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 0);
}

static void test_actions_are_refused_while_the_file_loads(void **ctx)
{
	struct state *s = *ctx;
	struct refusal_ctx r = { 0 };

	write_rule(s, "early.lua", "kill(1234)\n" RULE_HEAD("early") "on_event = function() end }\n");
	start_host(s, 0, 0);
	assert_int_equal(vigil_luahost__reload(s->h, note_refusal, &r), 1);
	assert_non_null(strstr(r.reason, "kill() is not available while the rule file loads"));
	assert_int_equal(s->killed_pid, 0);
}

/* ---- loading ---- */

static void test_syntax_error_is_refused_with_file_and_line(void **ctx)
{
	struct state *s = *ctx;
	struct refusal_ctx r = { 0 };
	char expect[256];

	write_rule(s, "bad.lua", "-- a rule\nreturn { name = 'bad',\n  events = {'exec'} on_event = nil }\n");
	start_host(s, 0, 0);
	assert_int_equal(vigil_luahost__reload(s->h, note_refusal, &r), 1);
	snprintf(expect, sizeof(expect), "%s/bad.lua:3: '}' expected (to close '{' at line 2) near 'on_event'", s->dir);
	assert_string_equal(r.reason, expect);
}

static void test_bad_rule_tables_are_refused_with_the_reason(void **ctx)
{
	static const struct {
		const char *src;
		const char *why;
	} cases[] = {
		{ "return 42", "must return the rule table" },
		{ "return { events = {'exec'}, on_event = print }", "'name' must be a non-empty string" },
		{ "return { name = 'a b', events = {'exec'}, on_event = print }", "letters, digits" },
		{ "return { name = 'x', priority = 'urgent', events = {'exec'}, on_event = print }", "priority \"urgent\"" },
		{ "return { name = 'x', events = {'process_alert'}, on_event = print }", "not an event type a rule can receive" },
		{ "return { name = 'x', events = {'exec'} }", "needs an on_event function" },
		{ "return { name = 'x' }", "would never run" },
		{ "return { name = 'x', tags = 'T1059', events = {'exec'}, on_event = print }", "'tags' must be a list" },
	};
	struct state *s = *ctx;
	struct refusal_ctx r;
	size_t i;

	start_host(s, 0, 0);
	for (i = 0; i < VIGIL_ARRAY_SIZE(cases); i++) {
		write_rule(s, "t.lua", cases[i].src);
		memset(&r, 0, sizeof(r));
		assert_int_equal(vigil_luahost__reload(s->h, note_refusal, &r), 1);
		if (!strstr(r.reason, cases[i].why))
			fail_msg("case %zu: refused as \"%s\", expected \"%s\"", i, r.reason, cases[i].why);
	}
}

static void test_rule_only_sees_the_event_types_it_asked_for(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);

	write_rule(s, "exits.lua", "return { name = 'exits', events = {'exit'}, on_event = function(ev) alert{} end }\n");
	start_host(s, 0, 0);
	assert_false(vigil_luahost__wants(s->h, VIGIL_EVENT_EXEC));
	assert_true(vigil_luahost__wants(s->h, VIGIL_EVENT_EXIT));
	assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 0);
	assert_int_equal(feed(s, VIGIL_EVENT_EXIT, p), 1);
	assert_int_equal(count_with(s, "\"process_alert\""), 1);
}

/* A policy event of p from a hook of the given type and name (tracepoint event, kprobe or
 * LSM function, uprobe symbol), through the host; the number of rules called. */
static int feed_hook(struct state *s, enum vigil_event_type type, const char *name, const struct vigil_process *p)
{
	struct vigil_hook_info hook = { .id = 1, .type = type, .policy_name = "p", .subsys = "syscalls",
					.path = "/bin/sh" };
	struct vigil_event ev = { .type = type, .time = 1666062981373327754ULL, .node_name = "test-node",
				  .process = p };
	struct vigil_buf wire = { 0 };
	struct vigil_msg *m;
	int called;

	if (type == VIGIL_EVENT_TRACEPOINT)
		hook.event = name;
	else if (type == VIGIL_EVENT_UPROBE)
		hook.symbol = name;
	else
		hook.function_name = name;
	ev.policy.hook = &hook;
	assert_int_equal(vigil_encode_msgpack(&ev, &wire), 0);
	m = vigil_msg__decode(wire.data, wire.len);
	assert_non_null(m);
	called = vigil_luahost__event(s->h, m);
	vigil_msg__free(m);
	vigil_buf_free(&wire);
	return called;
}

static void test_rule_with_hooks_sees_only_those_hooks_policy_events(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);

	write_rule(s, "a_hooks.lua", "return { name = 'hooks', events = {'exec', 'tracepoint', 'kprobe', 'uprobe'},\n"
				     "  hooks = {'sys_enter_connect', 'security_file_open', 'readline'},\n"
				     "  on_event = function(ev) alert{} end }\n");
	write_rule(s, "b_all.lua", "return { name = 'all', events = {'tracepoint'}, on_event = function(ev) end }\n");
	start_host(s, 0, 0);
	/* the listed hooks reach both rules; another reaches only the rule without hooks */
	assert_int_equal(feed_hook(s, VIGIL_EVENT_TRACEPOINT, "sys_enter_connect", p), 2);
	assert_int_equal(feed_hook(s, VIGIL_EVENT_TRACEPOINT, "sys_enter_openat", p), 1);
	assert_int_equal(feed_hook(s, VIGIL_EVENT_TRACEPOINT, "sys_enter_connec", p), 1);
	assert_int_equal(feed_hook(s, VIGIL_EVENT_KPROBE, "security_file_open", p), 1);
	assert_int_equal(feed_hook(s, VIGIL_EVENT_KPROBE, "security_bprm_check", p), 0);
	assert_int_equal(feed_hook(s, VIGIL_EVENT_UPROBE, "readline", p), 1);
	/* exec events are not narrowed by hooks */
	assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 1);
	assert_int_equal(count_with(s, "\"process_alert\""), 4);
}

/* on_event(ev, kind, hook): the type key, and the listed hook that selected the event (nil
 * for exec, and for a rule without hooks); the same strings ev.type and the hook's key read. */
static void test_on_event_gets_the_type_and_the_selecting_hook(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);

	write_rule(s, "a_hooks.lua", "return { name = 'hooks', events = {'exec', 'tracepoint', 'kprobe'},\n"
				     "  hooks = {'sys_enter_connect', 'security_file_open'}, output = 'got %{k}/%{h}/%{same}',\n"
				     "  on_event = function(ev, kind, hook)\n"
				     "    local same = kind == ev.type and (hook == nil or hook == ev.event or hook == ev.function_name)\n"
				     "    alert{ fields = { k = kind, h = tostring(hook), same = tostring(same) } }\n"
				     "  end }\n");
	write_rule(s, "b_all.lua", "return { name = 'all', events = {'tracepoint'}, output = 'all %{k}/%{h}',\n"
				   "  on_event = function(ev, kind, hook) alert{ fields = { k = kind, h = tostring(hook) } } end }\n");
	start_host(s, 0, 0);
	assert_int_equal(feed_hook(s, VIGIL_EVENT_TRACEPOINT, "sys_enter_connect", p), 2);
	assert_int_equal(feed_hook(s, VIGIL_EVENT_KPROBE, "security_file_open", p), 1);
	assert_int_equal(feed_hook(s, VIGIL_EVENT_TRACEPOINT, "sys_enter_openat", p), 1);
	assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 1);
	assert_int_equal(count_with(s, "got process_tracepoint/sys_enter_connect/true"), 1);
	assert_int_equal(count_with(s, "got process_kprobe/security_file_open/true"), 1);
	assert_int_equal(count_with(s, "got process_exec/nil/true"), 1);
	assert_int_equal(count_with(s, "all process_tracepoint/nil"), 2);
	assert_int_equal(count_with(s, "\"process_alert\""), 5);
}

/* The reader's question before it posts an event: only hooks some rule can get. */
static void test_wants_hook_skips_only_hooks_no_rule_selects(void **ctx)
{
	struct state *s = *ctx;

	write_rule(s, "a.lua", "return { name = 'a', events = {'tracepoint', 'kprobe', 'exit'}, hooks = {'sys_enter_connect'},\n"
			       "  on_event = function(ev) end }\n");
	write_rule(s, "b.lua", "return { name = 'b', events = {'exec', 'kprobe'}, on_event = function(ev) end }\n");
	start_host(s, 0, 0);
	assert_true(vigil_luahost__wants_hook(s->h, VIGIL_EVENT_TRACEPOINT, "sys_enter_connect"));
	assert_false(vigil_luahost__wants_hook(s->h, VIGIL_EVENT_TRACEPOINT, "sys_enter_openat"));
	assert_false(vigil_luahost__wants_hook(s->h, VIGIL_EVENT_TRACEPOINT, NULL));
	/* b takes every kprobe event */
	assert_true(vigil_luahost__wants_hook(s->h, VIGIL_EVENT_KPROBE, "security_file_open"));
	assert_true(vigil_luahost__wants_hook(s->h, VIGIL_EVENT_EXEC, NULL));
	/* only a, which lists hooks, wants exits: hooks do not narrow them */
	assert_true(vigil_luahost__wants_hook(s->h, VIGIL_EVENT_EXIT, NULL));
	assert_false(vigil_luahost__wants_hook(s->h, VIGIL_EVENT_LSM, "file_open"));
	/* a reload without the hooks list: every tracepoint again */
	write_rule(s, "a.lua", "return { name = 'a', events = {'tracepoint'}, on_event = function(ev) end }\n");
	assert_int_equal(vigil_luahost__reload(s->h, NULL, NULL), 0);
	assert_true(vigil_luahost__wants_hook(s->h, VIGIL_EVENT_TRACEPOINT, "sys_enter_openat"));
}

static void test_hooks_without_a_policy_event_type_are_refused(void **ctx)
{
	struct state *s = *ctx;
	struct refusal_ctx r = { 0 };

	start_host(s, 0, 0);
	write_rule(s, "t.lua", "return { name = 'x', events = {'exec'}, hooks = {'sys_enter_connect'}, on_event = print }");
	assert_int_equal(vigil_luahost__reload(s->h, note_refusal, &r), 1);
	assert_non_null(strstr(r.reason, "hooks: the rule's events list no policy event"));
	memset(&r, 0, sizeof(r));
	write_rule(s, "t.lua", "return { name = 'x', events = {'tracepoint'}, hooks = 'sys_enter_connect', on_event = print }");
	assert_int_equal(vigil_luahost__reload(s->h, note_refusal, &r), 1);
	assert_non_null(strstr(r.reason, "'hooks' must be a list"));
}

/* ---- reload ---- */

static const char counting_rule[] =
	"local n = 0\n" RULE_HEAD("counter") "output = 'seen %{n}', on_event = function(ev)\n"
						 "  n = n + 1\n  alert{fields = {n = n}}\nend }\n";

static void test_reload_keeps_the_state_of_unchanged_rules(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct refusal_ctx r = { 0 };

	write_rule(s, "counter.lua", counting_rule);
	write_rule(s, "other.lua", RULE_HEAD("other") "on_event = function() end }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	feed(s, VIGIL_EVENT_EXEC, p);
	write_rule(s, "other.lua", RULE_HEAD("other") "priority = 'debug', on_event = function() end }\n");
	assert_int_equal(vigil_luahost__reload(s->h, note_refusal, &r), 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "\"output\":\"seen 3\"");
	assert_int_equal(rule_status(s, "counter").calls, 3);
}

static void test_reload_replaces_a_changed_rule_with_fresh_state(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);

	write_rule(s, "counter.lua", counting_rule);
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	feed(s, VIGIL_EVENT_EXEC, p);
	write_rule(s, "counter.lua", "-- changed\n" "local n = 100\n" RULE_HEAD("counter") "output = 'seen %{n}', on_event = function(ev)\n"
		   "  n = n + 1\n  alert{fields = {n = n}}\nend }\n");
	assert_int_equal(vigil_luahost__reload(s->h, NULL, NULL), 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "\"output\":\"seen 101\"");
}

static void test_reload_with_syntax_error_keeps_the_previous_version(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct refusal_ctx r = { 0 };
	char expect[128];

	write_rule(s, "counter.lua", counting_rule);
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	write_rule(s, "counter.lua", "return { name = 'counter',\n events = {'exec'},\n on_event = function(ev) if end }\n");
	assert_int_equal(vigil_luahost__reload(s->h, note_refusal, &r), 1);
	snprintf(expect, sizeof(expect), "%s/counter.lua:3:", s->dir);
	assert_non_null(strstr(r.reason, expect));
	assert_string_equal(rule_status(s, "counter").state, "enabled");
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "\"output\":\"seen 2\"");
}

static void test_reload_removes_rules_whose_file_is_gone(void **ctx)
{
	struct state *s = *ctx;
	char path[128];

	write_rule(s, "a.lua", RULE_HEAD("a") "on_event = function() end }\n");
	write_rule(s, "b.lua", RULE_HEAD("b") "on_event = function() end }\n");
	start_host(s, 0, 0);
	assert_int_equal(vigil_luahost__count(s->h), 2);
	snprintf(path, sizeof(path), "%s/a.lua", s->dir);
	unlink(path);
	assert_int_equal(vigil_luahost__reload(s->h, NULL, NULL), 0);
	assert_int_equal(vigil_luahost__count(s->h), 1);
}

static void test_reload_rearms_a_disabled_rule(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);

	write_rule(s, "flaky.lua", "local n = 0\n" RULE_HEAD("flaky") "on_event = function(ev)\n"
				   "  n = n + 1\n  if n == 1 then error('first call fails') end\n  alert{}\nend }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_string_equal(rule_status(s, "flaky").state, "disabled");
	assert_int_equal(vigil_luahost__reload(s->h, NULL, NULL), 0);
	assert_string_equal(rule_status(s, "flaky").state, "enabled");
	feed(s, VIGIL_EVENT_EXEC, p);	/* a fresh state: the first call fails again */
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_int_equal(count_with(s, "\"process_alert\""), 0);
}

static void test_duplicate_rule_names_refuse_the_newcomer(void **ctx)
{
	struct state *s = *ctx;
	struct refusal_ctx r = { 0 };

	write_rule(s, "a.lua", RULE_HEAD("same") "on_event = function() end }\n");
	start_host(s, 0, 0);
	write_rule(s, "b.lua", RULE_HEAD("same") "on_event = function() end }\n");
	assert_int_equal(vigil_luahost__reload(s->h, note_refusal, &r), 1);
	assert_non_null(strstr(r.reason, "b.lua:0: rule name \"same\" is already used by"));
	assert_int_equal(vigil_luahost__count(s->h), 1);
}

/* ---- the event view ---- */

static void test_event_view_reads_json_keys_lazily(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *parent = add_proc(s, 50, 0, "/usr/bin/bash", 0);
	struct vigil_process *p = add_proc(s, 100, 50, "/usr/bin/curl", 1000);

	(void)parent;
	write_rule(s, "view.lua",
		   RULE_HEAD("view") "on_event = function(ev)\n"
				     "  assert(ev.type == 'process_exec')\n"
				     "  assert(ev.node_name == 'test-node')\n"
				     "  assert(ev.process.binary == '/usr/bin/curl')\n"
				     "  assert(ev.process_exec.process.pid == 100)\n"
				     "  assert(ev['process.binary'] == '/usr/bin/curl')\n"
				     "  assert(ev['parent.binary'] == '/usr/bin/bash')\n"
				     "  assert(ev.process.process_credentials.uid == 1000)\n"
				     "  assert(ev.nothing == nil and ev.process.nothing == nil)\n"
				     "  local keys = 0\n"
				     "  for k, v in pairs(ev.process) do keys = keys + 1 end\n"
				     "  assert(keys == #ev.process)\n"
				     "  assert(tostring(ev.process):find('\"binary\":\"/usr/bin/curl\"', 1, true))\n"
				     "  local c = copy(ev)\n"
				     "  assert(type(c) == 'table' and c.type == 'process_exec' and c.process.binary == '/usr/bin/curl')\n"
				     "  alert{output = 'ok'}\n"
				     "end }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_string_equal(rule_status(s, "view").state, "enabled");
	assert_emitted(s, "\"output\":\"ok\"");
}

/* An array read by index goes on from the last element found (event.c lh_array_at): in
 * order, backwards, past the end and between two arrays, every index finds its own. */
static void test_event_view_array_indexes_in_any_order(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *parent = add_proc(s, 50, 0, "/usr/bin/bash", 0);
	struct vigil_process *p = add_proc(s, 100, 50, "/usr/bin/su", 0);

	parent->caps.effective = parent->caps.permitted = 1ULL << 21 | 1ULL << 8;
	p->caps.effective = p->caps.permitted = 1ULL << 0 | 1ULL << 1 | 1ULL << 21 | 1ULL << 40;
	write_rule(s, "walk.lua",
		   RULE_HEAD("walk") "on_event = function(ev)\n"
				     "  local e, q = ev['process.cap.effective'], ev['parent.cap.effective']\n"
				     "  local want = { 'CAP_CHOWN', 'DAC_OVERRIDE', 'CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE' }\n"
				     "  assert(#e == 4 and #q == 2)\n"
				     "  for i = 1, #e do assert(e[i] == want[i], i) end\n"
				     "  for i = #e, 1, -1 do assert(e[i] == want[i], -i) end\n"
				     "  assert(e[5] == nil and e[0] == nil)\n"
				     "  assert(e[3] == want[3] and q[2] == 'CAP_SYS_ADMIN' and e[4] == want[4])\n"
				     "  assert(q[1] == 'CAP_SETPCAP' and e[2] == want[2] and e[2] == want[2])\n"
				     "  alert{output = 'walked'}\n"
				     "end }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_string_equal(rule_status(s, "walk").state, "enabled");
	assert_emitted(s, "\"output\":\"walked\"");
}

static void test_event_kept_past_its_call_is_refused(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/usr/bin/curl", 0);
	struct listing l;

	write_rule(s, "keep.lua", "local last\n" RULE_HEAD("keep") "on_event = function(ev)\n"
				  "  if last then return last.process.binary end\n  last = ev\nend }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	feed(s, VIGIL_EVENT_EXEC, p);
	l = rule_status(s, "keep");
	assert_string_equal(l.state, "disabled");
	assert_non_null(strstr(l.reason, "event used after its on_event call returned"));
}

/* An exec event of p as the agent posts it: encoded, then stamped by the bus. The bytes are
 * a heap block of exactly their size, so that a read past them is ASan's to see. */
static unsigned char *posted_bytes(struct state *s, const struct vigil_process *p, size_t *len)
{
	struct vigil_event ev = { .type = VIGIL_EVENT_EXEC, .time = 1666062981373327754ULL, .node_name = "test-node",
				  .process = p, .parent = find_process(s, p->parent_exec_id) };
	struct vigil_buf wire = { 0 };
	unsigned char *out;

	assert_int_equal(vigil_encode_msgpack(&ev, &wire), 0);
	assert_int_equal(vigil_bus_stamp(&wire, 7, 42), 0);
	out = malloc(wire.len);
	assert_non_null(out);
	memcpy(out, wire.data, wire.len);
	*len = wire.len;
	vigil_buf_free(&wire);
	return out;
}

/* The rules thread's way: the posted bytes, read where the rule looks; the stamp is not the
 * event's; a view kept in a global and read from a timer, after the bytes are freed, is an
 * error that disables the rule, never a read of freed memory. */
static void test_raw_event_hides_the_stamp_and_a_kept_view_expires(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/usr/bin/curl", 0);
	unsigned char *bytes;
	struct listing l;
	size_t len;

	write_rule(s, "raw.lua",
		   "local keep\n"
		   "every(1, function() if keep then return keep.binary end end)\n"
		   RULE_HEAD("raw") "on_event = function(ev)\n"
				    "  assert(ev.type == 'process_exec' and ev.process.binary == '/usr/bin/curl')\n"
				    "  assert(ev.vigil_seq == nil and ev.vigil_incarnation == nil)\n"
				    "  local n = 0\n"
				    "  for k in pairs(ev) do n = n + 1 end\n"
				    "  assert(n == 3 and #ev == 3, 'root entries: ' .. n .. ' ' .. #ev)\n"
				    "  assert(ev.node_name == 'test-node' and type(ev.time) == 'string')\n"
				    "  assert(not tostring(ev):find('vigil_seq', 1, true))\n"
				    "  local c = copy(ev)\n"
				    "  assert(c.vigil_seq == nil and c.node_name == 'test-node' and c.process.pid == 100)\n"
				    "  keep = ev.process\n"
				    "  alert{output = 'raw ok'}\n"
				    "end }\n");
	start_host(s, 0, 0);
	bytes = posted_bytes(s, p, &len);
	assert_int_equal(vigil_luahost__event_raw(s->h, bytes, len), 1);
	free(bytes);
	assert_emitted(s, "raw ok");
	assert_string_equal(rule_status(s, "raw").state, "enabled");
	s->clock_ns += 2000000000ULL;
	vigil_luahost__tick(s->h);
	l = rule_status(s, "raw");
	assert_string_equal(l.state, "disabled");
	assert_non_null(strstr(l.reason, "event used after its on_event call returned"));
}

/* Bytes cut short, or with a marker that lies about what follows, read as absent values:
 * every prefix of an event and every byte replaced by a huge map32 header or the invalid
 * 0xc1, through every reader of the view (ASan sees any read past the block). */
static void test_raw_event_of_cut_or_lying_bytes_reads_absent_values(void **ctx)
{
	static const unsigned char lies[] = { 0xdf, 0xc1, 0xdd, 0xdb };
	struct state *s = *ctx;
	struct vigil_process *parent = add_proc(s, 50, 0, "/usr/bin/bash", 0);
	struct vigil_process *p = add_proc(s, 100, 50, "/usr/bin/curl", 0);
	unsigned char *bytes, *copy;
	struct listing l;
	size_t len, i, k;
	int rc;

	(void)parent;
	write_rule(s, "cut.lua",
		   "local event = require 'vigil.event'\n"
		   RULE_HEAD("cut") "on_event = function(ev)\n"
				    "  local t = { ev.type, ev.process, ev['process.binary'], ev['parent.exec_id'], ev.node_name,\n"
				    "              ev.time, #ev, ev.process_exec, event.arg(ev, 1), event.arg(ev, 'path') }\n"
				    "  for k, v in pairs(ev) do t[#t + 1] = k end\n"
				    "  local p = ev.process\n"
				    "  if type(p) == 'userdata' then\n"
				    "    for k, v in pairs(p) do t[#t + 1] = v end\n"
				    "    t[#t + 1] = #p\n"
				    "    t[#t + 1] = p.process_credentials and p.process_credentials.uid\n"
				    "  end\n"
				    "  pcall(copy, ev)\n"
				    "  pcall(tostring, ev)\n"
				    "  pcall(tostring, p)\n"
				    "end }\n");
	s->deadline_ms = 10000;	/* thousands of calls: a loaded machine's preemption is no failure */
	start_host(s, 0, 0);
	bytes = posted_bytes(s, p, &len);
	for (i = 0; i <= len; i++) {
		copy = malloc(i ? i : 1);
		assert_non_null(copy);
		memcpy(copy, bytes, i);
		rc = vigil_luahost__event_raw(s->h, copy, i);
		assert_true(rc == -EBADMSG || rc == 0 || rc == 1);
		free(copy);
		for (k = 0; i < len && k < sizeof(lies); k++) {
			copy = malloc(len);
			assert_non_null(copy);
			memcpy(copy, bytes, len);
			copy[i] = lies[k];
			rc = vigil_luahost__event_raw(s->h, copy, len);
			assert_true(rc == -EBADMSG || rc == 0 || rc == 1);
			free(copy);
		}
	}
	/* the whole event reads, and the rule never failed on the broken ones */
	l = rule_status(s, "cut");
	if (strcmp(l.state, "enabled"))
		fail_msg("the rule was disabled: %s", l.reason);
	assert_int_equal(vigil_luahost__event_raw(s->h, bytes, len), 1);
	free(bytes);
}

/* vigil.native's basename, abspath and has_prefix give what the Lua lines they stand in
 * for give (those lines, copied here, are the reference). */
static void test_native_helpers_match_their_lua_formulas(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/usr/bin/curl", 0);

	write_rule(s, "native.lua",
		   "local event = require 'vigil.event'\n"
		   "local proctree = require 'vigil.proctree'\n"
		   "local function abspath(path, cwd)\n"
		   "  if path:sub(1, 1) ~= '/' then path = (cwd or '/') .. '/' .. path end\n"
		   "  local parts = {}\n"
		   "  for seg in path:gmatch('[^/]+') do\n"
		   "    if seg == '..' then parts[#parts] = nil elseif seg ~= '.' then parts[#parts + 1] = seg end\n"
		   "  end\n"
		   "  return '/' .. table.concat(parts, '/')\n"
		   "end\n"
		   "local function has_prefix(s, prefixes)\n"
		   "  for _, p in ipairs(prefixes) do if s:sub(1, #p) == p then return true end end\n"
		   "  return false\n"
		   "end\n"
		   "local function find_any(s, list)\n"
		   "  for _, p in ipairs(list) do if s:find(p, 1, true) then return p end end\n"
		   "  return nil\n"
		   "end\n"
		   "local paths = { 'a/b', '/x/../y', '../../a', '', '.', './a/./b/', '/', '//a//b//', 'a/..', '/../x',\n"
		   "                'x/y/../../..', '..', 'a\\0b/c', '/tmp/job/file5.txt', 'f.txt.bak' }\n"
		   "local cwds = { false, '/', '/tmp', '/tmp/', 'rel/dir', '', '/a/b/..', '..' }\n"
		   "for _, path in ipairs(paths) do\n"
		   "  assert(proctree.basename(path) == path:match('([^/]*)$'), 'basename ' .. path)\n"
		   "  for _, cwd in ipairs(cwds) do\n"
		   "    cwd = cwd or nil\n"
		   "    assert(event.abspath(path, cwd) == abspath(path, cwd), 'abspath ' .. path .. ' ' .. tostring(cwd))\n"
		   "  end\n"
		   "  for _, list in ipairs({ {}, { '' }, { '/tmp/', '/var/tmp/' }, { path .. 'x' }, { path }, { 'a', '/' } }) do\n"
		   "    assert(event.has_prefix(path, list) == has_prefix(path, list), 'has_prefix ' .. path)\n"
		   "    assert(event.find_any(path, list) == find_any(path, list), 'find_any ' .. path)\n"
		   "  end\n"
		   "end\n"
		   "assert(event.find_any('x5', { 5 }) == 5 and event.find_any('--algo=rx', { 'a', '--algo' }) == 'a')\n"
		   /* string.find's plain path, answered in C: lstrlib's positions */
		   "assert(('abcabc'):find('c', 4, true) == 6 and select(2, ('abcabc'):find('bc', -2, true)) == 6)\n"
		   "assert(('abc'):find('', 4, true) == 4 and ('abc'):find('', 5, true) == nil)\n"
		   "assert(('abc'):find('b', -10, true) == 2 and ('abc'):find('b', 0) == 2 and ('a.c'):find('.', 1, true) == 2)\n"
		   "assert(('a.c'):find('c', 3) == 3 and ('abc'):find('x', 1, true) == nil and ('a%c'):find('%', 1, true) == 2)\n"
		   "assert(not pcall(event.has_prefix, '/tmp/x', { 5 }))\n"
		   "assert(event.has_prefix(nil, { '/' }) == false and event.abspath(nil) == nil)\n"
		   "assert(proctree.basename(nil) == '' and proctree.basename(12) == '12')\n"
		   "assert(proctree.matches('/usr/sbin/nginx', { 'x', { '/usr/sbin/nginx' } }))\n"
		   "assert(proctree.matches('/usr/sbin/nginx', { '/usr/bin/nginx', 'nginx' }))\n"
		   "assert(not proctree.matches('/usr/sbin/nginx', { '/usr/bin/nginx', 'ngin' }))\n"
		   "assert(not pcall(proctree.matches, '/bin/sh', { 5 }))\n"
		   RULE_HEAD("native") "on_event = function(ev) alert{output = 'native ok'} end }\n");
	s->deadline_ms = 10000;
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "native ok");
}

static void test_event_view_metatable_is_hidden(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/usr/bin/curl", 0);

	write_rule(s, "meta.lua", RULE_HEAD("meta") "on_event = function(ev)\n"
				  "  assert(getmetatable(ev) == 'vigil.ev')\n  alert{output = 'hidden'}\nend }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "hidden");
}

/* ---- alerts and templates ---- */

struct lookup_table {
	const char *name, *value;
};

static int table_lookup(void *ctx, const char *name, size_t n, struct vigil_buf *out)
{
	const struct lookup_table *t;

	for (t = ctx; t->name; t++)
		if (strlen(t->name) == n && !memcmp(t->name, name, n))
			return vigil_buf_puts(out, t->value) == 0;
	return 0;
}

static void test_template_renders_names_braces_and_percent(void **ctx)
{
	static const struct lookup_table t[] = {
		{ "process.binary", "/bin/sh" }, { "count", "51" }, { "a", "A" }, { NULL, NULL },
	};
	struct vigil_buf out = { 0 };

	(void)ctx;
	assert_int_equal(lh_render("shell %process.binary renamed %count. files (100%% sure) %{a}b %nope %", table_lookup,
				   (void *)t, &out),
			 0);
	assert_string_equal(out.data, "shell /bin/sh renamed 51. files (100% sure) Ab <NA> %");
	vigil_buf_free(&out);
}

static void test_alert_has_rule_priority_tags_output_and_process(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *parent = add_proc(s, 50, 0, "/usr/sbin/nginx", 33);
	struct vigil_process *p = add_proc(s, 100, 50, "/usr/bin/dash", 33);
	const char *a;

	(void)parent;
	write_rule(s, "shell.lua",
		   "return { name = 'web-shell', priority = 'critical', tags = {'T1059', 'shell'},\n"
		   "  output = '%proc.name under %proc.pname (%proc.cmdline) by uid %user.uid on %evt.type: %rule/%priority',\n"
		   "  events = {'exec'}, on_event = function(ev) alert{} end }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	a = emitted_with(s, "\"process_alert\"");
	assert_non_null(a);
	assert_non_null(strstr(a, "{\"process_alert\":{\"process\":{\"exec_id\":\"id-100\",\"pid\":100"));
	assert_non_null(strstr(a, "\"parent\":{\"exec_id\":\"id-50\",\"pid\":50"));
	assert_non_null(strstr(a, "\"rule\":\"web-shell\",\"priority\":\"critical\","
				  "\"output\":\"dash under nginx (/usr/bin/dash -x y) by uid 33 on process_exec: web-shell/critical\","
				  "\"tags\":[\"T1059\",\"shell\"],\"exec_ids\":[\"id-100\"]},\"node_name\":\"test-node\""));
	assert_int_equal(rule_status(s, "web-shell").alerts, 1);
}

static void test_falco_names_of_a_process_without_arguments_are_empty_not_na(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/usr/bin/curl", 0);

	p->arguments = (char *)"";
	write_rule(s, "r.lua", RULE_HEAD("r") "output = '[%proc.cmdline][%proc.args][%proc.name][%proc.pname]',\n"
				      "on_event = function(ev) alert{} end }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "\"output\":\"[/usr/bin/curl][][curl][<NA>]\"");
}

static void test_alert_from_a_copy_names_its_process_and_all_exec_ids(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *a = add_proc(s, 100, 0, "/tmp/dropper", 0);
	struct vigil_process *b = add_proc(s, 200, 0, "/tmp/payload", 0);
	const char *out;

	write_rule(s, "seq.lua", "local first\n" RULE_HEAD("pair") "output = '%process.binary after %{prev}',\n"
				 "on_event = function(ev)\n"
				 "  if not first then first = copy(ev) return end\n"
				 "  alert{ev = first, events = {ev}, exec_ids = {'extra-id'}, priority = 'alert',\n"
				 "        fields = {prev = ev.process.binary}}\nend }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, a);
	feed(s, VIGIL_EVENT_EXEC, b);
	out = emitted_with(s, "\"process_alert\"");
	assert_non_null(out);
	assert_non_null(strstr(out, "\"process\":{\"exec_id\":\"id-100\""));
	assert_non_null(strstr(out, "\"priority\":\"alert\",\"output\":\"/tmp/dropper after /tmp/payload\""));
	assert_non_null(strstr(out, "\"exec_ids\":[\"id-100\",\"id-200\",\"extra-id\"]"));
}

static void test_alert_rebuilds_the_process_when_the_cache_lost_it(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/usr/bin/curl", 1000);
	struct vigil_event ev = { .type = VIGIL_EVENT_EXEC, .time = 1, .node_name = "n", .process = p };
	struct vigil_buf wire = { 0 };
	struct vigil_msg *m;

	write_rule(s, "r.lua", RULE_HEAD("r") "on_event = function(ev) alert{} end }\n");
	start_host(s, 0, 0);
	assert_int_equal(vigil_encode_msgpack(&ev, &wire), 0);
	s->nprocs = 0;		/* gone from the cache */
	m = vigil_msg__decode(wire.data, wire.len);
	vigil_luahost__event(s->h, m);
	vigil_msg__free(m);
	vigil_buf_free(&wire);
	assert_emitted(s, "\"process\":{\"exec_id\":\"id-100\",\"pid\":100,\"uid\":1000,\"cwd\":\"/tmp\","
					"\"binary\":\"/usr/bin/curl\"");
}

/* ---- actions ---- */

static void test_deny_reaches_the_kernel_list_and_is_an_event(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/tmp/xmrig", 0);

	write_rule(s, "deny.lua", RULE_HEAD("miner") "on_event = function(ev)\n"
				  "  local n, err = deny('lua-denied-binaries', ev.process.binary)\n"
				  "  assert(n == 1, err)\nend }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_string_equal(s->denied[0], "lua-denied-binaries=/tmp/xmrig by miner pid 100 on process_exec");
	assert_emitted(s, "\"rule\":\"miner\",\"action\":\"deny\",\"list\":\"lua-denied-binaries\","
					"\"value\":\"/tmp/xmrig\",\"maps_updated\":1,\"cause_uid\":0,"
					"\"evidence\":{\"type\":\"process_exec\",\"time\":\"2022-10-18T03:16:21.373327754Z\"},"
					"\"exec_ids\":[\"id-100\"]");
	assert_int_equal(rule_status(s, "miner").actions, 1);
}

static void test_deny_is_rate_limited_per_rule_and_the_excess_counted(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/tmp/xmrig", 0);
	int i;

	write_rule(s, "deny.lua", RULE_HEAD("miner") "on_event = function(ev)\n"
				  "  for i = 1, 5 do\n"
				  "    local n, err = deny('lua-denied-binaries', ev.process.binary)\n"
				  "    if not n then alert{output = err} end\n"
				  "  end\nend }\n");
	start_host_rate(s, 3);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_int_equal(s->ndenied, 3);
	assert_int_equal(rule_status(s, "miner").denies_limited, 2);
	assert_emitted(s, "\"output\":\"rate limited: too many deny() calls from this rule\"");
	/* the bucket refills at the rate a minute: 20 s later, one more */
	s->clock_ns += 20ULL * 1000000000ULL;
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_int_equal(s->ndenied, 4);
	assert_int_equal(rule_status(s, "miner").denies_limited, 6);
	for (i = 0; i < 4; i++)
		assert_non_null(strstr(s->denied[i], "by miner"));
}

static void test_failed_deny_returns_the_error_and_reports_it(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/tmp/xmrig", 0);

	write_rule(s, "deny.lua", RULE_HEAD("miner") "on_event = function(ev)\n"
				  "  local n, err = deny('no-such-list', 'x')\n"
				  "  alert{output = tostring(n) .. ' ' .. err}\nend }\n");
	start_host(s, 0, 0);
	s->deny_rc = -ENOENT;
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "\"output\":\"nil refused for the test\"");
	assert_emitted(s, "\"action\":\"deny\",\"list\":\"no-such-list\",\"value\":\"x\",\"error\":\"No such file or directory\","
			  "\"reason\":\"refused for the test\"");
}

static void test_kill_signals_the_target_and_names_it(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 4242, 0, "/tmp/xmrig", 0);

	write_rule(s, "kill.lua", RULE_HEAD("killer") "on_event = function(ev)\n"
				  "  assert(kill(ev.process.pid, 'SIGTERM'))\n"
				  "  assert(not pcall(kill, 1))\nend }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_int_equal(s->killed_pid, 4242);
	assert_int_equal(s->killed_sig, 15);
	assert_emitted(s, "{\"rule_action\":{\"process\":{\"exec_id\":\"id-4242\"");
	assert_emitted(s, "\"rule\":\"killer\",\"action\":\"kill\",\"pid\":4242,\"signal\":\"SIGTERM\"");
	assert_string_equal(rule_status(s, "killer").state, "enabled");
}

/* ---- the deadline, and C functions that run long on one instruction ---- */

/* The pattern: 30-35 s in one string.find before, now refused up front. */
static void test_pattern_bomb_is_refused_at_once_and_the_rule_disabled(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct listing l;
	double t0;

	write_rule(s, "bomb.lua", RULE_HEAD("pattern") "on_event = function(ev)\n"
				  "  local r = ('a'):rep(200):find(('a-'):rep(4) .. 'b')\n"
				  "  alert{output = 'survived'}\nend }\n");
	start_host(s, 0, 0);
	t0 = mono_s();
	assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 1);
	assert_true(mono_s() - t0 < 0.25);
	l = rule_status(s, "pattern");
	assert_string_equal(l.state, "disabled");
	if (!strstr(l.reason, "string.find on a 200-byte subject (pattern \"a-a-a-a-b\") would cost"))
		fail_msg("reason: %s", l.reason);
	assert_emitted(s, "\"state\":\"disabled\",\"reason\":\"string.find on a 200-byte subject");
	assert_null(emitted_with(s, "survived"));
}

static void test_ordinary_patterns_cost_little(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/usr/bin/python3.11", 0);

	write_rule(s, "ok.lua", RULE_HEAD("ok") "on_event = function(ev)\n"
				"  local b = ev.process.binary\n"
				"  assert(b:match('([^/]+)$') == 'python3.11' and b:find('/usr/', 1, true) == 1)\n"
				"  assert(select(2, b:gsub('/', '')) == 3 and b:match('^/usr/bin/(%a+)') == 'python')\n"
				"  for w in b:gmatch('[^/]+') do assert(#w > 0) end\n"
				"  alert{output = 'fine'}\nend }\n");
	s->deadline_ms = 10000;
	start_host(s, 0, 20000);	/* a small budget: these patterns charge hundreds */
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_string_equal(rule_status(s, "ok").state, "enabled");
	assert_emitted(s, "\"output\":\"fine\"");
}

/* The charge is the matcher's worst case on this very subject: a pattern that could
 * backtrack badly in general is cheap where its classes meet only short runs. */
static void test_pattern_cost_is_computed_on_the_subject(void **ctx)
{
	static const char path[] = "/tmp/vigil-lua-x7bezkdp/rules/work/doc17.txt.locked";
	static const char ransom[] = "[^/]+%.[^./]+%.([%w_-]+)$";
	char as[201];
	double c;

	(void)ctx;
	memset(as, 'a', 200);
	as[200] = '\0';
	/* the bound on any 51-byte subject is in the millions; on this one, hundreds */
	assert_true(lh_pattern_work(ransom, strlen(ransom), strlen(path), false) > 1e6);
	c = lh_pattern_cost(ransom, strlen(ransom), path, strlen(path));
	if (c > 2000)
		fail_msg("cost %.0f", c);
	/* the bomb: about C(200, 5) calls */
	assert_true(lh_pattern_cost("a-a-a-a-b", 9, as, 200) > 2e9);
	/* one greedy item on n equal bytes, anchored: 1 call + the n-byte scan + n + 1 tails */
	assert_true(lh_pattern_cost("^a*b", 4, as, 200) < 1000);
	assert_true(lh_pattern_cost("a*b", 3, as, 200) > 200.0 * 200 / 2);
}

static void test_loop_within_the_budget_is_stopped_at_the_deadline(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct listing l;
	double t0, took;

	write_rule(s, "loop.lua", RULE_HEAD("slow") "on_event = function(ev) while true do end end }\n");
	s->deadline_ms = 50;
	start_host(s, 0, 1000000000000ULL);	/* the budget would allow minutes */
	t0 = mono_s();
	feed(s, VIGIL_EVENT_EXEC, p);
	took = mono_s() - t0;
	assert_true(took >= 0.05 && took < 0.5);
	l = rule_status(s, "slow");
	assert_string_equal(l.state, "disabled");
	if (!strstr(l.reason, "deadline of 50 ms exceeded"))
		fail_msg("reason: %s", l.reason);
}

/* What a user controls (here a 4 KiB argv) sizes the work of three rules: a quadratic scan,
 * a recursion as deep as the argv is long, and a string doubled by concatenation. A call
 * starts without the count hook (watchdog.c arms it once the call runs long), so each must
 * still end within its bound, be disabled with the reason, and count its error; the fourth
 * rule, cheap on the same event, goes on. */
static void test_user_sized_work_is_stopped_and_counted(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 1000);
	static char args[4097];
	struct listing l;
	double t0;

	memset(args, 'a', sizeof(args) - 1);
	p->arguments = args;
	write_rule(s, "quad.lua", RULE_HEAD("quad") "on_event = function(ev)\n"
				  "  local a, n = ev.process.arguments, 0\n"
				  "  for i = 1, #a do for j = 1, #a do if a:byte(i) == a:byte(j) then n = n + 1 end end end\n"
				  "end }\n");
	write_rule(s, "deep.lua", RULE_HEAD("deep") "on_event = function(ev)\n"
				  "  local function down(k) if k == 0 then return 0 end return 1 + down(k - 1) end\n"
				  "  return down(#ev.process.arguments * 1000)\n"
				  "end }\n");
	write_rule(s, "concat.lua", RULE_HEAD("concat") "on_event = function(ev)\n"
				    "  local t = ev.process.arguments\n"
				    "  while true do t = t .. t end\n"
				    "end }\n");
	write_rule(s, "ok.lua", RULE_HEAD("ok") "on_event = function(ev) alert{} end }\n");
	s->deadline_ms = 1000;	/* loaded machines: the budget and the caps should come first */
	start_host(s, 0, 200000);
	t0 = mono_s();
	assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 4);
	assert_true(mono_s() - t0 < 4.0);
	l = rule_status(s, "quad");
	assert_string_equal(l.state, "disabled");
	if (!strstr(l.reason, "instruction budget of 200000 exhausted") && !strstr(l.reason, "deadline"))
		fail_msg("quad: %s", l.reason);
	assert_int_equal(l.errors, 1);
	l = rule_status(s, "deep");
	assert_string_equal(l.state, "disabled");
	assert_int_equal(l.errors, 1);
	l = rule_status(s, "concat");
	assert_string_equal(l.state, "disabled");
	if (!strstr(l.reason, "memory cap") && !strstr(l.reason, "deadline"))
		fail_msg("concat: %s", l.reason);
	assert_int_equal(l.errors, 1);
	assert_string_equal(rule_status(s, "ok").state, "enabled");
	assert_int_equal(count_with(s, "\"state\":\"disabled\""), 3);
	assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 1);
}

/* Short calls run without the count hook, and a stray LH_KICK_SIGNAL between calls or one
 * from another process changes nothing: a rule that counts its calls sees every one. */
static void test_stray_kick_signals_change_nothing(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	int i;

	write_rule(s, "count.lua", "local n = 0\n" RULE_HEAD("count") "on_event = function(ev)\n"
				   "  n = n + 1\n  if n % 100 == 0 then alert{output = 'at ' .. n} end\nend }\n");
	start_host(s, 0, 0);
	for (i = 0; i < 1000; i++) {
		if (i % 10 == 0)
			raise(SIGURG);
		assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 1);
	}
	assert_string_equal(rule_status(s, "count").state, "enabled");
	assert_int_equal(count_with(s, "\"output\":\"at "), 10);
	assert_emitted(s, "\"output\":\"at 1000\"");
}

/* A thread that blocks the watchdog's signal (or a program that took SIGURG over): the
 * watchdog forces the hook from its own thread a period past the deadline. */
static void test_deadline_holds_where_the_kick_signal_is_blocked(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	sigset_t urg, old;
	struct listing l;
	double t0, took;

	write_rule(s, "loop.lua", RULE_HEAD("blocked") "on_event = function(ev) while true do end end }\n");
	s->deadline_ms = 50;
	start_host(s, 0, 1000000000000ULL);
	sigemptyset(&urg);
	sigaddset(&urg, SIGURG);
	pthread_sigmask(SIG_BLOCK, &urg, &old);
	t0 = mono_s();
	feed(s, VIGIL_EVENT_EXEC, p);
	took = mono_s() - t0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);	/* the pending signal finds no call: nothing */
	assert_true(took >= 0.05 && took < 1.0);
	l = rule_status(s, "blocked");
	assert_string_equal(l.state, "disabled");
	if (!strstr(l.reason, "deadline of 50 ms exceeded"))
		fail_msg("reason: %s", l.reason);
}

/* utf8.len of 4 MiB is ~9 ms of C (bounded by the memory cap, so not charged): the hook,
 * every 1000 instructions, would first look at the clock after ~200 of them (about two
 * seconds); the watchdog makes the next instruction raise. */
static void test_watchdog_stops_slow_c_calls_between_hook_checks(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	double t0, took;

	write_rule(s, "slowc.lua", RULE_HEAD("slowc") "on_event = function(ev)\n"
				   "  local a = ('a'):rep(1 << 20)\n"
				   "  a = a .. a .. a .. a\n"
				   "  while true do utf8.len(a) end\nend }\n");
	s->deadline_ms = 50;
	start_host(s, 0, 1000000000000ULL);
	t0 = mono_s();
	feed(s, VIGIL_EVENT_EXEC, p);
	took = mono_s() - t0;
	if (took > 0.5)
		fail_msg("the call ran %.3f s", took);
	assert_non_null(strstr(rule_status(s, "slowc").reason, "deadline of 50 ms exceeded"));
}

static void test_rep_is_capped_and_charged(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct listing l;
	double t0;

	write_rule(s, "a_cap.lua", RULE_HEAD("cap") "on_event = function(ev)\n"
				   "  local ok, err = pcall(string.rep, 'x', 2 << 20)\n"
				   "  assert(not ok and err:find('over the cap of 1048576'), err)\n"
				   "  assert(('').rep('', 1 << 60) == '' and ('ab'):rep(2, ',') == 'ab,ab')\n"
				   "  ok, err = pcall(string.find, 'x', ('x'):rep(600))\n"
				   "  assert(not ok and err:find('a pattern of 600 bytes is over the cap of 512'), err)\n"
				   "  alert{output = 'capped'}\nend }\n");
	write_rule(s, "b_charged.lua", RULE_HEAD("charged") "on_event = function(ev)\n"
				       "  for i = 1, 1000 do local x = ('x'):rep(1 << 20) end\nend }\n");
	write_rule(s, "c_move.lua", RULE_HEAD("move") "on_event = function(ev)\n"
				    "  table.move({}, 1, 1 << 40, 1)\nend }\n");
	s->deadline_ms = 10000;
	start_host(s, 0, 100000);
	t0 = mono_s();
	assert_int_equal(feed(s, VIGIL_EVENT_EXEC, p), 3);
	assert_true(mono_s() - t0 < 0.25);
	assert_emitted(s, "\"output\":\"capped\"");
	assert_string_equal(rule_status(s, "cap").state, "enabled");
	l = rule_status(s, "charged");
	assert_string_equal(l.state, "disabled");
	if (!strstr(l.reason, "string.rep would cost about 3.28e+04 instructions"))
		fail_msg("reason: %s", l.reason);
	l = rule_status(s, "move");
	assert_string_equal(l.state, "disabled");
	if (!strstr(l.reason, "table.move would cost about 1.1e+12 instructions"))
		fail_msg("reason: %s", l.reason);
}

/* ---- the rules thread ---- */

static struct vigil_buf encode_exec(const struct vigil_process *p)
{
	struct vigil_event ev = { .type = VIGIL_EVENT_EXEC, .time = 1666062981373327754ULL,
				  .node_name = "test-node", .process = p };
	struct vigil_buf wire = { 0 };

	assert_int_equal(vigil_encode_msgpack(&ev, &wire), 0);
	return wire;
}

/* A burst queued behind a slow call leaves at most the pool's 128 buffers idle once it has
 * run, and no slot keeps one: the ring cycles through every slot, so buffers kept per slot
 * grew to one per slot (16 MiB at the default length). */
static void test_burst_leaves_at_most_the_pool_idle(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct vigil_buf wire = encode_exec(p);
	struct lh_queue *q;
	struct listing l;
	size_t i, held = 0, npool = 0;
	double t0;

	write_rule(s, "a_stuck.lua", "local first = true\n" RULE_HEAD("stuck") "on_event = function(ev)\n"
				     "  if first then first = false; while true do end end\nend }\n");
	write_rule(s, "b_count.lua", RULE_HEAD("count") "on_event = function(ev) end }\n");
	s->deadline_ms = 300;
	s->queue_len = 1000;
	start_host(s, 0, 1000000000000ULL);
	assert_int_equal(vigil_luahost__start(s->h), 0);
	for (i = 0; i < 600; i++)
		assert_int_equal(vigil_luahost__post(s->h, VIGIL_EVENT_EXEC, wire.data, wire.len), 0);
	for (t0 = mono_s(); mono_s() - t0 < 10; usleep(20000)) {
		l = rule_status(s, "count");
		if (l.calls == 600)
			break;
	}
	assert_int_equal(l.calls, 600);
	q = &s->h->q;
	for (t0 = mono_s(); mono_s() - t0 < 10; usleep(20000)) {
		pthread_mutex_lock(&q->lock);
		if (!q->count) {
			for (i = 0; i < q->cap; i++)
				held += q->slots[i].data.data != NULL;
			npool = q->npool;
			pthread_mutex_unlock(&q->lock);
			break;
		}
		pthread_mutex_unlock(&q->lock);
	}
	assert_int_equal(held, 0);
	assert_true(npool > 0 && npool <= 128);
	/* the next post takes a pooled buffer */
	assert_int_equal(vigil_luahost__post(s->h, VIGIL_EVENT_EXEC, wire.data, wire.len), 0);
	vigil_buf_free(&wire);
}

/* Held posts run once woken (vigil_luahost__wake), or without a wake once LH_HELD_MAX
 * wait, or by the thread's own tick: none is left behind. */
static void test_held_posts_run_once_woken(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct vigil_buf wire = encode_exec(p);
	struct listing l = { 0 };
	double t0;
	size_t i;

	write_rule(s, "count.lua", RULE_HEAD("count") "on_event = function(ev) end }\n");
	start_host(s, 0, 1000000000000ULL);
	assert_int_equal(vigil_luahost__start(s->h), 0);
	assert_int_equal(vigil_luahost__post_held(s->h, VIGIL_EVENT_EXEC, wire.data, wire.len), 0);
	vigil_luahost__wake(s->h, 0);
	for (t0 = mono_s(); mono_s() - t0 < 10 && l.calls < 1; usleep(5000))
		l = rule_status(s, "count");
	assert_int_equal(l.calls, 1);
	for (i = 0; i < 200; i++)
		assert_int_equal(vigil_luahost__post_held(s->h, VIGIL_EVENT_EXEC, wire.data, wire.len), 0);
	vigil_luahost__wake(s->h, 60000000000ULL);	/* held a minute: the count and the tick run them */
	for (t0 = mono_s(); mono_s() - t0 < 10 && l.calls < 201; usleep(5000))
		l = rule_status(s, "count");
	assert_int_equal(l.calls, 201);
	vigil_buf_free(&wire);
}

/* Context switches of every thread of this process so far. */
static uint64_t process_switches(void)
{
	char path[300], line[128];
	struct dirent *d;
	uint64_t n = 0;
	unsigned long v;
	DIR *dir = opendir("/proc/self/task");
	FILE *f;

	assert_non_null(dir);
	while ((d = readdir(dir))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", d->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			if (sscanf(line, "voluntary_ctxt_switches: %lu", &v) == 1 ||
			    sscanf(line, "nonvoluntary_ctxt_switches: %lu", &v) == 1)
				n += v;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return n;
}

/* On the real clock, a second after the last event the rules thread sleeps until its next
 * timer instead of ticking: the timers still run on time, the process wakes a few times a
 * second (50 ticks a second before), and a reload's new timer does not wait out the old
 * sleep. */
static void test_an_idle_rules_thread_sleeps_until_its_timers(void **ctx)
{
	struct state *s = *ctx;
	struct listing l0, l1;
	uint64_t sw0, sw1;

	write_rule(s, "slow.lua", "every(0.25, function() end)\nreturn { name = 'slow' }\n");
	s->real_clock = true;
	start_host(s, 0, 0);
	assert_int_equal(vigil_luahost__start(s->h), 0);
	usleep(1300000);	/* idle by now */
	l0 = rule_status(s, "slow");
	sw0 = process_switches();
	usleep(2000000);
	sw1 = process_switches();
	l1 = rule_status(s, "slow");
	assert_in_range(l1.calls - l0.calls, 5, 9);	/* 8 periods */
	assert_true(sw1 - sw0 < 40);
	/* the thread's sleep now a second (its longest), a 0.1 s timer comes in */
	write_rule(s, "slow.lua", "every(60, function() end)\nreturn { name = 'slow' }\n");
	assert_true(vigil_luahost__reload(s->h, NULL, NULL) >= 0);
	usleep(1300000);
	write_rule(s, "fast.lua", "every(0.1, function() end)\nreturn { name = 'fast' }\n");
	assert_true(vigil_luahost__reload(s->h, NULL, NULL) >= 0);
	usleep(450000);
	assert_true(rule_status(s, "fast").calls >= 2);
}

/* While one rule is stuck in its first call (to its 1.5 s deadline), posting never waits:
 * the queue takes what fits and drops the rest, counted exactly, against each rule that
 * wanted them; the queued events then run. */
static void test_post_never_waits_for_a_stuck_rule_and_counts_drops(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct vigil_buf wire = encode_exec(p);
	struct listing l;
	int i, rc, ok = 0, dropped = 0;
	double t0;

	write_rule(s, "a_stuck.lua", "local first = true\n" RULE_HEAD("stuck") "on_event = function(ev)\n"
				     "  if first then first = false; while true do end end\nend }\n");
	write_rule(s, "b_count.lua", RULE_HEAD("count") "on_event = function(ev) alert{output = 'seen'} end }\n");
	s->deadline_ms = 1500;
	s->queue_len = 4;
	start_host(s, 0, 1000000000000ULL);
	assert_int_equal(vigil_luahost__post(s->h, VIGIL_EVENT_EXEC, wire.data, wire.len), -EINVAL);
	assert_int_equal(vigil_luahost__start(s->h), 0);
	t0 = mono_s();
	for (i = 0; i < 11; i++) {
		rc = vigil_luahost__post(s->h, VIGIL_EVENT_EXEC, wire.data, wire.len);
		ok += rc == 0;
		dropped += rc == -EAGAIN;
	}
	assert_true(mono_s() - t0 < 0.1);
	assert_int_equal(ok, 4);
	assert_int_equal(dropped, 7);
	assert_int_equal(vigil_luahost__dropped(s->h), 7);
	/* listing does not wait for the stuck call either */
	usleep(100000);
	t0 = mono_s();
	l = rule_status(s, "stuck");
	assert_true(mono_s() - t0 < 0.1);
	assert_string_equal(l.state, "enabled");
	assert_int_equal(l.dropped, 7);
	/* the queued four run once the stuck call hits its deadline */
	for (t0 = mono_s(); mono_s() - t0 < 10; usleep(20000)) {
		l = rule_status(s, "count");
		if (l.calls == 4)
			break;
	}
	assert_int_equal(l.calls, 4);
	assert_int_equal(l.dropped, 7);
	l = rule_status(s, "stuck");
	assert_string_equal(l.state, "disabled");
	assert_int_equal(l.dropped, 7);
	assert_non_null(strstr(l.reason, "deadline of 1500 ms exceeded"));
	vigil_luahost__free(s->h);	/* joins the rules thread before the emitted list is read */
	s->h = NULL;
	assert_int_equal(count_with(s, "\"output\":\"seen\""), 4);
	vigil_buf_free(&wire);
}

/* ---- kill() through a pidfd ---- */

/* A child that sleeps, its incarnation's ktime as the /proc scan would key it. */
static pid_t sleeper(uint64_t *ktime)
{
	pid_t pid = fork();
	char path[64], buf[1024], *q;
	unsigned long long ticks = 0;
	int field;
	FILE *f;

	assert_true(pid >= 0);
	if (!pid) {
		pause();
		_exit(0);
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	q = strrchr(buf, ')');
	for (field = 2; q && field < 22; field++)
		q = strchr(q + 1, ' ');
	assert_non_null(q);
	assert_int_equal(sscanf(q + 1, "%llu", &ticks), 1);
	*ktime = ticks * 10000000ULL;
	return pid;
}

/* pidfd_open is 5.3's; valgrind 3.19 answers ENOSYS for it. There kill() has nothing to
 * signal through and this test would wait for a child that is never killed. */
static void skip_without_pidfd_open(void)
{
	int fd = (int)syscall(434 /* SYS_pidfd_open */, getpid(), 0);

	if (fd >= 0) {
		close(fd);
		return;
	}
	if (errno == ENOSYS) {
		print_message("skipped: pidfd_open(2) answers ENOSYS here (valgrind 3.19 does not emulate it)\n");
		skip();
	}
}

static void test_kill_through_a_pidfd_signals_the_incarnation_it_names(void **ctx)
{
	struct state *s = *ctx;
	uint64_t kt;
	pid_t pid;

	skip_without_pidfd_open();
	pid = sleeper(&kt);
	struct vigil_process *p = add_proc(s, (uint32_t)pid, 0, "/tmp/xmrig", 0);
	int status;

	p->ktime = kt;
	vigil_exec_id_format("test-node", kt, (uint32_t)pid, p->exec_id);
	write_rule(s, "kill.lua", RULE_HEAD("killer") "on_event = function(ev)\n"
				  "  assert(kill(ev.process.pid, 'TERM'))\nend }\n");
	s->real_kill = true;
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
	assert_emitted(s, "\"action\":\"kill\",\"pid\":");
	assert_null(emitted_with(s, "\"error\""));
}

/* The pid is held by a process that started after the incarnation the rule meant (which
 * is what a reused pid looks like): ESRCH, reported, and the holder lives. */
static void test_kill_of_a_reused_pid_is_refused_with_esrch(void **ctx)
{
	struct state *s = *ctx;
	uint64_t kt;
	pid_t pid;

	skip_without_pidfd_open();
	pid = sleeper(&kt);
	struct vigil_process *p = add_proc(s, (uint32_t)pid, 0, "/tmp/xmrig", 0);
	int status;

	p->ktime = kt - 1000000000ULL;	/* the meant process started a second earlier */
	vigil_exec_id_format("test-node", p->ktime, (uint32_t)pid, p->exec_id);
	write_rule(s, "kill.lua", RULE_HEAD("killer") "on_event = function(ev)\n"
				  "  local ok, err = kill(ev.process.pid)\n"
				  "  alert{output = tostring(ok) .. ' ' .. err}\nend }\n");
	s->real_kill = true;
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "\"output\":\"nil No such process\"");
	assert_emitted(s, "\"action\":\"kill\",\"pid\":");
	assert_emitted(s, "\"error\":\"No such process\"");
	assert_int_equal(waitpid(pid, &status, WNOHANG), 0);	/* still alive */
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}

/* ---- timers and helper modules, on the fake clock ---- */

#define SEC 1000000000ULL

static void test_timer_runs_each_period_and_can_be_cancelled(void **ctx)
{
	struct state *s = *ctx;

	write_rule(s, "tick.lua", "local n = 0\nlocal t\n"
				  "t = every(10, function() n = n + 1; alert{output = 'tick ' .. n}\n"
				  "  if n == 2 then t:cancel() end end)\n"
				  "return { name = 'ticker' }\n");
	start_host(s, 0, 0);
	assert_int_equal(rule_status(s, "ticker").timers, 1);
	vigil_luahost__tick(s->h);
	assert_int_equal(count_with(s, "tick"), 0);
	s->clock_ns += 10 * SEC;
	vigil_luahost__tick(s->h);
	s->clock_ns += 35 * SEC;	/* late: runs once, not three times */
	vigil_luahost__tick(s->h);
	s->clock_ns += 10 * SEC;
	vigil_luahost__tick(s->h);
	assert_emitted(s, "\"output\":\"tick 1\"");
	assert_emitted(s, "\"output\":\"tick 2\"");
	assert_int_equal(count_with(s, "tick"), 2);
	assert_int_equal(rule_status(s, "ticker").timers, 0);
}

static void test_timer_error_disables_the_rule(void **ctx)
{
	struct state *s = *ctx;

	write_rule(s, "tick.lua", "every(1, function() error('boom') end)\nreturn { name = 'boom' }\n");
	start_host(s, 0, 0);
	s->clock_ns += SEC;
	vigil_luahost__tick(s->h);
	assert_string_equal(rule_status(s, "boom").state, "disabled");
	assert_emitted(s, "tick.lua:1: boom");
}

static void test_window_counts_within_its_span_only(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/usr/bin/mv", 0);

	write_rule(s, "burst.lua", "local w = require('vigil.window').new{seconds = 5}\n"
				   RULE_HEAD("burst") "output = '%{n} in 5 s', on_event = function(ev)\n"
				   "  local n = w:add(ev.process.exec_id)\n"
				   "  if n >= 3 then alert{fields = {n = n}} end\nend }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);	/* t = 0, 6, 12: never 3 within 5 s */
	s->clock_ns += 6 * SEC;
	feed(s, VIGIL_EVENT_EXEC, p);
	s->clock_ns += 6 * SEC;
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_int_equal(count_with(s, "\"process_alert\""), 0);
	s->clock_ns += 2 * SEC;		/* t = 14, 16: with 12, three within 5 s */
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_int_equal(count_with(s, "\"process_alert\""), 0);
	s->clock_ns += 2 * SEC;
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "\"output\":\"3 in 5 s\"");
}

static void test_counter_expires_idle_keys(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/usr/bin/mv", 0);

	write_rule(s, "count.lua", "local c = require('vigil.window').counter{ttl = 10}\n"
				   RULE_HEAD("count") "output = '%{n}', on_event = function(ev)\n"
				   "  alert{fields = {n = c:incr(ev.process.binary)}}\nend }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	s->clock_ns += 9 * SEC;
	feed(s, VIGIL_EVENT_EXEC, p);
	s->clock_ns += 11 * SEC;
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "\"output\":\"2\"");
	assert_int_equal(count_with(s, "\"output\":\"1\""), 2);
}

static const char sequence_rule[] =
	"local seq = require('vigil.sequence').new{within = 10, by = '%s'}\n" RULE_HEAD("seq")
	"output = '%%{a} then %%proc.name', on_event = function(ev)\n"
	"  if ev.process.binary == '/tmp/a' then seq:first(ev) return end\n"
	"  local a = seq:match(ev)\n"
	"  if a then alert{fields = {a = a.binary}} end\nend }\n";

static void test_sequence_matches_b_after_a_in_the_same_process_within_t(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *a = add_proc(s, 100, 0, "/tmp/a", 0);
	struct vigil_process *b = add_proc(s, 100, 0, "/tmp/b", 0);	/* a re-exec: same pid */
	struct vigil_process *other = add_proc(s, 300, 0, "/tmp/b", 0);
	char src[1024];

	snprintf(src, sizeof(src), sequence_rule, "process");
	write_rule(s, "seq.lua", src);
	s->deadline_ms = 10000;	/* the sequence is the test: a first call under memcheck is slow */
	start_host(s, 0, 0);
	snprintf(b->exec_id, VIGIL_EXEC_ID_MAX, "id-100-again");	/* add_proc's storage */
	feed(s, VIGIL_EVENT_EXEC, a);
	s->clock_ns += 5 * SEC;
	feed(s, VIGIL_EVENT_EXEC, other);	/* another process: no */
	assert_int_equal(count_with(s, "\"process_alert\""), 0);
	feed(s, VIGIL_EVENT_EXEC, b);
	assert_emitted(s, "\"output\":\"/tmp/a then b\"");
}

static void test_sequence_expires_after_t(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *a = add_proc(s, 100, 0, "/tmp/a", 0);
	struct vigil_process *b = add_proc(s, 100, 0, "/tmp/b", 0);
	char src[1024];

	snprintf(src, sizeof(src), sequence_rule, "process");
	write_rule(s, "seq.lua", src);
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, a);
	s->clock_ns += 11 * SEC;
	feed(s, VIGIL_EVENT_EXEC, b);
	assert_int_equal(count_with(s, "\"process_alert\""), 0);
}

static void test_sequence_by_tree_matches_descendants(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *a = add_proc(s, 100, 0, "/tmp/a", 0);
	struct vigil_process *child = add_proc(s, 200, 100, "/usr/bin/env", 0);
	struct vigil_process *grandchild = add_proc(s, 300, 200, "/tmp/b", 0);
	struct vigil_process *stranger = add_proc(s, 400, 0, "/tmp/b", 0);
	char src[1024];

	(void)child;
	snprintf(src, sizeof(src), sequence_rule, "tree");
	write_rule(s, "seq.lua", src);
	s->deadline_ms = 10000;	/* the sequence is the test: a first call under memcheck is slow */
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, a);
	s->clock_ns += 3 * SEC;
	feed(s, VIGIL_EVENT_EXEC, stranger);
	assert_int_equal(count_with(s, "\"process_alert\""), 0);
	feed(s, VIGIL_EVENT_EXEC, grandchild);
	assert_emitted(s, "\"output\":\"/tmp/a then b\"");
}

static void test_proctree_ancestors_and_is_descendant_of(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *init = add_proc(s, 1, 0, "/sbin/init", 0);
	struct vigil_process *nginx = add_proc(s, 10, 1, "/usr/sbin/nginx", 0);
	struct vigil_process *sh = add_proc(s, 20, 10, "/bin/sh", 0);
	struct vigil_process *curl = add_proc(s, 30, 20, "/usr/bin/curl", 0);

	(void)init, (void)nginx, (void)sh;
	write_rule(s, "tree.lua", "local pt = require('vigil.proctree')\n"
				  RULE_HEAD("tree") "on_event = function(ev)\n"
				  "  local names = {}\n"
				  "  for _, a in ipairs(pt.ancestors(ev)) do names[#names + 1] = pt.basename(a.binary) end\n"
				  "  local yes, who = pt.is_descendant_of(ev, 'nginx')\n"
				  "  local full = pt.is_descendant_of(ev, '/usr/sbin/nginx')\n"
				  "  local no = pt.is_descendant_of(ev, {'apache2', '/usr/sbin/httpd'})\n"
				  /* find walks up only until fn says yes, and max generations at most */
				  "  local asked = 0\n"
				  "  local hit = pt.find(ev, function(p) asked = asked + 1; return p.pid == 10 end)\n"
				  "  local capped = pt.find(ev, function(p) return p.pid == 1 end, false, 2)\n"
				  "  local walk = asked .. hit.pid .. tostring(capped) .. #pt.ancestors(ev, 2)\n"
				  /* the parent's table is made once for its exec_id */
				  "  local same = pt.ancestors(ev)[1] == pt.ancestors(ev)[1]\n"
				  "  alert{output = table.concat(names, '<') .. ' ' .. tostring(yes) .. ' ' .. who.pid\n"
				  "    .. ' ' .. tostring(full) .. ' ' .. tostring(no) .. ' ' .. walk .. ' ' .. tostring(same)}\nend }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, curl);
	assert_emitted(s, "\"output\":\"sh<nginx<init true 10 true false 210nil2 true\"");
}

static void test_lru_evicts_the_least_recently_used(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);

	write_rule(s, "lru.lua", "local lru = require('vigil.lru')\n"
				 RULE_HEAD("lru") "on_event = function(ev)\n"
				 "  local t = lru.new(2)\n"
				 "  t:set('a', 1); t:set('b', 2); t:get('a')\n"
				 "  local k = t:set('c', 3)\n"
				 "  local order = {}\n"
				 "  for key in t:pairs() do order[#order + 1] = key end\n"
				 "  alert{output = k .. ' ' .. table.concat(order) .. ' ' .. t:size() .. ' ' .. tostring(t:peek('b'))}\n"
				 "end }\n");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	assert_emitted(s, "\"output\":\"b ca 2 nil\"");
}

/* ---- listing ---- */

static void test_list_reports_counters_and_refused_files(void **ctx)
{
	struct state *s = *ctx;
	struct vigil_process *p = add_proc(s, 100, 0, "/bin/true", 0);
	struct listing l;

	write_rule(s, "counter.lua", counting_rule);
	write_rule(s, "broken.lua", "return {");
	start_host(s, 0, 0);
	feed(s, VIGIL_EVENT_EXEC, p);
	feed(s, VIGIL_EVENT_EXEC, p);
	l = rule_status(s, "counter");
	assert_string_equal(l.state, "enabled");
	assert_int_equal(l.calls, 2);
	assert_int_equal(l.alerts, 2);
	assert_int_equal(l.errors, 0);
	assert_true(l.memory > 0);
	l = rule_status(s, "broken.lua");
	assert_string_equal(l.state, "refused");
	assert_non_null(strstr(l.reason, "broken.lua:1:"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_sandbox_refuses_each_forbidden_facility),
		T(test_sandbox_keeps_the_safe_library),
		T(test_infinite_loop_is_stopped_and_the_rule_disabled),
		T(test_loop_that_catches_the_budget_error_still_stops),
		T(test_memory_bomb_is_stopped_and_the_rule_disabled),
		T(test_user_sized_work_is_stopped_and_counted),
		T(test_stray_kick_signals_change_nothing),
		T(test_deadline_holds_where_the_kick_signal_is_blocked),
		T(test_memory_bomb_caught_by_pcall_still_disables),
		T(test_pattern_bomb_is_refused_at_once_and_the_rule_disabled),
		T(test_ordinary_patterns_cost_little),
		T(test_pattern_cost_is_computed_on_the_subject),
		T(test_loop_within_the_budget_is_stopped_at_the_deadline),
		T(test_watchdog_stops_slow_c_calls_between_hook_checks),
		T(test_rep_is_capped_and_charged),
		T(test_burst_leaves_at_most_the_pool_idle),
		T(test_post_never_waits_for_a_stuck_rule_and_counts_drops),
		T(test_kill_through_a_pidfd_signals_the_incarnation_it_names),
		T(test_kill_of_a_reused_pid_is_refused_with_esrch),
		T(test_runtime_error_disables_with_file_and_line),
		T(test_actions_are_refused_while_the_file_loads),
		T(test_syntax_error_is_refused_with_file_and_line),
		T(test_bad_rule_tables_are_refused_with_the_reason),
		T(test_rule_only_sees_the_event_types_it_asked_for),
		T(test_rule_with_hooks_sees_only_those_hooks_policy_events),
		T(test_on_event_gets_the_type_and_the_selecting_hook),
		T(test_hooks_without_a_policy_event_type_are_refused),
		T(test_wants_hook_skips_only_hooks_no_rule_selects),
		T(test_reload_keeps_the_state_of_unchanged_rules),
		T(test_reload_replaces_a_changed_rule_with_fresh_state),
		T(test_reload_with_syntax_error_keeps_the_previous_version),
		T(test_reload_removes_rules_whose_file_is_gone),
		T(test_reload_rearms_a_disabled_rule),
		T(test_duplicate_rule_names_refuse_the_newcomer),
		T(test_event_view_reads_json_keys_lazily),
		T(test_event_view_array_indexes_in_any_order),
		T(test_held_posts_run_once_woken),
		T(test_an_idle_rules_thread_sleeps_until_its_timers),
		T(test_event_kept_past_its_call_is_refused),
		T(test_event_view_metatable_is_hidden),
		T(test_raw_event_hides_the_stamp_and_a_kept_view_expires),
		T(test_raw_event_of_cut_or_lying_bytes_reads_absent_values),
		T(test_native_helpers_match_their_lua_formulas),
		T(test_template_renders_names_braces_and_percent),
		T(test_alert_has_rule_priority_tags_output_and_process),
		T(test_falco_names_of_a_process_without_arguments_are_empty_not_na),
		T(test_alert_from_a_copy_names_its_process_and_all_exec_ids),
		T(test_alert_rebuilds_the_process_when_the_cache_lost_it),
		T(test_deny_reaches_the_kernel_list_and_is_an_event),
		T(test_failed_deny_returns_the_error_and_reports_it),
		T(test_deny_is_rate_limited_per_rule_and_the_excess_counted),
		T(test_kill_signals_the_target_and_names_it),
		T(test_timer_runs_each_period_and_can_be_cancelled),
		T(test_timer_error_disables_the_rule),
		T(test_window_counts_within_its_span_only),
		T(test_counter_expires_idle_keys),
		T(test_sequence_matches_b_after_a_in_the_same_process_within_t),
		T(test_sequence_expires_after_t),
		T(test_sequence_by_tree_matches_descendants),
		T(test_proctree_ancestors_and_is_descendant_of),
		T(test_lru_evicts_the_least_recently_used),
		T(test_list_reports_counters_and_refused_files),
#undef T
	};

	vigil_set_print(NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
