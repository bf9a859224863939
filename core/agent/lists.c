/* lists.c - what is added to the kernel lists at run time, by a rule's deny() or by the
 * operator (vigil tracingpolicy add-value): who added it, on what evidence, until when.
 *
 * A rule acts on what unprivileged users do, so its deny() is checked here before the kernel
 * sees it. A binary is denied by identity, through a "files" list: the file the evidence
 * process ran (device and inode, as the kernel recorded them at exec), never the path, so a
 * later file at that path is not hit and a path cannot be aimed at another file. The agent
 * refuses to let a rule deny a file that its process's user does not own, a root-owned file in
 * a system directory or with other links, a path under --deny-protect, or a path string into
 * a values list; --deny-system-files lifts the ownership and system checks, never
 * --deny-protect. Every entry expires (--deny-ttl), and every change is a rule_action event. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent_internal.h"

#define LIST_ENTRIES_MAX 4096		/* entries the agent tracks; the kernel maps hold 1024 each */
#define OPERATOR "operator"

/* Directories whose root-owned files belong to the system, not to any user's behaviour. */
static const char *const system_dirs[] = {
	"/usr/", "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/", "/etc/", "/boot/", "/opt/",
	"/var/lib/", "/snap/",
};

struct list_entry {
	struct list_entry *next;
	char list[64];
	char *value;			/* the path, for a files list */
	bool is_file;
	struct vigil_file_id file;
	char *by;			/* the rule, or "operator" */
	bool has_cause;
	uint32_t cause_uid;
	char evidence[VIGIL_EXEC_ID_MAX];	/* the evidence process's exec_id, "" none */
	uint64_t added;			/* wall-clock ns */
	uint64_t expires;		/* wall-clock ns, 0 never */
};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static bool under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n))
		return false;
	/* "/opt/app" protects "/opt/app" and "/opt/app/x", not "/opt/apple" */
	return prefix[n - 1] == '/' || path[n] == '\0' || path[n] == '/';
}

static const char *protected_prefix(const struct vigil_agent *a, const char *path)
{
	size_t i;

	for (i = 0; i < a->opts.ndeny_protect; i++)
		if (a->opts.deny_protect[i][0] && under(path, a->opts.deny_protect[i]))
			return a->opts.deny_protect[i];
	return NULL;
}

static bool in_system_dir(const char *path)
{
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(system_dirs); i++)
		if (under(path, system_dirs[i]))
			return true;
	return false;
}

static void entry_free(struct list_entry *e)
{
	if (!e)
		return;
	free(e->value);
	free(e->by);
	free(e);
}

static bool same_value(const struct list_entry *e, const char *list, bool is_file, const char *value,
		       const struct vigil_file_id *file)
{
	if (strcmp(e->list, list) || e->is_file != is_file)
		return false;
	if (is_file)
		return e->file.dev == file->dev && e->file.ino == file->ino;
	return !strcmp(e->value, value);
}

static uint64_t expiry(const struct vigil_agent *a, uint64_t now, int64_t ttl_s)
{
	if (ttl_s < 0)
		ttl_s = a->opts.deny_ttl_s;	/* the default */
	return ttl_s ? now + (uint64_t)ttl_s * 1000000000ULL : 0;
}

/* Record (or refresh) an entry; under lists_lock. 0 or -ENOMEM / -ENOSPC. */
static int remember(struct vigil_agent *a, const struct list_entry *proto)
{
	struct list_entry *e;

	for (e = a->list_entries; e; e = e->next) {
		if (!same_value(e, proto->list, proto->is_file, proto->value, &proto->file))
			continue;
		e->expires = proto->expires;	/* the latest addition decides */
		return 0;
	}
	if (a->nlist_entries >= LIST_ENTRIES_MAX)
		return -ENOSPC;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	*e = *proto;
	e->value = strdup(proto->value);
	e->by = strdup(proto->by);
	if (!e->value || !e->by) {
		entry_free(e);
		return -ENOMEM;
	}
	e->next = a->list_entries;
	a->list_entries = e;
	a->nlist_entries++;
	return 0;
}

/* Take e's value out of the kernel maps; the number of maps it left or -errno. */
static int forget(struct vigil_agent *a, const struct list_entry *e)
{
	return e->is_file ? vigil_sensors__list_remove_file(a->sensors, e->list, &e->file)
			  : vigil_sensors__list_remove(a->sensors, e->list, e->value);
}

/* Add e's value to the kernel maps and record it; the number of maps or -errno, with
 * nothing left behind on failure. */
