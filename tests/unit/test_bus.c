/* test_bus.c - unit tests for core/bus's control channel over ipc://: a request and its
 * reply, the peer the handler is told about, the socket's mode, the framing limits, the
 * socket directory checks, tcp:// refused beyond loopback, stalled callers and the cap on
 * unprivileged connections, and (as root) a peer of another uid refused by its credentials
 * even through a loosened socket. */
#include <errno.h>
#include <grp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "bus/bus.h"

struct fixture {
	char dir[64];
	char path[96];
	char url[128];
	struct vigil_ctl_server *srv;
	struct vigil_ctl_peer seen;	/* the last peer the handler was given */
	int calls;
};

/* Replies "echo:" + the request; "refuse" is refused as a command the peer may not run. */
static int echo(const struct vigil_ctl_peer *peer, const void *req, size_t len, struct vigil_buf *reply, void *ctx)
{
	struct fixture *f = ctx;

	f->seen = *peer;
	f->calls++;
	if (len == 6 && !memcmp(req, "refuse", 6)) {
		vigil_buf_puts(reply, "not you");
		return -EACCES;
	}
	vigil_buf_puts(reply, "echo:");
	return vigil_buf_append(reply, req, len);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/vigil-test-bus-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/control.sock", f->dir);
	snprintf(f->url, sizeof(f->url), "ipc://%s", f->path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	vigil_ctl_server__close(f->srv);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void start(struct fixture *f, int64_t read_gid)
{
	struct vigil_ctl_server_opts o = {.sz = sizeof(o), .read_gid = read_gid};

	f->srv = vigil_ctl_server__open(f->url, &o, echo, f);
	assert_non_null(f->srv);
}

static void test_a_request_gets_its_reply_and_the_handler_knows_the_peer(void **state)
{
	struct fixture *f = *state;
	struct vigil_buf reply = {0};

	if (geteuid())
		skip();		/* only root's requests reach the handler */
	start(f, -1);
	assert_int_equal(vigil_ctl_request(f->url, "hello", 5, &reply, 2000), 0);
	assert_string_equal(reply.data, "echo:hello");
	assert_true(f->seen.local);
	assert_int_equal(f->seen.uid, geteuid());
	assert_int_equal(f->seen.pid, getpid());
	assert_int_equal(f->seen.access, VIGIL_CTL_ALL);
	vigil_buf_free(&reply);
}

static void test_an_empty_request_and_a_large_one_round_trip(void **state)
{
	struct fixture *f = *state;
	struct vigil_buf reply = {0};
	size_t big = 3u << 20;
	char *req = malloc(big);

	if (geteuid())
		skip();		/* only root's requests reach the handler */
	start(f, -1);
	assert_int_equal(vigil_ctl_request(f->url, "", 0, &reply, 2000), 0);
	assert_string_equal(reply.data, "echo:");
	vigil_buf_reset(&reply);
	memset(req, 'x', big);
	assert_int_equal(vigil_ctl_request(f->url, req, big, &reply, 5000), 0);
	assert_int_equal(reply.len, big + 5);
	free(req);
	vigil_buf_free(&reply);
}

static void test_the_socket_is_0600_and_0660_with_a_read_group(void **state)
{
	struct fixture *f = *state;
	struct stat st;

	start(f, -1);
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	if (geteuid())
		return;		/* the chown to root:group needs root */
	vigil_ctl_server__close(f->srv);
	f->srv = NULL;
	start(f, getegid());
	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0660);
	assert_int_equal(st.st_gid, getegid());
}

static void test_a_handler_refusal_is_its_own_reply_and_is_counted(void **state)
{
	struct fixture *f = *state;
	struct vigil_buf reply = {0};

	if (geteuid())
		skip();
	start(f, -1);
	assert_int_equal(vigil_ctl_request(f->url, "refuse", 6, &reply, 2000), 0);
	assert_string_equal(reply.data, "not you");
	assert_int_equal(vigil_ctl_server__refused(f->srv), 1);
	assert_int_equal(vigil_ctl_server__bad_requests(f->srv), 0);
	vigil_buf_free(&reply);
}

/* A frame announcing more than the limit is dropped unread, and counted. */
static void test_an_oversized_frame_is_dropped_and_counted(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	unsigned char head[4] = {0xff, 0xff, 0xff, 0xff};
	char buf[16];
	int fd, i;

	if (geteuid())
		skip();		/* anyone else is refused before any frame is read */
	start(f, -1);
	assert_true(strlen(f->path) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, f->path, strlen(f->path));
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, head, 4), 4);
	assert_int_equal(read(fd, buf, sizeof(buf)), 0);	/* closed without a reply */
	close(fd);
	for (i = 0; i < 50 && !vigil_ctl_server__bad_requests(f->srv); i++)
		usleep(10000);
	assert_int_equal(vigil_ctl_server__bad_requests(f->srv), 1);
	assert_int_equal(f->calls, 0);
}

static void test_no_agent_is_a_timeout(void **state)
{
	struct fixture *f = *state;
	struct vigil_buf reply = {0};

	assert_int_equal(vigil_ctl_request(f->url, "x", 1, &reply, 300), -ETIMEDOUT);
	vigil_buf_free(&reply);
}

/* Someone who can write the socket's directory could swap the socket under the agent. */
static void test_a_directory_others_can_write_is_refused(void **state)
{
	struct fixture *f = *state;
	struct vigil_ctl_server_opts o = {.sz = sizeof(o), .read_gid = -1};

	assert_int_equal(chmod(f->dir, 0775), 0);
	assert_null(vigil_ctl_server__open(f->url, &o, echo, f));
	assert_int_equal(errno, EPERM);
	assert_null(vigil_pub__open(f->url, 0660));
	assert_int_equal(errno, EPERM);
	assert_int_equal(chmod(f->dir, 0702), 0);
	assert_null(vigil_ctl_server__open(f->url, &o, echo, f));
	assert_int_equal(errno, EPERM);
	assert_int_equal(chmod(f->dir, 0700), 0);
	start(f, -1);
}

