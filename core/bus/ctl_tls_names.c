/* ctl_tls_names.c - the rights of a verified TLS client: its certificate's subject CN and
 * subjectAltNames (DNS, URI, email, IP) looked up in --server-tls-admin-names and
 * --server-tls-events-names. */
#include <arpa/inet.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "ctl_tls_internal.h"

/* Does list (comma-separated) hold the len bytes of name? Host names compare without case. */
static bool listed(const char *list, const char *name, size_t len, bool host)
{
	const char *p = list, *end;
	size_t n;

	if (!list || !len || memchr(name, '\0', len))	/* an embedded NUL names nothing */
		return false;
	while (*p) {
		end = strchr(p, ',');
		n = end ? (size_t)(end - p) : strlen(p);
		if (n == len && (host ? !strncasecmp(p, name, len) : !memcmp(p, name, len)))
			return true;
		if (!end)
			break;
		p = end + 1;
	}
	return false;
}

/* Note one name of the certificate: which lists hold it, and the first one for the log. */
static void note_name(struct tls_conn *c, const char *name, size_t len, bool host, bool *admin, bool *events)
{
	*admin |= listed(c->t->admin_names, name, len, host);
	*events |= listed(c->t->events_names, name, len, host);
	if (!c->cn[0] && len && !memchr(name, '\0', len))
		snprintf(c->cn, sizeof(c->cn), "%.*s", (int)len, name);
}

/* The rights of the verified client: its subject CN and every DNS, URI, email or IP
 * subjectAltName are looked up in --server-tls-admin-names and --server-tls-events-names. */
void bus_tls_rights_of(struct tls_conn *c)
{
	X509 *cert = SSL_get0_peer_certificate(c->ssl);
	GENERAL_NAMES *sans;
	X509_NAME *subject;
	bool admin = false, events = false;
	char ip[INET6_ADDRSTRLEN];
	int i;

	if (!cert)
		return;
	subject = X509_get_subject_name(cert);
	i = subject ? X509_NAME_get_index_by_NID(subject, NID_commonName, -1) : -1;
	if (i >= 0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));

		note_name(c, (const char *)ASN1_STRING_get0_data(d), (size_t)ASN1_STRING_length(d), true, &admin, &events);
	}
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; sans && i < sk_GENERAL_NAME_num(sans); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		const ASN1_STRING *v = NULL;

		if (g->type == GEN_DNS || g->type == GEN_URI || g->type == GEN_EMAIL) {
			v = g->d.ia5;
			note_name(c, (const char *)ASN1_STRING_get0_data(v), (size_t)ASN1_STRING_length(v),
				  g->type == GEN_DNS, &admin, &events);
		} else if (g->type == GEN_IPADD && (g->d.ip->length == 4 || g->d.ip->length == 16)) {
			inet_ntop(g->d.ip->length == 4 ? AF_INET : AF_INET6, g->d.ip->data, ip, sizeof(ip));
			note_name(c, ip, strlen(ip), false, &admin, &events);
		}
	}
	GENERAL_NAMES_free(sans);
	c->peer.access = admin ? VIGIL_CTL_ALL : VIGIL_CTL_READ;
	c->peer.events = admin || events;
	c->peer.identity = c->cn;
}
