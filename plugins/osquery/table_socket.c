/* table_socket.c - vigil_socket_events: policy events that carry a socket, with
 * bpf_socket_events' columns. */
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "table.h"

static const struct column columns[] = {
	{ "tid", "BIGINT", 0 },
	{ "pid", "BIGINT", COL_INDEX },
	{ "parent", "BIGINT", 0 },
	{ "uid", "BIGINT", 0 },
	{ "gid", "BIGINT", 0 },
	{ "cid", "INTEGER", 0 },
	{ "exit_code", "TEXT", 0 },
	{ "probe_error", "INTEGER", 0 },
	{ "syscall", "TEXT", 0 },
	{ "path", "TEXT", 0 },
	{ "fd", "TEXT", 0 },
	{ "family", "INTEGER", 0 },
	{ "type", "INTEGER", 0 },
	{ "protocol", "INTEGER", 0 },
	{ "local_address", "TEXT", 0 },
	{ "remote_address", "TEXT", 0 },
	{ "local_port", "INTEGER", 0 },
	{ "remote_port", "INTEGER", 0 },
	{ "duration", "INTEGER", 0 },
	{ "ntime", "TEXT", 0 },
	{ "time", "BIGINT", COL_HIDDEN | COL_ADDITIONAL },
	{ "eid", "INTEGER", COL_HIDDEN },
	{ "exec_id", "TEXT", 0 },
	{ "parent_exec_id", "TEXT", 0 },
	{ "container_id", "TEXT", 0 },
	{ "policy", "TEXT", 0 },
	{ "action", "TEXT", 0 },
};

/* Tetragon names family, type and protocol; bpf_socket_events had the numbers. */
struct name_num {
	const char *name;
	int num;
};

static const struct name_num families[] = {
	{ "AF_UNIX", AF_UNIX }, { "AF_LOCAL", AF_LOCAL }, { "AF_INET", AF_INET }, { "AF_INET6", AF_INET6 },
	{ "AF_NETLINK", AF_NETLINK }, { "AF_PACKET", AF_PACKET }, { "AF_VSOCK", AF_VSOCK },
};

static const struct name_num types[] = {
	{ "SOCK_STREAM", SOCK_STREAM }, { "SOCK_DGRAM", SOCK_DGRAM }, { "SOCK_RAW", SOCK_RAW },
	{ "SOCK_RDM", SOCK_RDM }, { "SOCK_SEQPACKET", SOCK_SEQPACKET },
};

static const struct name_num protocols[] = {
	{ "IPPROTO_IP", IPPROTO_IP }, { "IPPROTO_ICMP", IPPROTO_ICMP }, { "IPPROTO_TCP", IPPROTO_TCP },
	{ "IPPROTO_UDP", IPPROTO_UDP }, { "IPPROTO_ICMPV6", IPPROTO_ICMPV6 }, { "IPPROTO_SCTP", IPPROTO_SCTP },
	{ "IPPROTO_UDPLITE", IPPROTO_UDPLITE }, { "IPPROTO_RAW", IPPROTO_RAW }, { "IPPROTO_MPTCP", IPPROTO_MPTCP },
};

/* A name from the list becomes its number; numbers stay; anything else is left unset. */
static void set_number(struct row_builder *rb, const char *column, const msgpack_object *o,
		       const struct name_num *list, size_t n)
{
	size_t i;

	if (!o)
		return;
	if (o->type != MSGPACK_OBJECT_STR) {
		if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
			rb_set_obj(rb, column, o);
		return;
	}
	for (i = 0; i < n; i++) {
		if (o->via.str.size == strlen(list[i].name) && !memcmp(o->via.str.ptr, list[i].name, o->via.str.size)) {
			rb_setf(rb, column, "%d", list[i].num);
			return;
		}
	}
}

/* sock_arg (struct sock) and skb_arg: both ends known, saddr is ours. */
static void fill_sock(struct row_builder *rb, const msgpack_object *s)
{
	set_number(rb, "family", obj_get(s, "family"), families, VIGIL_ARRAY_SIZE(families));
	set_number(rb, "type", obj_get(s, "type"), types, VIGIL_ARRAY_SIZE(types));
	set_number(rb, "protocol", obj_get(s, "protocol"), protocols, VIGIL_ARRAY_SIZE(protocols));
	set_number(rb, "protocol", obj_get(s, "proto"), protocols, VIGIL_ARRAY_SIZE(protocols));
	rb_set_obj(rb, "local_address", obj_get(s, "saddr"));
	rb_set_obj(rb, "remote_address", obj_get(s, "daddr"));
	rb_set_obj(rb, "local_port", obj_get(s, "sport"));
	rb_set_obj(rb, "remote_port", obj_get(s, "dport"));
}

/* sockaddr_arg: one address; the peer's, unless the hook binds. */
static void fill_sockaddr(struct row_builder *rb, const msgpack_object *s, const char *function)
{
	bool local = strstr(function, "bind") != NULL;

	set_number(rb, "family", obj_get(s, "family"), families, VIGIL_ARRAY_SIZE(families));
	rb_set_obj(rb, local ? "local_address" : "remote_address", obj_get(s, "addr"));
	rb_set_obj(rb, local ? "local_port" : "remote_port", obj_get(s, "port"));
}

/* sockaddrun_arg: a UNIX socket's path stands for the address. */
static void fill_sockaddrun(struct row_builder *rb, const msgpack_object *s, const char *function)
{
	bool local = strstr(function, "bind") != NULL;

	rb_setf(rb, "family", "%d", AF_UNIX);
	rb_set_obj(rb, local ? "local_address" : "remote_address", obj_get(s, "path"));
}

static int extract(const struct vigil_msg *m, struct row_builder *rb)
{
	const msgpack_object *sock, *sockaddr, *sockaddrun, *skb;
	char function[256];

	if (!event_is_policy(m))
		return 0;
	sock = event_arg(m, "sock_arg");
	sockaddr = event_arg(m, "sockaddr_arg");
	sockaddrun = event_arg(m, "sockaddrun_arg");
	skb = event_arg(m, "skb_arg");
	if (!sock && !sockaddr && !sockaddrun && !skb)
		return 0;
	event_function(m, function, sizeof(function));
	rb_fill_common(rb, m);
	rb_set(rb, "syscall", function);
	rb_set(rb, "probe_error", "0");
	rb_set_obj(rb, "exit_code", event_return_value(m));
	rb_set_obj(rb, "policy", vigil_msg__find(m, "policy_name"));
	rb_set_obj(rb, "action", vigil_msg__find(m, "action"));
	if (skb)
		fill_sock(rb, skb);
	if (sockaddr)
		fill_sockaddr(rb, sockaddr, function);
	if (sockaddrun)
		fill_sockaddrun(rb, sockaddrun, function);
	if (sock)
		fill_sock(rb, sock);
	return 1;
}

const struct table table_socket_events = {
	.name = "vigil_socket_events",
	.columns = columns,
	.ncolumns = VIGIL_ARRAY_SIZE(columns),
	.extract = extract,
};
