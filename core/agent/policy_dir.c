/* policy_dir.c - the policy directory (--tracing-policy-dir) kept in step with the running
 * agent: every *.yaml file there is one policy. A sync reads the directory and compares each
 * file's content (a hash) with what it last tried: a new file is loaded, a changed one
 * replaces its policy (the old one keeps running when the new one is refused), and the
 * policy of a file that is gone is unloaded. Each of these is a policy_status event, and the
 * last refusal of each file stays in `vigil status` / `vigil tp list` until its file changes.
 *
 * Who may write there decides what the kernel enforces: the directory and each file are read
 * only when only the agent's own side can change them (common/trust.c). */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_internal.h"

#define MAX_POLICY_BYTES (4u << 20)	/* the largest shipped policy is ~10 KiB */

struct policy_dir_file {
	char name[256];			/* the file's name in the directory */
	uint64_t hash;			/* of the content last tried */
	char policy[256];		/* the policy loaded from it; "" when none */
	char reason[1024];		/* why its current content is refused; "" when loaded */
	bool seen;			/* found by the sync under way */
};

static bool is_yaml(const char *name)
{
	size_t n = strlen(name);

	/* dot files are skipped: editors' swap files, a ConfigMap's ..data and ..2026_* */
	return name[0] != '.' && ((n > 5 && !strcmp(name + n - 5, ".yaml")) || (n > 4 && !strcmp(name + n - 4, ".yml")));
}

/* FNV-1a: only tells versions of one file apart */
static uint64_t hash_bytes(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--) {
		h ^= (unsigned char)*p++;
		h *= 1099511628211ULL;
	}
	return h;
}

int agent_policy_dir_check(const char *dir, char *why, size_t size)
{
	return vigil_trust_dir("policy directory", dir, why, size);
}

/* A policy_status event on every sink. */
static void report(struct vigil_agent *a, const char *policy, const char *file, const char *state,
		   const char *reason)
{
	struct vigil_event ev = {.type = VIGIL_EVENT_POLICY_STATUS};
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ev.time = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	ev.node_name = a->node_name;
	ev.policy_status.policy = policy;
	ev.policy_status.file = file;
	ev.policy_status.state = state;
	ev.policy_status.reason = reason && *reason ? reason : NULL;
	if (reason && *reason) {
		pr_warn("agent: policy directory: %s", reason);
	} else {
		pr_info("agent: policy directory: %s %s (%s)", state, policy, file);
		if (!a->pdir.synced)	/* the start's load: its policies are in status, not news */
			return;
	}
	pthread_mutex_lock(&a->pipe_lock);
	agent_dispatch(a, &ev);
	agent_flush(a);
	pthread_mutex_unlock(&a->pipe_lock);
}

static void refuse(struct vigil_agent *a, struct policy_dir_file *f, const char *path, const char *why)
{
	snprintf(f->reason, sizeof(f->reason), "%s", why);
	a->pdir.refusals++;
	report(a, f->policy[0] ? f->policy : f->name, path, "refused", f->reason);
}

/* The file's new content: load it, in place of its policy when it has one. */
static void apply(struct vigil_agent *a, struct policy_dir_file *f, const char *path, const char *text, size_t len)
{
	struct vigil_policy_error err = {0};
	struct vigil_policy *p = NULL;
	char msg[1024], name[256];
	bool had = f->policy[0] != '\0';
	bool same = false;
	int mode, rc;

	rc = vigil_policy_parse(path, text, len, &p, &err);
	if (!rc) {
		snprintf(name, sizeof(name), "%s", p->name);
		same = had && !strcmp(name, f->policy);
		/* a renamed policy is added under its new name before the old name goes */
		mode = agent_policy_dir_mode(a, p);
		rc = same ? vigil_sensors__replace(a->sensors, p, mode, &err)
			  : vigil_sensors__add(a->sensors, p, mode, &err);
		if (rc)
			vigil_policy_free(p);
	}
	if (rc) {
		refuse(a, f, path, vigil_policy_error_format(&err, msg, sizeof(msg)));
		return;
	}
	if (had && !same && vigil_sensors__delete(a->sensors, f->policy) == 0)
		report(a, f->policy, path, "unloaded", NULL);
	snprintf(f->policy, sizeof(f->policy), "%s", name);
	f->reason[0] = '\0';
	report(a, name, path, same ? "replaced" : "loaded", NULL);
	agent_scopes_sync(a);	/* a scoped policy (or one that no longer is) */
}

static struct policy_dir_file *find_file(struct agent_policy_dir *d, const char *name)
{
	size_t i;

	for (i = 0; i < d->nfiles; i++)
		if (!strcmp(d->files[i].name, name))
			return &d->files[i];
	return NULL;
}

static struct policy_dir_file *add_file(struct agent_policy_dir *d, const char *name)
{
	struct policy_dir_file *files = realloc(d->files, (d->nfiles + 1) * sizeof(*files));

	if (!files)
		return NULL;
	d->files = files;
	files = &d->files[d->nfiles++];
	memset(files, 0, sizeof(*files));
	snprintf(files->name, sizeof(files->name), "%s", name);
	return files;
}

