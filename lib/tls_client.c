/*
 * tls_client - the client side of lib/tls: a context from the smtp_tls_*
 * settings, the client handshake, server certificate verification, and
 * an in-process cache of sessions for resumption. The contract is in
 * tls.h.
 *
 * Verification: OpenSSL verifies the chain during the handshake but is
 * told to go on whatever the result; this module then decides, so that
 * "may"/"encrypt" (TLS_VERIFY_NONE) still know and log whether the peer
 * was trusted, and "verify"/"secure" fail with a reason a person can act
 * on. Names are matched with X509_check_host (subjectAltName DNS names,
 * or the CN when there are none; no partial wildcards) or, for an IP
 * literal, X509_check_ip_asc. A match name starting with "." matches any
 * subdomain (Postfix's dot-nexthop).
 *
 * Trust anchors: CAfile and/or CApath; with neither, OpenSSL's default
 * locations (the system's CA bundle).
 *
 * The session cache is keyed by the peer's address and the SNI name, and
 * bounded; a session is offered again only to the same peer and name.
 *
 * What it trusts: the settings. Not the server: every name in its
 * certificate is outside input, copied with a bound before use.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dstring.h"
#include "log.h"
#include "tls.h"
#include "tls_private.h"
#include "xalloc.h"

#define CACHE_SIZE 32
#define VERIFY_DEPTH 9
/* A certificate name longer than this is cut (names are outside input). */
#define PEER_NAME_MAX 255

struct tls_client_cache {
	struct {
		char *key;
		SSL_SESSION *session;
		time_t last_used;
	} entries[CACHE_SIZE];
};

void
tls_client_cache_free(struct tls_client_cache *cache)
{
	if (cache == NULL)
		return;
	for (int i = 0; i < CACHE_SIZE; i++) {
		free(cache->entries[i].key);
		SSL_SESSION_free(cache->entries[i].session);
	}
	free(cache);
}

static int
cache_find(const struct tls_client_cache *cache, const char *key)
{
	for (int i = 0; i < CACHE_SIZE; i++)
		if (cache->entries[i].key != NULL && strcmp(cache->entries[i].key, key) == 0)
			return i;
	return -1;
}

static void
cache_remove(struct tls_client_cache *cache, const char *key)
{
	int i = cache_find(cache, key);

	if (i >= 0) {
		free(cache->entries[i].key);
		SSL_SESSION_free(cache->entries[i].session);
		memset(&cache->entries[i], 0, sizeof(cache->entries[i]));
	}
}

/* OpenSSL hands us each new session (TLS 1.3: each ticket) here. */
static int
new_session_callback(SSL *ssl, SSL_SESSION *ssl_session)
{
	struct tls_session *session = SSL_get_app_data(ssl);
	struct tls_client_cache *cache;
	int slot, oldest = 0;

	if (session == NULL || session->cache_key == NULL || !SSL_SESSION_is_resumable(ssl_session))
		return 0;
	cache = session->context->client_cache;
	slot = cache_find(cache, session->cache_key);
	if (slot < 0) {
		for (slot = 0; slot < CACHE_SIZE && cache->entries[slot].key != NULL; slot++)
			if (cache->entries[slot].last_used < cache->entries[oldest].last_used)
				oldest = slot;
		if (slot == CACHE_SIZE) {
			slot = oldest;
			free(cache->entries[slot].key);
			cache->entries[slot].key = NULL;
		}
		cache->entries[slot].key = xstrdup(session->cache_key);
	}
	SSL_SESSION_free(cache->entries[slot].session);
	cache->entries[slot].session = ssl_session;
	cache->entries[slot].last_used = time(NULL);
	return 1; /* we keep the reference */
}

/* The cache key: the peer's address (family-specific) and the SNI name. */
static char *
make_cache_key(int fd, const char *servername)
{
	struct sockaddr_storage address;
	socklen_t length = sizeof(address);
	char text[INET6_ADDRSTRLEN] = "";
	struct dstring key;
	char *copy;
	int port = 0;

	memset(&address, 0, sizeof(address));
	if (getpeername(fd, (struct sockaddr *)&address, &length) == 0) {
		if (address.ss_family == AF_INET) {
			const struct sockaddr_in *in = (const struct sockaddr_in *)&address;

			inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
			port = ntohs(in->sin_port);
		} else if (address.ss_family == AF_INET6) {
			const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&address;

			inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
			port = ntohs(in6->sin6_port);
		}
	}
	dstring_init(&key, DSTRING_NO_LIMIT);
	dstring_printf(&key, "[%s]:%d/%s", text, port, servername != NULL ? servername : "");
	copy = xstrdup(dstring_str(&key));
	dstring_fini(&key);
	return copy;
}

static int
accept_any_chain(int is_preverified, X509_STORE_CTX *store)
{
	return 1; /* the decision comes after the handshake: see the header */
}

