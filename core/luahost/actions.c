/* actions.c - what a rule can do besides alerting: kill(pid [, sig]) and
 * deny(list, value [, ev]). Each is an event of its own (rule_action), whether it worked
 * or not, and returns true (kill) or the number of kernel maps updated (deny), or nil and
 * the error text. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../pcache/pcache.h"
#include "luahost_internal.h"

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "KILL", SIGKILL }, { "TERM", SIGTERM }, { "STOP", SIGSTOP }, { "CONT", SIGCONT },
	{ "INT", SIGINT },   { "HUP", SIGHUP },   { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 },
	{ "USR2", SIGUSR2 },
};

/* 9, "SIGKILL", "KILL" or "kill"; SIGKILL when absent */
static int check_signal(lua_State *L, int idx)
{
	const char *s;
	size_t i;

	if (lua_isnoneornil(L, idx))
		return SIGKILL;
	if (lua_type(L, idx) == LUA_TNUMBER) {
		lua_Integer n = luaL_checkinteger(L, idx);

		if (n < 1 || n > 64)
			luaL_argerror(L, idx, "not a signal number");
		return (int)n;
	}
	s = luaL_checkstring(L, idx);
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (i = 0; i < VIGIL_ARRAY_SIZE(signals); i++)
		if (!strcasecmp(s, signals[i].name))
			return signals[i].sig;
	luaL_argerror(L, idx, "unknown signal name");
	return 0;
}

static int result(lua_State *L, int err, lua_Integer ok_value)
{
	if (!err) {
		if (ok_value < 0)
			lua_pushboolean(L, 1);
		else
			lua_pushinteger(L, ok_value);
		return 1;
	}
	lua_pushnil(L);
	lua_pushstring(L, strerror(err));
	return 2;
}

/* The ktime inside an exec_id (base64 of "node:ktime:pid"); 0 when it has none. */
static uint64_t exec_id_ktime(const char *exec_id)
{
	uint64_t ktime;
	uint32_t pid;

	return vigil_exec_id_parse(exec_id, &ktime, &pid) ? 0 : ktime;
}

/* kill(pid [, sig]): never the agent itself, init or a process group. The target is the
 * incarnation the rule saw: the event's process when it has that pid, else the cache's live
 * process with it; the signal goes through a pidfd checked against that incarnation's start
 * (signal.c), so a pid taken over by another process since is ESRCH, not a wrong kill. */
int lh_kill(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	const struct vigil_luahost_opts *o = &r->host->opts;
	struct vigil_event ev = { .type = VIGIL_EVENT_RULE_ACTION };
	lua_Integer pid = luaL_checkinteger(L, 1);
	int sig = check_signal(L, 2), err;
	uint64_t start_ktime = 0;
	struct lh_scratch *sc;
	struct lh_src src;

	lh_check_live(L, r, "kill");
	if (pid <= 1 || pid > 0x7fffffff || pid == getpid())
		return luaL_argerror(L, 1, "not a pid a rule may signal");
	sc = lh_scratch(L, r);
	/* the target, before it goes: the triggering event names it, else the cache */
	lh_src_at(L, r, 0, &src);
	lh_src_process(L, r, &src, sc, &ev.process, &ev.parent);
	if (!ev.process || ev.process->pid != (uint32_t)pid) {
		ev.process = o->process_by_pid ? o->process_by_pid(o->ctx, (uint32_t)pid) : NULL;
		ev.parent = ev.process && o->process ? o->process(o->ctx, ev.process->parent_exec_id) : NULL;
	}
	if (ev.process)
		start_ktime = ev.process->ktime ? ev.process->ktime : exec_id_ktime(ev.process->exec_id);
	/* the target's exec_id, then the triggering event's */
	if (ev.process)
		lh_scratch_add_id(sc, ev.process->exec_id, strlen(ev.process->exec_id));
	lh_src_at(L, r, 0, &src);
	lh_src_exec_ids(L, &src, 0, 0, sc);
	if (o->monitor) {
		err = 0;
		ev.rule_action.reason = "monitor mode: not signalled (--default-policy-mode monitor)";
	} else if (o->kill) {
		err = -o->kill(o->ctx, (int)pid, sig);
	} else {
		err = -lh_signal((int)pid, start_ktime, sig);
	}

	ev.rule_action.rule = r->name;
	ev.rule_action.action = "kill";
	ev.rule_action.pid = (int32_t)pid;
	ev.rule_action.signal = sig;
	ev.rule_action.error = err;
	ev.rule_action.exec_ids = sc->idp;
	ev.rule_action.nexec_ids = sc->nids;
	r->actions++;
	lh_emit(r, &ev);
	if (o->monitor) {
		lua_pushnil(L);
		lua_pushstring(L, "monitor mode: not signalled");
		return 2;
	}
	return result(L, err, -1);
}

