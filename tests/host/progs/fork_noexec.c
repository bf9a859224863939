/* fork_noexec - fork a child that exits 7 without exec; the parent reaps it and exits 0.
 * Prints the child's pid so the test can find its clone entry. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
	int status = 0;
	pid_t child = fork();

	if (child < 0)
		return 1;
	if (child == 0)
		_exit(7);
	printf("%d\n", (int)child);
	fflush(stdout);
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		return 1;
	return 0;
}
