/* cri.c - pods from the node's container runtime through the CRI API: a thread lists pod
 * sandboxes and containers (ContainerStatus for the image of each new one) into an
 * immutable snapshot, sorted by container id; lookups take a reference on the current
 * snapshot under a short lock and never wait on the runtime. A lookup that misses asks for
 * a refresh (at most one a second): a container that just started is listed then.
 *
 * Field numbers are the public CRI API's (k8s.io/cri-api, package runtime.v1); see
 * tests/host/cri/cri_subset.proto for the same messages as the tests' client uses them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "containers_internal.h"

#define SVC "/runtime.v1.RuntimeService/"
/* A miss asks for a refresh; refreshes asked for come at most this often. */
#define KICK_GAP_MS 100
/* Ids a refresh did not find although they were missed before it started: containers of
 * another runtime (Podman, Docker). They ask for no more refreshes; remembered in a ring. */
#define NOT_CRI_MAX 256
#define MISSED_MAX 64

struct vigil_cri {
	char *endpoint;
	unsigned int refresh_ms, timeout_ms;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;		/* snap, kick, stop, status */
	pthread_cond_t cond;
	struct cri_snap *snap;		/* NULL until the first refresh */
	bool kick, stop;
	char missed[MISSED_MAX][VIGIL_CONTAINER_ID_MAX];	/* missed since the last refresh began */
	size_t nmissed;
	char not_cri[NOT_CRI_MAX][VIGIL_CONTAINER_ID_MAX];
	size_t not_cri_next;
	char refreshing[MISSED_MAX][VIGIL_CONTAINER_ID_MAX];	/* the thread's copy of missed */
	struct vigil_cri_status status;
	void (*listener)(void *ctx);
	void *listener_ctx;
};

/* ---- snapshots ---- */

void cri_item_free(struct cri_item *it)
{
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(it->strs); i++)
		free(it->strs[i]);
	for (i = 0; i < it->pod.nlabels; i++) {
		free((char *)it->labels[i].key);
		free((char *)it->labels[i].value);
	}
	free(it->labels);
	free(it->pod_sandbox_id);
}

void cri_snap_put(struct cri_snap *s)
{
	size_t i;

	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	for (i = 0; i < s->n; i++)
		cri_item_free(&s->items[i]);
	free(s->items);
	free(s->runtime);
	free(s);
}

void vigil_pod__put(const struct vigil_pod *pod)
{
	if (pod)
		cri_snap_put((struct cri_snap *)pod->owner_);
}

static int by_id(const void *a, const void *b)
{
	return strcmp(((const struct cri_item *)a)->pod.container_id, ((const struct cri_item *)b)->pod.container_id);
}

static struct cri_item *snap_find(const struct cri_snap *s, const char *id)
{
	struct cri_item key = { .pod.container_id = id };

	return s && s->n ? bsearch(&key, s->items, s->n, sizeof(*s->items), by_id) : NULL;
}

/* ---- decoding the answers ---- */

struct sandbox {
	char *id, *name, *uid, *namespace_;
	struct vigil_pod_label *labels;
	size_t nlabels;
};

static void sandbox_free(struct sandbox *sb)
{
	size_t i;

	free(sb->id);
	free(sb->name);
	free(sb->uid);
	free(sb->namespace_);
	for (i = 0; i < sb->nlabels; i++) {
		free((char *)sb->labels[i].key);
		free((char *)sb->labels[i].value);
	}
	free(sb->labels);
}

/* A string field into *out (replacing it). */
static int take_str(const struct pb_field *f, char **out)
{
	char *s;

	if (f->wire != 2)
		return -EBADMSG;
	s = pb_strdup(f);
	if (!s)
		return -ENOMEM;
	free(*out);
	*out = s;
	return 0;
}

