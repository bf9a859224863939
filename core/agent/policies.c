/* policies.c - TracingPolicies in the agent: loaded at start from files and a directory,
 * and managed at run time over the control socket. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_internal.h"

/* Load one parsed policy in mode (-1: its own, else the agent's default when it names none);
 * on failure err says where and why. */
static int add_policy(struct vigil_agent *a, struct vigil_policy *p, int mode, struct vigil_policy_error *err)
{
	int rc;

	if (mode < 0 && !p->mode_set && a->opts.monitor_by_default)
		mode = VIGIL_MODE_MONITOR;
	rc = vigil_sensors__add(a->sensors, p, mode, err);
	if (rc)
		vigil_policy_free(p);
	else if (vigil_policy_is_scoped(p))
		agent_scopes_sync(a);
	return rc;
}

static int load_file(struct vigil_agent *a, const char *path)
{
	struct vigil_policy_error err = {0};
	struct vigil_policy *p = NULL;
	char msg[1024];
	int rc;

	rc = vigil_policy_parse_file(path, &p, &err);
	if (!rc)
		rc = add_policy(a, p, -1, &err);
	if (rc)
		pr_warn("%s", vigil_policy_error_format(&err, msg, sizeof(msg)));
	return rc;
}

int agent_load_policies(struct vigil_agent *a)
{
	size_t i;
	int rc;

	for (i = 0; i < a->opts.npolicy_files; i++) {
		rc = load_file(a, a->opts.policy_files[i]);
		if (rc)
			return rc;
	}
	/* a bad file in the directory is reported and skipped; an untrusted directory is not
	 * read at all (policy_dir.c), and the agent runs without it, saying why in status */
	agent_policy_dir_sync(a, false);
	return 0;
}

/* The mode a policy from the policy directory loads in: -1 for its own, or monitor when it
 * names none and the agent's default mode is monitor (--default-policy-mode). */
int agent_policy_dir_mode(struct vigil_agent *a, const struct vigil_policy *p)
{
	return !p->mode_set && a->opts.monitor_by_default ? VIGIL_MODE_MONITOR : -1;
}

static int parse_mode(const char *s)
{
	if (!strcmp(s, "enforce"))
		return VIGIL_MODE_ENFORCE;
	if (!strcmp(s, "monitor"))
		return VIGIL_MODE_MONITOR;
	return -EINVAL;
}

/* {"cmd": "policy_add", "yaml": "...", "file": "name shown in errors", "mode": "monitor"?} */
int agent_policy_add(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	const msgpack_object *yaml = ctl_get(req, "yaml");
	struct vigil_policy_error err = {0};
	struct vigil_policy *p = NULL;
	char file[256] = "<control>", mode_s[16], msg[1024];
	int mode = -1, rc;

	if (!yaml || yaml->type != MSGPACK_OBJECT_STR) {
		ctl_pack_error(pk, "policy_add needs \"yaml\"");
		return 0;
	}
	ctl_get_str(req, "file", file, sizeof(file));
	if (!ctl_get_str(req, "mode", mode_s, sizeof(mode_s))) {
		mode = parse_mode(mode_s);
		if (mode < 0) {
			ctl_pack_error(pk, "mode must be enforce or monitor");
			return 0;
		}
	}
	rc = vigil_policy_parse(file, yaml->via.str.ptr, yaml->via.str.size, &p, &err);
	if (!rc)
		rc = add_policy(a, p, mode, &err);
	if (rc) {
		ctl_pack_error(pk, vigil_policy_error_format(&err, msg, sizeof(msg)));
		return 0;
	}
	ctl_pack_ok(pk);
	return 0;
}

