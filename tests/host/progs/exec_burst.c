/* exec_burst N TAG - fork and exec itself N times in a row ("exec_burst 0 TAG" exits at
 * once), waiting for each: N exec events with arguments "0 TAG", as fast as one process can
 * make them. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long i, n;
	pid_t pid;

	if (argc != 3)
		return 2;
	n = atol(argv[1]);
	for (i = 0; i < n; i++) {
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			execl("/proc/self/exe", argv[0], "0", argv[2], (char *)NULL);
			_exit(127);
		}
		if (waitpid(pid, NULL, 0) != pid)
			return 1;
	}
	return 0;
}