/* The string field num of a nested message. */
static int sub_str(const struct pb_field *f, uint32_t num, char **out)
{
	struct pb_reader r;
	struct pb_field g;
	int ret;

	if (f->wire != 2)
		return -EBADMSG;
	r = pb_reader_of(f->data, f->len);
	while ((ret = pb_next(&r, &g)) == 1)
		if (g.num == num && (ret = take_str(&g, out)))
			return ret;
	return ret;
}

/* A map<string,string> entry: key = 1, value = 2. */
static int add_label(const struct pb_field *f, struct vigil_pod_label **labels, size_t *n)
{
	char *key = NULL, *value = NULL;
	struct vigil_pod_label *grown;
	int ret;

	ret = sub_str(f, 1, &key);
	if (!ret)
		ret = sub_str(f, 2, &value);
	if (!ret) {
		grown = realloc(*labels, (*n + 1) * sizeof(**labels));
		if (grown) {
			*labels = grown;
			grown[(*n)++] = (struct vigil_pod_label){ key ? key : strdup(""), value ? value : strdup("") };
			return 0;
		}
		ret = -ENOMEM;
	}
	free(key);
	free(value);
	return ret;
}

/* PodSandbox {id 1, metadata 2 {name 1, uid 2, namespace 3}, labels 5} */
static int parse_sandbox(const struct pb_field *f, struct sandbox *sb)
{
	struct pb_reader r = pb_reader_of(f->data, f->len);
	struct pb_field g;
	int ret;

	while ((ret = pb_next(&r, &g)) == 1) {
		if (g.num == 1)
			ret = take_str(&g, &sb->id);
		else if (g.num == 2)
			ret = sub_str(&g, 1, &sb->name) ?: sub_str(&g, 2, &sb->uid) ?: sub_str(&g, 3, &sb->namespace_);
		else if (g.num == 5)
			ret = add_label(&g, &sb->labels, &sb->nlabels);
		else
			continue;
		if (ret)
			return ret;
	}
	return ret;
}

struct ctr {
	char *id, *sandbox, *name, *image, *image_ref;
	uint64_t created;
};

/* Container {id 1, pod_sandbox_id 2, metadata 3 {name 1}, image 4 {image 1}, image_ref 5,
 * created_at 7} */
static int parse_container(const struct pb_field *f, struct ctr *c)
{
	struct pb_reader r = pb_reader_of(f->data, f->len);
	struct pb_field g;
	int ret;

	while ((ret = pb_next(&r, &g)) == 1) {
		if (g.num == 1)
			ret = take_str(&g, &c->id);
		else if (g.num == 2)
			ret = take_str(&g, &c->sandbox);
		else if (g.num == 3)
			ret = sub_str(&g, 1, &c->name);
		else if (g.num == 4)
			ret = sub_str(&g, 1, &c->image);
		else if (g.num == 5)
			ret = take_str(&g, &c->image_ref);
		else if (g.num == 7 && g.wire == 0)
			ret = (c->created = g.v, 0);
		else
			continue;
		if (ret)
			return ret;
	}
	return ret;
}

/* ContainerStatusResponse {status 1 {image 8 {image 1}, image_ref 9, started_at 5}}: the
 * image as the pod spec named it (the list names it by id). */
