/* host.c - the set of rules: loading and reloading the directory, handing events and ticks
 * to the rules that want them, and reporting on them. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "luahost_internal.h"

static const char *const priority_names[VIGIL_PRIO_COUNT] = {
	"emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug",
};

const char *vigil_rule_priority_name(enum vigil_rule_priority p)
{
	return (unsigned int)p < VIGIL_PRIO_COUNT ? priority_names[p] : NULL;
}

int vigil_rule_priority_parse(const char *s, enum vigil_rule_priority *out)
{
	unsigned int i;

	if (s && !strcasecmp(s, "info")) {
		*out = VIGIL_PRIO_INFORMATIONAL;
		return 0;
	}
	for (i = 0; s && i < VIGIL_PRIO_COUNT; i++) {
		if (!strcasecmp(s, priority_names[i])) {
			*out = (enum vigil_rule_priority)i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const outcome_names[] = {
	[VIGIL_RULE_LOADED] = "loaded",
	[VIGIL_RULE_REPLACED] = "replaced",
	[VIGIL_RULE_UNCHANGED] = "unchanged",
	[VIGIL_RULE_REMOVED] = "removed",
	[VIGIL_RULE_REFUSED] = "refused",
};

const char *vigil_rule_outcome_name(enum vigil_rule_outcome o)
{
	return (unsigned int)o < VIGIL_ARRAY_SIZE(outcome_names) ? outcome_names[o] : NULL;
}

/* The event types a rule may ask for, as bits of lh_rule.events. */
static const enum vigil_event_type rule_types[] = {
	VIGIL_EVENT_EXEC, VIGIL_EVENT_EXIT, VIGIL_EVENT_KPROBE, VIGIL_EVENT_TRACEPOINT, VIGIL_EVENT_UPROBE, VIGIL_EVENT_LSM,
};

int lh_type_bit(enum vigil_event_type type)
{
	int i;

	for (i = 0; i < (int)VIGIL_ARRAY_SIZE(rule_types); i++)
		if (rule_types[i] == type)
			return i;
	return -1;
}

uint64_t lh_clock(const struct vigil_luahost *h)
{
	struct timespec ts;

	if (h->opts.clock)
		return h->opts.clock(h->opts.ctx);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void lh_publish(struct lh_rule *r)
{
	size_t j, timers = 0;

	for (j = 0; j < r->ntimers; j++)
		timers += !r->timers[j].cancelled;
	r->pub = (struct lh_stats){
		.calls = r->calls, .alerts = r->alerts, .actions = r->actions, .errors = r->errors,
		.time_ns = r->time_ns, .denies_limited = r->denies_limited, .mem = r->mem, .timers = timers,
		.disabled = r->disabled,
	};
}

static void publish_all(struct vigil_luahost *h)
{
	size_t i;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nrules; i++)
		lh_publish(h->rules[i]);
	pthread_mutex_unlock(&h->lock);
}

static void filter_free(struct lh_hook_filter *f)
{
	struct lh_hook_filter *older;
	size_t i;

	for (; f; f = older) {
		older = f->older;
		for (i = 0; i < f->n; i++)
			free(f->names[i]);
		free(f->names);
		free(f);
	}
}

/* The enabled rules' hooks, copied (a reload frees rules a reader's filter may name). NULL
 * when memory runs out: the reader then posts every event of a wanted type. */
static struct lh_hook_filter *filter_new(const struct vigil_luahost *h)
{
	struct lh_hook_filter *f = calloc(1, sizeof(*f));
	size_t i, j, total = 0;

	for (i = 0; f && i < h->nrules; i++)
		if (!h->rules[i]->disabled)
			total += h->rules[i]->nhooks;
	if (f && total)
		f->names = calloc(total, sizeof(*f->names));
	if (!f || (total && !f->names)) {
		free(f);
		return NULL;
	}
	for (i = 0; i < h->nrules; i++) {
		const struct lh_rule *r = h->rules[i];

		if (r->disabled)
			continue;
		if (!r->nhooks)
			f->all |= r->events;
		f->hooked |= r->nhooks ? r->events : 0;
		for (j = 0; j < r->nhooks; j++) {
			f->names[f->n] = strdup(r->hooks[j]);
			if (!f->names[f->n]) {
				f->older = NULL;
				filter_free(f);
				return NULL;
			}
			f->n++;
		}
	}
	return f;
}

