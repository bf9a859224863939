/* enforce_latency N MODE TARGET - make N attempts, one after another, and print one line per
 * attempt: "stopped <us>" or "passed <us>".
 *   exec:    fork; the child stamps the clock and execs TARGET; the time ends when waitpid
 *            reaps it. "stopped" when it died of SIGKILL (a Sigkill policy at exec).
 *   connect: connect() to TARGET (ip:port); the time is the call itself. "stopped" when it
 *            failed with EPERM (an Override policy). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int attempt_exec(const char *target, volatile double *stamp)
{
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		*stamp = now_us();
		execl(target, target, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	printf("%s %.1f\n", WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? "stopped" : "passed",
	       now_us() - *stamp);
	return 0;
}

static int attempt_connect(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	double t0;
	int rc, err;

	if (fd < 0)
		return -1;
	t0 = now_us();
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	err = errno;
	printf("%s %.1f\n", rc && err == EPERM ? "stopped" : "passed", now_us() - t0);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	volatile double *stamp;
	struct sockaddr_in sa = {.sin_family = AF_INET};
	long i, n;

	if (argc != 4 || (n = strtol(argv[1], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: enforce_latency N exec|connect TARGET\n");
		return 2;
	}
	stamp = mmap(NULL, sizeof(*stamp), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stamp == MAP_FAILED)
		return 1;
	if (!strcmp(argv[2], "connect")) {
		char host[64];
		char *colon;

		snprintf(host, sizeof(host), "%s", argv[3]);
		colon = strrchr(host, ':');
		if (!colon)
			return 2;
		*colon = '\0';
		sa.sin_port = htons((uint16_t)atoi(colon + 1));
		if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
			return 2;
	}
	for (i = 0; i < n; i++)
		if ((!strcmp(argv[2], "exec") ? attempt_exec(argv[3], stamp) : attempt_connect(&sa)) < 0)
			return 1;
	return 0;
}