static int container_status(struct vigil_cri *cri, struct ctr *c, char *err, size_t err_size)
{
	struct vigil_buf req = { 0 }, resp = { 0 };
	struct pb_reader r, rs;
	struct pb_field f, g;
	uint8_t hdr[2] = { 0x0a, (uint8_t)strlen(c->id) };
	int ret, rc = 0;

	if (strlen(c->id) > 127)
		return -EINVAL;
	ret = vigil_buf_append(&req, hdr, 2) ?: vigil_buf_append(&req, c->id, strlen(c->id));
	if (!ret)
		ret = cri_grpc_call(cri->endpoint, SVC "ContainerStatus", req.data, req.len, &resp, (int)cri->timeout_ms,
				    err, err_size);
	r = pb_reader_of(resp.data, resp.len);
	while (!ret && (rc = pb_next(&r, &f)) == 1) {
		if (f.num != 1 || f.wire != 2)
			continue;
		rs = pb_reader_of(f.data, f.len);
		while (!ret && (rc = pb_next(&rs, &g)) == 1) {
			if (g.num == 8)
				ret = sub_str(&g, 1, &c->image);
			else if (g.num == 9)
				ret = take_str(&g, &c->image_ref);
			else if (g.num == 5 && g.wire == 0 && g.v)
				c->created = g.v;
		}
		if (!ret && rc < 0)
			ret = rc;
	}
	if (!ret && rc < 0)
		ret = rc;
	vigil_buf_free(&req);
	vigil_buf_free(&resp);
	return ret < 0 ? ret : 0;
}

/* ---- building a snapshot ---- */

static bool kubelet_label(const char *key)
{
	return !strncmp(key, "io.kubernetes.", 14);
}

static const char *label(const struct sandbox *sb, const char *key)
{
	size_t i;

	for (i = 0; i < sb->nlabels; i++)
		if (!strcmp(sb->labels[i].key, key))
			return sb->labels[i].value;
	return NULL;
}

/* The owner a pod's name and labels show: a Deployment's ReplicaSet names its pods
 * <deployment>-<pod-template-hash>-<suffix>; a StatefulSet's are <set>-<ordinal>. */
static void workload_of(const struct sandbox *sb, char **workload, const char **kind)
{
	const char *hash = label(sb, "pod-template-hash"), *name = sb->name ? sb->name : "";
	char *w = NULL, *dash;
	size_t hl;

	*kind = "Pod";
	if (hash && (hl = strlen(hash)) && (dash = strstr(name, hash)) && dash > name && dash[-1] == '-' &&
	    dash[hl] == '-') {
		w = strndup(name, (size_t)(dash - 1 - name));
		*kind = "Deployment";
	} else if (label(sb, "statefulset.kubernetes.io/pod-name") && (dash = strrchr(name, '-')) && dash > name) {
		w = strndup(name, (size_t)(dash - name));
		*kind = "StatefulSet";
	}
	*workload = w ? w : strdup(name);
}

static int item_fill(struct cri_item *it, const char *runtime, const struct ctr *c, const struct sandbox *sb)
{
	const char *kind;
	size_t i, nlabels;

	it->strs[0] = strdup(c->id);
	it->strs[1] = strdup(c->name ? c->name : "");
	it->strs[2] = strdup(c->image ? c->image : "");
	it->strs[3] = strdup(c->image_ref ? c->image_ref : "");
	it->strs[4] = strdup(sb->name ? sb->name : "");
	it->strs[5] = strdup(sb->namespace_ ? sb->namespace_ : "");
	it->strs[6] = strdup(sb->uid ? sb->uid : "");
	workload_of(sb, &it->strs[7], &kind);
	it->strs[8] = strdup(runtime);
	it->pod_sandbox_id = strdup(sb->id);
	for (i = 0; i < 9; i++)
		if (!it->strs[i])
			return -ENOMEM;
	it->labels = calloc(sb->nlabels ? sb->nlabels : 1, sizeof(*it->labels));
	if (!it->labels || !it->pod_sandbox_id)
		return -ENOMEM;
	for (i = 0; i < sb->nlabels; i++) {
		if (kubelet_label(sb->labels[i].key))
			continue;
		it->labels[it->pod.nlabels].key = strdup(sb->labels[i].key);
		it->labels[it->pod.nlabels].value = strdup(sb->labels[i].value);
		it->pod.nlabels++;
		if (!it->labels[it->pod.nlabels - 1].key || !it->labels[it->pod.nlabels - 1].value)
			return -ENOMEM;
	}
	nlabels = it->pod.nlabels;
	it->pod = (struct vigil_pod){
		.runtime = it->strs[8], .container_id = it->strs[0], .container_name = it->strs[1],
		.image_name = it->strs[2], .image_id = it->strs[3], .start_time = c->created,
		.name = it->strs[4], .namespace_ = it->strs[5], .uid = it->strs[6], .workload = it->strs[7],
		.workload_kind = kind, .labels = it->labels, .nlabels = nlabels,
	};
	return 0;
}

