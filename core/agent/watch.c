/* watch.c - reload without a restart: a thread looks at the policy directory and the Lua
 * rules directory every LOOK_MS (dirsig.c) and syncs one that changed (policy_dir.c,
 * vigil_luahost__reload) once a look DEBOUNCE_MS later finds it the same; vigil_agent__reload
 * (SIGHUP in vigild) syncs both at once and retries refused files.
 *
 * Looking, not inotify: any fsnotify mark on a filesystem sends every open and close on it
 * down fsnotify's slow path, for every process of the machine (~230 instructions an open and
 * close on 6.1: tests/bench's `watch` condition), and /etc/vigil is on the root filesystem. A
 * look is a stat of each entry, four times a second, in the agent alone.
 *
 * An editor that writes in place, one that renames a new version over the old, a Kubernetes
 * ConfigMap update (a new ..2026_* directory, ..data swapped over to it, name.yaml ->
 * ..data/name.yaml left alone) and a chmod all change what a look sees. A sync compares
 * contents, so a look that finds a change of nothing costs a read of the directory. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"

#define LOOK_MS 250		/* how long a change may go unseen */
#define DEBOUNCE_MS 50		/* a burst of writes (a ConfigMap swap, cp of many files) */
#define DEBOUNCE_MAX_MS 300	/* a directory that never goes quiet is still synced */

/* what the wake-up eventfd carries (added up by the kernel) */
#define WAKE_RELOAD 1ULL
#define WAKE_STOP (1ULL << 32)

/* One directory the thread looks at. */
struct watched_dir {
	const char *path;		/* NULL: not looked at */
	bool policies;			/* the policy directory, else the rules' */
	uint64_t synced;		/* the look before the last sync */
	bool pending;			/* changed since: due once it settles */
	uint64_t first_ms, last;	/* when the change was first seen; the last look */
};

struct agent_watch {
	pthread_t thread;
	bool started;
	int wake_fd;
	struct watched_dir dirs[2];
	/* the rules directory's refusal last reported: a user who can write an untrusted
	 * directory changes it at will, and each change is a reload */
	char rules_dir_refused[512];
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A rule file the reload refused (its previous version, if any, keeps running): a
 * rule_status event, as a rule disabled at run time is. */
static void rule_reloaded(const char *file, const char *name, enum vigil_rule_outcome outcome,
			  const struct vigil_rule_error *err, void *ctx)
{
	struct vigil_agent *a = ctx;
	struct vigil_event ev = {.type = VIGIL_EVENT_RULE_STATUS};
	char reason[sizeof(err->file) + sizeof(err->reason) + 16];
	const char *base = strrchr(file, '/');
	struct timespec ts;

	if (a->opts.rules_dir && !strcmp(file, a->opts.rules_dir)) {
		if (!strcmp(a->watch->rules_dir_refused, err ? err->reason : ""))
			return;
		snprintf(a->watch->rules_dir_refused, sizeof(a->watch->rules_dir_refused), "%s", err ? err->reason : "");
	}
	if (outcome != VIGIL_RULE_REFUSED || !err)
		return;
	snprintf(reason, sizeof(reason), "%s:%d: %s", err->file, err->line, err->reason);
	pr_warn("agent: rules directory: %s", reason);
	clock_gettime(CLOCK_REALTIME, &ts);
	ev.time = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	ev.node_name = a->node_name;
	ev.rule_status.rule = name ? name : base ? base + 1 : file;
	ev.rule_status.file = file;
	ev.rule_status.state = "refused";
	ev.rule_status.reason = reason;
	pthread_mutex_lock(&a->pipe_lock);
	agent_dispatch(a, &ev);
	agent_flush(a);
	pthread_mutex_unlock(&a->pipe_lock);
}

static void reload_rules(struct vigil_agent *a)
{
	int rc;

	char why[512];

	if (!a->luahost)
		return;
	if (!vigil_trust_dir("rules directory", a->opts.rules_dir, why, sizeof(why)))
		a->watch->rules_dir_refused[0] = '\0';	/* a refusal after this one is news */
	rc = vigil_luahost__reload(a->luahost, rule_reloaded, a);
	if (rc < 0)
		pr_warn("agent: cannot reload the rules in %s: %s", a->opts.rules_dir, strerror(-rc));
}

static void reload_tls(struct vigil_agent *a)
{
	pthread_rwlock_rdlock(&a->ctl_lock);
	vigil_ctl_server__tls_reload(a->ctl);	/* -ENOENT without a listener: nothing to do */
	pthread_rwlock_unlock(&a->ctl_lock);
}

/* An untrusted directory is looked at alone, not its entries: whoever can write it could
 * otherwise fill it to make every look long, and it is not read until it is fixed. */
static struct agent_dirsig look(const struct watched_dir *d)
{
	char why[512];

