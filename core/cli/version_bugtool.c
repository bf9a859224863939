/* version_bugtool.c - `vigil version` (the client's and the agent's, as tetra prints them)
 * and `vigil bugtool` (one .tar.gz with what a bug report needs). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bus/bus.h"
#include "cli.h"
#include "common/common.h"
#include "encode/encode.h"

static const char status_req[] = "\x81\xa3" "cmd" "\xa6" "status";	/* {"cmd": "status"} */

/* The agent's status reply into r (free it with cli_reply_free either way). 0 or -errno
 * (-ETIMEDOUT: no agent, -EBADMSG: not msgpack). */
static int agent_status(const char *control, int timeout_ms, struct cli_reply *r)
{
	if (cli_globals.timeout_ms)	/* tetra's --timeout */
		timeout_ms = cli_globals.timeout_ms;
	return cli_request_quiet(control, status_req, sizeof(status_req) - 1, timeout_ms, r);
}

/* The agent's status reply as JSON into out; 0 or -errno (-ETIMEDOUT: no agent). */
static int agent_status_json(const char *control, int timeout_ms, struct vigil_buf *out)
{
	struct cli_reply r;
	int err = agent_status(control, timeout_ms, &r);

	if (!err)
		err = vigil_json_from_msgpack(r.root, out);
	cli_reply_free(&r);
	return err;
}

/* The agent's version from its status reply; 0 or -errno. */
static int agent_version(const char *control, int timeout_ms, char *out, size_t size)
{
	const msgpack_object *v;
	struct cli_reply r;
	int err = agent_status(control, timeout_ms, &r);

	v = err ? NULL : vigil_msgpack_get(r.root, "version");
	if (!err && (!v || v->type != MSGPACK_OBJECT_STR))
		err = -EBADMSG;
	if (!err)
		snprintf(out, size, "%.*s", (int)v->via.str.size, v->via.str.ptr);
	cli_reply_free(&r);
	return err;
}

int cmd_version(int argc, char **argv)
{
	static const struct option options[] = {
		{"server", no_argument, NULL, 's'},
		{"build", no_argument, NULL, 'b'},
		{"server-address", required_argument, NULL, 'c'},
		{"control", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *control = VIGIL_BUS_DEFAULT_CONTROL;
	bool server = false, build = false;
	char version[64];
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "sbh", options, NULL)) != -1) {
		switch (c) {
		case 's': server = true; break;
		case 'b': build = true; break;
		case 'c': control = optarg; break;
		case 'h':
			printf("usage: vigil version [-s|--server] [-b|--build] [--server-address URL]\n"
			       "  the client's version, and the agent's when one answers (-s: exit 1 when none does)\n");
			return 0;
		default: return 2;
		}
	}
	printf("CLI version: %s\n", VIGIL_VERSION);
	/* without -s a missing agent is no error: the client's version is still the answer */
	err = agent_version(control, server ? 3000 : 500, version, sizeof(version));
	if (!err)
		printf("Server version: %s\n", version);
	else if (server)
		fprintf(stderr, "vigil version: no agent answered at %s: %s\n", control, strerror(-err));
	else
		printf("Server version: unavailable (no agent answered at %s)\n", control);
	if (build)
		printf("Build: vigil %s, compiler %s, built %s %s\n", VIGIL_VERSION, __VERSION__, __DATE__, __TIME__);
	return err && server ? 1 : 0;
}

/* ---- bugtool ---- */

/* Run argv with its standard output (and error) into path; 0, or the reason in the file. */
static void run_to_file(const char *const argv[], const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), status;
	pid_t pid;

	if (fd < 0)
		return;
	pid = fork();
	if (pid == 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		execvp(argv[0], (char *const *)argv);
		dprintf(STDOUT_FILENO, "could not run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	else
		dprintf(fd, "could not fork for %s: %s\n", argv[0], strerror(errno));
	close(fd);
}

static void write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	if (!f)
		return;
	fwrite(text, 1, len, f);
	fclose(f);
}

/* A file of the host (kernel version, OS) copied in, when readable. */
static void copy_file(const char *dir, const char *name, const char *src)
{
	char buf[65536];
	size_t n;
	FILE *f = fopen(src, "re");

	if (!f)
		return;
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	write_file(dir, name, buf, n);
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(p);
}

/* Placeholders in collected[]'s command lines, filled in when they run. */
#define ARG_SELF "\001self"
#define ARG_CONTROL "\001control"
#define ARG_LOG "\001log"

/* What the archive holds beside status.json: the file, and the command whose output it is.
 * LOCAL ones describe this machine, so they are left out for an agent over TLS (HOST:PORT). */
enum when { ALWAYS, LOCAL, WITH_LOG, WITHOUT_LOG };	/* --log FILE: its tail; else journalctl's */

static const struct {
	const char *file;
	enum when when;
	const char *argv[8];
} collected[] = {
	{"status.txt", ALWAYS, {ARG_SELF, "status", "--control", ARG_CONTROL}},
	{"policies.json", ALWAYS, {ARG_SELF, "tracingpolicy", "list", "-o", "json", "--control", ARG_CONTROL}},
	{"versions.txt", ALWAYS, {ARG_SELF, "version", "--control", ARG_CONTROL}},
	{"probe.txt", LOCAL, {ARG_SELF, "probe"}},
	{"bpftool-prog.json", LOCAL, {"bpftool", "-j", "prog", "show"}},
	{"bpftool-map.json", LOCAL, {"bpftool", "-j", "map", "show"}},
	{"bpftool-link.json", LOCAL, {"bpftool", "-j", "link", "show"}},
	{"log.txt", WITH_LOG, {"tail", "-n", "2000", ARG_LOG}},
	{"log.txt", WITHOUT_LOG, {"journalctl", "-u", "vigild", "--no-pager", "-n", "2000"}},
};