/* VersionResponse {runtime_name 2, runtime_version 3} */
static int version(struct vigil_cri *cri, char **name, char *err, size_t err_size)
{
	struct vigil_buf resp = { 0 };
	char *ver = NULL;
	struct pb_reader r;
	struct pb_field f;
	int ret, rc = 0;

	ret = cri_grpc_call(cri->endpoint, SVC "Version", "", 0, &resp, (int)cri->timeout_ms, err, err_size);
	r = pb_reader_of(resp.data, resp.len);
	while (!ret && (rc = pb_next(&r, &f)) == 1) {
		if (f.num == 2)
			ret = take_str(&f, name);
		else if (f.num == 3)
			ret = take_str(&f, &ver);
	}
	if (!ret && rc < 0)
		ret = rc;
	if (ret >= 0 && !*name)
		ret = -EPROTO;
	if (ret >= 0) {
		pthread_mutex_lock(&cri->lock);
		snprintf(cri->status.runtime, sizeof(cri->status.runtime), "%s %s", *name, ver ? ver : "");
		pthread_mutex_unlock(&cri->lock);
	}
	free(ver);
	vigil_buf_free(&resp);
	return ret < 0 ? ret : 0;
}

static int list(struct vigil_cri *cri, const char *method, struct vigil_buf *resp, char *err, size_t err_size)
{
	return cri_grpc_call(cri->endpoint, method, "", 0, resp, (int)cri->timeout_ms, err, err_size);
}

static struct cri_snap *current(struct vigil_cri *cri)
{
	struct cri_snap *s;

	pthread_mutex_lock(&cri->lock);
	s = cri->snap;
	if (s)
		atomic_fetch_add(&s->refs, 1);
	pthread_mutex_unlock(&cri->lock);
	return s;
}

/* A zeroed item appended to s (counted in s->n, so snap_put frees what it holds); NULL: ENOMEM. */
static struct cri_item *snap_add(struct cri_snap *s)
{
	struct cri_item *grown;

	if (s->n == s->cap) {
		grown = realloc(s->items, (s->cap ? 2 * s->cap : 64) * sizeof(*s->items));
		if (!grown)
			return NULL;
		s->items = grown;
		s->cap = s->cap ? 2 * s->cap : 64;
	}
	memset(&s->items[s->n], 0, sizeof(*s->items));
	return &s->items[s->n++];
}

/* ListPodSandboxResponse {items 1} into *sbs (the caller frees them, even on error). */
static int read_sandboxes(const struct vigil_buf *pods, struct sandbox **sbs, size_t *nsb)
{
	struct pb_reader r = pb_reader_of(pods->data, pods->len);
	struct pb_field f;
	int ret = 0, rc = 0;

	while (!ret && (rc = pb_next(&r, &f)) == 1) {
		struct sandbox *grown;

		if (f.num != 1 || f.wire != 2)
			continue;
		grown = realloc(*sbs, (*nsb + 1) * sizeof(**sbs));
		if (!grown)
			return -ENOMEM;
		*sbs = grown;
		memset(&grown[*nsb], 0, sizeof(**sbs));
		ret = parse_sandbox(&f, &grown[(*nsb)++]);
		if (!ret && !grown[*nsb - 1].id)
			ret = -EBADMSG;
	}
	return ret ? ret : rc < 0 ? rc : 0;
}

/* The running refresh: the snapshot it builds, the one it replaces, the pods read. */
struct refresh {
	struct vigil_cri *cri;
	struct cri_snap *s, *old;
	struct sandbox *sbs;
	size_t nsb;
	char err[256];
};

