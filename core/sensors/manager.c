/* manager.c - the table of loaded policies: add, delete, enable, disable, switch mode,
 * resolve hook ids for the decoder, list for status. */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "sensors_internal.h"

struct loaded_hook {
	struct compiled_hook *compiled;		/* kept for the hook's lifetime: info points into it */
	struct sensor *sensor;
	char desc[200];				/* "kprobe __x64_sys_setns" */
	bool skipped;				/* on-unsupported-hook: skip, and this kernel cannot */
	char why[600];			/* "skipped: " + a diagnostic reason */
	struct vigil_hook_status status;
	uint64_t memlock;			/* its maps' and programs' (memory.c), read once */
};

struct loaded_policy {
	struct vigil_policy *policy;
	enum vigil_policy_mode mode;
	bool enabled;
	size_t nhooks;
	struct loaded_hook *hooks;
	struct vigil_hook_status *statuses;	/* for listing: the hooks, then the loader sensor */
	bool loader_on;				/* holds a reference on the loader sensor */
	uint64_t events;			/* its hooks' events (info.events points here): atomics */
	uint64_t retired_ns;			/* CLOCK_BOOTTIME once its programs were detached */
	struct loaded_policy *next;
};

/* A hook id is a slot of the ids table in its low bits and the slot's generation above:
 * a slot is reused once its policy is freed, and a record that was still in flight from
 * the old owner then carries a stale generation and resolves to nothing (counted as an
 * unknown hook) instead of to the new owner's hook. */
#define ID_SLOT_BITS 16
#define ID_SLOT_MASK ((1u << ID_SLOT_BITS) - 1)
#define ID_MAX_SLOTS ID_SLOT_MASK		/* slot numbers start at 1: 0 is "no id" */

/* How long a retired policy stays after its programs were detached, so that a program
 * invocation still running on another CPU at the detach (tracepoint programs run with
 * preemption off, uprobe programs may be preempted) has committed its record before the
 * reader's drain that frees the policy begins. */
#define RETIRE_GRACE_NS 200000000ULL

/* The kernel's BTF, parsed, takes ~6 MiB of heap and is only read while policies compile:
 * it is loaded for the first compile and freed once none ran for this long (reap). */
#define VMLINUX_IDLE_NS 10000000000ULL

struct vigil_sensors {
	const struct vigil_probe_report *probe;
	const struct vigil_loader *loader;
	uint32_t wakeup_batch;
	uint32_t host_ns[VIGIL_NS_COUNT];
	struct btf *vmlinux;			/* NULL until a compile needs it, and again once idle */
	uint64_t vmlinux_used_ns;
	bool vmlinux_missing;			/* said once: the kernel has no BTF */
	char pin_dir[PATH_MAX];			/* --keep-enforcing; empty: pin nothing */

