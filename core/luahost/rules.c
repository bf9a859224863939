/* rules.c - one rule file: compiled and run in a fresh sandbox, its returned table checked,
 * and what the host keeps of it; disabling a rule that broke at run time. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "luahost_internal.h"

/* FNV-1a: only compares a file with its previous version. */
uint64_t lh_hash(const char *data, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)data[i]) * 0x100000001b3ULL;
	return h;
}

void lh_rule_free(struct lh_rule *r)
{
	size_t i;

	if (!r)
		return;
	/* __gc metamethods run in lua_close, possibly on the control thread: no actions then */
	r->live = false;
	if (r->L)
		lua_close(r->L);
	lh_timers_free(r);
	free(r->file);
	free(r->name);
	free(r->desc);
	free(r->output);
	for (i = 0; i < r->ntags; i++)
		free(r->tags[i]);
	for (i = 0; i < r->nhooks; i++)
		free(r->hooks[i]);
	if (r->scratch)
		vigil_buf_free(&r->scratch->text);
	free(r->scratch);
	free(r);
}

void lh_rule_disable(struct lh_rule *r)
{
	struct vigil_event ev = { .type = VIGIL_EVENT_RULE_STATUS };

	r->dropped_final = lh_rule_dropped(r->host, r);
	r->disabled = true;
	r->live = false;
	if (r->L) {
		lua_close(r->L);	/* frees the memory bomb at once */
		r->L = NULL;
	}
	lh_timers_free(r);
	r->mem = 0;
	pr_warn("luahost: rule %s disabled: %s", r->name, r->reason);
	ev.rule_status.rule = r->name;
	ev.rule_status.file = r->file;
	ev.rule_status.state = "disabled";
	ev.rule_status.reason = r->reason;
	lh_emit(r, &ev);
}

/* "file:12: unexpected symbol near 'x'": Lua names the chunk by its (possibly shortened)
 * file name, then the line. */
static void parse_error(const char *file, const char *msg, struct vigil_rule_error *err)
{
	const char *p = msg, *colon;
	char *end;
	long line;

	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = 0;
	for (; (colon = strchr(p, ':')); p = colon + 1) {
		line = strtol(colon + 1, &end, 10);
		if (end != colon + 1 && *end == ':' && line > 0) {
			err->line = (int)line;
			msg = end + 1 + (end[1] == ' ');
			break;
		}
	}
	snprintf(err->reason, sizeof(err->reason), "%.*s", (int)strcspn(msg, "\n"), msg);
}