static const struct sandbox *sandbox_of(const struct refresh *rf, const char *id)
{
	size_t i;

	for (i = 0; id && i < rf->nsb; i++)
		if (!strcmp(rf->sbs[i].id, id))
			return &rf->sbs[i];
	return NULL;
}

/* One container of a known pod into the snapshot; its image name comes from ContainerStatus,
 * once per container (the previous snapshot remembers it). */
static int add_container(struct refresh *rf, struct ctr *c, const struct sandbox *sb)
{
	struct cri_item *known = rf->old ? snap_find(rf->old, c->id) : NULL, *it;

	if (known) {
		free(c->image);
		free(c->image_ref);
		c->image = strdup(known->pod.image_name);
		c->image_ref = strdup(known->pod.image_id);
		c->created = known->pod.start_time;
	} else if (container_status(rf->cri, c, rf->err, sizeof(rf->err)) == -ENOMEM) {
		return -ENOMEM;
	} else {
		/* gone since the list (or no status): the list's image id stands in */
		rf->err[0] = '\0';
	}
	it = snap_add(rf->s);
	return it ? item_fill(it, rf->s->runtime, c, sb) : -ENOMEM;
}

/* ListContainersResponse {containers 1}: the containers of known pods into the snapshot. */
static int read_containers(struct refresh *rf, const struct vigil_buf *ctrs)
{
	struct pb_reader r = pb_reader_of(ctrs->data, ctrs->len);
	struct pb_field f;
	struct ctr c;
	int ret = 0, rc = 0;

	while (!ret && (rc = pb_next(&r, &f)) == 1) {
		const struct sandbox *sb;

		if (f.num != 1 || f.wire != 2)
			continue;
		memset(&c, 0, sizeof(c));
		ret = parse_container(&f, &c);
		sb = ret ? NULL : sandbox_of(rf, c.sandbox);
		if (!ret && c.id && sb)
			ret = add_container(rf, &c, sb);
		free(c.id);
		free(c.sandbox);
		free(c.name);
		free(c.image);
		free(c.image_ref);
	}
	return ret ? ret : rc < 0 ? rc : 0;
}

/* The sandboxes too: a pod's pause process runs in the sandbox's own cgroup. Then the items
 * sorted for lookups (their pods' pointers go to heap copies, so moving them is safe). */
static int add_sandboxes(struct refresh *rf)
{
	struct cri_snap *s = rf->s;
	struct cri_item *it;
	struct ctr c;
	size_t i;
	int ret;

	for (i = 0; i < rf->nsb; i++) {
		memset(&c, 0, sizeof(c));
		c.id = rf->sbs[i].id;
		it = snap_add(s);
		ret = it ? item_fill(it, s->runtime, &c, &rf->sbs[i]) : -ENOMEM;
		if (ret)
			return ret;
	}
	for (i = 0; i < s->n; i++)
		s->items[i].pod.owner_ = s;
	qsort(s->items, s->n, sizeof(*s->items), by_id);
	return 0;
}

/* The refresh's outcome into the status; on success its snapshot replaces the old one and the
 * listener hears of it. Takes rf->s and rf->old. */
static void publish(struct refresh *rf, int ret)
{
	struct vigil_cri *cri = rf->cri;
	struct cri_snap *gone;
	void (*listener)(void *ctx);
	void *listener_ctx;

	pthread_mutex_lock(&cri->lock);
	cri->status.refreshes++;
	cri->status.connected = !ret;
	if (ret) {
		cri->status.failures++;
		snprintf(cri->status.error, sizeof(cri->status.error), "%s", rf->err[0] ? rf->err : strerror(-ret));
		gone = rf->s;
	} else {
		cri->status.error[0] = '\0';
		cri->status.pods = rf->s->pods;
		cri->status.containers = rf->s->n - rf->s->pods;
		gone = cri->snap;
		cri->snap = rf->s;
	}
	listener = ret ? NULL : cri->listener;
	listener_ctx = cri->listener_ctx;
	pthread_mutex_unlock(&cri->lock);
	cri_snap_put(gone);
	cri_snap_put(rf->old);
	if (listener)
		listener(listener_ctx);
}