/* One deny() token of the rule's bucket, refilled at opts.deny_rate a minute; false when
 * none is left (the call is counted and refused). */
static bool deny_token(struct lh_rule *r)
{
	double rate = r->host->opts.deny_rate;
	uint64_t now = lh_clock(r->host);

	if (now > r->deny_refill_ns) {
		r->deny_tokens += (double)(now - r->deny_refill_ns) * rate / 60e9;
		if (r->deny_tokens > rate)
			r->deny_tokens = rate;
	}
	r->deny_refill_ns = now;
	if (r->deny_tokens < 1) {
		r->denies_limited++;
		return false;
	}
	r->deny_tokens -= 1;
	return true;
}

/* A template field of the evidence into buf, NUL-terminated; NULL when it has none. */
static const char *evidence_text(lua_State *L, const struct lh_src *src, const char *path, struct vigil_buf *buf)
{
	if (!lh_src_format(L, src, path, strlen(path), buf) || !buf->len || vigil_buf_append(buf, "", 1))
		return NULL;
	return buf->data;
}

/* deny(list, value [, ev]): value joins the kernel list, if the agent agrees. ev (default:
 * the event being handled) is the evidence: the event names its process, type and time, the
 * user who caused it, and the agent's verdict and expiry. */
int lh_deny(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	const struct vigil_luahost_opts *o = &r->host->opts;
	struct vigil_event ev = { .type = VIGIL_EVENT_RULE_ACTION };
	struct vigil_deny_outcome out = { .reason = "" };
	struct vigil_buf type = { 0 }, time = { 0 };
	struct vigil_deny_request req = { 0 };
	const char *list = luaL_checkstring(L, 1);
	struct lh_scratch *sc;
	struct lh_src src;
	int rc;

	luaL_checkany(L, 2);
	if (lua_type(L, 2) != LUA_TSTRING && lua_type(L, 2) != LUA_TNUMBER)
		return luaL_argerror(L, 2, "a string or a number");
	lh_check_live(L, r, "deny");
	lh_src_at(L, r, 3, &src);
	r->actions++;
	if (!deny_token(r)) {
		lua_pushnil(L);
		lua_pushstring(L, "rate limited: too many deny() calls from this rule");
		return 2;
	}
	req.rule = r->name;
	req.list = list;
	req.value = lua_tostring(L, 2);
	sc = lh_scratch(L, r);
	lh_src_process(L, r, &src, sc, &ev.process, &ev.parent);
	lh_src_exec_ids(L, &src, 0, 0, sc);
	req.process = ev.process;
	req.evidence = evidence_text(L, &src, "evt.type", &type);
	req.evidence_time = evidence_text(L, &src, "time", &time);
	rc = o->deny ? o->deny(o->ctx, &req, &out) : -ENOTSUP;

	ev.rule_action.rule = r->name;
	ev.rule_action.action = "deny";
	ev.rule_action.list = list;
	ev.rule_action.value = req.value;
	ev.rule_action.file = out.has_file ? &out.file : NULL;
	ev.rule_action.maps = rc > 0 ? (uint32_t)rc : 0;
	ev.rule_action.error = rc < 0 ? -rc : 0;
	ev.rule_action.reason = out.reason[0] ? out.reason : NULL;
	ev.rule_action.cause_uid = ev.process ? &ev.process->creds.uid : NULL;
	ev.rule_action.expires = rc > 0 ? out.expires : 0;
	ev.rule_action.evidence = req.evidence;
	ev.rule_action.evidence_time = req.evidence_time;
	ev.rule_action.exec_ids = sc->idp;
	ev.rule_action.nexec_ids = sc->nids;
	lh_emit(r, &ev);
	vigil_buf_free(&type);
	vigil_buf_free(&time);
	if (rc < 0 && out.reason[0]) {
		lua_pushnil(L);
		lua_pushstring(L, out.reason);
		return 2;
	}
	return result(L, rc < 0 ? -rc : 0, rc);
}
