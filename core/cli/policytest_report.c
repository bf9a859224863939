/* policytest_report.c - policy test results as tetra prints them: text (a P: line per test
 * with an icon and the scenarios that passed, an S: line per scenario with its errors) or
 * -o json (tetra's NamedResult, a line each). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "policytest.h"

bool pt_result_failed(const struct pt_result *r)
{
	size_t i;

	if (r->error)
		return true;
	for (i = 0; i < r->nsres; i++)
		if (r->sres[i].trigger_error || r->sres[i].checker_error || r->sres[i].action_counts_error)
			return true;
	return false;
}

static json_t *json_err(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* tetra's -o json: a NamedResult a line */
void pt_print_json(FILE *out, const struct pt_result *r)
{
	json_t *res = json_object(), *top = json_object(), *sc = r->nsres ? json_array() : json_null();
	size_t i;
	char *s;

	if (r->skipped)
		json_object_set_new(res, "skipped", json_string(r->skipped));
	json_object_set_new(res, "error", json_err(r->error));
	for (i = 0; i < r->nsres; i++)
		json_array_append_new(sc, json_pack("{s:s, s:o, s:o, s:o}", "name", r->sres[i].name, "trigger_error",
						   json_err(r->sres[i].trigger_error), "checker_error",
						   json_err(r->sres[i].checker_error), "action_counts_error",
						   json_err(r->sres[i].action_counts_error)));
	json_object_set_new(res, "scenarios", sc);
	json_object_set_new(res, "total_time", json_integer((json_int_t)(r->seconds * 1e9)));
	json_object_set_new(top, "name", json_string(r->name));
	json_object_set_new(top, "result", res);
	s = json_dumps(top, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (s)
		fprintf(out, "%s\n", s);
	free(s);
	json_decref(top);
}

/* tetra's text: a P: line per test, an S: line per scenario */
void pt_print_text(FILE *out, const struct pt_result *r)
{
	size_t i, ok = 0;
	char note[96];
	const char *icon;

	for (i = 0; i < r->nsres; i++)
		ok += !r->sres[i].trigger_error && !r->sres[i].checker_error && !r->sres[i].action_counts_error;
	if (r->error) {
		icon = "❌";
	} else if (r->skipped) {
		icon = "⏭️";
	} else {
		icon = ok == r->nsres ? "✅" : ok ? "🟠" : "🔴";
		snprintf(note, sizeof(note), "%zu/%zu scenario(s) succeeded", ok, r->nsres);
	}
	fprintf(out, "P: %-40s   %s   %s (%.2fs)\n", r->name, icon, r->error ? r->error : r->skipped ? r->skipped : note,
		r->seconds);
	for (i = 0; i < r->nsres; i++) {
		const struct pt_sres *s = &r->sres[i];
		bool bad = s->trigger_error || s->checker_error || s->action_counts_error;

		fprintf(out, "%sS: %-37s   %s   ", i + 1 == r->nsres ? "└" : "├", s->name, bad ? "🔴" : "🟢");
		if (s->trigger_error)
			fprintf(out, "trigger error: %s%s", s->trigger_error,
				s->checker_error || s->action_counts_error ? ", " : "");
		if (s->checker_error)
			fprintf(out, "checker error: %s%s", s->checker_error, s->action_counts_error ? ", " : "");
		if (s->action_counts_error)
			fprintf(out, "action counts error: %s", s->action_counts_error);
		fputc('\n', out);
	}
}

void pt_result_free(struct pt_result *r)
{
	size_t i;

	for (i = 0; i < r->nsres; i++) {
		free(r->sres[i].trigger_error);
		free(r->sres[i].checker_error);
		free(r->sres[i].action_counts_error);
	}
	free(r->sres);
	free(r->skipped);
	free(r->error);
}
