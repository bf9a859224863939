/* watch.c - reload without a restart: a thread watches the policy directory and the Lua
 * rules directory with inotify and syncs them (policy_dir.c, vigil_luahost__reload) once
 * they have been quiet for DEBOUNCE_MS; vigil_agent__reload (SIGHUP in vigild) syncs both
 * at once and retries refused files.
 *
 * Only directory entries are watched, never the files: an editor that writes in place ends
 * with IN_CLOSE_WRITE, one that renames a new version over the old with IN_MOVED_TO, and a
 * Kubernetes ConfigMap update (the kubelet writes a new ..2026_* directory, points a
 * ..data_tmp symlink at it, renames that over ..data and removes the old directory; the
 * visible name.yaml -> ..data/name.yaml symlinks do not change) with IN_MOVED_TO of ..data.
 * A sync compares contents, so events that change nothing cost a read of the directory. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

#include "agent_internal.h"

#define DEBOUNCE_MS 50		/* a burst of writes (a ConfigMap swap, cp of many files) */
#define DEBOUNCE_MAX_MS 300	/* a directory that never goes quiet is still synced */
#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_TO | IN_MOVED_FROM | IN_CLOSE_WRITE | IN_ATTRIB | \
		    IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* what the wake-up eventfd carries (added up by the kernel) */
#define WAKE_RELOAD 1ULL
#define WAKE_STOP (1ULL << 32)

struct agent_watch {
	pthread_t thread;
	bool started;
	int inotify_fd, wake_fd;
	int policy_wd, rules_wd;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* when a burst that began at first and was last heard of at last is due for its sync */
static uint64_t due_ms(uint64_t first, uint64_t last)
{
	return last + DEBOUNCE_MS < first + DEBOUNCE_MAX_MS ? last + DEBOUNCE_MS : first + DEBOUNCE_MAX_MS;
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

	if (!a->luahost)
		return;
	rc = vigil_luahost__reload(a->luahost, rule_reloaded, a);
	if (rc < 0)
		pr_warn("agent: cannot reload the rules in %s: %s", a->opts.rules_dir, strerror(-rc));
}

/* Which directories the queued inotify events touched. false once the fd fails. */
static bool read_events(struct agent_watch *w, bool *policies, bool *rules)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	char *p;

	for (;;) {
		n = read(w->inotify_fd, buf, sizeof(buf));
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		for (p = buf; p < buf + n; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			if (ev->mask & IN_Q_OVERFLOW)		/* events lost: look at both */
				*policies = *rules = true;
			if (ev->wd == w->policy_wd)
				*policies = true;
			if (ev->wd == w->rules_wd)
				*rules = true;
			if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF))
				pr_warn("agent: a watched directory was removed or moved: changes to it are no longer seen");
		}
	}
}

static void reload_tls(struct vigil_agent *a)
{
	pthread_rwlock_rdlock(&a->ctl_lock);
	vigil_ctl_server__tls_reload(a->ctl);	/* -ENOENT without a listener: nothing to do */
	pthread_rwlock_unlock(&a->ctl_lock);
}

static void *watch_main(void *arg)
{
	struct vigil_agent *a = arg;
	struct agent_watch *w = a->watch;
	struct pollfd fds[2] = {{.fd = w->wake_fd, .events = POLLIN}, {.fd = w->inotify_fd, .events = POLLIN}};
	/* one sync soon after start: what changed between the start's load and the watch */
	bool policies = true, rules = true;
	uint64_t first = now_ms(), last = first, wake;
	int timeout;

	for (;;) {
		timeout = -1;
		if (policies || rules) {
			uint64_t now = now_ms(), due = due_ms(first, last);

			timeout = due > now ? (int)(due - now) : 0;
		}
		if (poll(fds, w->inotify_fd >= 0 ? 2 : 1, timeout) < 0 && errno != EINTR)
			break;
		if (fds[0].revents & POLLIN) {
			if (read(w->wake_fd, &wake, sizeof(wake)) == sizeof(wake)) {
				if (wake >= WAKE_STOP)
					break;
				/* a reload request: both now, refused files retried, and the TLS
				 * listener's certificates read again (renewed ones) */
				agent_policy_dir_sync(a, true);
				reload_rules(a);
				reload_tls(a);
				policies = rules = false;
			}
		}
		if (w->inotify_fd >= 0 && (fds[1].revents & POLLIN)) {
			bool was = policies || rules;

			if (!read_events(w, &policies, &rules))
				break;
			last = now_ms();
			if (!was)
				first = last;
			continue;	/* wait until quiet */
		}
		if ((policies || rules) && now_ms() >= due_ms(first, last)) {
			if (policies)
				agent_policy_dir_sync(a, false);
			if (rules)
				reload_rules(a);
			policies = rules = false;
		}
	}
	atomic_store(&a->pdir.watching, false);
	return NULL;
}

static int add_watch(struct agent_watch *w, const char *dir, const char *what)
{
	int wd = inotify_add_watch(w->inotify_fd, dir, WATCH_MASK);

	if (wd < 0)
		pr_warn("agent: cannot watch the %s %s (%s): changes need SIGHUP", what, dir, strerror(errno));
	return wd;
}

int agent_watch_start(struct vigil_agent *a)
{
	struct agent_watch *w = calloc(1, sizeof(*w));
	char why[512];
	int err;

	if (!w)
		return -ENOMEM;
	w->inotify_fd = w->wake_fd = w->policy_wd = w->rules_wd = -1;
	a->watch = w;
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->wake_fd < 0)
		return -errno;
	w->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->inotify_fd < 0)
		pr_warn("agent: no inotify (%s): the policy and rules directories reload on SIGHUP only", strerror(errno));
	/* an untrusted policy directory is not watched (the sync said why); SIGHUP checks again */
	if (w->inotify_fd >= 0 && a->opts.policy_dir && !agent_policy_dir_check(a->opts.policy_dir, why, sizeof(why)))
		w->policy_wd = add_watch(w, a->opts.policy_dir, "policy directory");
	if (w->inotify_fd >= 0 && a->opts.rules_dir && a->luahost)
		w->rules_wd = add_watch(w, a->opts.rules_dir, "rules directory");
	atomic_store(&a->pdir.watching, w->policy_wd >= 0);
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
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	free(w);
	a->watch = NULL;
}
