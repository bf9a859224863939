/* compile.c - one hook of a policy into everything needed to load it. */
#include <errno.h>
#include <string.h>

#include "sensors_internal.h"

static enum vigil_event_type event_type(enum vigil_hook_kind k)
{
	switch (k) {
	case VIGIL_HOOK_TRACEPOINT: return VIGIL_EVENT_TRACEPOINT;
	case VIGIL_HOOK_LSM: return VIGIL_EVENT_LSM;
	case VIGIL_HOOK_UPROBE: return VIGIL_EVENT_UPROBE;
	case VIGIL_HOOK_USDT: return VIGIL_EVENT_USDT;
	default: return VIGIL_EVENT_KPROBE;
	}
}

/* The selectors' GetUrl and DnsLookup actions, for the agent (core/canary). */
static void collect_canaries(const struct vigil_hook *hook, struct compiled_hook *out)
{
	size_t sel, j, n = 0;

	for (sel = 0; sel < hook->nselectors && sel < VG_MAX_SELECTORS; sel++) {
		const struct vigil_selector *s = &hook->selectors[sel];

		for (j = 0; j < s->nactions && n < VIGIL_ARRAY_SIZE(out->canaries); j++) {
			const struct vigil_action *a = &s->actions[j];

			if (a->kind != VIGIL_ACTION_GETURL && a->kind != VIGIL_ACTION_DNSLOOKUP)
				continue;
			out->canaries[n++] = (struct vigil_hook_canary){
				.selector = (uint32_t)sel,
				.kind = a->kind == VIGIL_ACTION_DNSLOOKUP,
				.target = a->kind == VIGIL_ACTION_DNSLOOKUP ? a->arg_fqdn : a->arg_url,
			};
		}
	}
	out->info.canaries = out->canaries;
	out->info.ncanaries = n;
}

int compile_hook(struct compile_ctx *ctx, size_t i, struct compiled_hook *out)
{
	const struct vigil_hook *hook = &ctx->policy->hooks[i];
	size_t sel;
	int err;

	memset(out, 0, sizeof(*out));
	out->str_eq.size = sizeof(struct vg_str_key);
	out->str_prefix.size = sizeof(struct vg_lpm_str_key);
	out->str_postfix.size = sizeof(struct vg_lpm_str_key);
	out->int_set.size = sizeof(struct vg_int_key);
	out->addr4.size = sizeof(struct vg_addr4_key);
	out->addr6.size = sizeof(struct vg_addr6_key);
	out->str_sub.size = sizeof(struct substring_entry);
	out->fan_equal.size = VG_STR_KEY;
	out->fan_prefix.size = VG_STR_KEY;

	if (hook->nargs > VG_MAX_ARGS)
		return sensor_error(ctx, hook->pos, -E2BIG, "too many arguments (max %d)", VG_MAX_ARGS);
	err = compile_mechanism(ctx, hook, out);
	if (err)
		goto err_out;
	err = compile_selectors(ctx, hook, out);
	if (err)
		goto err_out;
	compile_prefilter(hook, out);
	/* the programs on sched_process_exec share the binary's path walk (bpf/lib/exec_path.h) */
	out->cfg.exec_path_once = hook->kind == VIGIL_HOOK_TRACEPOINT && hook->subsystem && hook->event &&
				  !strcmp(hook->subsystem, "sched") && !strcmp(hook->event, "sched_process_exec");
	out->cfg.monitor = ctx->mode == VIGIL_MODE_MONITOR;
	out->cfg.host_user_ns = ctx->host_ns[VIGIL_NS_USER];
	out->cfg.scope = vigil_policy_scope_id(ctx->policy);

	out->info.type = event_type(hook->kind);
	out->info.policy_name = ctx->policy->name;
	out->info.function_name = out->function_name;
	out->info.subsys = hook->subsystem;
	out->info.event = hook->event;
	out->info.path = hook->path;
	out->info.symbol = hook->nsymbols ? hook->symbols[0] : NULL;
	out->info.message = hook->message;
	out->info.tags = (const char *const *)hook->tags;
	out->info.ntags = hook->ntags;
	for (sel = 0; sel < hook->nselectors && sel < VG_MAX_SELECTORS; sel++)
		out->selector_labels[sel] = hook->selectors[sel].label;
	out->info.selector_labels = out->selector_labels;
	out->info.nselectors = hook->nselectors;
	collect_canaries(hook, out);
	return 0;

err_out:
	compiled_hook_free(out);
	return err;
}
