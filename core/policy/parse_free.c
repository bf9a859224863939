/* parse_free.c - freeing the policy tree. Every destructor takes zeroed and half-built
 * parts, since a refused parse frees whatever it had built so far. */
#include <stdlib.h>

#include "policy_internal.h"

void policy_strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void policy_arg_free(struct vigil_policy_arg *a)
{
	free((char *)a->type_name);
	free(a->label);
	free(a->resolve);
}

void policy_match_arg_free(struct vigil_match_arg *m)
{
	policy_strv_free(m->values, m->nvalues);
}

static void binaries_free(struct vigil_match_binaries *b, size_t n)
{
	size_t i;

	for (i = 0; b && i < n; i++)
		policy_strv_free(b[i].values, b[i].nvalues);
	free(b);
}

static void match_args_free(struct vigil_match_arg *m, size_t n)
{
	size_t i;

	for (i = 0; m && i < n; i++)
		policy_match_arg_free(&m[i]);
	free(m);
}

static void actions_free(struct vigil_action *a, size_t n)
{
	size_t i;

	for (i = 0; a && i < n; i++) {
		free(a[i].arg_url);
		free(a[i].arg_fqdn);
	}
	free(a);
}

void policy_selector_free(struct vigil_selector *s)
{
	free(s->pids);
	match_args_free(s->args, s->nargs);
	match_args_free(s->return_args, s->nreturn_args);
	binaries_free(s->binaries, s->nbinaries);
	binaries_free(s->parent_binaries, s->nparent_binaries);
	free(s->namespaces);
	free(s->ns_changes);
	free(s->caps);
	free(s->cap_changes);
	actions_free(s->actions, s->nactions);
	actions_free(s->return_actions, s->nreturn_actions);
	free(s->label);
}

void policy_hook_free(struct vigil_hook *h)
{
	size_t i;

	free(h->call);
	free(h->subsystem);
	free(h->event);
	free(h->path);
	free(h->btf_path);
	policy_strv_free(h->symbols, h->nsymbols);
	for (i = 0; h->args && i < h->nargs; i++)
		policy_arg_free(&h->args[i]);
	free(h->args);
	policy_arg_free(&h->return_arg);
	for (i = 0; h->selectors && i < h->nselectors; i++)
		policy_selector_free(&h->selectors[i]);
	free(h->selectors);
	free(h->message);
	policy_strv_free(h->tags, h->ntags);
}

void vigil_policy_free(struct vigil_policy *p)
{
	size_t i;

	if (!p)
		return;
	for (i = 0; p->hooks && i < p->nhooks; i++)
		policy_hook_free(&p->hooks[i]);
	free(p->hooks);
	for (i = 0; p->lists && i < p->nlists; i++) {
		free(p->lists[i].name);
		policy_strv_free(p->lists[i].values, p->lists[i].nvalues);
		free(p->lists[i].pattern);
	}
	free(p->lists);
	for (i = 0; p->options && i < p->noptions; i++) {
		free(p->options[i].name);
		free(p->options[i].value);
	}
	free(p->options);
	policy_free_label_selector(&p->pod_selector);
	policy_free_label_selector(&p->container_selector);
	free(p->name);
	free(p->namespace_);
	free(p->file);
	free(p);
}
