/* hold - keep N processes alive cheaply, for the process-cache exhaustion test.
 *
 * usage: hold N
 * Creates N child processes (not threads) that wait in pause(). They share the parent's
 * memory (CLONE_VM, each on its own 1 KiB stack), so tens of thousands cost little more
 * than their kernel task. Prints their pids, one a line, then "ready N" once all exist;
 * then waits for EOF on stdin,
 * SIGKILLs every child, reaps them all and exits 0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define STACK_BYTES 1024

static int wait_forever(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return 0;
}

int main(int argc, char **argv)
{
	char *end, *stacks, buf[64];
	long n, i, made = 0;
	pid_t *pids;

	n = argc == 2 ? strtol(argv[1], &end, 10) : -1;
	if (argc != 2 || *end || n < 1 || n > 1000000) {
		fprintf(stderr, "usage: hold N (1-1000000)\n");
		return 2;
	}
	pids = calloc((size_t)n, sizeof(*pids));
	stacks = mmap(NULL, (size_t)n * STACK_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!pids || stacks == MAP_FAILED) {
		perror("hold: memory");
		return 1;
	}
	for (i = 0; i < n; i++) {
		pids[i] = clone(wait_forever, stacks + (i + 1) * STACK_BYTES, CLONE_VM | SIGCHLD, NULL);
		if (pids[i] < 0) {
			fprintf(stderr, "hold: clone %ld: %s\n", i, strerror(errno));
			break;
		}
		made++;
	}
	for (i = 0; i < made; i++)
		printf("%d\n", (int)pids[i]);
	printf("ready %ld\n", made);
	fflush(stdout);
	while (read(0, buf, sizeof(buf)) > 0)
		;
	for (i = 0; i < made; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < made; i++)
		waitpid(pids[i], NULL, 0);
	return made == n ? 0 : 1;
}