static void pack_policy(const struct vigil_policy_status *st, void *ctx)
{
	struct ctl_list *l = ctx;
	msgpack_packer *pk = &l->pk;
	size_t i;

	l->n++;
	msgpack_pack_map(pk, 7 + !!st->namespace_);
	ctl_pack_str(pk, "name");
	ctl_pack_str(pk, st->name);
	if (st->namespace_) {
		ctl_pack_str(pk, "namespace");
		ctl_pack_str(pk, st->namespace_);
	}
	ctl_pack_str(pk, "file");
	ctl_pack_str(pk, st->file ? st->file : "");
	ctl_pack_str(pk, "state");
	ctl_pack_str(pk, st->state);
	ctl_pack_str(pk, "mode");
	ctl_pack_str(pk, st->mode);
	ctl_pack_str(pk, "events");
	msgpack_pack_uint64(pk, st->events);
	ctl_pack_str(pk, "kernel_memory_bytes");
	msgpack_pack_uint64(pk, st->kernel_memory_bytes);
	ctl_pack_str(pk, "hooks");
	msgpack_pack_array(pk, st->nhooks);
	for (i = 0; i < st->nhooks; i++) {
		const struct vigil_hook_status *h = &st->hooks[i];

		msgpack_pack_map(pk, h->note ? 4 : 3);
		ctl_pack_str(pk, "hook");
		ctl_pack_str(pk, h->hook);
		ctl_pack_str(pk, "mechanism");
		ctl_pack_str(pk, h->mechanism);
		ctl_pack_str(pk, "attached");
		if (h->attached)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		if (h->note) {
			ctl_pack_str(pk, "note");
			ctl_pack_str(pk, h->note);
		}
	}
}

/* The array of policies; with a request, wrapped as {"ok": true, "policies": [...]}. The
 * policies are packed aside first, under the table lock, so the array header can carry
 * their exact count. */
int agent_policy_list(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct ctl_list list;

	ctl_list_init(&list);
	if (a->sensors)
		vigil_sensors__list(a->sensors, pack_policy, &list);
	if (req) {
		msgpack_pack_map(pk, 3);
		ctl_pack_str(pk, "ok");
		msgpack_pack_true(pk);
		ctl_pack_str(pk, "policy_dir");
		agent_policy_dir_pack(a, pk);
		ctl_pack_str(pk, "policies");
	}
	ctl_list_flush(&list, pk);
	return 0;
}

/* Commands that take {"name": "..."} and run one sensors operation. */
static int named(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk, const char *what,
		 int (*op)(struct vigil_agent *a, const char *name))
{
	char name[256], msg[320];
	int rc;

	if (ctl_get_str(req, "name", name, sizeof(name))) {
		snprintf(msg, sizeof(msg), "%s needs \"name\"", what);
		ctl_pack_error(pk, msg);
		return 0;
	}
	rc = op(a, name);
	if (rc) {
		snprintf(msg, sizeof(msg), rc == -ENOENT ? "no policy named \"%s\"" : "%s: cannot %s: %s", name,
			 what, strerror(-rc));
		ctl_pack_error(pk, msg);
		return 0;
	}
	ctl_pack_ok(pk);
	return 0;
}

static int op_delete(struct vigil_agent *a, const char *name)
{
	int rc;

	rc = vigil_sensors__delete(a->sensors, name);
	agent_scopes_sync(a);
	return rc;
}

static int op_enable(struct vigil_agent *a, const char *name)
{
	return vigil_sensors__enable(a->sensors, name, true);
}

static int op_disable(struct vigil_agent *a, const char *name)
{
	return vigil_sensors__enable(a->sensors, name, false);
}

int agent_policy_delete(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	return named(a, req, pk, "delete", op_delete);
}

int agent_policy_enable(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	return named(a, req, pk, "enable", op_enable);
}

int agent_policy_disable(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	return named(a, req, pk, "disable", op_disable);
}

int agent_policy_set_mode(struct vigil_agent *a, const msgpack_object *req, msgpack_packer *pk)
{
	struct vigil_policy_error err = {0};
	char name[256], mode_s[16], msg[1024];
	int mode, rc;

	if (ctl_get_str(req, "name", name, sizeof(name)) || ctl_get_str(req, "mode", mode_s, sizeof(mode_s)) ||
	    (mode = parse_mode(mode_s)) < 0) {
		ctl_pack_error(pk, "policy_set_mode needs \"name\" and \"mode\" (enforce or monitor)");
		return 0;
	}
	rc = vigil_sensors__set_mode(a->sensors, name, (enum vigil_policy_mode)mode, &err);
	if (rc) {
		if (rc == -ENOENT)
			snprintf(msg, sizeof(msg), "no policy named \"%s\"", name);
		else
			vigil_policy_error_format(&err, msg, sizeof(msg));
		ctl_pack_error(pk, msg);
		return 0;
	}
	ctl_pack_ok(pk);
	return 0;
}
