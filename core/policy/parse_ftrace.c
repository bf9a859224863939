/* parse_ftrace.c - generated_ftrace lists: the kernel functions ftrace can trace (tracefs's
 * available_filter_functions) whose names match the list's pattern, a POSIX extended regex
 * (Tetragon reads it with Go's regexp; the patterns its examples use mean the same in both). */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_internal.h"

/* The file is read where tracefs is mounted; the environment may name another one, which
 * is how the unit tests give the parser a kernel's list without tracefs. */
#define FTRACE_FUNCTIONS_ENV "VIGIL_FTRACE_FUNCTIONS"
#define FTRACE_MAX_MATCHES (4 * POLICY_MAX_HOOKS)	/* before duplicates are dropped */

static const char *const ftrace_files[] = {
	"/sys/kernel/tracing/available_filter_functions",
	"/sys/kernel/debug/tracing/available_filter_functions",
};

static FILE *open_functions(char *why, size_t size)
{
	const char *env = getenv(FTRACE_FUNCTIONS_ENV);
	FILE *f = NULL;
	size_t i;
	int err = ENOENT;

	if (env && env[0]) {
		f = fopen(env, "re");
		if (!f)
			snprintf(why, size, "cannot read %s: %s", env, strerror(errno));
		return f;
	}
	for (i = 0; i < VIGIL_ARRAY_SIZE(ftrace_files) && !f; i++) {
		f = fopen(ftrace_files[i], "re");
		if (!f && errno != ENOENT)
			err = errno;
	}
	if (!f)
		snprintf(why, size, "cannot read tracefs's available_filter_functions: %s%s", strerror(err),
			 err == ENOENT ? " (this kernel has no function tracer, or tracefs is not mounted)" :
			 err == EPERM ? " (this kernel does not permit function tracing)" : "");
	return f;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int policy_ftrace_expand(struct vigil_policy_list *l, char *why, size_t size)
{
	char line[512], **names = NULL;
	size_t n = 0, i, kept;
	regex_t re;
	FILE *f;
	int err = 0;

	if (regcomp(&re, l->pattern, REG_EXTENDED | REG_NOSUB)) {
		snprintf(why, size, "pattern \"%s\" is not a regular expression", l->pattern);
		return -EINVAL;
	}
	f = open_functions(why, size);
	if (!f) {
		regfree(&re);
		return -ENOENT;
	}
	names = calloc(FTRACE_MAX_MATCHES, sizeof(*names));
	if (!names)
		err = -ENOMEM;
	while (!err && fgets(line, sizeof(line), f)) {
		/* "name" or "name [module]"; compiler-made copies (name.isra.0, name.cold) have
		 * no BTF of their own and cannot be named by a kprobe hook: left out */
		line[strcspn(line, " \t\n")] = '\0';
		if (!line[0] || strchr(line, '.') || regexec(&re, line, 0, NULL, 0))
			continue;
		if (n == FTRACE_MAX_MATCHES) {
			err = -E2BIG;
			break;
		}
		names[n] = strdup(line);
		if (!names[n++])
			err = -ENOMEM;
	}
	fclose(f);
	regfree(&re);
	if (!err && n) {
		/* a function is listed once per module that has it, and static ones repeat */
		qsort(names, n, sizeof(*names), by_text);
		for (i = 1, kept = 1; i < n; i++) {
			if (strcmp(names[i], names[kept - 1]))
				names[kept++] = names[i];
			else
				free(names[i]);
		}
		n = kept;
	}
	if (!err && n > POLICY_MAX_HOOKS)
		err = -E2BIG;
	if (err == -E2BIG)
		snprintf(why, size, "pattern \"%s\" matches more than %d functions (one hook each)", l->pattern,
			 POLICY_MAX_HOOKS);
	else if (!err && !n) {
		snprintf(why, size, "pattern \"%s\" matches no function this kernel can trace", l->pattern);
		err = -ENOENT;
	}
	if (err) {
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return err;
	}
	l->values = names;
	l->nvalues = n;
	return 0;
}
