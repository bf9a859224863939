/* osq_fake_agent.c - a stand-in for vigild in the osquery tests, built on libvigil's own
 * bus: it publishes the events it reads on stdin and answers the control socket with a
 * canned reply, so the tests can feed the tables events the agent does not make yet
 * (policy events, alerts) and give vigil_policies a policy list.
 *
 * usage: osq_fake_agent BUS_URL CONTROL_URL REPLY_FILE
 * stdin: frames of a 4-byte big-endian length and that many bytes, each published as one
 * message. "ready" is printed once both sockets are bound; every control request is
 * printed as "control: <json>". Runs until SIGTERM.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bus/bus.h"
#include "encode/encode.h"

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	stopping = 1;
}

static int reply_with_file(const struct vigil_ctl_peer *peer, const void *req, size_t len, struct vigil_buf *reply, void *ctx)
{
	const struct vigil_buf *canned = ctx;
	struct vigil_buf json = { 0 };
	msgpack_unpacked up;
	size_t off = 0;

	msgpack_unpacked_init(&up);
	if (msgpack_unpack_next(&up, req, len, &off) == MSGPACK_UNPACK_SUCCESS &&
	    !vigil_json_from_msgpack(&up.data, &json))
		printf("control: %s\n", json.data);
	fflush(stdout);
	msgpack_unpacked_destroy(&up);
	vigil_buf_free(&json);
	return vigil_buf_append(reply, canned->data, canned->len);
}

static int read_file(const char *path, struct vigil_buf *out)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "rb");
	int err = 0;

	if (!f)
		return -errno;
	while (!err && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		err = vigil_buf_append(out, chunk, n);
	fclose(f);
	return err;
}

/* One frame from stdin into msg. 1 when read, 0 at the end, -errno on error. */
static int read_frame(struct vigil_buf *msg)
{
	unsigned char len[4];
	size_t n;
	char *p;

	if (fread(len, 1, 4, stdin) != 4)
		return 0;
	n = (size_t)len[0] << 24 | (size_t)len[1] << 16 | (size_t)len[2] << 8 | len[3];
	vigil_buf_reset(msg);
	p = malloc(n ? n : 1);
	if (!p)
		return -ENOMEM;
	if (fread(p, 1, n, stdin) != n || vigil_buf_append(msg, p, n)) {
		free(p);
		return -EIO;
	}
	free(p);
	return 1;
}

int main(int argc, char **argv)
{
	struct vigil_buf canned = { 0 }, msg = { 0 };
	struct vigil_ctl_server *ctl = NULL;
	struct vigil_pub *pub = NULL;
	struct sigaction sa = { .sa_handler = on_signal };
	int rc = 1, n;

	if (argc != 4) {
		fprintf(stderr, "usage: osq_fake_agent BUS_URL CONTROL_URL REPLY_FILE\n");
		return 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (read_file(argv[3], &canned)) {
		fprintf(stderr, "osq_fake_agent: cannot read %s\n", argv[3]);
		goto out;
	}
	pub = vigil_pub__open(argv[1], 0660);
	ctl = pub ? vigil_ctl_server__open(argv[2], NULL, reply_with_file, &canned) : NULL;
	if (!ctl) {
		fprintf(stderr, "osq_fake_agent: cannot bind: %s\n", strerror(errno));
		goto out;
	}
	printf("ready\n");
	fflush(stdout);
	while (!stopping && (n = read_frame(&msg)) > 0)
		vigil_pub__send(pub, msg.data, msg.len);
	while (!stopping)
		pause();
	rc = 0;
out:
	vigil_ctl_server__close(ctl);
	vigil_pub__close(pub);
	vigil_buf_free(&canned);
	vigil_buf_free(&msg);
	return rc;
}