static int refuse(struct vigil_rule_error *err, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int refuse(struct vigil_rule_error *err, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	snprintf(err->file, sizeof(err->file), "%s", file);
	err->line = line;
	va_start(ap, fmt);
	vsnprintf(err->reason, sizeof(err->reason), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* The string field key of the table on top, copied; NULL when absent. -EINVAL when it is
 * not a string (or empty and required). */
static int get_str(lua_State *L, const char *key, bool required, char **out, struct lh_rule *r,
		   struct vigil_rule_error *err)
{
	int t = lua_getfield(L, -1, key), rc = 0;

	if (t == LUA_TNIL && !required)
		goto out;
	if (t != LUA_TSTRING || (required && !lua_rawlen(L, -1))) {
		rc = refuse(err, r->file, 0, "the rule table's '%s' must be a%s string", key,
			    required ? " non-empty" : "");
		goto out;
	}
	*out = strdup(lua_tostring(L, -1));
	if (!*out)
		rc = -ENOMEM;
out:
	lua_pop(L, 1);
	return rc;
}

static bool name_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

/* An array of strings at key; fn is called for each. */
static int get_list(lua_State *L, const char *key, struct lh_rule *r, struct vigil_rule_error *err,
		    int (*fn)(struct lh_rule *r, const char *s, struct vigil_rule_error *err))
{
	lua_Integer i, n;
	int t = lua_getfield(L, -1, key), rc = 0;

	if (t == LUA_TNIL)
		goto out;
	if (t != LUA_TTABLE) {
		rc = refuse(err, r->file, 0, "the rule table's '%s' must be a list of strings", key);
		goto out;
	}
	n = (lua_Integer)lua_rawlen(L, -1);
	for (i = 1; i <= n && !rc; i++) {
		if (lua_rawgeti(L, -1, i) != LUA_TSTRING)
			rc = refuse(err, r->file, 0, "the rule table's '%s' must be a list of strings", key);
		else
			rc = fn(r, lua_tostring(L, -1), err);
		lua_pop(L, 1);
	}
out:
	lua_pop(L, 1);
	return rc;
}

static int add_tag(struct lh_rule *r, const char *s, struct vigil_rule_error *err)
{
	if (r->ntags == LH_MAX_TAGS)
		return refuse(err, r->file, 0, "at most %d tags", LH_MAX_TAGS);
	r->tags[r->ntags] = strdup(s);
	return r->tags[r->ntags++] ? 0 : -ENOMEM;
}

static int add_event(struct lh_rule *r, const char *s, struct vigil_rule_error *err)
{
	enum vigil_event_type type;
	int bit;

	if (vigil_event_type_parse(s, &type) || (bit = lh_type_bit(type)) < 0)
		return refuse(err, r->file, 0,
			      "events: \"%s\" is not an event type a rule can receive (process_exec, "
			      "process_exit, process_kprobe, process_tracepoint, process_uprobe, process_lsm)",
			      s);
	if (!(r->events & (1u << bit)) && r->nevents < VIGIL_ARRAY_SIZE(r->event_keys))
		r->event_keys[r->nevents++] = vigil_event_type_key(type);
	r->events |= 1u << bit;
	return 0;
}

static int add_hook(struct lh_rule *r, const char *s, struct vigil_rule_error *err)
{
	if (r->nhooks == LH_MAX_HOOKS)
		return refuse(err, r->file, 0, "at most %d hooks", LH_MAX_HOOKS);
	if (!s[0])
		return refuse(err, r->file, 0, "hooks: an empty hook name");
	r->hooks[r->nhooks] = strdup(s);
	r->hook_lens[r->nhooks] = strlen(s);
	return r->hooks[r->nhooks++] ? 0 : -ENOMEM;
}

/* hooks narrow the policy events a rule gets: listing them for a rule that asks for none
 * would be accepted and then ignored */
static bool wants_policy_events(const struct lh_rule *r)
{
	static const enum vigil_event_type policy[] = { VIGIL_EVENT_KPROBE, VIGIL_EVENT_TRACEPOINT, VIGIL_EVENT_LSM,
							VIGIL_EVENT_UPROBE };
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(policy); i++)
		if (lh_type_bit(policy[i]) >= 0 && (r->events & (1u << lh_type_bit(policy[i]))))
			return true;
	return false;
}

/* Intern on_event's type and hook arguments (run protected: it allocates). */
static int intern_args(lua_State *L)
{
	struct lh_rule *r = lh_rule_of(L);
	enum vigil_event_type type;
	size_t i;

	for (i = 0; i < r->nevents; i++) {
		if (vigil_event_type_parse(r->event_keys[i], &type) || lh_type_bit(type) < 0)
			continue;
		lua_pushstring(L, r->event_keys[i]);
		r->type_refs[lh_type_bit(type)] = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	for (i = 0; i < r->nhooks; i++) {
		lua_pushlstring(L, r->hooks[i], r->hook_lens[i]);
		r->hook_refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
	}
	return 0;
}

/* The table the chunk returned, on top of the stack. */
static int check_table(lua_State *L, struct lh_rule *r, struct vigil_rule_error *err)
{
	char *prio = NULL;
	int rc;

	if (!lua_istable(L, -1))
		return refuse(err, r->file, 0, "the file must return the rule table (it returned a %s value)",
			      luaL_typename(L, -1));
	rc = get_str(L, "name", true, &r->name, r, err);
	if (!rc && !name_ok(r->name))
		rc = refuse(err, r->file, 0, "rule name \"%s\": letters, digits, '_', '-' and '.' only", r->name);
	if (!rc)
		rc = get_str(L, "desc", false, &r->desc, r, err);
	if (!rc)
		rc = get_str(L, "output", false, &r->output, r, err);
	if (!rc)
		rc = get_str(L, "priority", false, &prio, r, err);
	if (!rc && prio && vigil_rule_priority_parse(prio, &r->priority))
		rc = refuse(err, r->file, 0,
			    "priority \"%s\": one of emergency, alert, critical, error, warning, notice, "
			    "informational, debug", prio);
	free(prio);
	if (!rc)
		rc = get_list(L, "tags", r, err, add_tag);
	if (!rc)
		rc = get_list(L, "events", r, err, add_event);
	if (!rc)
		rc = get_list(L, "hooks", r, err, add_hook);
	if (!rc && r->nhooks && !wants_policy_events(r))
		rc = refuse(err, r->file, 0,
			    "hooks: the rule's events list no policy event (process_kprobe, process_tracepoint, "
			    "process_lsm, process_uprobe) for them to select");
	if (rc)
		return rc;
	if (!r->desc && !(r->desc = strdup("")))
		return -ENOMEM;
	if (!r->output && !(r->output = strdup("%rule")))
		return -ENOMEM;

	lua_getfield(L, -1, "on_event");
	if (lua_isfunction(L, -1)) {
		r->on_event_ref = luaL_ref(L, LUA_REGISTRYINDEX);
	} else {
		lua_pop(L, 1);
		if (r->events)
			return refuse(err, r->file, 0, "a rule with events needs an on_event function");
	}
	if (!r->events && !r->ntimers)
		return refuse(err, r->file, 0, "the rule asks for no events and sets no timer: it would never run");
	lua_pushcfunction(L, intern_args);
	if (lua_pcall(L, 0, 0, 0)) {
		lua_pop(L, 1);
		return refuse(err, r->file, 0, "out of memory interning the rule's event types and hooks");
	}
	return 0;
}

struct lh_rule *lh_rule_load(struct vigil_luahost *h, const char *file, const char *data, size_t len,
			     struct vigil_rule_error *err)
{
	struct lh_rule *r = calloc(1, sizeof(*r));
	const char *msg;
	char *chunkname = NULL;
	int rc = -ENOMEM;

	memset(err, 0, sizeof(*err));
	if (!r)
		goto fail;
	r->host = h;
	r->gen = 1;
	r->on_event_ref = LUA_NOREF;
	r->priority = VIGIL_PRIO_WARNING;
	r->mem_limit = h->opts.mem_limit;
	r->budget = h->opts.budget;
	r->deny_tokens = h->opts.deny_rate;
	r->hash = lh_hash(data, len);
	r->size = len;
	r->file = strdup(file);
	if (!r->file || asprintf(&chunkname, "@%s", file) < 0) {
		chunkname = NULL;
		goto fail;
	}
	r->L = lh_state_new(r);
	if (!r->L) {
		rc = refuse(err, file, 0, "cannot create a Lua state within the memory cap of %zu bytes", r->mem_limit);
		goto fail;
	}
	/* compile: text only */
	if (luaL_loadbufferx(r->L, data, len, chunkname, "t")) {
		msg = lua_tostring(r->L, -1);
		parse_error(file, msg ? msg : "cannot load", err);
		rc = -EINVAL;
		goto fail;
	}
	/* run the file's top level: it returns the rule table, and may set timers */
	if (lh_call(r, 0, 1)) {
		parse_error(file, r->reason, err);
		rc = -EINVAL;
		goto fail;
	}
	rc = check_table(r->L, r, err);
	lua_settop(r->L, 0);
	if (rc)
		goto fail;
	/* the load's call is not one of the rule's */
	r->calls = r->time_ns = 0;
	r->live = true;
	lh_publish(r);		/* not shared yet: no lock needed */
	free(chunkname);
	return r;

fail:
	if (rc == -ENOMEM && !err->reason[0])
		refuse(err, file, 0, "out of memory");
	free(chunkname);
	lh_rule_free(r);
	return NULL;
}