int vigil_cri__refresh(struct vigil_cri *cri)
{
	struct refresh rf = { .cri = cri, .old = current(cri) };
	struct vigil_buf pods = { 0 }, ctrs = { 0 };
	size_t i;
	int ret;

	rf.s = calloc(1, sizeof(*rf.s));
	if (!rf.s) {
		ret = -ENOMEM;
		goto out;
	}
	atomic_init(&rf.s->refs, 1);
	ret = version(cri, &rf.s->runtime, rf.err, sizeof(rf.err));
	if (!ret)
		ret = list(cri, SVC "ListPodSandbox", &pods, rf.err, sizeof(rf.err));
	if (!ret)
		ret = list(cri, SVC "ListContainers", &ctrs, rf.err, sizeof(rf.err));
	if (!ret)
		ret = read_sandboxes(&pods, &rf.sbs, &rf.nsb);
	rf.s->pods = rf.nsb;
	if (!ret)
		ret = read_containers(&rf, &ctrs);
	if (!ret)
		ret = add_sandboxes(&rf);
out:
	publish(&rf, ret);
	for (i = 0; i < rf.nsb; i++)
		sandbox_free(&rf.sbs[i]);
	free(rf.sbs);
	vigil_buf_free(&pods);
	vigil_buf_free(&ctrs);
	return ret;
}

/* ---- the thread and the lookups ---- */

static bool id_in(const char (*ids)[VIGIL_CONTAINER_ID_MAX], size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return true;
	return false;
}

/* Under lock, after a refresh that began with missed[0..n): what it did not find is not a
 * container of this runtime. */
static void learn_not_cri(struct vigil_cri *cri, char (*missed)[VIGIL_CONTAINER_ID_MAX], size_t n)
{
	size_t i;

	for (i = 0; cri->status.connected && i < n; i++) {
		if (snap_find(cri->snap, missed[i]) || id_in(cri->not_cri, NOT_CRI_MAX, missed[i]))
			continue;
		memcpy(cri->not_cri[cri->not_cri_next], missed[i], VIGIL_CONTAINER_ID_MAX);
		cri->not_cri_next = (cri->not_cri_next + 1) % NOT_CRI_MAX;
	}
}