static int add_entry(struct vigil_agent *a, const struct list_entry *e)
{
	int rc, err;

	pthread_mutex_lock(&a->lists_lock);
	rc = e->is_file ? vigil_sensors__list_add_file(a->sensors, e->list, &e->file)
			: vigil_sensors__list_add(a->sensors, e->list, e->value);
	if (rc > 0) {
		err = remember(a, e);
		if (err) {
			forget(a, e);
			rc = err;
		}
	}
	pthread_mutex_unlock(&a->lists_lock);
	return rc;
}

/* An event for a change of a list by the operator or by expiry. */
static void emit_change(struct vigil_agent *a, const char *by, const char *action, const struct list_entry *e,
			int maps, int err, const char *reason)
{
	struct vigil_event ev = { .type = VIGIL_EVENT_RULE_ACTION, .time = wall_ns() };
	const char *ids[1] = { e->evidence };

	ev.rule_action.rule = by;
	ev.rule_action.action = action;
	ev.rule_action.list = e->list;
	ev.rule_action.value = e->value;
	ev.rule_action.file = e->is_file ? &e->file : NULL;
	ev.rule_action.maps = maps > 0 ? (uint32_t)maps : 0;
	ev.rule_action.error = err;
	ev.rule_action.reason = reason;
	ev.rule_action.cause_uid = e->has_cause ? &e->cause_uid : NULL;
	ev.rule_action.expires = e->expires;
	ev.rule_action.exec_ids = ids;
	ev.rule_action.nexec_ids = e->evidence[0] ? 1 : 0;
	ev.node_name = a->node_name;
	agent_dispatch(a, &ev);
}

/* The same from the control thread: the sinks (and the export's process-tree filters)
 * belong to whoever holds the pipeline lock. */
static void emit_change_from_control(struct vigil_agent *a, const char *action, const struct list_entry *e, int maps,
				     int err)
{
	pthread_mutex_lock(&a->pipe_lock);
	emit_change(a, OPERATOR, action, e, maps, err, NULL);
	pthread_mutex_unlock(&a->pipe_lock);
}

/* Why a rule may not deny the evidence process's binary, or NULL when it may. */
static const char *deny_file_refusal(const struct vigil_agent *a, const struct vigil_deny_request *req,
				     char *why, size_t size)
{
	const struct vigil_process *p = req->process;
	const char *prefix;

	if (!p || !p->file.dev) {
		snprintf(why, size, "the evidence names no process whose executed file is known");
		return why;
	}
	if (strcmp(req->value, p->binary)) {
		snprintf(why, size, "a files list takes the binary the evidence process ran (%s), not another path",
			 p->binary);
		return why;
	}
	prefix = protected_prefix(a, p->binary);
	if (prefix) {
		snprintf(why, size, "%s is under %s, protected by --deny-protect", p->binary, prefix);
		return why;
	}
	if (a->opts.deny_system_files)
		return NULL;
	if (p->file.uid == 0 && in_system_dir(p->binary)) {
		snprintf(why, size, "%s is a root-owned file in a system directory (--deny-system-files allows it)",
			 p->binary);
		return why;
	}
	if (p->file.uid == 0 && p->file.nlink > 1) {
		snprintf(why, size, "%s is a root-owned file with %u links: it may be a system binary elsewhere "
			 "(--deny-system-files allows it)", p->binary, p->file.nlink);
		return why;
	}
	if (p->file.uid != p->creds.uid) {
		snprintf(why, size, "%s is owned by uid %u, not by uid %u whose process ran it: a user's behaviour "
			 "denies only that user's files (--deny-system-files allows it)", p->binary, p->file.uid,
			 p->creds.uid);
		return why;
	}
	return NULL;
}

int agent_lists_deny(struct vigil_agent *a, const struct vigil_deny_request *req, struct vigil_deny_outcome *out)
{
	struct list_entry e = { 0 };
	int type, rc;

	type = vigil_sensors__list_type(a->sensors, req->list);
	if (type < 0) {
		snprintf(out->reason, sizeof(out->reason), "no loaded policy uses list \"%s\"", req->list);
		return type;
	}
	if (type == VIGIL_LIST_FILES) {
		if (deny_file_refusal(a, req, out->reason, sizeof(out->reason)))
			return -EPERM;
		e.is_file = true;
		e.file = req->process->file;
	} else if (req->value[0] == '/') {
		snprintf(out->reason, sizeof(out->reason), "a path in a values list matches whatever file is at it "
			 "later: deny a binary through a files list");
		return -EPERM;
	}
	snprintf(e.list, sizeof(e.list), "%s", req->list);
	e.value = (char *)req->value;
	e.by = (char *)req->rule;
	if (req->process) {
		e.has_cause = true;
		e.cause_uid = req->process->creds.uid;
		snprintf(e.evidence, sizeof(e.evidence), "%s", req->process->exec_id);
	}
	e.added = wall_ns();
	e.expires = expiry(a, e.added, -1);

	rc = add_entry(a, &e);
	if (rc < 0) {
		snprintf(out->reason, sizeof(out->reason), "list %s: %s", req->list, strerror(-rc));
		return rc;
	}
	out->expires = e.expires;
	out->has_file = e.is_file;
	out->file = e.file;
	return rc;
}