	pthread_mutex_t lock;
	struct loaded_policy *policies;		/* live */
	struct loaded_policy *retired;		/* deleted or replaced: their hook infos live on
						 * until the reader has drained past them (reap) */
	struct {
		const struct vigil_hook_info *info;
		struct loaded_policy *owner;	/* NULL: the slot is free */
		uint16_t gen;			/* bumped each time the slot is taken */
	} *ids;					/* slot - 1 -> hook */
	size_t nids, cap;			/* slots ever used, slots allocated */
	size_t nretired;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct vigil_sensors *vigil_sensors__new(const struct vigil_sensors_opts *opts)
{
	struct vigil_sensors *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->probe = opts->probe;
	s->loader = opts->loader;
	s->wakeup_batch = opts->wakeup_batch ? opts->wakeup_batch : 64;
	if (opts->host_ns)
		memcpy(s->host_ns, opts->host_ns, sizeof(s->host_ns));
	if (opts->pin_dir)
		snprintf(s->pin_dir, sizeof(s->pin_dir), "%s", opts->pin_dir);
	pthread_mutex_init(&s->lock, NULL);
	return s;
}

/* The kernel's BTF for a compile, loaded if it is not; NULL when the kernel has none.
 * Called with s->lock held. */
static struct btf *vmlinux_get(struct vigil_sensors *s)
{
	if (!s->vmlinux && !s->vmlinux_missing) {
		s->vmlinux = btf__load_vmlinux_btf();
		s->vmlinux_missing = !s->vmlinux;
		if (!s->vmlinux)
			pr_warn("sensors: no kernel BTF: kernel functions cannot be checked before attaching");
	}
	s->vmlinux_used_ns = now_ns();
	return s->vmlinux;
}

/* Free the kernel's BTF when no compile needed it for VMLINUX_IDLE_NS, drop the variants'
 * ELF bytes from the resident set (nothing opens one until the next compile), and give the
 * heap's free pages back: libbpf also parses the kernel's BTF once per object it loads, and after
 * the first such block malloc serves the next ones from the heap (its mmap threshold grows
 * to their size), so loading policies leaves megabytes free but resident. Called with
 * s->lock held. */
static void vmlinux_trim(struct vigil_sensors *s)
{
	if (s->vmlinux && now_ns() - s->vmlinux_used_ns >= VMLINUX_IDLE_NS) {
		btf__free(s->vmlinux);
		s->vmlinux = NULL;
		malloc_trim(0);
		sensor_variants_release();
		pr_debug("sensors: kernel BTF freed (no policy compiled for %llu s)",
			 (unsigned long long)(VMLINUX_IDLE_NS / 1000000000ULL));
	}
}

static void unload_policy(struct loaded_policy *lp)
{
	size_t i;

	for (i = 0; i < lp->nhooks; i++) {
		sensor_free(lp->hooks[i].sensor);
		lp->hooks[i].sensor = NULL;
		lp->hooks[i].status.attached = false;
	}
	if (lp->loader_on)
		loader_sensor_unref();
	lp->loader_on = false;
}

static void free_policy(struct loaded_policy *lp)
{
	size_t i;

	if (!lp)
		return;
	unload_policy(lp);
	for (i = 0; i < lp->nhooks; i++) {
		compiled_hook_free(lp->hooks[i].compiled);
		free(lp->hooks[i].compiled);
	}
	free(lp->hooks);
	free(lp->statuses);
	vigil_policy_free(lp->policy);
	free(lp);
}

void vigil_sensors__free(struct vigil_sensors *s)
{
	struct loaded_policy *lp, *next;

	if (!s)
		return;
	for (lp = s->policies; lp; lp = next) {
		size_t i;

		next = lp->next;
		for (i = 0; i < lp->nhooks; i++)	/* a clean stop leaves enforcement pinned */
			sensor_keep_pins(lp->hooks[i].sensor);
		free_policy(lp);
	}
	for (lp = s->retired; lp; lp = next) {
		next = lp->next;
		free_policy(lp);
	}
	free(s->ids);
	btf__free(s->vmlinux);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static struct loaded_policy *find(struct vigil_sensors *s, const char *name, struct loaded_policy ***link)
{
	struct loaded_policy **pp;

	for (pp = &s->policies; *pp; pp = &(*pp)->next)
		if (!strcmp((*pp)->policy->name, name)) {
			if (link)
				*link = pp;
			return *pp;
		}
	return NULL;
}

/* A free slot of the ids table (under the lock), growing it when every slot is taken:
 * freed slots are reused first, so the table is as large as the most hooks ever loaded or
 * retired at once. Returns the slot (1-based) or 0 when full or out of memory. */
static size_t take_slot(struct vigil_sensors *s)
{
	size_t i;

	for (i = 0; i < s->nids; i++)
		if (!s->ids[i].owner)
			return i + 1;
	if (s->nids == ID_MAX_SLOTS)
		return 0;
	if (s->nids == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		void *p = realloc(s->ids, cap * sizeof(*s->ids));

		if (!p)
			return 0;
		s->ids = p;
		s->cap = cap;
	}
	memset(&s->ids[s->nids], 0, sizeof(s->ids[s->nids]));
	return ++s->nids;
}

/* Give every hook of a policy an id (under the lock). */
static int assign_ids(struct vigil_sensors *s, struct loaded_policy *lp)
{
	size_t i, slot;

	for (i = 0; i < lp->nhooks; i++) {
		struct compiled_hook *c = lp->hooks[i].compiled;

		slot = take_slot(s);
		if (!slot)
			return -ENOSPC;
		s->ids[slot - 1].gen++;
		s->ids[slot - 1].info = &c->info;
		s->ids[slot - 1].owner = lp;
		c->cfg.hook_id = (uint32_t)slot | (uint32_t)s->ids[slot - 1].gen << ID_SLOT_BITS;
		c->info.id = c->cfg.hook_id;
		c->info.events = &lp->events;	/* counted through the hook, without the lock */
	}
	return 0;
}

/* A replaced policy's count goes on in its successor. The reader may already be counting
 * the successor's events (its hooks attached before the old ones go), so the old count is
 * added, not stored. */
static void carry_count(struct loaded_policy *fresh, const struct loaded_policy *old)
{
	__atomic_fetch_add(&fresh->events, __atomic_load_n(&old->events, __ATOMIC_RELAXED), __ATOMIC_RELAXED);
}

/* The table entry of a hook id, or NULL for an id that is free or of an older owner. */
static size_t slot_of(const struct vigil_sensors *s, uint32_t hook_id)
{
	size_t slot = hook_id & ID_SLOT_MASK;

	if (slot < 1 || slot > s->nids || !s->ids[slot - 1].owner ||
	    s->ids[slot - 1].gen != (uint16_t)(hook_id >> ID_SLOT_BITS))
		return 0;
	return slot;
}

/* Move a policy whose programs are detached to the retired list (takes the lock). */
static void retire(struct vigil_sensors *s, struct loaded_policy *lp)
{
	pthread_mutex_lock(&s->lock);
	lp->retired_ns = now_ns();
	lp->next = s->retired;
	s->retired = lp;
	s->nretired++;
	pthread_mutex_unlock(&s->lock);
}

static const char *hook_kind_name(enum vigil_hook_kind k)
{
	static const char *const names[] = {"kprobe", "tracepoint", "lsm", "uprobe", "usdt"};

	return k < VIGIL_ARRAY_SIZE(names) ? names[k] : "hook";
}

static bool skips_unsupported(const struct vigil_policy *p)
{
	size_t i;

	for (i = 0; i < p->noptions; i++)
		if (!strcmp(p->options[i].name, "on-unsupported-hook"))
			return p->options[i].value && !strcmp(p->options[i].value, "skip");
	return false;
}

/* Compile every hook; nothing is loaded yet. */
static int compile_policy(struct vigil_sensors *s, struct loaded_policy *lp, struct vigil_policy_error *err)
{
	struct compile_ctx ctx = {
		.policy = lp->policy, .probe = s->probe, .host_ns = s->host_ns, .vmlinux = vmlinux_get(s),
		.mode = lp->mode, .err = err,
	};
	size_t i;
	int rc;

	lp->hooks = calloc(lp->policy->nhooks ? lp->policy->nhooks : 1, sizeof(*lp->hooks));
	lp->statuses = calloc(lp->policy->nhooks + 1, sizeof(*lp->statuses));
	if (!lp->hooks || !lp->statuses)
		return -ENOMEM;
	for (i = 0; i < lp->policy->nhooks; i++) {
		struct loaded_hook *h = &lp->hooks[i];
		const struct vigil_hook *hook = &lp->policy->hooks[i];

		h->compiled = calloc(1, sizeof(*h->compiled));
		if (!h->compiled)
			return -ENOMEM;
		lp->nhooks++;
		rc = compile_hook(&ctx, i, h->compiled);
		snprintf(h->desc, sizeof(h->desc), "%s %s", hook_kind_name(hook->kind),
			 hook->call ? hook->call : hook->event ? hook->event : "?");
		h->status.hook = h->desc;
		if (rc == -ENOENT && hook->kind == VIGIL_HOOK_KPROBE && hook->ignore_call_not_found) {
			/* ignore.callNotFound: a function this kernel lacks is left out, as in Tetragon */
			h->skipped = true;
			snprintf(h->why, sizeof(h->why), "skipped (ignore.callNotFound): %s",
				 err ? err->reason : "call not found");
			h->status.mechanism = "none";
			h->status.note = h->why;
			if (err)
				memset(err, 0, sizeof(*err));
			continue;
		}
		if (rc && (rc == -EOPNOTSUPP || rc == -ENOENT) && skips_unsupported(lp->policy)) {
			/* the policy asked for the best this kernel offers: leave the hook out, say why */
			h->skipped = true;
			snprintf(h->why, sizeof(h->why), "skipped: %s", err ? err->reason : "unsupported here");
			h->status.mechanism = "none";
			h->status.note = h->why;
			if (err)
				memset(err, 0, sizeof(*err));
			continue;
		}
		if (rc)
			return rc;
		snprintf(h->desc, sizeof(h->desc), "%s %s", hook_kind_name(hook->kind), h->compiled->function_name);
		h->status.mechanism = sensor_mech_name(h->compiled->mech);
		h->status.note = h->compiled->note[0] ? h->compiled->note : NULL;
	}
	return 0;
}

/* Attach, and under --keep-enforcing pin what enforces, so it outlives the agent. A failed
 * pin sets *pin_failed: the kernel took the mechanism, so it is no reason to try another. */
static int attach_hook(struct vigil_sensors *s, struct loaded_policy *lp, struct loaded_hook *h, char *why,
		       size_t why_size, bool *pin_failed)
{
	char path[PATH_MAX + 32];
	int rc = sensor_attach(h->sensor, why, why_size);

	*pin_failed = false;
	if (rc || !s->pin_dir[0] || !hook_enforces(h->compiled))
		return rc;
	/* named by the id's slot, not its generation: the same name in every agent that loads
	 * the policies in the same order, so a restart replaces the pin it left */
	rc = pin_hook(s->pin_dir, lp->policy->name, h->sensor, h->compiled->cfg.hook_id & ID_SLOT_MASK, path,
		      sizeof(path));
	if (rc) {
		snprintf(why, why_size, "--keep-enforcing: cannot pin its link as %.300s: %s", path, strerror(-rc));
		sensor_detach(h->sensor);
		*pin_failed = true;
	}
	return rc;
}

/* A hook meant for the raw_syscalls dispatcher's table that attached alone on raw_syscalls
 * (no dispatcher, pinned, its syscall's table full): its status says so, and why, rather than
 * what the table would have given (the log said a missing dispatcher once, dispatch.c). */
static void note_dispatch_fallback(struct loaded_hook *h)
{
	const char *why = sensor_alone(h->sensor);

	if (h->compiled->mech != MECH_RAW_SYSCALL_DISPATCH || !why)
		return;
	sensor_note_alone(h->compiled, why, h->why, sizeof(h->why));
	h->status.note = h->why;
}

/* Load and attach one compiled hook (a disabled policy's stays detached); *pin_failed as
 * attach_hook's. */
static int load_hook(struct vigil_sensors *s, struct loaded_policy *lp, struct loaded_hook *h, char *why,
		     size_t why_size, bool *pin_failed)
{
	int rc;

	*pin_failed = false;
	h->compiled->attach_alone = s->pin_dir[0] && hook_enforces(h->compiled);
	rc = sensor_load(h->compiled, s->loader, s->wakeup_batch, &h->sensor, why, why_size);
	if (!rc) {
		h->status.mechanism = sensor_mech_name(sensor_mech_used(h->sensor));
		note_dispatch_fallback(h);
	}
	if (!rc && lp->enabled) {
		rc = attach_hook(s, lp, h, why, why_size, pin_failed);
		if (rc) {
			sensor_free(h->sensor);
			h->sensor = NULL;
		}
	}
	return rc;
}

/* The kernel refused a mechanism the probe found usable, for this one function: an fentry
 * attach fails with EBUSY where the function has no ftrace call site to patch (a notrace
 * function, e.g. the out-of-line copy of an inline one that BTF still lists). Compile the
 * hook again without the mechanisms that failed and load what it chooses next, as Tetragon
 * would have used kprobes all along; status and the log say so. 0, or the last failure with
 * why saying every step. Hook i keeps its id. */
static int load_hook_fallback(struct vigil_sensors *s, struct loaded_policy *lp, size_t i, char *why,
			      size_t why_size)
{
	struct loaded_hook *h = &lp->hooks[i];
	struct vigil_policy_error perr = {0};
	struct compile_ctx ctx = {
		.policy = lp->policy, .probe = s->probe, .host_ns = s->host_ns, .vmlinux = vmlinux_get(s),
		.mode = lp->mode, .err = &perr,
	};
	char failed[VIGIL_MECH_COUNT][300], trail[sizeof(h->why)] = "";
	bool pin_failed;
	int rc = load_hook(s, lp, h, why, why_size, &pin_failed);

	/* a pin that failed would fail for any mechanism's link: the hook is refused, and why
	 * says where the pin went */
	while (rc && !pin_failed) {
		enum vigil_mech m = sensor_mech_probed(h->compiled->mech);
		uint32_t id = h->compiled->cfg.hook_id;
		const char *from = sensor_mech_name(h->compiled->mech);
		int crc;

		if (m == VIGIL_MECH_COUNT || (ctx.failed & (1u << m)))
			break;
		snprintf(failed[m], sizeof(failed[m]), "%.*s", (int)sizeof(failed[m]) - 1, why);
		ctx.failed |= 1u << m;
		ctx.failed_why[m] = failed[m];
		compiled_hook_free(h->compiled);
		crc = compile_hook(&ctx, i, h->compiled);
		h->compiled->cfg.hook_id = id;
		h->compiled->info.id = id;
		if (crc) {
			/* the compiler's refusal names each mechanism with why it failed */
			snprintf(why, why_size, "%.*s", (int)why_size - 1, perr.reason);
			return crc;
		}
		snprintf(trail + strlen(trail), sizeof(trail) - strlen(trail), "%s%s failed (%.250s), fell back to %s",
			 trail[0] ? "; " : "", from, failed[m], sensor_mech_name(h->compiled->mech));
		pr_warn("sensors: policy %s, %s: %s failed (%s); falling back to %s", lp->policy->name, h->desc, from,
			failed[m], sensor_mech_name(h->compiled->mech));
		rc = load_hook(s, lp, h, why, why_size, &pin_failed);
	}
	if (!rc && trail[0]) {
		snprintf(h->why, sizeof(h->why), "%s", trail);
		h->status.note = h->why;
	}
	return rc;
}

/* Load and attach every compiled hook; on failure unload what was loaded. */
static int load_policy(struct vigil_sensors *s, struct loaded_policy *lp, struct vigil_policy_error *err)
{
	char why[512];
	size_t i;
	int rc = 0;

	for (i = 0; i < lp->nhooks && !rc; i++) {
		struct loaded_hook *h = &lp->hooks[i];

		if (h->skipped)
			continue;
		rc = load_hook_fallback(s, lp, i, why, sizeof(why));
		h->status.attached = !rc && lp->enabled;
		if (rc && err) {
			const struct vigil_hook *hook = &lp->policy->hooks[i];

			snprintf(err->file, sizeof(err->file), "%s", lp->policy->file ? lp->policy->file : "<policy>");
			err->line = hook->call_pos.line;
			err->col = hook->call_pos.col;
			snprintf(err->reason, sizeof(err->reason), "%.100s: %.400s", h->desc, why);
		}
	}
	if (!rc && lp->policy->loader) {
		rc = loader_sensor_ref(s->loader, s->wakeup_batch, why, sizeof(why));
		lp->loader_on = !rc;
		if (rc && err) {
			snprintf(err->file, sizeof(err->file), "%s", lp->policy->file ? lp->policy->file : "<policy>");
			err->line = err->col = 1;
			snprintf(err->reason, sizeof(err->reason), "loader: %.400s", why);
		}
	}
	if (rc)
		unload_policy(lp);
	return rc;
}

/* A scoped policy's scope id is a hash of its name (vg_scopes): two live policies of other
 * names must not share one. Under the lock. */
static int scope_taken(struct vigil_sensors *s, const struct vigil_policy *p, struct vigil_policy_error *err)
{
	uint32_t id = vigil_policy_scope_id(p);
	struct loaded_policy *lp;

	for (lp = s->policies; id && lp; lp = lp->next) {
		if (!lp->policy || !strcmp(lp->policy->name, p->name) || vigil_policy_scope_id(lp->policy) != id)
			continue;
		if (err) {
			snprintf(err->file, sizeof(err->file), "%s", p->file ? p->file : "<policy>");
			err->line = err->col = 1;
			snprintf(err->reason, sizeof(err->reason),
				 "the scope of policy \"%s\" (a hash of its name) collides with that of \"%s\": rename one",
				 p->name, lp->policy->name);
		}
		return -EEXIST;
	}
	return 0;
}

static struct loaded_policy *build(struct vigil_sensors *s, struct vigil_policy *p, int mode,
				   struct vigil_policy_error *err, int *rc)
{
	struct loaded_policy *lp = calloc(1, sizeof(*lp));

	if (!lp) {
		*rc = -ENOMEM;
		return NULL;
	}
	lp->policy = p;
	lp->mode = mode >= 0 ? (enum vigil_policy_mode)mode : p->mode;
	lp->enabled = true;
	pthread_mutex_lock(&s->lock);
	*rc = scope_taken(s, p, err) ?: compile_policy(s, lp, err) ?: assign_ids(s, lp);
	pthread_mutex_unlock(&s->lock);
	if (!*rc)
		*rc = load_policy(s, lp, err);
	if (*rc) {
		size_t i;

		lp->policy = NULL;	/* the caller keeps it, and the hook infos point into it */
		pthread_mutex_lock(&s->lock);
		for (i = 0; i < lp->nhooks; i++) {
			size_t slot = slot_of(s, lp->hooks[i].compiled->cfg.hook_id);

			if (slot)
				s->ids[slot - 1].info = NULL;	/* late records are dropped as unknown */
		}
		pthread_mutex_unlock(&s->lock);
		retire(s, lp);
		return NULL;
	}
	return lp;
}

int vigil_sensors__add(struct vigil_sensors *s, struct vigil_policy *p, int mode, struct vigil_policy_error *err)
{
	struct loaded_policy *lp;
	int rc;

	pthread_mutex_lock(&s->lock);
	lp = find(s, p->name, NULL);
	pthread_mutex_unlock(&s->lock);
	if (lp) {
		if (err) {
			snprintf(err->file, sizeof(err->file), "%s", p->file ? p->file : "<policy>");
			err->line = err->col = 1;
			snprintf(err->reason, sizeof(err->reason), "a policy named \"%s\" is already loaded", p->name);
		}
		return -EEXIST;
	}
	lp = build(s, p, mode, err, &rc);
	if (!lp)
		return rc;
	pthread_mutex_lock(&s->lock);
	lp->next = s->policies;
	s->policies = lp;
	pthread_mutex_unlock(&s->lock);
	pr_info("sensors: policy %s loaded (%zu hook%s, %s)", p->name, lp->nhooks, lp->nhooks == 1 ? "" : "s",
		lp->mode == VIGIL_MODE_MONITOR ? "monitor" : "enforce");
	return 0;
}

void vigil_sensors__each_policy(struct vigil_sensors *s, void (*fn)(void *ctx, const struct vigil_policy *p),
				void *ctx)
{
	struct loaded_policy *lp;

	pthread_mutex_lock(&s->lock);
	for (lp = s->policies; lp; lp = lp->next)
		if (lp->policy)
			fn(ctx, lp->policy);
	pthread_mutex_unlock(&s->lock);
}

int vigil_sensors__delete(struct vigil_sensors *s, const char *name)
{
	struct loaded_policy *lp, **link;

	pthread_mutex_lock(&s->lock);
	lp = find(s, name, &link);
	if (lp)
		*link = lp->next;
	pthread_mutex_unlock(&s->lock);
	if (!lp)
		return -ENOENT;
	unload_policy(lp);	/* detach and unload; the hook infos stay for records in flight */
	if (s->pin_dir[0])
		pin_policy_done(s->pin_dir, name);
	retire(s, lp);
	pr_info("sensors: policy %s deleted", name);
	return 0;
}

int vigil_sensors__enable(struct vigil_sensors *s, const char *name, bool enable)
{
	struct loaded_policy *lp;
	char why[512];
	bool pin_failed;
	size_t i;
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	lp = find(s, name, NULL);
	if (!lp) {
		pthread_mutex_unlock(&s->lock);
		return -ENOENT;
	}
	for (i = 0; i < lp->nhooks && !rc; i++) {
		struct loaded_hook *h = &lp->hooks[i];

		if (h->skipped)
			continue;
		if (enable)
			rc = attach_hook(s, lp, h, why, sizeof(why), &pin_failed);
		else
			sensor_detach(h->sensor);
		h->status.attached = enable && !rc;
	}
	/* the loader sensor is shared: this policy takes or drops its reference */
	if (!rc && lp->policy->loader && enable && !lp->loader_on) {
		rc = loader_sensor_ref(s->loader, s->wakeup_batch, why, sizeof(why));
		lp->loader_on = !rc;
	} else if (!rc && !enable && lp->loader_on) {
		loader_sensor_unref();
		lp->loader_on = false;
	}
	if (rc)	/* all or nothing */
		for (i = 0; i < lp->nhooks; i++) {
			if (lp->hooks[i].sensor)
				sensor_detach(lp->hooks[i].sensor);
			lp->hooks[i].status.attached = false;
		}
	lp->enabled = enable && !rc;
	pthread_mutex_unlock(&s->lock);
	if (rc)
		pr_warn("sensors: cannot enable %s: %s", name, why);
	return rc;
}

int vigil_sensors__set_mode(struct vigil_sensors *s, const char *name, enum vigil_policy_mode mode,
			    struct vigil_policy_error *err)
{
	struct loaded_policy *old, *fresh, **link;
	struct vigil_policy *p;
	int rc;

	pthread_mutex_lock(&s->lock);
	old = find(s, name, &link);
	p = old ? old->policy : NULL;
	pthread_mutex_unlock(&s->lock);
	if (!old)
		return -ENOENT;
	if (old->mode == mode)
		return 0;
	/* the new instances attach before the old ones go: no gap in coverage */
	fresh = build(s, p, (int)mode, err, &rc);
	if (!fresh)
		return rc;
	pthread_mutex_lock(&s->lock);
	fresh->enabled = old->enabled;
	carry_count(fresh, old);
	*link = fresh;
	fresh->next = old->next;
	old->policy = NULL;	/* now owned by fresh; old retires first, so is freed first */
	pthread_mutex_unlock(&s->lock);
	unload_policy(old);
	retire(s, old);
	return 0;
}

int vigil_sensors__replace(struct vigil_sensors *s, struct vigil_policy *p, int mode, struct vigil_policy_error *err)
{
	struct loaded_policy *old, *fresh, **link;
	int rc;

	pthread_mutex_lock(&s->lock);
	old = find(s, p->name, NULL);
	pthread_mutex_unlock(&s->lock);
	if (!old)
		return vigil_sensors__add(s, p, mode, err);
	/* as set_mode: the new instances attach before the old ones go */
	fresh = build(s, p, mode, err, &rc);
	if (!fresh)
		return rc;
	pthread_mutex_lock(&s->lock);
	old = find(s, p->name, &link);	/* the control thread may have deleted it meanwhile */
	if (old) {
		*link = old->next;
		carry_count(fresh, old);
	}
	fresh->next = s->policies;
	s->policies = fresh;
	pthread_mutex_unlock(&s->lock);
	if (old) {
		unload_policy(old);
		retire(s, old);
	}
	pr_info("sensors: policy %s replaced (%zu hook%s, %s)", p->name, fresh->nhooks, fresh->nhooks == 1 ? "" : "s",
		fresh->mode == VIGIL_MODE_MONITOR ? "monitor" : "enforce");
	return 0;
}

const struct vigil_hook_info *vigil_sensors__hook(struct vigil_sensors *s, uint32_t hook_id)
{
	const struct vigil_hook_info *info = NULL;

	size_t slot;

	pthread_mutex_lock(&s->lock);
	slot = slot_of(s, hook_id);
	if (slot)
		info = s->ids[slot - 1].info;
	pthread_mutex_unlock(&s->lock);
	return info;
}

size_t vigil_sensors__reap(struct vigil_sensors *s, uint64_t drained_from_ns)
{
	struct loaded_policy **pp, *lp, *done = NULL;
	size_t i, n = 0;

	pthread_mutex_lock(&s->lock);
	for (pp = &s->retired; *pp;) {
		lp = *pp;
		if (lp->retired_ns + RETIRE_GRACE_NS > drained_from_ns) {
			pp = &lp->next;
			continue;
		}
		*pp = lp->next;
		for (i = 0; i < lp->nhooks; i++) {
			size_t slot = slot_of(s, lp->hooks[i].compiled->cfg.hook_id);

			if (slot && s->ids[slot - 1].owner == lp) {
				s->ids[slot - 1].info = NULL;
				s->ids[slot - 1].owner = NULL;	/* free; gen stays for the next owner */
			}
		}
		lp->next = done;
		done = lp;
		s->nretired--;
		n++;
	}
	vmlinux_trim(s);
	pthread_mutex_unlock(&s->lock);
	for (lp = done; lp; lp = done) {
		done = lp->next;
		free_policy(lp);
	}
	return n;
}

void vigil_sensors__stats(struct vigil_sensors *s, struct vigil_sensors_stats *st)
{
	size_t i;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&s->lock);
	st->retired = s->nretired;
	st->id_slots = s->nids;
	for (i = 0; i < s->nids; i++)
		st->ids_in_use += s->ids[i].owner != NULL;
	pthread_mutex_unlock(&s->lock);
}

void vigil_sensors__list(struct vigil_sensors *s, vigil_policy_status_fn fn, void *ctx)
{
	struct loaded_policy *lp;
	size_t i;

	pthread_mutex_lock(&s->lock);
	for (lp = s->policies; lp; lp = lp->next) {
		struct vigil_policy_status st = {
			.name = lp->policy->name,
			.file = lp->policy->file,
			.namespace_ = lp->policy->namespace_,
			.state = lp->enabled ? "enabled" : "disabled",
			.mode = lp->mode == VIGIL_MODE_MONITOR ? "monitor" : "enforce",
			.nhooks = lp->nhooks,
			.hooks = lp->statuses,
			.events = __atomic_load_n(&lp->events, __ATOMIC_RELAXED),
		};

		for (i = 0; i < lp->nhooks; i++) {
			lp->statuses[i] = lp->hooks[i].status;
			/* fixed once loaded (map sizes are set before the load) */
			if (!lp->hooks[i].memlock && lp->hooks[i].sensor)
				lp->hooks[i].memlock = sensor_memlock(lp->hooks[i].sensor);
			st.kernel_memory_bytes += lp->hooks[i].memlock;
		}
		if (lp->loader_on)
			lp->statuses[st.nhooks++] = (struct vigil_hook_status){
				.hook = "loader", .mechanism = loader_sensor_mechanism(), .attached = true,
				.note = "process_loader events for every process",
			};
		fn(&st, ctx);
	}
	pthread_mutex_unlock(&s->lock);
}

size_t vigil_sensors__count(struct vigil_sensors *s)
{
	struct loaded_policy *lp;
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	for (lp = s->policies; lp; lp = lp->next)
		n++;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Add (or remove) one value in every kernel map of the list; the number of maps changed. */
static int list_update(struct vigil_sensors *s, const char *list, const struct list_value *value, bool add)
{
	struct loaded_policy *lp;
	uint8_t one = 1;
	int changed = 0, used = 0, rc = 0;
	size_t i, j;

	pthread_mutex_lock(&s->lock);
	for (lp = s->policies; lp && !rc; lp = lp->next) {
		for (i = 0; i < lp->nhooks && !rc; i++) {
			const struct loaded_hook *h = &lp->hooks[i];

			for (j = 0; h->sensor && j < h->compiled->nlists && !rc; j++) {
				const struct list_ref *ref = &h->compiled->lists[j];
				int fd = sensor_map_fd(h->sensor, ref->kind);
				union list_key key;

				if (strcmp(ref->name, list))
					continue;
				used++;
				rc = list_key(ref, value, &key);
				if (rc)
					break;
				if (add && bpf_map_update_elem(fd, &key, &one, BPF_ANY))
					rc = errno == E2BIG ? -ENOSPC : -errno;
				else if (!add && bpf_map_delete_elem(fd, &key))
					rc = errno == ENOENT ? 0 : -errno;
				else
					changed++;
			}
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (rc)
		return rc;
	return used ? changed : -ENOENT;
}

int vigil_sensors__list_add(struct vigil_sensors *s, const char *list, const char *value)
{
	struct list_value v = {.text = value};
	struct vigil_file_id file;
	struct stat st;
	int rc;

	if (vigil_sensors__list_type(s, list) == VIGIL_LIST_FILES) {
		if (stat(value, &st))
			return -errno;
		file = (struct vigil_file_id){
			.dev = vigil_dev_to_kernel(st.st_dev),
			.uid = st.st_uid,
			.ino = st.st_ino,
			.mode = st.st_mode,
			.nlink = (uint32_t)st.st_nlink,
		};
		return vigil_sensors__list_add_file(s, list, &file);
	}
	rc = list_update(s, list, &v, true);
	if (rc > 0)
		pr_info("sensors: list %s gained \"%s\" in %d kernel map%s", list, value, rc, rc == 1 ? "" : "s");
	return rc;
}

int vigil_sensors__list_add_file(struct vigil_sensors *s, const char *list, const struct vigil_file_id *file)
{
	struct list_value v = {.file = file};
	int rc = list_update(s, list, &v, true);

	if (rc > 0)
		pr_info("sensors: list %s gained file %u:%u inode %llu in %d kernel map%s", list, file->dev >> 20,
			file->dev & 0xfffff, (unsigned long long)file->ino, rc, rc == 1 ? "" : "s");
	return rc;
}

int vigil_sensors__list_remove(struct vigil_sensors *s, const char *list, const char *value)
{
	struct list_value v = {.text = value};

	return list_update(s, list, &v, false);
}

int vigil_sensors__list_remove_file(struct vigil_sensors *s, const char *list, const struct vigil_file_id *file)
{
	struct list_value v = {.file = file};

	return list_update(s, list, &v, false);
}

int vigil_sensors__list_type(struct vigil_sensors *s, const char *list)
{
	struct loaded_policy *lp;
	int type = -ENOENT;
	size_t i, j;

	pthread_mutex_lock(&s->lock);
	for (lp = s->policies; lp && type < 0; lp = lp->next)
		for (i = 0; i < lp->nhooks && type < 0; i++)
			for (j = 0; lp->hooks[i].compiled && j < lp->hooks[i].compiled->nlists; j++)
				if (!strcmp(lp->hooks[i].compiled->lists[j].name, list)) {
					type = lp->hooks[i].compiled->lists[j].kind == VG_F_FILE_ID ? VIGIL_LIST_FILES
												 : VIGIL_LIST_VALUES;
					break;
				}
	pthread_mutex_unlock(&s->lock);
	return type;
}