void lh_update_wants(struct vigil_luahost *h)
{
	struct lh_hook_filter *f = filter_new(h), *old = atomic_load(&h->filter);
	unsigned int wants = 0;
	size_t i;

	for (i = 0; i < h->nrules; i++)
		if (!h->rules[i]->disabled)
			wants |= h->rules[i]->events;
	if (f) {
		f->older = old;
	} else if (old) {
		/* no filter: the reader falls back to wants; the old ones are kept for freeing */
		struct lh_hook_filter *end = old;

		while (end->older)
			end = end->older;
		end->older = h->filter_lost;
		h->filter_lost = old;
	}
	atomic_store(&h->filter, f);
	atomic_store(&h->wants, wants);
}

static void log_outcome(const char *file, const char *name, enum vigil_rule_outcome outcome,
			const struct vigil_rule_error *err, void *ctx)
{
	(void)ctx;
	if (outcome == VIGIL_RULE_REFUSED)
		pr_warn("luahost: %s:%d: %s", err->file, err->line, err->reason);
	else if (outcome != VIGIL_RULE_UNCHANGED)
		pr_info("luahost: rule %s %s (%s)", name ? name : "?", vigil_rule_outcome_name(outcome), file);
}

struct vigil_luahost *vigil_luahost__new(const struct vigil_luahost_opts *opts)
{
	struct vigil_luahost *h = calloc(1, sizeof(*h));
	int err;

	if (!h)
		return NULL;
	if (opts)
		memcpy(&h->opts, opts, opts->sz && opts->sz < sizeof(h->opts) ? opts->sz : sizeof(h->opts));
	h->opts.sz = sizeof(h->opts);
	if (!h->opts.mem_limit)
		h->opts.mem_limit = VIGIL_LUAHOST_DEFAULT_MEM;
	if (!h->opts.budget)
		h->opts.budget = VIGIL_LUAHOST_DEFAULT_BUDGET;
	if (!h->opts.deny_rate)
		h->opts.deny_rate = VIGIL_LUAHOST_DEFAULT_DENY_RATE;
	if (!h->opts.node_name)
		h->opts.node_name = "";
	if (!h->opts.deadline_ms)
		h->opts.deadline_ms = VIGIL_LUAHOST_DEFAULT_DEADLINE_MS;
	if (!h->opts.queue_len)
		h->opts.queue_len = VIGIL_LUAHOST_DEFAULT_QUEUE;
	h->deadline_ns = (uint64_t)h->opts.deadline_ms * 1000000ULL;
	h->event = calloc(1, sizeof(*h->event));
	if (!h->event) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->run_lock, NULL);
	pthread_mutex_init(&h->lock, NULL);
	pthread_mutex_init(&h->reload_lock, NULL);
	err = lh_queue_init(h);
	if (!err)
		err = lh_watchdog_start(h);
	if (err) {
		vigil_luahost__free(h);
		errno = -err;
		return NULL;
	}
	if (h->opts.rules_dir) {
		err = vigil_luahost__reload(h, log_outcome, NULL);
		if (err < 0) {
			pr_warn("luahost: cannot read the rules directory %s: %s", h->opts.rules_dir, strerror(-err));
			vigil_luahost__free(h);
			errno = -err;
			return NULL;
		}
	}
	return h;
}

static void free_refused(struct lh_refused *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].file);
	free(v);
}

void vigil_luahost__free(struct vigil_luahost *h)
{
	size_t i;

	if (!h)
		return;
	lh_queue_fini(h);		/* joins the rules thread first: nothing runs a rule after it */
	for (i = 0; i < h->nrules; i++)
		lh_rule_free(h->rules[i]);
	lh_watchdog_stop(h);
	free(h->rules);
	free_refused(h->refused, h->nrefused);
	filter_free(atomic_load(&h->filter));
	filter_free(h->filter_lost);
	if (h->event)
		lh_event_fini(h->event);
	free(h->event);
	vigil_buf_free(&h->packed);
	pthread_mutex_destroy(&h->run_lock);
	pthread_mutex_destroy(&h->lock);
	pthread_mutex_destroy(&h->reload_lock);
	free(h);
}

