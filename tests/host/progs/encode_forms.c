/* encode_forms - print one JSON line per form vigil's encoder can give a Tetragon event:
 * every argument type (as args, as data, unreadable, labelled), return values, every
 * event kind, a process with every field it can carry. test_tetragon_strict.py parses each
 * line with a strict protojson reader, so a key the real export has not shown yet (no
 * kprobe here, no sock argument in the shipped policies) is checked too. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "encode/encode.h"
#include "policy/policy.h"

#define CAP(n) (1ULL << (n))

static struct vigil_process child, parent, grand, great;
static const struct vigil_process *const ancestors[] = { &grand, &great };
static struct vigil_hook_info hook;
static struct vigil_event ev;

static void fill_process(struct vigil_process *p, uint32_t pid, const char *binary)
{
	size_t k;

	memset(p, 0, sizeof(*p));
	p->pid = p->tid = pid;
	p->exec_id = (char *)"bm9kZToxMjM0OjU2";
	p->parent_exec_id = (char *)"bm9kZToxMDA6MQ==";
	p->binary = (char *)binary;
	p->arguments = (char *)"-c \"a b\"";
	p->cwd = (char *)"/root";
	p->container_id = (char *)"";
	p->flags = ~0u;		/* every flag name there is */
	p->start_time = 1666062981373327754ULL;
	p->auid = 4294967295u;
	p->creds = (struct vigil_creds){ 0, 0, 0, 0, 0, 0, 0, 0 };
	p->caps = (struct vigil_caps){ ~0ULL >> 23, CAP(1) | CAP(21), CAP(40) };	/* 0..40: every name */
	for (k = 0; k < VIGIL_NS_COUNT; k++)
		p->ns[k] = 4026531835u + (uint32_t)k;
	p->ns_host_mask = 0x155;
	p->refcnt = 2;
}

static const char *root_name(void *ctx, const struct vigil_process *p)
{
	return p->pid == 68862 ? "root" : NULL;
}

static int print(void)
{
	struct vigil_buf wire = {0}, line = {0};
	struct vigil_msg *m = NULL;
	int err;

	err = vigil_encode_msgpack(&ev, &wire);
	if (!err) {
		m = vigil_msg__decode(wire.data, wire.len);
		err = m ? vigil_msg__to_json(m, &line) : -1;
	}
	if (!err)
		printf("%.*s\n", (int)line.len, line.data);
	else
		fprintf(stderr, "encode_forms: event type %d: error %d\n", ev.type, err);
	vigil_msg__free(m);
	vigil_buf_free(&wire);
	vigil_buf_free(&line);
	return err ? 1 : 0;
}

static void policy_event(enum vigil_event_type type)
{
	static const char *const tags[] = { "t1", "t2" };

	memset(&hook, 0, sizeof(hook));
	hook.type = type;
	hook.policy_name = "forms";
	hook.function_name = "security_file_open";
	hook.subsys = "syscalls";
	hook.event = "sys_enter_openat";
	hook.path = "/bin/bash";
	hook.symbol = "readline";
	hook.message = "every form";
	hook.tags = tags;
	hook.ntags = 2;
	ev = (struct vigil_event){ .type = type, .time = 1666062981500000001ULL, .node_name = "node",
				   .process = &child, .parent = &parent, .ancestors = ancestors, .nancestors = 2,
				   .user_name = root_name };
	ev.policy.hook = &hook;
	ev.policy.action = VIGIL_EVENT_ACTION_SIGKILL;
}

static struct vigil_event_arg *arg(int type, bool data, const char *label)
{
	struct vigil_event_arg *a = &ev.policy.args[ev.policy.nargs];

	memset(a, 0, sizeof(*a));
	a->type = type;
	hook.args[hook.nargs].type = type;
	hook.args[hook.nargs].data = data;
	hook.args[hook.nargs].label = label;
	ev.policy.nargs++;
	hook.nargs++;
	return a;
}