static void test_a_missing_directory_is_created_root_only_writable(void **state)
{
	struct fixture *f = *state;
	char url[256], path[200], sub[160];
	struct vigil_ctl_server *s;
	struct stat st;

	snprintf(sub, sizeof(sub), "%s/a/b", f->dir);
	snprintf(path, sizeof(path), "%s/control.sock", sub);
	snprintf(url, sizeof(url), "ipc://%s", path);
	s = vigil_ctl_server__open(url, NULL, echo, f);
	assert_non_null(s);
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 022, 0);
	vigil_ctl_server__close(s);
	rmdir(sub);
	snprintf(sub, sizeof(sub), "%s/a", f->dir);
	rmdir(sub);
}

static void test_tcp_is_refused_beyond_loopback(void **state)
{
	struct fixture *f = *state;

	assert_null(vigil_ctl_server__open("tcp://0.0.0.0:0", NULL, echo, f));
	assert_int_equal(errno, EINVAL);
	assert_null(vigil_ctl_server__open("tcp://*:5999", NULL, echo, f));
	assert_int_equal(errno, EINVAL);
	assert_null(vigil_ctl_server__open("tcp://eth0:5999", NULL, echo, f));
	assert_int_equal(errno, EINVAL);
}

/* As root: a child of another uid, through a socket loosened to 0666, is refused by its
 * credentials without the handler ever running; a member of the read group is READ. */
static void test_another_uid_is_refused_and_a_group_member_reads(void **state)
{
	struct fixture *f = *state;
	int status, round;
	pid_t pid;

	if (geteuid())
		skip();
	start(f, 4242);
	assert_int_equal(chmod(f->path, 0666), 0);
	assert_int_equal(chmod(f->dir, 0755), 0);
	for (round = 0; round < 2; round++) {
		pid = fork();
		assert_true(pid >= 0);
		if (!pid) {
			struct vigil_buf reply = {0};
			gid_t groups[1] = {4242};

			/* round 0: a stranger; round 1: a member of group 4242 */
			if (setgroups(round ? 1 : 0, groups) || setresgid(65534, 65534, 65534) ||
			    setresuid(65534, 65534, 65534))
				_exit(10);
			/* the stranger's request is larger than the socket buffers: the server
			 * answers without reading it, and the answer still arrives */
			size_t n = round ? 5 : 4u << 20;
			char *req = calloc(1, n);

			if (!req)
				_exit(11);
			if (round)
				memcpy(req, "hello", 5);
			int rc = vigil_ctl_request(f->url, req, n, &reply, 2000) ? 11
				 : round == 0 ? (strstr(reply.data, "permission denied: uid 65534 is not root nor in the "
							       "control group") ? 0 : 12)
				 : (!strcmp(reply.data, "echo:hello") ? 0 : 13);

			free(req);	/* valgrind checks the child for leaks too */
			vigil_buf_free(&reply);
			_exit(rc);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	assert_int_equal(vigil_ctl_server__refused(f->srv), 1);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->seen.access, VIGIL_CTL_READ);
	assert_int_equal(f->seen.uid, 65534);
}

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memcpy(sa.sun_path, path, strlen(path));
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static uint64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A caller that connects and then sends nothing holds its own connection only: the next
 * request is answered at once, not after the stalled one's 2 s deadline. */
static void test_a_stalled_caller_does_not_hold_up_the_next(void **state)
{
	struct fixture *f = *state;
	struct vigil_buf reply = {0};
	uint64_t t0;
	int stalled;

	if (geteuid())
		skip();
	start(f, -1);
	stalled = raw_connect(f->path);
	assert_true(stalled >= 0);
	assert_int_equal(write(stalled, "\0\0", 2), 2);	/* half a length, then nothing */
	usleep(100000);
	t0 = ms_now();
	assert_int_equal(vigil_ctl_request(f->url, "next", 4, &reply, 3000), 0);
	assert_string_equal(reply.data, "echo:next");
	assert_true(ms_now() - t0 < 1000);
	close(stalled);
	vigil_buf_free(&reply);
}

/* Peers other than root get at most 8 connections at once: a ninth is closed at once. */
static void test_unprivileged_connections_are_capped(void **state)
{
	struct fixture *f = *state;
	int status;
	pid_t pid;

	if (geteuid())
		skip();
	start(f, 4242);
	assert_int_equal(chmod(f->dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		gid_t groups[1] = {4242};
		int fds[9], i;
		char c;

		if (setgroups(1, groups) || setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		for (i = 0; i < 9; i++) {
			fds[i] = raw_connect(f->path);
			if (fds[i] < 0)
				_exit(11);
			usleep(50000);		/* let the server account for it */
		}
		/* the ninth: closed by the server (EOF); the eighth: still open (would block) */
		if (recv(fds[8], &c, 1, 0) != 0)
			_exit(12);
		if (recv(fds[7], &c, 1, MSG_DONTWAIT) != -1 || errno != EAGAIN)
			_exit(13);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_a_request_gets_its_reply_and_the_handler_knows_the_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_empty_request_and_a_large_one_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_the_socket_is_0600_and_0660_with_a_read_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_handler_refusal_is_its_own_reply_and_is_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_an_oversized_frame_is_dropped_and_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_agent_is_a_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_directory_others_can_write_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_missing_directory_is_created_root_only_writable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tcp_is_refused_beyond_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_another_uid_is_refused_and_a_group_member_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_a_stalled_caller_does_not_hold_up_the_next, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unprivileged_connections_are_capped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