bool vigil_luahost__wants(struct vigil_luahost *h, enum vigil_event_type type)
{
	int bit = lh_type_bit(type);

	return h && bit >= 0 && (atomic_load(&h->wants) & (1u << bit));
}

bool vigil_luahost__wants_hook(struct vigil_luahost *h, enum vigil_event_type type, const char *hook)
{
	const struct lh_hook_filter *f;
	uint32_t bit;
	size_t i;

	if (!vigil_luahost__wants(h, type))
		return false;
	/* hooks narrow policy events only: exec and exit go to every rule that wants them */
	if (type != VIGIL_EVENT_KPROBE && type != VIGIL_EVENT_TRACEPOINT && type != VIGIL_EVENT_LSM &&
	    type != VIGIL_EVENT_UPROBE)
		return true;
	bit = 1u << lh_type_bit(type);
	f = atomic_load(&h->filter);
	if (!f || (f->all & bit) || !(f->hooked & bit))
		return true;
	/* a name some rule lists, maybe for another of its types: the host checks exactly */
	for (i = 0; hook && i < f->n; i++)
		if (!strcmp(f->names[i], hook))
			return true;
	return false;
}

/* Whether r's hooks list (if any) selects the event: exec and exit always pass. *which is
 * the listed hook that matched, -1 for none. */
static bool hook_selected(const struct lh_rule *r, struct lh_event *e, bool policy, int *which)
{
	const char *name;
	size_t i, n;

	*which = -1;
	if (!r->nhooks || !policy)
		return true;
	if (!lh_event_hook(e, &name, &n))
		return false;
	for (i = 0; i < r->nhooks; i++) {
		if (r->hook_lens[i] == n && !memcmp(r->hooks[i], name, n)) {
			*which = (int)i;
			return true;
		}
	}
	return false;
}

/* on_event(ev, type, hook) on the stack above the call's handler: the view, the type key
 * and the listed hook that selected the event (nil without a hooks list); interned at load,
 * so nothing allocates outside the protected call. */
static void push_args(struct lh_rule *r, int bit, int which)
{
	lua_State *L = r->L;

	lh_push_handler(L);
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->on_event_ref);
	lh_push_event(L, r);
	lua_rawgeti(L, LUA_REGISTRYINDEX, r->type_refs[bit]);
	if (which >= 0)
		lua_rawgeti(L, LUA_REGISTRYINDEX, r->hook_refs[which]);
	else
		lua_pushnil(L);
}

/* lh_run_event under run_lock */
static int run_locked(struct vigil_luahost *h, const void *data, size_t len)
{
	struct lh_event *e = h->event;
	bool changed = false, policy;
	int bit, called = 0, which;
	uint64_t clock = 0;
	struct lh_rule *r;
	size_t i;

	if (lh_event_init(e, data, len))
		return -EBADMSG;
	bit = lh_type_bit(e->type);
	policy = e->type == VIGIL_EVENT_KPROBE || e->type == VIGIL_EVENT_TRACEPOINT || e->type == VIGIL_EVENT_LSM ||
		 e->type == VIGIL_EVENT_UPROBE;
	/* dispatch by type and hook before anything is read: a rule that does not get the
	 * event costs a bit test and, for a policy event, a name compare */
	for (i = 0; bit >= 0 && i < h->nrules; i++) {
		r = h->rules[i];
		if (r->disabled || !(r->events & (1u << bit)) || r->on_event_ref == LUA_NOREF ||
		    !hook_selected(r, e, policy, &which))
			continue;
		r->ev = e;
		push_args(r, bit, which);
		called++;
		if (lh_call_handled(r, 3, &clock)) {
			r->ev = NULL;
			lh_rule_disable(r);
			changed = true;
			clock = 0;	/* the next call's time starts after the disabling */
			continue;
		}
		r->ev = NULL;
		r->gen++;
	}
	lh_event_end(e);
	if (changed)
		lh_update_wants(h);
	if (called)
		publish_all(h);
	return called;
}

int lh_run_event(struct vigil_luahost *h, const void *data, size_t len)
{
	int called;

	pthread_mutex_lock(&h->run_lock);
	called = run_locked(h, data, len);
	pthread_mutex_unlock(&h->run_lock);
	return called;
}

int vigil_luahost__event_raw(struct vigil_luahost *h, const void *data, size_t len)
{
	return lh_run_event(h, data, len);
}