/* Up to five arguments of one policy event per call; all event kinds in turn. */
static int args_line(enum vigil_event_type type, int which)
{
	struct vigil_event_arg *a;
	static const char text[] = "/etc/passwd";

	policy_event(type);
	switch (which) {
	case 0:
		arg(VIGIL_ARG_INT, false, "i")->value = (uint64_t)-100;
		arg(VIGIL_ARG_UINT32, false, NULL)->value = 7;
		arg(VIGIL_ARG_LONG, false, NULL)->value = (uint64_t)-5;
		arg(VIGIL_ARG_SIZE_T, true, "sz")->value = 4096;
		a = arg(VIGIL_ARG_STRING, true, NULL);
		a->bytes = text;
		a->len = strlen(text);
		break;
	case 1:
		a = arg(VIGIL_ARG_CHAR_BUF, false, NULL);
		a->bytes = "\x01\x02xyz";
		a->len = 5;
		a = arg(VIGIL_ARG_CHAR_BUF, false, NULL);
		a->bytes = "cut";
		a->len = 3;
		a->flags = VIGIL_ARG_TRUNCATED;
		a = arg(VIGIL_ARG_FILE, false, NULL);
		a->bytes = text;
		a->len = strlen(text);
		a->mode = 0104755;
		a->flags = VIGIL_ARG_TRUNCATED;
		a = arg(VIGIL_ARG_PATH, false, NULL);
		a->bytes = "/tmp";
		a->len = 4;
		a->mode = 041777;
		a = arg(VIGIL_ARG_LINUX_BINPRM, false, NULL);
		a->bytes = "/usr/bin/grep";
		a->len = 13;
		a->mode = 0100755;
		break;
	case 2:
		a = arg(VIGIL_ARG_SOCK, false, NULL);
		a->sock = (struct vigil_sock_info){ .family = AF_INET, .type = 1, .protocol = 6, .state = 1,
						    .mark = 1, .priority = 2, .sport = 40000, .dport = 443, .cookie = 99 };
		inet_pton(AF_INET, "10.0.0.1", a->sock.saddr);
		inet_pton(AF_INET, "10.0.0.2", a->sock.daddr);
		a = arg(VIGIL_ARG_SOCKADDR, false, NULL);
		a->sockaddr = (struct vigil_sockaddr_info){ .family = AF_INET6, .port = 53 };
		inet_pton(AF_INET6, "2001:db8::1", a->sockaddr.addr);
		a = arg(VIGIL_ARG_SOCKADDR, false, NULL);
		a->sockaddr = (struct vigil_sockaddr_info){ .family = AF_UNIX, .path = "@abstract" };
		a = arg(VIGIL_ARG_CRED, false, NULL);
		a->creds = (struct vigil_creds){ 1, 2, 3, 4, 5, 6, 7, 8 };
		a->cred_caps = (struct vigil_caps){ CAP(21), CAP(1), 0 };
		arg(VIGIL_ARG_CAPABILITY, false, NULL)->value = 1;
		break;
	case 3:
		arg(VIGIL_ARG_KERNEL_CAP_T, false, NULL)->value = CAP(21);
		arg(VIGIL_ARG_CAP_INHERITABLE, false, NULL)->value = CAP(1);
		arg(VIGIL_ARG_CAP_PERMITTED, false, NULL)->value = CAP(2);
		arg(VIGIL_ARG_CAP_EFFECTIVE, true, NULL)->value = CAP(3);
		arg(VIGIL_ARG_SYSCALL64, false, NULL)->value = 0x80000000u | 5;
		break;
	case 4:
		a = arg(VIGIL_ARG_STRING, false, "unreadable");
		a->flags = VIGIL_ARG_ERROR;
		arg(VIGIL_ARG_CAPABILITY, false, NULL)->value = 63;	/* no name */
		arg(VIGIL_ARG_SYSCALL64, false, NULL)->value = 0;
		arg(VIGIL_ARG_SINT8, false, NULL)->value = (uint64_t)-1;
		arg(VIGIL_ARG_UINT16, false, NULL)->value = 65535;
		/* a uprobe's return is vigil's extension, left out of the Tetragon-pure export
		 * (core/export/pure.c); the other kinds have no return probes */
		ev.policy.has_return = type == VIGIL_EVENT_KPROBE;
		ev.policy.ret.type = VIGIL_ARG_INT;
		ev.policy.ret.value = (uint64_t)-13;
		ev.policy.return_action = VIGIL_EVENT_ACTION_POST;
		ev.policy.monitored = false;
		break;
	}
	return print();
}

int main(void)
{
	static const enum vigil_event_type kinds[] = {
		VIGIL_EVENT_KPROBE, VIGIL_EVENT_TRACEPOINT, VIGIL_EVENT_LSM, VIGIL_EVENT_UPROBE,
	};
	size_t k;
	int which, bad = 0;

	fill_process(&child, 68862, "/usr/bin/curl");
	fill_process(&parent, 68635, "/bin/bash");
	fill_process(&grand, 600, "/usr/sbin/sshd");
	fill_process(&great, 1, "/sbin/init");
	ev = (struct vigil_event){ .type = VIGIL_EVENT_EXEC, .time = 1666062981373327754ULL, .node_name = "node",
				   .process = &child, .parent = &parent, .ancestors = ancestors, .nancestors = 2,
				   .user_name = root_name };
	bad |= print();
	ev.binary_properties = true;	/* a setuid and setgid exec of an unlinked file */
	child.file = (struct vigil_file_id){ .dev = 8, .uid = 0, .ino = 99, .mode = 0106755, .nlink = 0 };
	child.creds.uid = child.creds.gid = 1000;
	bad |= print();
	ev.binary_properties = false;
	ev.process = &parent;
	ev.parent = NULL;	/* no parent known */
	bad |= print();
	ev = (struct vigil_event){ .type = VIGIL_EVENT_EXIT, .time = 1666062981616000000ULL, .node_name = "node",
				   .process = &child, .parent = &parent, .exit = { .status = 3, .signal = 9 },
				   .ancestors = ancestors, .nancestors = 2 };
	bad |= print();
	for (k = 0; k < VIGIL_ARRAY_SIZE(kinds); k++)
		for (which = 0; which < 5; which++)
			bad |= args_line(kinds[k], which);
	return bad;
}
