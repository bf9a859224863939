/* canary_internal.h - the two request kinds of core/canary, behind one call each. */
#ifndef VIGIL_CANARY_INTERNAL_H
#define VIGIL_CANARY_INTERNAL_H

#include <sys/socket.h>

/* An HTTP/1.0 GET of url ("http://host[:port]/path"); 0 when an HTTP status line came
 * back, else -errno (-EPROTONOSUPPORT: https, which canary_https_get makes). */
int canary_http_get(const char *url, int timeout_ms);

/* A GET of url ("https://...") through libcurl, the certificate verified against ca_file
 * (a PEM bundle; NULL: the system's CA store); 0 when a status line came back, else -errno
 * (-EKEYREJECTED: the certificate did not verify, logged). */
int canary_https_get(const char *url, int timeout_ms, const char *ca_file);

/* A DNS A query for name to server; 0 when an answer with the query's id came back, else
 * -errno. */
int canary_dns_lookup(const struct sockaddr *server, socklen_t len, const char *name, int timeout_ms);

/* Wait for fd to be ready for events (POLLIN / POLLOUT) until deadline_ms (CLOCK_MONOTONIC
 * milliseconds): 0, or -ETIMEDOUT. */
int canary_wait(int fd, short events, long long deadline_ms);
long long canary_now_ms(void);

#endif