	return agent_dirsig_look(d->path, !vigil_trust_dir("directory", d->path, why, sizeof(why)));
}

static void sync_dir(struct vigil_agent *a, const struct watched_dir *d, bool retry)
{
	if (d->policies)
		agent_policy_dir_sync(a, retry);
	else
		reload_rules(a);
}

/* After a sync that began with sig: a racy look stays pending, to be looked at again once
 * its times are old enough to tell a later write. */
static void synced(struct watched_dir *d, struct agent_dirsig sig, uint64_t now)
{
	d->synced = d->last = sig.value;
	d->pending = sig.racy;
	d->first_ms = now;
}

/* Look at d; sync it when a change has settled (or has gone on for DEBOUNCE_MAX_MS). */
static void look_and_sync(struct vigil_agent *a, struct watched_dir *d, uint64_t now)
{
	struct agent_dirsig sig = look(d);

	if (!d->pending) {
		if (sig.value == d->synced && !sig.racy)
			return;
		d->pending = true;
		d->first_ms = now;
		d->last = sig.value;
		return;
	}
	if ((sig.value == d->last && !sig.racy) || now - d->first_ms >= DEBOUNCE_MAX_MS) {
		sync_dir(a, d, false);
		synced(d, sig, now);
		return;
	}
	d->last = sig.value;
}

static void *watch_main(void *arg)
{
	struct vigil_agent *a = arg;
	struct agent_watch *w = a->watch;
	struct pollfd wake_pfd = {.fd = w->wake_fd, .events = POLLIN};
	uint64_t next = now_ms() + DEBOUNCE_MS, now, wake;
	int timeout;
	size_t i;

	for (;;) {
		now = now_ms();
		timeout = next > now ? (int)(next - now) : 0;
		if (!w->dirs[0].path && !w->dirs[1].path)
			timeout = -1;	/* nothing to look at: SIGHUP's TLS reload only */
		if (poll(&wake_pfd, 1, timeout) < 0 && errno != EINTR)
			break;
		if ((wake_pfd.revents & POLLIN) && read(w->wake_fd, &wake, sizeof(wake)) == sizeof(wake)) {
			if (wake >= WAKE_STOP)
				break;
			/* a reload request: both now, refused files retried, and the TLS listener's
			 * certificates read again (renewed ones) */
			for (i = 0; i < 2; i++) {
				struct watched_dir *d = &w->dirs[i];
				struct agent_dirsig sig;

				if (!d->path)
					continue;
				sig = look(d);
				sync_dir(a, d, true);
				synced(d, sig, now_ms());
			}
			reload_tls(a);
		}
		now = now_ms();
		if (now < next)
			continue;
		next = now + LOOK_MS;
		for (i = 0; i < 2; i++) {
			if (!w->dirs[i].path)
				continue;
			look_and_sync(a, &w->dirs[i], now);
			if (w->dirs[i].pending)
				next = now + DEBOUNCE_MS;
		}
	}
	atomic_store(&a->pdir.watching, false);
	return NULL;
}

int agent_watch_start(struct vigil_agent *a)
{
	struct agent_watch *w = calloc(1, sizeof(*w));
	uint64_t now = now_ms();
	size_t i;
	int err;

	if (!w)
		return -ENOMEM;
	a->watch = w;
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0)
		return -errno;
	w->dirs[0].path = a->opts.policy_dir;
	w->dirs[0].policies = true;
	w->dirs[1].path = a->luahost ? a->opts.rules_dir : NULL;
	/* one sync soon after start: what changed between the start's load and the first look */
	for (i = 0; i < 2; i++) {
		if (!w->dirs[i].path)
			continue;
		w->dirs[i].last = look(&w->dirs[i]).value;
		w->dirs[i].pending = true;
		w->dirs[i].first_ms = now;
	}
	atomic_store(&a->pdir.watching, a->opts.policy_dir != NULL);
	err = pthread_create(&w->thread, NULL, watch_main, a);
	if (err)
		return -err;
	w->started = true;
	return 0;
}

void vigil_agent__reload(struct vigil_agent *a)
{
	uint64_t one = WAKE_RELOAD;

	if (a && a->watch && a->watch->wake_fd >= 0 && write(a->watch->wake_fd, &one, sizeof(one)) < 0)
		return;	/* only when 2^64 requests are pending: one is enough */
}

void agent_watch_stop(struct vigil_agent *a)
{
	struct agent_watch *w = a->watch;
	uint64_t stop = WAKE_STOP;

	if (!w)
		return;
	if (w->started && write(w->wake_fd, &stop, sizeof(stop)) == sizeof(stop))
		pthread_join(w->thread, NULL);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	free(w);
	a->watch = NULL;
}
