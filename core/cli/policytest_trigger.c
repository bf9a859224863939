/* policytest_trigger.c - run a scenario's trigger: sh -c RUN in a fresh directory under /tmp,
 * as the scenario's user, in its own process group, with a fixed environment, killed whole
 * at its deadline. The directory is the marker its events are known by (the process's cwd). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "policytest.h"

/* Root runs what the file says: never with the caller's PATH or environment. */
#define PT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define PT_STDERR_MAX (64 * 1024)

long pt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

bool pt_have_program(const char *name)
{
	char path[512], dirs[] = PT_PATH, *dir, *save = NULL;

	if (strchr(name, '/'))
		return !access(name, X_OK);
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/%s", dir, name);
		if (!access(path, X_OK))
			return true;
	}
	return false;
}

/* In the child: become the user, go to the directory, exec the shell. Never returns. */
static void child(const struct pt_scenario *sc, const char *dir, const struct passwd *pw, int errfd)
{
	char home[96], pdir[96];
	char *const envp[] = {"PATH=" PT_PATH, "LANG=C", home, pdir, NULL};

	snprintf(home, sizeof(home), "HOME=%s", dir);
	snprintf(pdir, sizeof(pdir), "VIGIL_PT_DIR=%s", dir);
	setpgid(0, 0);
	dup2(errfd, STDERR_FILENO);
	close(errfd);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
	}
	if (pw && (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid))) {
		dprintf(STDERR_FILENO, "cannot become %s: %s\n", pw->pw_name, strerror(errno));
		_exit(126);
	}
	if (chdir(dir)) {
		dprintf(STDERR_FILENO, "cannot enter %s: %s\n", dir, strerror(errno));
		_exit(126);
	}
	execle("/bin/sh", "sh", "-c", sc->run, (char *)NULL, envp);
	dprintf(STDERR_FILENO, "cannot run /bin/sh: %s\n", strerror(errno));
	_exit(127);
}

int pt_trigger_start(struct pt_trigger *t, const struct pt_scenario *sc, const char **why)
{
	struct passwd *pw = NULL;
	int pipefd[2], err;

	memset(t, 0, sizeof(*t));
	t->stderr_fd = -1;
	t->pid = -1;
	if (sc->user && strcmp(sc->user, "root")) {
		pw = getpwnam(sc->user);
		if (!pw) {
			*why = "no such user";
			return -ENOENT;
		}
	}
	if (pw && geteuid() != 0) {
		*why = "running a trigger as another user needs root";
		return -EPERM;
	}
	snprintf(t->dir, sizeof(t->dir), "/tmp/vigil-policytest-XXXXXX");
	if (!mkdtemp(t->dir)) {
		err = -errno;
		t->dir[0] = '\0';
		*why = "cannot make its directory under /tmp";
		return err;
	}
	if (pw) {
		t->as_user = true;
		t->uid = pw->pw_uid;
		t->gid = pw->pw_gid;
	}
	/* the user's own directory: the trigger may write there; others may only look */
	if ((pw && chown(t->dir, pw->pw_uid, pw->pw_gid)) || chmod(t->dir, 0755)) {
		*why = "cannot hand its directory to the user";
		return -errno;
	}
	if (pipe2(pipefd, O_CLOEXEC)) {
		*why = "pipe";
		return -errno;
	}
	t->pid = fork();
	if (t->pid < 0) {
		err = -errno;
		close(pipefd[0]);
		close(pipefd[1]);
		*why = "fork";
		return err;
	}
	if (t->pid == 0) {
		close(pipefd[0]);
		child(sc, t->dir, pw, pipefd[1]);
	}
	setpgid(t->pid, t->pid);	/* either side may win the race */
	close(pipefd[1]);
	t->stderr_fd = pipefd[0];
	fcntl(t->stderr_fd, F_SETFL, O_NONBLOCK);
	t->deadline_ms = pt_now_ms() + sc->timeout_ms;
	return 0;
}

static void drain_stderr(struct pt_trigger *t)
{
	char buf[4096];
	ssize_t n;

	while (t->stderr_fd >= 0 && (n = read(t->stderr_fd, buf, sizeof(buf))) > 0)
		if (t->err.len + (size_t)n <= PT_STDERR_MAX)
			vigil_buf_append(&t->err, buf, (size_t)n);
}

/* The child's end is seen without reaping it (WNOWAIT), so its pid, which names its process
 * group, cannot be reused while what it left running in the group is killed. */
bool pt_trigger_poll(struct pt_trigger *t)
{
	siginfo_t info = {0};
	bool late;

	if (t->done)
		return true;
	drain_stderr(t);
	late = pt_now_ms() >= t->deadline_ms;
	if (waitid(P_PID, (id_t)t->pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == t->pid)
		late = false;
	else if (!late)
		return false;
	kill(-t->pid, SIGKILL);
	waitpid(t->pid, &t->status, 0);
	t->done = true;
	t->timed_out = late;
	drain_stderr(t);
	return true;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) && errno != ENOENT ? -1 : 0;
}

/* Remove what is in dir with the rights of whoever made it: a user's directory is emptied by
 * a child that became the user, so a path the user swaps for a symlink meanwhile can lead
 * nowhere the user could not write anyway. FTW_PHYS: symlinks are removed, never followed. */
static void remove_tree(const struct pt_trigger *t)
{
	pid_t pid;

	if (!t->as_user) {
		nftw(t->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		return;
	}
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(t->gid) || setuid(t->uid))
			_exit(1);
		nftw(t->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
		_exit(0);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	rmdir(t->dir);	/* root's to remove: /tmp is sticky and the directory root's creation */
}

void pt_trigger_cleanup(struct pt_trigger *t)
{
	if (t->pid > 0 && !t->done) {
		kill(-t->pid, SIGKILL);
		waitpid(t->pid, &t->status, 0);
	}
	if (t->stderr_fd >= 0)
		close(t->stderr_fd);
	t->stderr_fd = -1;
	if (t->dir[0])
		remove_tree(t);
	vigil_buf_free(&t->err);
}
