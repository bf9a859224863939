/* sleepers N - fork N children that sleep until killed; print "ready" once all exist, then
 * wait for stdin to close and kill them all (SIGKILL to each, then reap). For bench_rss.py. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long n = argc == 2 ? strtol(argv[1], NULL, 10) : 0, i, made = 0;
	pid_t *kids;
	char c;

	if (n <= 0) {
		fprintf(stderr, "usage: sleepers N\n");
		return 2;
	}
	kids = calloc((size_t)n, sizeof(*kids));
	if (!kids)
		return 1;
	for (i = 0; i < n; i++) {
		pid_t p = fork();

		if (p == 0) {
			for (;;)
				pause();
		}
		if (p < 0) {
			perror("sleepers: fork");
			break;
		}
		kids[made++] = p;
	}
	printf("ready %ld\n", made);
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
	for (i = 0; i < made; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < made; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	return made == n ? 0 : 1;
}