static int packed_write(void *data, const char *buf, size_t len)
{
	return vigil_buf_append(data, buf, len) ? -1 : 0;
}

int vigil_luahost__event(struct vigil_luahost *h, const struct vigil_msg *m)
{
	msgpack_packer pk;
	int called = 0;

	if (lh_type_bit(vigil_msg__type(m)) < 0)
		return 0;
	/* the rules read bytes (event.c): the decoded message packed back, its stamp gone */
	pthread_mutex_lock(&h->run_lock);
	vigil_buf_reset(&h->packed);
	msgpack_packer_init(&pk, &h->packed, packed_write);
	if (!msgpack_pack_object(&pk, *vigil_msg__root(m)))
		called = run_locked(h, h->packed.data, h->packed.len);
	pthread_mutex_unlock(&h->run_lock);
	return called < 0 ? 0 : called;
}

void vigil_luahost__tick(struct vigil_luahost *h)
{
	uint64_t now = lh_clock(h);
	bool changed = false, ran = false;
	struct lh_rule *r;
	size_t i;

	pthread_mutex_lock(&h->run_lock);
	for (i = 0; i < h->nrules; i++) {
		r = h->rules[i];
		if (r->disabled || !r->ntimers)
			continue;
		ran = true;
		if (lh_timers_run(r, now)) {
			lh_rule_disable(r);
			changed = true;
		}
	}
	if (changed)
		lh_update_wants(h);
	if (ran)
		publish_all(h);
	pthread_mutex_unlock(&h->run_lock);
}

size_t vigil_luahost__count(struct vigil_luahost *h)
{
	size_t i, n = 0;

	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nrules; i++)
		n += !h->rules[i]->pub.disabled;
	pthread_mutex_unlock(&h->lock);
	return n;
}

void vigil_luahost__list(struct vigil_luahost *h, vigil_rule_status_fn fn, void *ctx)
{
	struct vigil_rule_status st;
	char reason[sizeof(h->refused[0].err.reason) + 300];
	const struct lh_rule *r;
	const char *base;
	size_t i;

	/* the published stats only: a rule in a call is not waited for */
	pthread_mutex_lock(&h->lock);
	for (i = 0; i < h->nrules; i++) {
		r = h->rules[i];
		st = (struct vigil_rule_status){
			.name = r->name, .file = r->file, .desc = r->desc,
			.state = r->pub.disabled ? "disabled" : "enabled", .reason = r->pub.disabled ? r->reason : NULL,
			.priority = vigil_rule_priority_name(r->priority),
			.events = r->event_keys, .nevents = r->nevents,
			.tags = (const char *const *)r->tags, .ntags = r->ntags,
			.calls = r->pub.calls, .alerts = r->pub.alerts, .actions = r->pub.actions,
			.errors = r->pub.errors, .denies_limited = r->pub.denies_limited, .time_ns = r->pub.time_ns, .memory = r->pub.mem,
			.timers = r->pub.timers, .dropped = lh_rule_dropped(h, r),
		};
		fn(&st, ctx);
	}
	for (i = 0; i < h->nrefused; i++) {
		base = strrchr(h->refused[i].file, '/');
		snprintf(reason, sizeof(reason), "%s:%d: %s", h->refused[i].err.file, h->refused[i].err.line,
			 h->refused[i].err.reason);
		st = (struct vigil_rule_status){
			.name = base ? base + 1 : h->refused[i].file, .file = h->refused[i].file, .desc = "",
			.state = "refused", .reason = reason, .priority = "",
		};
		fn(&st, ctx);
	}
	pthread_mutex_unlock(&h->lock);
}

/* ---- reload ---- */

struct plan {
	char *file;
	struct lh_rule *keep;		/* the running version that stays */
	struct lh_rule *fresh;		/* the new version that goes in */
	enum vigil_rule_outcome outcome;
	struct vigil_rule_error err;
};

static bool is_rule_file(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 4 && !strcmp(name + n - 4, ".lua");
}

static struct lh_rule *find_rule(struct vigil_luahost *h, const char *file)
{
	size_t i;

	for (i = 0; i < h->nrules; i++)
		if (!strcmp(h->rules[i]->file, file))
			return h->rules[i];
	return NULL;
}

