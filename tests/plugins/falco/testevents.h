/* testevents.h - vigil events for the Falco plugin tests, as the bus carries them.
 *
 * Exec and exit events come from libvigil's own encoder (what vigild publishes); kprobe and
 * alert events, which the agent does not emit yet, are packed by hand in the shape of
 * Tetragon's JSON export (process_kprobe) and of the Lua host's alerts (process_alert).
 */
#ifndef VIGIL_FALCO_TESTEVENTS_H
#define VIGIL_FALCO_TESTEVENTS_H

#include <stdint.h>

#include "common/common.h"

#define TEV_NODE "falco-test"
/* 2026-11-29T08:02:18.369395371Z, and the same in ns since the epoch */
#define TEV_TIME_NS 1795939338369395371ULL
#define TEV_TIME "2026-11-29T08:02:18.369395371Z"
#define TEV_START_NS 1795939338000000000ULL

/* An exec of binary with args by pid (parent pid + 1000 running /usr/bin/bash). Appends
 * to out; 0 or -errno. */
int tev_exec(struct vigil_buf *out, uint32_t pid, const char *binary, const char *args);
/* The exit of that process: status, or signal when non-zero. */
int tev_exit(struct vigil_buf *out, uint32_t pid, const char *binary, uint32_t status, int signal);
/* A process_kprobe event of security_file_permission on path and tcp_connect to
 * daddr:dport (args: file_arg, sock_arg, int_arg -5 labelled "mask", string_arg "hello"). */
int tev_kprobe(struct vigil_buf *out, uint32_t pid, const char *binary, const char *path, const char *daddr,
	       uint32_t dport);
/* A process_alert raised by rule with priority. */
int tev_alert(struct vigil_buf *out, uint32_t pid, const char *rule, const char *priority);

#endif
