/* fork_burst N - fork N children in a row that exit at once without exec, waiting for each:
 * N clone records and N exits, and no exec, as fast as one process can make them. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long i, n;
	pid_t pid;

	if (argc != 2)
		return 2;
	n = atol(argv[1]);
	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0)
			_exit(0);
		if (waitpid(pid, NULL, 0) != pid)
			return 1;
	}
	return 0;
}
