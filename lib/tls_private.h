/*
 * tls_private - what lib/tls.c, tls_server.c, tls_client.c and
 * tls_certificate.c share; not for callers outside the TLS module.
 *
 * tls.c owns the common part: the context and session structures, the
 * non-blocking socket BIO, the handshake loop, the stream_ops and the
 * protocol and cipher settings. tls_certificate.c loads certificates and
 * keys. tls_server.c and tls_client.c each build their own kind of
 * context and start their side of the handshake.
 */
#ifndef HIKYAKU_TLS_PRIVATE_H
#define HIKYAKU_TLS_PRIVATE_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "stream.h"
#include "tls.h"

struct dstring;
struct tls_client_cache;

struct tls_context {
	SSL_CTX *ssl_context;
	bool is_server;
	int loglevel;
	struct tls_client_cache *client_cache; /* client contexts only */
};

struct tls_session {
	SSL *ssl;
	struct tls_context *context;
	struct stream_ops ops;
	bool is_server;
	bool is_peer_trusted;
	bool is_peer_verified;
	char *peer_name; /* never NULL once started */
	char *cache_key; /* client: where its new sessions are cached */
};

/* tls_ssl_context_new: an SSL_CTX with the safe options common to both
 * sides, the protocol range and the cipher lists; NULL and a reason. */
SSL_CTX *tls_ssl_context_new(bool is_server, const char *protocols, const char *ciphers,
                             const char *exclude_ciphers, int loglevel, struct dstring *error);

/* tls_session_new: a session over stream's descriptor (socket BIO
 * attached); NULL and a reason when the descriptor is not a socket. */
struct tls_session *tls_session_new(struct tls_context *context, struct stream *stream,
                                    struct dstring *error);

/* tls_session_handshake: flush the stream, discard its buffered input,
 * run the handshake within the stream's limits. false and a reason. */
bool tls_session_handshake(struct tls_session *session, struct stream *stream,
                           struct dstring *error);

/* tls_session_install: switch the stream to this session's I/O. */
void tls_session_install(struct tls_session *session, struct stream *stream);

/* tls_session_free: free without any I/O (a failed start). */
void tls_session_free(struct tls_session *session);

/* tls_append_error_queue: append the OpenSSL error queue as text (and
 * empty it); "no further detail" when it is empty. */
void tls_append_error_queue(struct dstring *text);

/* tls_load_cert_and_key: the certificate chain in cert_file and the
 * private key in key_file (NULL or "": cert_file). */
bool tls_load_cert_and_key(SSL_CTX *ssl_context, const char *cert_file, const char *key_file,
                           struct dstring *error);

/* tls_load_chain_files: Postfix's *_tls_chain_files, a list of PEM files
 * holding, in order, each private key followed by its certificate chain. */
bool tls_load_chain_files(SSL_CTX *ssl_context, const char *chain_files, struct dstring *error);

/* tls_client_cache_free: the client session cache (tls_client.c). */
void tls_client_cache_free(struct tls_client_cache *cache);

#endif