struct tls_context *
tls_client_context_new(const struct tls_client_settings *settings, struct dstring *error)
{
	struct tls_context *context;
	SSL_CTX *ssl_context;
	const char *CAfile =
	    settings->CAfile != NULL && *settings->CAfile ? settings->CAfile : NULL;
	const char *CApath =
	    settings->CApath != NULL && *settings->CApath ? settings->CApath : NULL;

	ssl_context = tls_ssl_context_new(false, settings->protocols, settings->ciphers,
	                                  settings->exclude_ciphers, settings->loglevel, error);
	if (ssl_context == NULL)
		return NULL;
	if (CAfile != NULL || CApath != NULL) {
		if (!SSL_CTX_load_verify_locations(ssl_context, CAfile, CApath)) {
			dstring_printf(error, "cannot load trusted CA certificates from %s%s%s: ",
			               CAfile != NULL ? CAfile : "",
			               CAfile != NULL && CApath != NULL ? " and " : "",
			               CApath != NULL ? CApath : "");
			tls_append_error_queue(error);
			goto failed;
		}
	} else if (!SSL_CTX_set_default_verify_paths(ssl_context)) {
		ERR_clear_error(); /* no system bundle: nothing is trusted */
	}
	if (settings->cert_file != NULL && *settings->cert_file != '\0' &&
	    !tls_load_cert_and_key(ssl_context, settings->cert_file, settings->key_file, error))
		goto failed;
	SSL_CTX_set_verify(ssl_context, SSL_VERIFY_PEER, accept_any_chain);
	SSL_CTX_set_verify_depth(ssl_context, VERIFY_DEPTH);
	SSL_CTX_set_session_cache_mode(ssl_context,
	                               SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ssl_context, new_session_callback);
	context = xcalloc(1, sizeof(*context));
	context->ssl_context = ssl_context;
	context->is_server = false;
	context->loglevel = settings->loglevel;
	context->client_cache = xcalloc(1, sizeof(*context->client_cache));
	return context;

failed:
	SSL_CTX_free(ssl_context);
	return NULL;
}

static bool
is_ip_literal(const char *name)
{
	unsigned char buffer[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, name, buffer) == 1 || inet_pton(AF_INET6, name, buffer) == 1;
}

static void
set_peer_name(struct tls_session *session, const char *name)
{
	free(session->peer_name);
	session->peer_name = xstrndup(name, PEER_NAME_MAX);
}

/*
 * check_peer: set the trusted and verified flags and the peer name; with
 * TLS_VERIFY_CHAIN_AND_NAME, false and a reason when either fails.
 */
static bool
check_peer(struct tls_session *session, enum tls_verify verify, const char *const *match_names,
           struct dstring *error)
{
	X509 *certificate = SSL_get0_peer_certificate(session->ssl);
	long result = SSL_get_verify_result(session->ssl);
	bool is_matched = false;
	char common_name[PEER_NAME_MAX + 1] = "";

	if (certificate == NULL) {
		if (verify == TLS_VERIFY_CHAIN_AND_NAME)
			dstring_set(error, "server certificate not trusted: no certificate");
		return verify != TLS_VERIFY_CHAIN_AND_NAME;
	}
	session->is_peer_trusted = result == X509_V_OK;
	for (size_t i = 0; match_names != NULL && match_names[i] != NULL && !is_matched; i++) {
		const char *name = match_names[i];
		char *matched = NULL;

		if (*name == '\0')
			continue;
		if (is_ip_literal(name)) {
			if (X509_check_ip_asc(certificate, name, 0) == 1) {
				is_matched = true;
				set_peer_name(session, name);
			}
		} else if (X509_check_host(certificate, name, strlen(name),
		                           X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, &matched) == 1) {
			is_matched = true;
			set_peer_name(session, matched != NULL ? matched : name);
		}
		OPENSSL_free(matched);
	}
	ERR_clear_error();
	if (!is_matched) {
		X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName,
		                          common_name, sizeof(common_name));
		set_peer_name(session, common_name);
	}
	session->is_peer_verified = session->is_peer_trusted && is_matched;
	if (verify != TLS_VERIFY_CHAIN_AND_NAME)
		return true;
	if (!session->is_peer_trusted) {
		dstring_printf(error, "server certificate not trusted: %s",
		               X509_verify_cert_error_string(result));
		return false;
	}
	if (!is_matched) {
		dstring_printf(error,
		               "hostname mismatch: the server certificate (CN \"%s\") "
		               "matches none of",
		               session->peer_name);
		for (size_t i = 0; match_names != NULL && match_names[i] != NULL && i < 8; i++)
			dstring_append_printf(error, " %s", match_names[i]);
		return false;
	}
	return true;
}

struct tls_session *
tls_client_start(struct tls_context *context, struct stream *stream, const char *servername,
                 enum tls_verify verify, const char *const *match_names, struct dstring *error)
{
	struct tls_session *session;
	int slot;

	if (context->is_server)
		log_panic("tls_client_start: a server context");
	session = tls_session_new(context, stream, error);
	if (session == NULL)
		return NULL;
	SSL_set_connect_state(session->ssl);
	if (servername != NULL && *servername != '\0' && !is_ip_literal(servername) &&
	    !SSL_set_tlsext_host_name(session->ssl, servername)) {
		dstring_printf(error, "bad TLS server name \"%s\": ", servername);
		tls_append_error_queue(error);
		tls_session_free(session);
		return NULL;
	}
	session->cache_key = make_cache_key(stream_fd(stream), servername);
	slot = cache_find(context->client_cache, session->cache_key);
	if (slot >= 0) {
		SSL_SESSION *cached = context->client_cache->entries[slot].session;

		if (SSL_SESSION_is_resumable(cached) &&
		    SSL_SESSION_get_time(cached) + SSL_SESSION_get_timeout(cached) > time(NULL))
			SSL_set_session(session->ssl, cached);
		else
			cache_remove(context->client_cache, session->cache_key);
	}
	if (!tls_session_handshake(session, stream, error)) {
		cache_remove(context->client_cache, session->cache_key);
		tls_session_free(session);
		return NULL;
	}
	if (!check_peer(session, verify, match_names, error)) {
		cache_remove(context->client_cache, session->cache_key);
		tls_session_free(session);
		return NULL;
	}
	tls_session_install(session, stream);
	return session;
}