/* One directory entry: read, compare, apply. */
static void sync_file(struct vigil_agent *a, const char *name, bool retry)
{
	struct agent_policy_dir *d = &a->pdir;
	struct policy_dir_file *f = find_file(d, name);
	char path[PATH_MAX], why[1024];
	char *text = NULL;
	size_t len = 0;
	uint64_t h;
	int rc;

	if (strlen(name) >= sizeof(f->name))
		return;
	snprintf(path, sizeof(path), "%s/%s", a->opts.policy_dir, name);
	rc = vigil_trust_read("policy file", path, MAX_POLICY_BYTES, &text, &len, why, sizeof(why));
	if (rc == -ENOENT) {	/* a dangling symlink mid-update: judge it at the next sync */
		if (f)
			f->seen = true;
		return;
	}
	if (!f && !(f = add_file(d, name))) {
		free(text);
		return;
	}
	f->seen = true;
	if (rc) {
		h = (uint64_t)rc;
		if (h != f->hash || retry) {
			f->hash = h;
			refuse(a, f, path, why);
		}
		return;
	}
	h = hash_bytes(text, len);
	if (h != f->hash || (retry && f->reason[0])) {
		f->hash = h;
		apply(a, f, path, text, len);
	}
	free(text);
}

static int by_name(const struct dirent **x, const struct dirent **y)
{
	return strcmp((*x)->d_name, (*y)->d_name);
}

int agent_policy_dir_sync(struct vigil_agent *a, bool retry)
{
	struct agent_policy_dir *d = &a->pdir;
	struct dirent **names = NULL;
	char why[512], path[PATH_MAX];
	size_t i, kept;
	int n, rc;

	if (!a->opts.policy_dir)
		return 0;
	pthread_mutex_lock(&d->lock);
	d->syncs++;
	rc = agent_policy_dir_check(a->opts.policy_dir, why, sizeof(why));
	if (rc) {
		/* what was loaded stays: a chmod must not switch enforcement off */
		if (strcmp(why, d->refused)) {
			snprintf(d->refused, sizeof(d->refused), "%s", why);
			report(a, a->opts.policy_dir, a->opts.policy_dir, "refused", why);
		}
		goto out;
	}
	d->refused[0] = '\0';
	n = scandir(a->opts.policy_dir, &names, NULL, by_name);
	if (n < 0) {
		rc = -errno;
		pr_warn("agent: cannot read policy directory %s: %s", a->opts.policy_dir, strerror(-rc));
		goto out;
	}
	for (i = 0; i < d->nfiles; i++)
		d->files[i].seen = false;
	for (i = 0; i < (size_t)n; i++) {
		if (is_yaml(names[i]->d_name))
			sync_file(a, names[i]->d_name, retry);
		free(names[i]);
	}
	free(names);
	/* files gone: their policies go */
	for (i = 0, kept = 0; i < d->nfiles; i++) {
		struct policy_dir_file *f = &d->files[i];

		if (f->seen) {
			d->files[kept++] = *f;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", a->opts.policy_dir, f->name);
		if (f->policy[0] && vigil_sensors__delete(a->sensors, f->policy) == 0)
			report(a, f->policy, path, "unloaded", NULL);
	}
	if (kept != d->nfiles)
		agent_scopes_sync(a);
	d->nfiles = kept;
	rc = 0;
out:
	d->synced = true;
	pthread_mutex_unlock(&d->lock);
	return rc;
}

void agent_policy_dir_pack(struct vigil_agent *a, msgpack_packer *pk)
{
	struct agent_policy_dir *d = &a->pdir;
	struct ctl_list refused;
	struct ctl_map m;
	size_t i;

	ctl_map_init(&m);
	ctl_list_init(&refused);
	pthread_mutex_lock(&d->lock);
	ctl_pack_str(ctl_map_key(&m, "path"), a->opts.policy_dir ? a->opts.policy_dir : "");
	if (a->opts.policy_dir && !d->refused[0] && atomic_load(&d->watching))
		msgpack_pack_true(ctl_map_key(&m, "watching"));
	else
		msgpack_pack_false(ctl_map_key(&m, "watching"));
	if (d->refused[0])
		ctl_pack_str(ctl_map_key(&m, "reason"), d->refused);
	msgpack_pack_uint64(ctl_map_key(&m, "syncs"), d->syncs);
	msgpack_pack_uint64(ctl_map_key(&m, "refusals"), d->refusals);
	/* each file whose current content is not loaded */
	for (i = 0; i < d->nfiles; i++) {
		const struct policy_dir_file *f = &d->files[i];
		struct ctl_map file;

		if (!f->reason[0])
			continue;
		ctl_map_init(&file);
		ctl_pack_str(ctl_map_key(&file, "file"), f->name);
		/* the policy still loaded from its previous version */
		ctl_pack_str(ctl_map_key(&file, "running"), f->policy);
		ctl_pack_str(ctl_map_key(&file, "reason"), f->reason);
		ctl_map_flush(&file, &refused.pk);
		refused.n++;
	}
	pthread_mutex_unlock(&d->lock);
	ctl_list_flush(&refused, ctl_map_key(&m, "refused"));
	ctl_map_flush(&m, pk);
}

void agent_policy_dir_free(struct vigil_agent *a)
{
	free(a->pdir.files);
	a->pdir.files = NULL;
	a->pdir.nfiles = 0;
	pthread_mutex_destroy(&a->pdir.lock);
}