/* What take() unlinks: entries past their expiry, or those naming a value of a list. */
struct entry_match {
	uint64_t now;			/* expired at this wall time, or: */
	const char *list, *value;	/* the value, path or "major:minor:inode" of list */
};

static bool matches(const struct list_entry *e, const struct entry_match *m)
{
	char ident[64];

	if (!m->list)
		return e->expires && e->expires <= m->now;
	if (strcmp(e->list, m->list))
		return false;
	snprintf(ident, sizeof(ident), "%u:%u:%" PRIu64, e->file.dev >> 20, e->file.dev & 0xfffff, e->file.ino);
	return !strcmp(e->value, m->value) || (e->is_file && !strcmp(ident, m->value));
}

/* Unlink the matching entries into a list of their own. The caller takes them out of the
 * kernel and reports them outside lists_lock: a dispatch may reach the rules, whose deny()
 * takes it. */
static struct list_entry *take(struct vigil_agent *a, const struct entry_match *m)
{
	struct list_entry *gone = NULL, **pe, *e;

	pthread_mutex_lock(&a->lists_lock);
	for (pe = &a->list_entries; (e = *pe);) {
		if (!matches(e, m)) {
			pe = &e->next;
			continue;
		}
		*pe = e->next;
		a->nlist_entries--;
		e->next = gone;
		gone = e;
	}
	pthread_mutex_unlock(&a->lists_lock);
	return gone;
}

/* On the reader, under the pipeline lock. */
void agent_lists_expire(struct vigil_agent *a)
{
	struct entry_match m = {.now = wall_ns()};
	struct list_entry *gone = take(a, &m), *e;

	while ((e = gone)) {
		int rc = forget(a, e);

		gone = e->next;
		emit_change(a, e->by, "expire", e, rc, rc < 0 ? -rc : 0, "the entry's time to live ran out");
		entry_free(e);
	}
}

void agent_lists_free(struct vigil_agent *a)
{
	struct list_entry *e;

	while ((e = a->list_entries)) {
		a->list_entries = e->next;
		entry_free(e);
	}
	a->nlist_entries = 0;
}

/* ---- control commands ---- */

/* "ttl": seconds (0: never expires); absent: the agent's default. -1 for the default. */
static int request_ttl(const msgpack_object *req, int64_t *ttl)
{
	const msgpack_object *o = ctl_get(req, "ttl");

	*ttl = -1;
	if (!o)
		return 0;
	if (o->type != MSGPACK_OBJECT_POSITIVE_INTEGER || o->via.u64 > 10ULL * 365 * 86400)
		return -EINVAL;
	*ttl = (int64_t)o->via.u64;
	return 0;
}

/* {"cmd": "policy_list_add", "list": "denied-binaries", "value": "/tmp/xmrig", "ttl": 3600}: a
 * files list takes the file at the path now */
int agent_policy_list_add(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct list_entry e = { .by = OPERATOR };
	char value[4096], msg[4096 + 256];
	struct stat st;
	int64_t ttl;
	int type, rc;

	if (ctl_get_str(req, "list", e.list, sizeof(e.list)) || ctl_get_str(req, "value", value, sizeof(value)) ||
	    request_ttl(req, &ttl)) {
		ctl_pack_error(pk, "policy_list_add needs \"list\", \"value\" and an optional \"ttl\" in seconds");
		return 0;
	}
	e.value = value;
	type = vigil_sensors__list_type(a->sensors, e.list);
	if (type < 0) {
		snprintf(msg, sizeof(msg), "no loaded policy uses list \"%s\"", e.list);
		ctl_pack_error(pk, msg);
		return 0;
	}
	if (type == VIGIL_LIST_FILES) {
		if (stat(value, &st)) {
			snprintf(msg, sizeof(msg), "list %s is a files list: cannot stat %s: %s", e.list, value,
				 strerror(errno));
			ctl_pack_error(pk, msg);
			return 0;
		}
		e.is_file = true;
		e.file = (struct vigil_file_id){
			.dev = vigil_dev_to_kernel(st.st_dev),
			.uid = st.st_uid,
			.ino = st.st_ino,
			.mode = st.st_mode,
			.nlink = (uint32_t)st.st_nlink,
		};
	}
	e.added = wall_ns();
	e.expires = expiry(a, e.added, ttl);
	rc = add_entry(a, &e);
	if (rc < 0) {
		snprintf(msg, sizeof(msg), "list %s: %s", e.list, strerror(-rc));
		ctl_pack_error(pk, msg);
		return 0;
	}
	emit_change_from_control(a, "add_value", &e, rc, 0);
	ctl_pack_ok(pk);
	return 0;
}

