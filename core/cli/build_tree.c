/* build_tree.c - is this program the one in the build tree? (vigild and vigil both ask) */
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

bool cli_in_build_tree(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t len = strlen(VIGIL_BUILD_TREE);

	if (n <= 0)
		return false;
	exe[n] = '\0';
	return !strncmp(exe, VIGIL_BUILD_TREE, len) && exe[len] == '/';
}
