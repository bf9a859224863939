/* fanwatch.c - a file policy whose selectors only name paths, watched with fanotify marks on
 * exactly those files and directories instead of a program on every openat of the machine:
 * opens of anything else cost nothing. Each open of a watched path becomes the record the
 * hook's BPF program would have written (bpf/generic.h), handed to the record sink. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <bpf/bpf.h>

#include "process.h"
#include "sensors_internal.h"

#define FAN_MASK (FAN_OPEN | FAN_OPEN_EXEC)
#define MAX_DIR_MARKS 4096	/* directories marked under one Prefix subtree */

static vigil_record_fn sink_fn;
static void *sink_ctx;
static _Atomic uint64_t fan_events, fan_marks, fan_overflows, fan_allowed_late;

void vigil_sensors__set_record_sink(vigil_record_fn fn, void *ctx)
{
	sink_fn = fn;
	sink_ctx = ctx;
}

void vigil_sensors__fanotify_stats(uint64_t *events, uint64_t *marks, uint64_t *overflows, uint64_t *allowed_late)
{
	*allowed_late = fan_allowed_late;
	*events = fan_events;
	*marks = fan_marks;
	*overflows = fan_overflows;
}

bool fanwatch_usable(void)
{
	static int usable = -1;
	int fd;

	if (usable < 0) {
		fd = fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_LARGEFILE);
		usable = fd >= 0;
		if (fd >= 0)
			close(fd);
	}
	return usable;
}

/* Permission events (Override in enforce mode) are answered by a small child process, not by
 * the agent: the decision is the path alone, so nothing waits on the agent, and a stopped or
 * busy agent never holds an open. The agent watches the child in turn: events left pending
 * past DEADLINE_MS with the child's answer count unchanged are allowed by the agent and
 * counted (never denied on a timeout). If the agent dies, the child ends with it (its
 * lifeline pipe closes) and the kernel allows whatever was pending when the group closes. */
#define DEADLINE_MS 250
#define PERM_MASK (FAN_OPEN_PERM | FAN_OPEN_EXEC_PERM)

struct perm_shared {			/* MAP_SHARED between the agent and the responder */
	_Atomic uint64_t answered;
	_Atomic uint64_t denied;
	_Atomic uint64_t forward_dropped;	/* the pipe to the agent was full */
};

struct perm_msg {			/* responder -> agent, one write (< PIPE_BUF) */
	uint64_t ktime;			/* the opener's key, read while it waits for the answer */
	int32_t pid;
	int32_t sel;
	int32_t denied;
	int32_t len;
	char path[3072];
};


struct fanwatch {
	const struct compiled_hook *h;	/* borrowed: lives as long as the sensor */
	int fan, ino, stop;
	int execs;		/* vg_execs (borrowed) */
	uint64_t mask;		/* FAN_MASK, or PERM_MASK for a permission group */
	bool perm;
	pid_t child;		/* the responder; 0 none */
	int life_wr;		/* the lifeline: the responder ends when it closes */
	int pipe_rd;
	struct perm_shared *sh;
	pthread_t thread;
	bool running;
};

/* Inode marks on every entry of dir whose name starts with base (a Prefix on a file name,
 * "/etc/shadow" also covers "/etc/shadow-"), or is base (Equal). */
static void mark_names(struct fanwatch *w, const char *dir, const char *base, bool prefix)
{
	char path[PATH_MAX + 256];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (prefix ? strncmp(de->d_name, base, strlen(base)) : strcmp(de->d_name, base))
			continue;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", !strcmp(dir, "/") ? "" : dir, de->d_name) >= (int)sizeof(path))
			continue;
		if (!fanotify_mark(w->fan, FAN_MARK_ADD, w->mask, AT_FDCWD, path))
			fan_marks++;
	}
	closedir(d);
}

static struct fanwatch *walking;	/* nftw has no context argument: one walk at a time */
static size_t walked;
static pthread_mutex_t walk_lock = PTHREAD_MUTEX_INITIALIZER;

