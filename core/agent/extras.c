/* extras.c - the optional process fields the agent adds to an event before it is encoded:
 * ancestors (--enable-ancestors) from the process cache, and user names
 * (--username-metadata unix) from the host's /etc/passwd, as Tetragon fills them, and
 * arguments through --redaction-filters. */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent_internal.h"

/* Tetragon's --enable-ancestors values: "base" is exec and exit. */
static const struct {
	const char *name;
	enum vigil_event_type type;
} ancestor_kinds[] = {
	{"base", VIGIL_EVENT_EXEC}, {"base", VIGIL_EVENT_EXIT}, {"kprobe", VIGIL_EVENT_KPROBE},
	{"tracepoint", VIGIL_EVENT_TRACEPOINT}, {"uprobe", VIGIL_EVENT_UPROBE}, {"lsm", VIGIL_EVENT_LSM},
};

int vigil_agent_ancestors_parse(const char *list, uint32_t *mask)
{
	char *copy = strdup(list), *save = NULL, *tok;
	bool known;
	size_t i;
	int err = copy ? 0 : -ENOMEM;

	*mask = 0;
	for (tok = copy ? strtok_r(copy, ",", &save) : NULL; !err && tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0, known = false; i < VIGIL_ARRAY_SIZE(ancestor_kinds); i++) {
			if (!strcmp(tok, ancestor_kinds[i].name)) {
				*mask |= VIGIL_AGENT_ANCESTORS_BIT(ancestor_kinds[i].type);
				known = true;
			}
		}
		if (!known)
			err = -EINVAL;
	}
	free(copy);
	/* Tetragon refuses the others without base: their ancestors come from exec's */
	if (!err && *mask && !(*mask & VIGIL_AGENT_ANCESTORS_BIT(VIGIL_EVENT_EXEC)))
		err = -EINVAL;
	return err;
}

/* The ancestors beyond ev's parent, nearest first, into out (at most max). Peeked, not
 * looked up: running off the top of a tree is not a cache miss. */
size_t agent_ancestors(struct vigil_agent *a, const struct vigil_event *ev, const struct vigil_process **out,
		       size_t max)
{
	const struct vigil_process *p = ev->parent;
	size_t k = 0;

	if (!(a->opts.ancestors & VIGIL_AGENT_ANCESTORS_BIT(ev->type)))
		return 0;
	while (p && p->ppid && k < max) {
		p = vigil_pcache__peek(a->cache, p->ppid, p->pktime);
		if (p)
			out[k++] = p;
	}
	return k;
}

/* ---- user names ---- */

#define USER_SLOTS 256

/* Tetragon resolves names only for processes in the host's user namespace: a uid in
 * another one means someone else there. The table is re-read when /etc/passwd changes. */
const char *agent_user_name(void *ctx, const struct vigil_process *p)
{
	struct vigil_agent *a = ctx;
	struct agent_users *u = &a->users;
	struct passwd pw, *res = NULL;
	struct stat st;
	char buf[1024];
	size_t slot;
	FILE *f;

	if (p->ns[VIGIL_NS_USER] && !(p->ns_host_mask & (1u << VIGIL_NS_USER)))
		return NULL;
	if (!stat("/etc/passwd", &st) && (st.st_mtim.tv_sec != u->mtime || st.st_mtim.tv_nsec != u->mtime_ns)) {
		memset(u->slot, 0, sizeof(u->slot));
		u->mtime = st.st_mtim.tv_sec;
		u->mtime_ns = st.st_mtim.tv_nsec;
	}
	slot = p->creds.uid % USER_SLOTS;
	if (u->slot[slot].known && u->slot[slot].uid == p->creds.uid)
		return u->slot[slot].name[0] ? u->slot[slot].name : NULL;
	u->slot[slot].known = true;
	u->slot[slot].uid = p->creds.uid;
	u->slot[slot].name[0] = '\0';
	/* the file itself, not NSS: no directory service is asked from the reader thread */
	f = fopen("/etc/passwd", "re");
	while (f && !fgetpwent_r(f, &pw, buf, sizeof(buf), &res) && res) {
		if (pw.pw_uid == p->creds.uid) {
			snprintf(u->slot[slot].name, sizeof(u->slot[slot].name), "%s", pw.pw_name);
			break;
		}
	}
	if (f)
		fclose(f);
	return u->slot[slot].name[0] ? u->slot[slot].name : NULL;
}

/* ---- redaction ---- */

const char *agent_redacted_arguments(void *ctx, const struct vigil_process *p)
{
	struct vigil_agent *a = ctx;

	return vigil_redaction__apply(a->opts.redaction, p->binary, p->arguments, &a->redacted);
}