/* {"cmd": "policy_list_remove", "list": L, "value": V}: V is a value, or for a files list the
 * path an entry was added under, or "device:inode" ("8:1:1234") */
int agent_policy_list_remove(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	char list[64], value[4096], msg[4096 + 256];
	struct entry_match m = {.list = list, .value = value};
	struct list_entry *gone, *e;
	int removed = 0, rc = 0;

	if (ctl_get_str(req, "list", list, sizeof(list)) || ctl_get_str(req, "value", value, sizeof(value))) {
		ctl_pack_error(pk, "policy_list_remove needs \"list\" and \"value\"");
		return 0;
	}
	gone = take(a, &m);
	while ((e = gone)) {
		int n = forget(a, e);

		gone = e->next;
		if (n < 0 && !rc)
			rc = n;
		removed++;
		emit_change_from_control(a, "remove_value", e, n, n < 0 ? -n : 0);
		entry_free(e);
	}
	/* a value the policy itself declared: out of the kernel maps until the policy reloads */
	if (!removed && vigil_sensors__list_type(a->sensors, list) == VIGIL_LIST_VALUES) {
		rc = vigil_sensors__list_remove(a->sensors, list, value);
		removed = rc > 0;
	}
	if (rc < 0 || !removed) {
		snprintf(msg, sizeof(msg), rc < 0 ? "list %s: %s" : "list %s holds no value \"%s\"", list,
			 rc < 0 ? strerror(-rc) : value);
		ctl_pack_error(pk, msg);
		return 0;
	}
	ctl_pack_ok(pk);
	return 0;
}

static void pack_time(struct ctl_map *m, const char *key, uint64_t wall)
{
	char buf[40];

	vigil_format_time(wall, buf);
	ctl_pack_str(ctl_map_key(m, key), buf);
}

static void pack_entry(msgpack_packer *pk, const struct list_entry *e)
{
	struct ctl_map m;
	char dev[24];

	ctl_map_init(&m);
	ctl_pack_str(ctl_map_key(&m, "list"), e->list);
	ctl_pack_str(ctl_map_key(&m, "value"), e->value);
	if (e->is_file) {
		snprintf(dev, sizeof(dev), "%u:%u", e->file.dev >> 20, e->file.dev & 0xfffff);
		ctl_pack_str(ctl_map_key(&m, "device"), dev);
		msgpack_pack_uint64(ctl_map_key(&m, "inode"), e->file.ino);
		msgpack_pack_uint32(ctl_map_key(&m, "owner_uid"), e->file.uid);
	}
	ctl_pack_str(ctl_map_key(&m, "by"), e->by);
	if (e->has_cause)
		msgpack_pack_uint32(ctl_map_key(&m, "cause_uid"), e->cause_uid);
	if (e->evidence[0])
		ctl_pack_str(ctl_map_key(&m, "evidence_exec_id"), e->evidence);
	pack_time(&m, "added", e->added);
	if (e->expires)
		pack_time(&m, "expires", e->expires);
	ctl_map_flush(&m, pk);
}

/* {"cmd": "policy_list_values", "list": L}: what was added at run time and is still there */
int agent_policy_list_values(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct ctl_list out;
	const struct list_entry *e;
	char list[64], msg[128];
	int type;

	if (ctl_get_str(req, "list", list, sizeof(list))) {
		ctl_pack_error(pk, "policy_list_values needs \"list\"");
		return 0;
	}
	type = vigil_sensors__list_type(a->sensors, list);
	if (type < 0) {
		snprintf(msg, sizeof(msg), "no loaded policy uses list \"%s\"", list);
		ctl_pack_error(pk, msg);
		return 0;
	}
	ctl_list_init(&out);
	pthread_mutex_lock(&a->lists_lock);
	for (e = a->list_entries; e; e = e->next) {
		if (strcmp(e->list, list))
			continue;
		pack_entry(&out.pk, e);
		out.n++;
	}
	pthread_mutex_unlock(&a->lists_lock);
	msgpack_pack_map(pk, 3);
	ctl_pack_str(pk, "ok");
	msgpack_pack_true(pk);
	ctl_pack_str(pk, "type");
	ctl_pack_str(pk, type == VIGIL_LIST_FILES ? "files" : "values");
	ctl_pack_str(pk, "values");
	ctl_list_flush(&out, pk);
	return 0;
}