static int mark_dir(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type != FTW_D)
		return 0;
	if (walked++ >= MAX_DIR_MARKS)
		return 1;
	if (!fanotify_mark(walking->fan, FAN_MARK_ADD, walking->mask | FAN_EVENT_ON_CHILD, AT_FDCWD, path))
		fan_marks++;
	inotify_add_watch(walking->ino, path, IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
	return 0;
}

/* Marks for one value: a directory (or a Prefix ending in '/') is marked with its subtree,
 * each directory reporting opens of its children; a file by its inode, and its parent
 * watched with inotify so a file created or renamed into place later is marked too. */
static void mark_value(struct fanwatch *w, const char *value, bool prefix)
{
	char dir[PATH_MAX], *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", value);
	if (prefix && (value[strlen(value) - 1] == '/' || (!stat(value, &st) && S_ISDIR(st.st_mode)))) {
		pthread_mutex_lock(&walk_lock);
		walking = w;
		walked = 0;
		nftw(dir, mark_dir, 32, FTW_PHYS | FTW_MOUNT);
		pthread_mutex_unlock(&walk_lock);
		return;
	}
	slash = strrchr(dir, '/');
	if (!slash)
		return;
	*slash = 0;
	mark_names(w, dir[0] ? dir : "/", slash + 1, prefix);
	inotify_add_watch(w->ino, dir[0] ? dir : "/", IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
}

static void mark_all(struct fanwatch *w)
{
	size_t i;

	for (i = 0; i < w->h->fan_equal.n; i++)
		mark_value(w, (const char *)w->h->fan_equal.keys + i * w->h->fan_equal.size, false);
	for (i = 0; i < w->h->fan_prefix.n; i++)
		mark_value(w, (const char *)w->h->fan_prefix.keys + i * w->h->fan_prefix.size, true);
}

/* The selector the path matches, in policy order; -1 for none (a directory mark also
 * reports children outside a file-name prefix). No allocation: the responder calls it. */
static int match(const struct compiled_hook *h, const char *path)
{
	size_t i;

	for (i = 0; i < h->fan_equal.n; i++)
		if (!strcmp(path, (const char *)h->fan_equal.keys + i * h->fan_equal.size))
			return h->fan_sel[i];
	for (i = 0; i < h->fan_prefix.n; i++) {
		const char *v = (const char *)h->fan_prefix.keys + i * h->fan_prefix.size;

		if (!strncmp(path, v, strlen(v)))
			return h->fan_sel[h->fan_equal.n + i];
	}
	return -1;
}

static uint64_t boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The record the hook's program would have written, to the sink. */
static void post(struct fanwatch *w, uint32_t pid, uint64_t ktime, const char *path, size_t n, int sel, bool denied)
{
	static __thread struct vg_generic_record r;
	static __thread struct vigil_exec_entry e;
	const struct compiled_hook *h = w->h;
	uint32_t bits = h->fan_actions[sel];
	size_t used = 0, i;

	if (!sink_fn)
		return;
	memset(&r, 0, offsetof(struct vg_generic_record, data));
	r.hdr.op = VIGIL_OP_GENERIC;
	r.hdr.ktime = boot_ns();
	r.pid = pid;
	r.tid = pid;	/* fanotify names the thread group only */
	/* the process's key now, while it likely still runs: by the time the reader decodes
	 * this, its exit may have been read and its pid taken out of the cache */
	r.proc_ktime = ktime;
	if (!ktime && w->execs >= 0 && !bpf_map_lookup_elem(w->execs, &r.pid, &e))
		r.proc_ktime = e.ktime;
	r.hook_id = h->cfg.hook_id;
	r.selector = (uint32_t)sel;
	if (bits & (1u << VG_ACT_OVERRIDE)) {
		if (denied) {
			r.override_err = -EPERM;	/* what FAN_DENY makes the open return */
			r.actions = bits;
		} else {
			/* monitor mode, or allowed past the deadline: not enforced */
			r.actions = bits & ~(1u << VG_ACT_OVERRIDE);
			r.monitored = 1u << VG_ACT_OVERRIDE;
		}
	} else {
		r.actions = bits;
	}
	r.nargs = h->cfg.nargs;
	for (i = 0; i < h->cfg.nargs; i++) {
		r.arg_off[i] = (uint16_t)used;
		if (vg_arg_class(h->cfg.args[i].type) == VG_CLASS_STRING) {
			size_t len = n > h->cfg.args[i].max_len ? h->cfg.args[i].max_len : n;

			memcpy(r.data + used, path, len);
			r.arg_len[i] = (uint16_t)len;
			r.arg_flags[i] = len < n ? VG_ARGF_TRUNCATED : 0;
			used += len;
		} else {
			/* the only integer argument fanwatch accepts: the opener's flags are not in
			 * the event (its fd is our own open of the file), so it is marked an error */
			r.arg_flags[i] = VG_ARGF_ERROR;
		}
	}
	r.hdr.size = (uint32_t)(offsetof(struct vg_generic_record, data) + used);
	fan_events++;
	sink_fn(sink_ctx, &r, r.hdr.size);
}

static ssize_t fd_path(int fd, char *path, size_t size)
{
	char link[32] = "/proc/self/fd/";
	char digits[12];
	size_t k = 0, at = strlen(link);
	ssize_t n;

	/* no snprintf: the responder, a fork of a threaded process, stays async-signal-safe */
	do {
		digits[k++] = (char)('0' + fd % 10);
		fd /= 10;
	} while (fd && k < sizeof(digits));
	while (k)
		link[at++] = digits[--k];
	link[at] = 0;
	n = readlink(link, path, size - 1);
	if (n > 0)
		path[n] = 0;
	return n;
}

/* Read the group's events and answer permission events: deny when the matched selector
 * overrides (enforce), otherwise allow. forward >= 0: the pipe to the agent (responder);
 * -1: the agent itself, allowing what the stalled responder left (counted). */
static void read_events(struct fanwatch *w, int forward, pid_t self)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	const struct fanotify_event_metadata *m;
	static __thread struct perm_msg msg;
	ssize_t len;

	while ((len = read(w->fan, buf, sizeof(buf))) > 0) {
		for (m = (const void *)buf; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			ssize_t n;
			int sel = -1;
			bool deny = false;

			if (m->vers != FANOTIFY_METADATA_VERSION)
				continue;
			if (m->mask & FAN_Q_OVERFLOW)
				fan_overflows++;
			if (m->fd < 0)
				continue;
			n = fd_path(m->fd, msg.path, sizeof(msg.path));
			if (n > 0 && m->pid != self && m->pid != getppid())
				sel = match(w->h, msg.path);
			if (sel >= 0 && forward >= 0 && w->h->fan_enforce)
				deny = (w->h->fan_actions[sel] & (1u << VG_ACT_OVERRIDE)) != 0;
			msg.ktime = 0;
			if (sel >= 0 && forward >= 0 && w->execs >= 0) {
				/* the opener waits for our answer: it surely still runs */
				struct vigil_exec_entry e;

				if (!bpf_map_lookup_elem(w->execs, &m->pid, &e))
					msg.ktime = e.ktime;
			}
			if (m->mask & PERM_MASK) {
				struct fanotify_response resp = {.fd = m->fd, .response = deny ? FAN_DENY : FAN_ALLOW};

				if (write(w->fan, &resp, sizeof(resp)) == sizeof(resp)) {
					if (forward < 0)
						fan_allowed_late++;
					else
						w->sh->answered++;
					if (deny)
						w->sh->denied++;
				}
			}
			close(m->fd);
			if (sel < 0)
				continue;
			if (forward < 0 && w->perm) {
				post(w, (uint32_t)m->pid, 0, msg.path, (size_t)n, sel, false);
			} else if (forward >= 0) {
				msg.pid = m->pid;
				msg.sel = sel;
				msg.denied = deny;
				msg.len = (int32_t)n;
				if (write(forward, &msg, offsetof(struct perm_msg, path) + (size_t)n) < 0)
					w->sh->forward_dropped++;
			} else {
				post(w, (uint32_t)m->pid, 0, msg.path, (size_t)n, sel, false);
			}
		}
	}
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* The responder: answer permission events, forward the matches; ends when the agent's end of
 * the lifeline closes (the agent died: not a parent death signal, which would fire when the
 * thread that forked it ends, such as a control connection's). */
static void responder(struct fanwatch *w, int forward, int lifeline)
{
	struct pollfd p[2] = {{.fd = w->fan, .events = POLLIN}, {.fd = lifeline, .events = POLLIN}};
	int keep[4] = {w->fan, forward, lifeline, w->execs}, lo = 3, i;
	pid_t self = getpid();

	setpgid(0, 0);	/* a stop of the agent's process group leaves the responder running */
	/* hold nothing of the agent's (BPF links, sockets): only the group, the two pipes and the
	 * exec map (read-only lookups) */
	qsort(keep, 4, sizeof(keep[0]), cmp_int);
	for (i = 0; i < 4; i++) {
		if (keep[i] < lo)
			continue;
		if (keep[i] > lo)
			close_range((unsigned int)lo, (unsigned int)keep[i] - 1, 0);
		lo = keep[i] + 1;
	}
	close_range((unsigned int)lo, ~0U, 0);
	for (;;) {
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			_exit(1);
		if (p[1].revents)
			_exit(0);	/* the agent is gone: closing the group allows what is pending */
		if (p[0].revents)
			read_events(w, forward, self);
	}
}

/* The responder's messages: each written whole (under PIPE_BUF), read back to back. */
static void read_forwarded(struct fanwatch *w)
{
	static __thread char buf[65536];
	static __thread size_t have;
	const size_t hdr = offsetof(struct perm_msg, path);
	ssize_t n;

	while ((n = read(w->pipe_rd, buf + have, sizeof(buf) - have)) > 0) {
		size_t at = 0;

		have += (size_t)n;
		while (have - at >= hdr) {
			struct perm_msg m;

			memcpy(&m, buf + at, hdr);
			if (m.len < 0 || (size_t)m.len > sizeof(m.path)) {
				have = 0;	/* cannot happen: the responder writes whole messages */
				return;
			}
			if (have - at < hdr + (size_t)m.len)
				break;
			if (m.sel >= 0 && m.sel < VG_MAX_SELECTORS)
				post(w, (uint32_t)m.pid, m.ktime, buf + at + hdr, (size_t)m.len, m.sel, m.denied);
			at += hdr + (size_t)m.len;
		}
		memmove(buf, buf + at, have - at);
		have -= at;
	}
}

/* A directory entry created or renamed into a watched directory: mark again (marks are
 * idempotent) so a replaced /etc/shadow is watched by its new inode. */
static void read_inotify(struct fanwatch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool changed = false;

	while (read(w->ino, buf, sizeof(buf)) > 0)
		changed = true;
	if (changed)
		mark_all(w);
}

static void *watch_thread(void *arg)
{
	struct fanwatch *w = arg;
	struct pollfd p[3] = {{.fd = w->perm ? w->pipe_rd : w->fan, .events = POLLIN},
			      {.fd = w->ino, .events = POLLIN}, {.fd = w->stop, .events = POLLIN}};
	uint64_t seen_answered = 0, pending_since = 0;

	for (;;) {
		int rc = poll(p, 3, w->perm ? DEADLINE_MS / 5 : -1);

		if (rc < 0 && errno != EINTR)
			break;
		if (p[2].revents)
			break;
		if (rc > 0 && p[0].revents)
			w->perm ? read_forwarded(w) : read_events(w, -1, getpid());
		if (rc > 0 && p[1].revents)
			read_inotify(w);
		if (w->perm) {
			/* the responder's watchdog: events pending and no answer for DEADLINE_MS */
			struct pollfd q = {.fd = w->fan, .events = POLLIN};
			uint64_t now = boot_ns(), answered = w->sh->answered;

			if (poll(&q, 1, 0) <= 0 || answered != seen_answered) {
				seen_answered = answered;
				pending_since = 0;
			} else if (!pending_since) {
				pending_since = now;
			} else if (now - pending_since >= DEADLINE_MS * 1000000ULL) {
				read_events(w, -1, getpid());
				pending_since = 0;
			}
		}
	}
	return NULL;
}

void fanwatch_stop(struct fanwatch *w)
{
	uint64_t one = 1;

	if (!w)
		return;
	if (w->running) {
		if (write(w->stop, &one, sizeof(one)) < 0)
			pr_warn("fanwatch: cannot stop the watch thread: %s", strerror(errno));
		pthread_join(w->thread, NULL);
	}
	if (w->child > 0) {
		kill(w->child, SIGKILL);
		waitpid(w->child, NULL, 0);
	}
	if (w->fan >= 0)
		close(w->fan);	/* the kernel allows what is still pending */
	if (w->ino >= 0)
		close(w->ino);
	if (w->stop >= 0)
		close(w->stop);
	if (w->pipe_rd >= 0)
		close(w->pipe_rd);
	if (w->life_wr >= 0)
		close(w->life_wr);
	if (w->sh)
		munmap(w->sh, sizeof(*w->sh));
	free(w);
}

static int start_responder(struct fanwatch *w, char *why, size_t why_size)
{
	int fds[2], life[2], err;

	w->sh = mmap(NULL, sizeof(*w->sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (w->sh == MAP_FAILED) {
		w->sh = NULL;
		err = -errno;
		snprintf(why, why_size, "fanotify responder memory: %s", strerror(-err));
		return err;
	}
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK)) {
		err = -errno;
		snprintf(why, why_size, "fanotify responder pipe: %s", strerror(-err));
		return err;
	}
	w->pipe_rd = fds[0];
	if (pipe2(life, O_CLOEXEC)) {
		err = -errno;
		close(fds[1]);
		snprintf(why, why_size, "fanotify responder pipe: %s", strerror(-err));
		return err;
	}
	w->life_wr = life[1];
	w->child = fork();
	if (w->child < 0) {
		err = -errno;
		w->child = 0;
		close(fds[1]);
		close(life[0]);
		snprintf(why, why_size, "fanotify responder: %s", strerror(-err));
		return err;
	}
	if (!w->child) {
		close(life[1]);
		responder(w, fds[1], life[0]);	/* never returns */
	}
	close(fds[1]);
	close(life[0]);
	return 0;
}

int fanwatch_start(const struct compiled_hook *h, int execs_fd, struct fanwatch **out, char *why, size_t why_size)
{
	struct fanwatch *w = calloc(1, sizeof(*w));
	int err;

	if (!w)
		return -ENOMEM;
	w->h = h;
	w->execs = execs_fd;
	w->pipe_rd = -1;
	w->life_wr = -1;
	w->perm = h->fan_enforce;
	w->mask = w->perm ? PERM_MASK : FAN_MASK;
	w->fan = fanotify_init((w->perm ? FAN_CLASS_CONTENT : FAN_CLASS_NOTIF) | FAN_CLOEXEC | FAN_NONBLOCK,
			       O_RDONLY | O_LARGEFILE | O_CLOEXEC);
	w->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->stop = eventfd(0, EFD_CLOEXEC);
	if (w->fan < 0 || w->ino < 0 || w->stop < 0) {
		err = -errno;
		snprintf(why, why_size, "fanotify: %s", strerror(-err));
		fanwatch_stop(w);
		return err;
	}
	if (w->perm) {
		err = start_responder(w, why, why_size);
		if (err) {
			fanwatch_stop(w);
			return err;
		}
	}
	mark_all(w);
	err = -pthread_create(&w->thread, NULL, watch_thread, w);
	if (err) {
		snprintf(why, why_size, "fanotify thread: %s", strerror(-err));
		fanwatch_stop(w);
		return err;
	}
	w->running = true;
	*out = w;
	return 0;
}

/* ---- compile side: does the hook only name paths? ---- */

static bool int_type(enum vigil_arg_type t)
{
	return vg_arg_class((unsigned int)t) == VG_CLASS_INT && t != VIGIL_ARG_NOP;
}

int fanwatch_plan(const struct vigil_hook *hook, int path_index, int flags_index, bool enforce,
		  struct compiled_hook *out, char *why, size_t why_size)
{
	size_t i, j, k, nvalues = 0;

#define REFUSE(...) do { snprintf(why, why_size, __VA_ARGS__); keys_free(&out->fan_equal); \
			 keys_free(&out->fan_prefix); out->fan_enforce = false; return 0; } while (0)
	if (!fanwatch_usable())
		REFUSE("fanotify is not available to the agent");
	if (hook->is_return)
		REFUSE("a return probe needs the call's result");
	if (!hook->nselectors)
		REFUSE("no selector names a path: every open would be an event");
	for (i = 0; i < hook->nargs; i++) {
		const struct vigil_policy_arg *a = &hook->args[i];

		if (a->current_task || a->resolve)
			REFUSE("argument %u reads kernel data", a->index);
		if ((int)a->index == path_index && vg_arg_class((unsigned int)a->type) == VG_CLASS_STRING)
			continue;
		if ((int)a->index == flags_index && int_type(a->type))
			continue;
		REFUSE("argument %u is neither the file name nor the open flags", a->index);
	}
	for (i = 0; i < hook->nselectors; i++) {
		const struct vigil_selector *sel = &hook->selectors[i];

		if (sel->npids || sel->nbinaries || sel->nparent_binaries || sel->nnamespaces || sel->nns_changes ||
		    sel->ncaps || sel->ncap_changes || sel->nreturn_args || sel->nreturn_actions)
			REFUSE("selector %zu filters on more than the path", i + 1);
		if (i >= VG_MAX_SELECTORS)
			REFUSE("more than %d selectors", VG_MAX_SELECTORS);
		out->fan_actions[i] = sel->nactions ? 0 : 1u << VG_ACT_POST;
		for (j = 0; j < sel->nactions; j++) {
			const struct vigil_action *a = &sel->actions[j];

			if (a->kind == VIGIL_ACTION_OVERRIDE && (a->arg_error == 0 || a->arg_error == -EPERM ||
								 a->arg_error == EPERM)) {
				out->fan_actions[i] |= 1u << VG_ACT_OVERRIDE;
				out->fan_enforce = out->fan_enforce || enforce;
				continue;
			}
			if (a->kind == VIGIL_ACTION_OVERRIDE)
				REFUSE("selector %zu: a fanotify denial fails the open with EPERM only, not "
				       "argError %d", i + 1, a->arg_error);
			if (a->kind != VIGIL_ACTION_POST || a->rate_limit_ms || a->kernel_stack || a->user_stack)
				REFUSE("selector %zu acts beyond Post and Override", i + 1);
			out->fan_actions[i] |= 1u << VG_ACT_POST;
		}
		if (sel->nargs != 1 || (int)sel->args[0].index != path_index)
			REFUSE("selector %zu filters on more than the path", i + 1);
		if (sel->args[0].op != VIGIL_OP_EQUAL && sel->args[0].op != VIGIL_OP_PREFIX)
			REFUSE("selector %zu: %s is not a path fanotify can mark (Equal and Prefix are)", i + 1,
			       vigil_op_name(sel->args[0].op));
	}
	/* Equal values first, then Prefix: the order fanwatch's match() tests them in */
	for (k = 0; k < 2; k++) {
		for (i = 0; i < hook->nselectors; i++) {
			const struct vigil_match_arg *m = &hook->selectors[i].args[0];
			struct key_list *l = m->op == VIGIL_OP_EQUAL ? &out->fan_equal : &out->fan_prefix;
			char key[VG_STR_KEY] = {0};

			if ((m->op == VIGIL_OP_EQUAL) != (k == 0))
				continue;
			for (j = 0; j < m->nvalues; j++) {
				if (m->values[j][0] != '/' || strlen(m->values[j]) >= sizeof(key))
					REFUSE("selector %zu: \"%s\" is not an absolute path", i + 1, m->values[j]);
				if (nvalues >= FAN_MAX_VALUES)
					REFUSE("more than %d paths", FAN_MAX_VALUES);
				snprintf(key, sizeof(key), "%s", m->values[j]);
				if (keys_push(l, key))
					REFUSE("out of memory");
				out->fan_sel[nvalues++] = (uint8_t)i;
			}
		}
	}
#undef REFUSE
	return 1;
}
