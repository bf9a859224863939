/* mill.c - the export file's background thread: gzips rotated files and deletes the
 * backups past max_backups, so the reader never waits on compression or on the disk. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "export_internal.h"

struct mill_job {
	struct mill_job *next;
	char path[];		/* a rotated file; "" asks for recovery of an earlier run */
};

struct export_mill {
	struct export_names names;
	_Atomic unsigned int max_backups;	/* changed at run time (eventlog set) */
	bool compress;
	unsigned int perm;

	pthread_t thread;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct mill_job *head, *tail;
	bool stopping;

	_Atomic uint64_t compressed, removed, errors;
};

/* Returns false when the name does not fit (out then holds a cut name nobody will find). */
static bool backup_path(const struct export_mill *m, const char *stamp, bool gz, char *out, size_t size)
{
	int n = snprintf(out, size, "%s/%s%s%s%s", m->names.dir, m->names.prefix, stamp, m->names.ext,
			 gz ? ".gz" : "");

	return n >= 0 && (size_t)n < size;
}

static void compress_one(struct export_mill *m, const char *path)
{
	char dst[4200];
	int err;

	if (snprintf(dst, sizeof(dst), "%s.gz", path) >= (int)sizeof(dst)) {
		atomic_fetch_add(&m->errors, 1);
		return;
	}
	err = export_gzip_file(path, dst, m->perm);
	if (err == -ENOENT)
		return;		/* retention already removed it */
	if (err) {
		atomic_fetch_add(&m->errors, 1);
		pr_warn("export: cannot compress %s: %s (left uncompressed)", path, strerror(-err));
		return;
	}
	if (unlink(path) && errno != ENOENT)
		pr_warn("export: cannot remove %s after compressing it: %s", path, strerror(errno));
	atomic_fetch_add(&m->compressed, 1);
}

static int cmp_desc(const void *a, const void *b)
{
	return -strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct stamps of the backups on disk, newest first (a stamp whose compression is
 * under way exists twice: plain and .gz.tmp, which does not match). */
static size_t list_stamps(struct export_mill *m, char ***out)
{
	char stamp[EXPORT_STAMP_LEN + 1], **v = NULL, **grown;
	size_t n = 0, cap = 0, i, k;
	struct dirent *de;
	DIR *d;
	bool gz;

	*out = NULL;
	d = opendir(m->names.dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!export_names_match(&m->names, de->d_name, stamp, &gz))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown)
				break;
			v = grown;
		}
		v[n] = strdup(stamp);
		if (v[n])
			n++;
	}
	closedir(d);
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_desc);
	for (i = 1, k = 1; i < n; i++) {
		if (!strcmp(v[i], v[k - 1]))
			free(v[i]);
		else
			v[k++] = v[i];
	}
	*out = v;
	return k;
}

static void retain(struct export_mill *m)
{
	char path[4200], **stamps;
	unsigned int keep = atomic_load(&m->max_backups);
	size_t n, i;
	int g;

	if (!keep)
		return;
	n = list_stamps(m, &stamps);
	for (i = 0; i < n; i++) {
		if (i >= keep) {
			for (g = 0; g < 2; g++) {
				if (backup_path(m, stamps[i], g, path, sizeof(path)) && !unlink(path))
					atomic_fetch_add(&m->removed, 1);
			}
		}
		free(stamps[i]);
	}
	free(stamps);
}

/* After a crash: finish what an earlier run left (a plain backup whose .gz is complete
 * lost only its unlink), drop half-written .gz.tmp files, compress the rest. */
static void recover(struct export_mill *m)
{
	char path[4200], gzpath[4200], stamp[EXPORT_STAMP_LEN + 1], name[1024];
	struct dirent *de;
	size_t len;
	DIR *d;
	bool gz;

	d = opendir(m->names.dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		len = strlen(de->d_name);
		if (len > 7 && len < sizeof(name) && !strcmp(de->d_name + len - 7, ".gz.tmp")) {
			snprintf(name, sizeof(name), "%.*s", (int)(len - 4), de->d_name);
			if (export_names_match(&m->names, name, stamp, &gz)) {
				if (snprintf(path, sizeof(path), "%s/%s", m->names.dir, de->d_name) < (int)sizeof(path))
					unlink(path);
			}
			continue;
		}
		if (!m->compress || !export_names_match(&m->names, de->d_name, stamp, &gz) || gz)
			continue;
		if (!backup_path(m, stamp, false, path, sizeof(path)) || !backup_path(m, stamp, true, gzpath, sizeof(gzpath)))
			continue;
		if (!access(gzpath, F_OK))
			unlink(path);
		else
			compress_one(m, path);
	}
	closedir(d);
}

static void *run(void *arg)
{
	struct export_mill *m = arg;
	struct mill_job *job;

	pthread_mutex_lock(&m->lock);
	for (;;) {
		while (!m->head && !m->stopping)
			pthread_cond_wait(&m->cond, &m->lock);
		job = m->head;
		if (!job)
			break;		/* stopping, and the queue is done */
		m->head = job->next;
		if (!m->head)
			m->tail = NULL;
		pthread_mutex_unlock(&m->lock);
		if (!job->path[0])
			recover(m);
		else if (m->compress)
			compress_one(m, job->path);
		retain(m);
		free(job);
		pthread_mutex_lock(&m->lock);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

void export_mill_set_max_backups(struct export_mill *m, unsigned int max_backups)
{
	atomic_store(&m->max_backups, max_backups);
}

struct export_mill *export_mill_start(const struct export_names *names, unsigned int max_backups, bool compress,
				      unsigned int perm)
{
	struct export_mill *m = calloc(1, sizeof(*m));
	int err;

	if (!m)
		return NULL;
	m->names = *names;
	m->max_backups = max_backups;
	m->compress = compress;
	m->perm = perm;
	pthread_mutex_init(&m->lock, NULL);
	pthread_cond_init(&m->cond, NULL);
	err = pthread_create(&m->thread, NULL, run, m);
	if (err) {
		export_mill_stop(m);
		errno = err;
		return NULL;
	}
	m->started = true;
	return m;
}

int export_mill_push(struct export_mill *m, const char *path)
{
	size_t len = strlen(path);
	struct mill_job *job = malloc(sizeof(*job) + len + 1);

	if (!job)
		return -ENOMEM;
	job->next = NULL;
	memcpy(job->path, path, len + 1);
	pthread_mutex_lock(&m->lock);
	if (m->tail)
		m->tail->next = job;
	else
		m->head = job;
	m->tail = job;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	return 0;
}

int export_mill_recover(struct export_mill *m)
{
	return export_mill_push(m, "");
}

void export_mill_stop(struct export_mill *m)
{
	struct mill_job *job;

	if (!m)
		return;
	if (m->started) {
		pthread_mutex_lock(&m->lock);
		m->stopping = true;
		pthread_cond_signal(&m->cond);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
	}
	while ((job = m->head)) {
		m->head = job->next;
		free(job);
	}
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

uint64_t export_mill_compressed(const struct export_mill *m)
{
	return m ? atomic_load(&m->compressed) : 0;
}

uint64_t export_mill_removed(const struct export_mill *m)
{
	return m ? atomic_load(&m->removed) : 0;
}

uint64_t export_mill_errors(const struct export_mill *m)
{
	return m ? atomic_load(&m->errors) : 0;
}
