/* uprobe_target N WORD - call vigil_uprobe_target(N, WORD) once: a user-space function for
 * uprobe policies to watch. */
#include <stdlib.h>

__attribute__((noinline)) int vigil_uprobe_target(int n, const char *word)
{
	/* keep the call and its arguments: the probe reads them from the registers */
	asm volatile("" ::"r"(n), "r"(word) : "memory");
	return n + (word ? word[0] : 0);
}

int main(int argc, char **argv)
{
	return vigil_uprobe_target(argc > 1 ? atoi(argv[1]) : 0, argc > 2 ? argv[2] : "") == -1;
}