/* A command that asks the agent over TLS takes the identity this one was given. */
static size_t add_tls_flags(const char **argv, size_t j)
{
	const struct vigil_tls_client_opts *t = &cli_globals.tls;
	const struct { const char *flag, *value; } v[] = {
		{"--tls-ca-cert-files", t->ca_files}, {"--tls-cert-file", t->cert_file},
		{"--tls-key-file", t->key_file}, {"--tls-server-name", t->server_name},
	};
	size_t i;

	for (i = 0; i < VIGIL_ARRAY_SIZE(v); i++) {
		if (!v[i].value)
			continue;
		argv[j++] = v[i].flag;
		argv[j++] = v[i].value;
	}
	if (t->skip_verify)
		argv[j++] = "--tls-skip-verify";
	return j;
}

/* Run collected[]'s commands into dir, then add uname and the OS's version files. */
static void collect(const char *dir, const char *control, const char *log)
{
	char self[4096], path[4200];
	const char *argv[20];
	bool remote = vigil_bus_tls_address(control), asks;
	struct utsname u;
	size_t i, j;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	for (i = 0; i < VIGIL_ARRAY_SIZE(collected); i++) {
		if (collected[i].when == (log ? WITHOUT_LOG : WITH_LOG))
			continue;
		if (remote && collected[i].when != ALWAYS)
			continue;
		for (j = 0, asks = false; collected[i].argv[j]; j++) {
			const char *a = collected[i].argv[j];

			asks |= !strcmp(a, ARG_CONTROL);
			argv[j] = !strcmp(a, ARG_SELF) ? self : !strcmp(a, ARG_CONTROL) ? control :
				  !strcmp(a, ARG_LOG) ? log : a;
		}
		if (asks && remote)
			j = add_tls_flags(argv, j);
		argv[j] = NULL;
		snprintf(path, sizeof(path), "%s/%s", dir, collected[i].file);
		run_to_file(argv, path);
	}
	if (remote) {
		snprintf(path, sizeof(path), "the agent is at %s, over TLS: this archive leaves out what would "
			 "describe this machine instead (probe, bpftool, log, uname, OS)\n", control);
		write_file(dir, "remote.txt", path, strlen(path));
		return;
	}
	if (!uname(&u)) {
		snprintf(path, sizeof(path), "%s %s %s %s\n", u.sysname, u.release, u.version, u.machine);
		write_file(dir, "uname.txt", path, strlen(path));
	}
	copy_file(dir, "os-release", "/etc/os-release");
	copy_file(dir, "proc-version", "/proc/version");
}

int cmd_bugtool(int argc, char **argv)
{
	static const struct option options[] = {
		{"out", required_argument, NULL, 'o'},
		{"server-address", required_argument, NULL, 'c'},
		{"control", required_argument, NULL, 'c'},
		{"log", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *control = VIGIL_BUS_DEFAULT_CONTROL, *log = NULL;
	char out[4096] = "", dir[] = "/tmp/vigil-bugtool-XXXXXX", why[4200], stamp[32];
	struct vigil_buf status = {0};
	time_t now = time(NULL);
	int c, err, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:h", options, NULL)) != -1) {
		switch (c) {
		case 'o': snprintf(out, sizeof(out), "%s", optarg); break;
		case 'c': control = optarg; break;
		case 'l': log = optarg; break;
		case 'h':
			printf("usage: vigil bugtool [--out FILE.tar.gz] [--server-address URL] [--log FILE]\n"
			       "  status (with counters, metrics, policies and the mechanism of each hook), probed kernel\n"
			       "  mechanisms, the agent's BPF programs and maps (bpftool), recent log (--log FILE, else\n"
			       "  journalctl -u vigild), versions (client, agent, kernel, OS) in one archive\n");
			return 0;
		default: return 2;
		}
	}
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", gmtime(&now));
	if (!out[0])
		snprintf(out, sizeof(out), "vigil-bugtool-%s.tar.gz", stamp);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "vigil bugtool: cannot make a directory in /tmp: %s\n", strerror(errno));
		return 1;
	}
	/* status: the agent's own view, the first thing a bug report needs */
	err = agent_status_json(control, 3000, &status);
	if (!err) {
		write_file(dir, "status.json", status.data, status.len);
	} else {
		snprintf(why, sizeof(why), "no agent answered at %s: %s\n", control, strerror(-err));
		write_file(dir, "status.error", why, strlen(why));
	}
	collect(dir, control, log);
	run_to_file((const char *[]){"tar", "-czf", out, "-C", dir, ".", NULL}, "/dev/null");
	if (access(out, R_OK)) {
		fprintf(stderr, "vigil bugtool: could not write %s\n", out);
	} else {
		printf("%s\n", out);
		rc = 0;
	}
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	vigil_buf_free(&status);
	return rc;
}