static void *cri_thread(void *arg)
{
	struct vigil_cri *cri = arg;
	char (*missed)[VIGIL_CONTAINER_ID_MAX] = cri->refreshing;
	struct timespec until;
	size_t nmissed;

	pthread_mutex_lock(&cri->lock);
	while (!cri->stop) {
		nmissed = cri->nmissed;
		memcpy(missed, cri->missed, nmissed * sizeof(missed[0]));
		cri->nmissed = 0;
		cri->kick = false;
		pthread_mutex_unlock(&cri->lock);
		vigil_cri__refresh(cri);
		pthread_mutex_lock(&cri->lock);
		learn_not_cri(cri, missed, nmissed);
		/* the next asked-for refresh waits out the gap */
		pthread_mutex_unlock(&cri->lock);
		nanosleep(&(struct timespec){ 0, KICK_GAP_MS * 1000000L }, NULL);
		pthread_mutex_lock(&cri->lock);
		clock_gettime(CLOCK_MONOTONIC, &until);
		until.tv_sec += cri->refresh_ms / 1000;
		until.tv_nsec += (long)(cri->refresh_ms % 1000) * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		while (!cri->stop && !cri->kick)
			if (pthread_cond_timedwait(&cri->cond, &cri->lock, &until) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&cri->lock);
	return NULL;
}

struct vigil_cri *vigil_cri__new(const struct vigil_cri_opts *opts)
{
	const char *ep = opts && opts->endpoint && opts->endpoint[0] ? opts->endpoint : VIGIL_CRI_DEFAULT_ENDPOINT;
	struct vigil_cri *cri;
	pthread_condattr_t ca;
	int err;

	if (!strncmp(ep, "unix://", 7))
		ep += 7;
	if (ep[0] != '/') {
		errno = EINVAL;
		return NULL;
	}
	cri = calloc(1, sizeof(*cri));
	if (!cri)
		return NULL;
	cri->endpoint = strdup(ep);
	cri->refresh_ms = opts && opts->refresh_ms ? opts->refresh_ms : 5000;
	cri->timeout_ms = opts && opts->timeout_ms ? opts->timeout_ms : 2000;
	pthread_mutex_init(&cri->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&cri->cond, &ca);
	pthread_condattr_destroy(&ca);
	snprintf(cri->status.error, sizeof(cri->status.error), "not asked yet");
	if (!cri->endpoint) {
		err = ENOMEM;
		goto err_out;
	}
	err = pthread_create(&cri->thread, NULL, cri_thread, cri);
	if (err)
		goto err_out;
	cri->started = true;
	return cri;

err_out:
	vigil_cri__free(cri);
	errno = err;
	return NULL;
}

void vigil_cri__free(struct vigil_cri *cri)
{
	if (!cri)
		return;
	if (cri->started) {
		pthread_mutex_lock(&cri->lock);
		cri->stop = true;
		pthread_cond_signal(&cri->cond);
		pthread_mutex_unlock(&cri->lock);
		pthread_join(cri->thread, NULL);
	}
	cri_snap_put(cri->snap);
	pthread_cond_destroy(&cri->cond);
	pthread_mutex_destroy(&cri->lock);
	free(cri->endpoint);
	free(cri);
}

const struct vigil_pod *vigil_cri__get(struct vigil_cri *cri, const char *container_id)
{
	struct cri_item *it;

	pthread_mutex_lock(&cri->lock);
	cri->status.lookups++;
	it = snap_find(cri->snap, container_id);
	if (it) {
		atomic_fetch_add(&cri->snap->refs, 1);
	} else {
		cri->status.unknown++;
		if (!id_in(cri->not_cri, NOT_CRI_MAX, container_id) && !id_in(cri->missed, cri->nmissed, container_id)) {
			if (cri->nmissed < MISSED_MAX && strlen(container_id) < VIGIL_CONTAINER_ID_MAX)
				strcpy(cri->missed[cri->nmissed++], container_id);
			cri->kick = true;
			pthread_cond_signal(&cri->cond);
		}
	}
	pthread_mutex_unlock(&cri->lock);
	return it ? &it->pod : NULL;
}

bool vigil_cri__knows(struct vigil_cri *cri, const char *container_id)
{
	bool known;

	pthread_mutex_lock(&cri->lock);
	known = snap_find(cri->snap, container_id) != NULL;
	pthread_mutex_unlock(&cri->lock);
	return known;
}

size_t vigil_cri__each(struct vigil_cri *cri, vigil_pod_fn fn, void *ctx)
{
	struct cri_snap *s = current(cri);
	size_t i, n = s ? s->n : 0;

	for (i = 0; i < n; i++)
		fn(ctx, &s->items[i].pod);
	cri_snap_put(s);
	return n;
}

void vigil_cri__set_listener(struct vigil_cri *cri, void (*fn)(void *ctx), void *ctx)
{
	pthread_mutex_lock(&cri->lock);
	cri->listener = fn;
	cri->listener_ctx = ctx;
	pthread_mutex_unlock(&cri->lock);
}

void vigil_cri__status(struct vigil_cri *cri, struct vigil_cri_status *out)
{
	pthread_mutex_lock(&cri->lock);
	*out = cri->status;
	pthread_mutex_unlock(&cri->lock);
}
