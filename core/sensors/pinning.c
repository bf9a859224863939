/* pinning.c - which hooks outlive the agent under --keep-enforcing, and where their links
 * are pinned: <pin dir>/<policy>/h<hook id>[_2], and a syscall hook's i386 wrappers' beside
 * them as h<hook id>_ia32_<i>[_2]. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sensors_internal.h"

static bool acts(const struct vg_action_spec *a, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n && i < VG_MAX_ACTIONS; i++)
		if (a[i].kind == VG_ACT_SIGKILL || a[i].kind == VG_ACT_SIGNAL || a[i].kind == VG_ACT_OVERRIDE)
			return true;
	return false;
}

bool hook_enforces(const struct compiled_hook *h)
{
	unsigned int i;

	if (h->cfg.monitor)
		return false;	/* reported, not done: nothing to keep */
	for (i = 0; i < h->cfg.nselectors && i < VG_MAX_SELECTORS; i++)
		if (acts(h->cfg.sel[i].actions, h->cfg.sel[i].nactions) ||
		    acts(h->cfg.sel[i].ret_actions, h->cfg.sel[i].nret_actions))
			return true;
	return false;
}

/* A policy name is a path component here: anything but [A-Za-z0-9._-] becomes '_', and
 * a leading dot too (no "..", no hidden entries). */
static void policy_dir(const char *pin_dir, const char *policy, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "%s/", pin_dir), i;

	for (i = 0; policy[i] && n + 1 < size; i++, n++) {
		char c = policy[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '-' || c == '_' || (c == '.' && i);

		out[n] = ok ? c : '_';
	}
	out[n < size ? n : size - 1] = '\0';
}

int pin_hook(const char *pin_dir, const char *policy, struct sensor *s, uint32_t hook_id, char *path,
	     size_t path_size)
{
	char dir[PATH_MAX], name[32];

	policy_dir(pin_dir, policy, dir, sizeof(dir));
	snprintf(name, sizeof(name), "h%u", hook_id);
	snprintf(path, path_size, "%s/%s", dir, name);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	return sensor_pin(s, dir, name);
}

void pin_policy_done(const char *pin_dir, const char *policy)
{
	char dir[PATH_MAX];

	policy_dir(pin_dir, policy, dir, sizeof(dir));
	rmdir(dir);	/* fails while another instance of the policy is pinned there: fine */
}