/* Compile the file unless the running version is the same bytes and still enabled. */
static void plan_file(struct vigil_luahost *h, struct plan *p)
{
	struct lh_rule *old;
	size_t len = 0;
	bool same;
	char *data;

	pthread_mutex_lock(&h->lock);
	old = find_rule(h, p->file);
	pthread_mutex_unlock(&h->lock);

	if (vigil_trust_read("rule file", p->file, LH_MAX_FILE, &data, &len, p->err.reason, sizeof(p->err.reason))) {
		snprintf(p->err.file, sizeof(p->err.file), "%s", p->file);
		p->outcome = VIGIL_RULE_REFUSED;
		p->keep = old;
		return;
	}
	pthread_mutex_lock(&h->lock);
	same = old && !old->pub.disabled && old->hash == lh_hash(data, len) && old->size == len;
	pthread_mutex_unlock(&h->lock);
	if (same) {
		p->keep = old;
		p->outcome = VIGIL_RULE_UNCHANGED;
	} else {
		p->fresh = lh_rule_load(h, p->file, data, len, &p->err);
		p->keep = p->fresh ? NULL : old;
		p->outcome = !p->fresh ? VIGIL_RULE_REFUSED : old ? VIGIL_RULE_REPLACED : VIGIL_RULE_LOADED;
	}
	free(data);
}

static const char *plan_name(const struct plan *p)
{
	return p->fresh ? p->fresh->name : p->keep ? p->keep->name : NULL;
}

/* Two files naming the same rule: the newcomer is refused (the running one stays). */
static void refuse_duplicates(struct plan *plans, size_t n)
{
	struct plan *a, *b, *loser;
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			a = &plans[j];
			b = &plans[i];
			if (!plan_name(a) || !plan_name(b) || strcmp(plan_name(a), plan_name(b)))
				continue;
			loser = b->fresh ? b : a;
			snprintf(loser->err.file, sizeof(loser->err.file), "%s", loser->file);
			loser->err.line = 0;
			snprintf(loser->err.reason, sizeof(loser->err.reason), "rule name \"%s\" is already used by %s",
				 plan_name(loser), (loser == a ? b : a)->file);
			lh_rule_free(loser->fresh);
			loser->fresh = NULL;
			loser->outcome = VIGIL_RULE_REFUSED;	/* its running version, if any, stays */
		}
	}
}

/* Under the lock: the new rule array and refused list. Rules left out go to *gone. */
static int swap_in(struct vigil_luahost *h, struct plan *plans, size_t n, struct lh_rule ***gone, size_t *ngone)
{
	struct lh_rule **rules = calloc(n ? n : 1, sizeof(*rules)), **out = calloc(h->nrules ? h->nrules : 1, sizeof(*out));
	struct lh_refused *refused = calloc(n ? n : 1, sizeof(*refused));
	size_t i, j, nr = 0, nf = 0, ng = 0;
	bool kept;

	if (!rules || !out || !refused)
		goto nomem;
	for (i = 0; i < n; i++) {
		if (plans[i].fresh)
			lh_queue_baseline(h, plans[i].fresh);
		if (plans[i].fresh || plans[i].keep)
			rules[nr++] = plans[i].fresh ? plans[i].fresh : plans[i].keep;
		if (plans[i].outcome == VIGIL_RULE_REFUSED && !plans[i].keep) {
			refused[nf].file = strdup(plans[i].file);
			refused[nf].err = plans[i].err;
			if (!refused[nf++].file)
				goto nomem;
		}
	}
	for (i = 0; i < h->nrules; i++) {
		for (j = 0, kept = false; j < nr && !kept; j++)
			kept = rules[j] == h->rules[i];
		if (!kept)
			out[ng++] = h->rules[i];
	}
	free(h->rules);
	free_refused(h->refused, h->nrefused);
	h->rules = rules;
	h->nrules = nr;
	h->refused = refused;
	h->nrefused = nf;
	lh_update_wants(h);
	*gone = out;
	*ngone = ng;
	return 0;

nomem:
	free(rules);
	free(out);
	free_refused(refused, nf);
	return -ENOMEM;
}

/* A rules directory others can write: nothing in it is read, the rules loaded before keep
 * running (a chmod must not switch them off), and the directory is the one refused entry
 * (fn hears of it at every reload). 1 (refused) or -ENOMEM. */
static int refuse_dir(struct vigil_luahost *h, struct vigil_rule_error *why, vigil_rule_reload_fn fn, void *ctx)
{
	struct lh_refused *one;
	bool news;

	snprintf(why->file, sizeof(why->file), "%s", h->opts.rules_dir);
	why->line = 0;
	pthread_mutex_lock(&h->lock);
	news = strcmp(h->dir_refused, why->reason) != 0;
	if (news) {
		one = calloc(1, sizeof(*one));
		if (!one || !(one->file = strdup(h->opts.rules_dir))) {
			free(one);
			pthread_mutex_unlock(&h->lock);
			return -ENOMEM;
		}
		one->err = *why;
		free_refused(h->refused, h->nrefused);
		h->refused = one;
		h->nrefused = 1;
		snprintf(h->dir_refused, sizeof(h->dir_refused), "%s", why->reason);
	}
	pthread_mutex_unlock(&h->lock);
	if (fn)
		fn(h->opts.rules_dir, NULL, VIGIL_RULE_REFUSED, why, ctx);
	return 1;
}

int vigil_luahost__reload(struct vigil_luahost *h, vigil_rule_reload_fn fn, void *ctx)
{
	struct vigil_rule_error why = {0};
	struct lh_rule **gone = NULL;
	struct dirent **names = NULL;
	struct plan *plans = NULL;
	size_t i, j, np = 0, ngone = 0;
	int n = 0, err = 0, refused = 0;
	bool replaced;

	pthread_mutex_lock(&h->reload_lock);
	if (!h->opts.rules_dir) {
		err = -ENOENT;
		goto out;
	}
	err = vigil_trust_dir("rules directory", h->opts.rules_dir, why.reason, sizeof(why.reason));
	if (err == -EPERM) {
		err = refuse_dir(h, &why, fn, ctx);
		goto out;
	}
	if (err)
		goto out;
	h->dir_refused[0] = '\0';
	n = scandir(h->opts.rules_dir, &names, NULL, alphasort);
	if (n < 0) {
		err = -errno;
		goto out;
	}
	plans = calloc((size_t)n + 1, sizeof(*plans));
	if (!plans) {
		err = -ENOMEM;
		goto out_names;
	}
	/* compile what changed, outside the lock: the rules keep running meanwhile */
	for (i = 0; i < (size_t)n; i++) {
		if (!is_rule_file(names[i]->d_name))
			continue;
		if (asprintf(&plans[np].file, "%s/%s", h->opts.rules_dir, names[i]->d_name) < 0) {
			err = -ENOMEM;
			goto out_plans;
		}
		plan_file(h, &plans[np++]);
	}
	refuse_duplicates(plans, np);

	/* between two events: the rules thread finishes the one it runs first */
	pthread_mutex_lock(&h->run_lock);
	pthread_mutex_lock(&h->lock);
	err = swap_in(h, plans, np, &gone, &ngone);
	pthread_mutex_unlock(&h->lock);
	pthread_mutex_unlock(&h->run_lock);
	if (err)
		goto out_plans;
	lh_queue_kick(h);	/* its sleep was for the timers of the rules before */

	for (i = 0; i < np; i++) {
		if (plans[i].outcome == VIGIL_RULE_REFUSED)
			refused++;
		if (fn)
			fn(plans[i].file, plan_name(&plans[i]), plans[i].outcome,
			   plans[i].outcome == VIGIL_RULE_REFUSED ? &plans[i].err : NULL, ctx);
	}
	/* replaced versions and removed files: closed now that no event can reach them */
	for (i = 0; i < ngone; i++) {
		for (j = 0, replaced = false; j < np && !replaced; j++)
			replaced = plans[j].outcome == VIGIL_RULE_REPLACED && !strcmp(plans[j].file, gone[i]->file);
		if (fn && !replaced)
			fn(gone[i]->file, gone[i]->name, VIGIL_RULE_REMOVED, NULL, ctx);
		lh_rule_free(gone[i]);
	}
	free(gone);
	err = refused;
out_plans:
	for (i = 0; i < np; i++) {
		if (err < 0)
			lh_rule_free(plans[i].fresh);
		free(plans[i].file);
	}
	free(plans);
out_names:
	for (i = 0; i < (size_t)n; i++)
		free(names[i]);
	free(names);
out:
	pthread_mutex_unlock(&h->reload_lock);
	return err;
}
