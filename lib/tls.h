/*
 * tls - TLS (OpenSSL 3) for the SMTP server and client, plugged under a
 * lib/stream through struct stream_ops.
 *
 * Contract:
 * - A context holds the configuration (certificates, keys, protocol range,
 *   ciphers, session-ticket keys). Make it before the jail (reading the
 *   key may need root); it is then used, unchanged, for many sessions.
 * - tls_server_start / tls_client_start run the handshake on the stream's
 *   descriptor within the stream's own time limits (stream_set_timeout,
 *   stream_set_deadline). The per-operation timeout applies to each wait
 *   for the peer, so to bound the whole handshake (smtpd_starttls_timeout)
 *   set a deadline around the call. On success the stream reads and writes through
 *   TLS from then on; input buffered as plaintext before the handshake is
 *   discarded (no STARTTLS command injection). On failure the caller drops
 *   the connection: the stream is left with its default I/O, but the bytes
 *   on the wire are in an undefined state.
 * - Defaults are safe: TLS 1.2 and newer, no compression, no
 *   renegotiation, the server's cipher preference, forward-secret (ECDHE)
 *   key exchange only, plus the TLS 1.3 suites.
 * - Errors come back as one line in the caller's dstring, naming the file
 *   or the handshake step and carrying the OpenSSL error queue text.
 *
 * What it trusts: its caller's settings and files. Nothing the peer sends:
 * that is OpenSSL's job, bounded by the stream's time limits.
 */
#ifndef HIKYAKU_TLS_H
#define HIKYAKU_TLS_H

#include <stdbool.h>

struct dstring;
struct stream;
struct tls_context;
struct tls_session;

struct tls_server_settings {
	const char *cert_file, *key_file; /* smtpd_tls_cert_file / _key_file */
	/* smtpd_tls_chain_files (wins when set): key + certificate chain
	 * PEM files, a list separated by commas and/or white space. */
	const char *chain_files;
	/* smtpd_tls_protocols, Postfix syntax: ">=TLSv1.2" or
	 * "!SSLv2, !SSLv3, !TLSv1, !TLSv1.1"; NULL or "": the default. */
	const char *protocols;
	const char *ciphers;         /* smtpd_tls_ciphers grade: "medium", "high" */
	const char *exclude_ciphers; /* smtpd_tls_exclude_ciphers */
	int loglevel;                /* smtpd_tls_loglevel 0..4 */
	int session_cache_timeout;   /* seconds: session ticket lifetime */
	/* A file holding the session-ticket keys, shared by all smtpd
	 * processes so a client resumes on any of them; created (mode 0600)
	 * if missing. NULL: keys made per process. */
	const char *ticket_key_file;
};

/*
 * tls_server_context_new: a server context from settings. Call before the
 * jail (root may be needed to read the key). Returns NULL and a reason
 * naming the file in error on failure.
 */
struct tls_context *tls_server_context_new(const struct tls_server_settings *settings,
                                           struct dstring *error);

/*
 * tls_server_start: run the server handshake on stream's descriptor
 * within the stream's timeout and deadline. On success install the TLS
 * stream_ops (plaintext buffered before is discarded) and return the
 * session; NULL and a reason on failure (the caller then drops the
 * connection). Pending output on the stream must have been flushed.
 */
struct tls_session *tls_server_start(struct tls_context *context, struct stream *stream,
                                     struct dstring *error);

struct tls_client_settings {
	const char *CAfile, *CApath; /* trust anchors; NULL: none */
	const char *protocols;       /* as for the server */
	const char *ciphers;         /* grade: "medium", "high" */
	const char *exclude_ciphers;
	const char *cert_file, *key_file; /* client certificate; NULL: none */
	int loglevel;
};

/*
 * tls_client_context_new: a client context from settings. NULL and a
 * reason naming the file in error on failure.
 */
struct tls_context *tls_client_context_new(const struct tls_client_settings *settings,
                                           struct dstring *error);

enum tls_verify {
	TLS_VERIFY_NONE,           /* may / encrypt: any certificate is accepted */
	TLS_VERIFY_CHAIN_AND_NAME, /* verify / secure: trusted chain and name */
};

/*
 * tls_client_start: run the client handshake on stream's descriptor within
 * the stream's limits. servername: the SNI name to send (NULL: none).
 * match_names: a NULL-terminated list of host names, one of which the
 * server certificate must match when verify is TLS_VERIFY_CHAIN_AND_NAME.
 * Returns the session with the TLS stream_ops installed, or NULL and a
 * reason ("server certificate not trusted: ...", "hostname mismatch: ...",
 * or the handshake error).
 */
struct tls_session *tls_client_start(struct tls_context *context, struct stream *stream,
                                     const char *servername, enum tls_verify verify,
                                     const char *const *match_names, struct dstring *error);

/* The negotiated protocol, "TLSv1.3", and cipher, "TLS_AES_256_GCM_SHA384". */
const char *tls_session_protocol(const struct tls_session *session);
const char *tls_session_cipher(const struct tls_session *session);
/* The cipher's secret bits; *algorithm_bits (if not NULL) the algorithm's. */
int tls_session_cipher_bits(const struct tls_session *session, int *algorithm_bits);
/* The handshake resumed an earlier session (ticket). */
bool tls_session_resumed(const struct tls_session *session);

/*
 * What the handshake used besides the cipher, as Postfix reports it:
 * the key exchange and the server's signature (on the server side our
 * own, on the client side the peer's). Each string is static, NULL when
 * unknown: a resumed TLS 1.2 session has neither key exchange nor
 * signature, a resumed TLS 1.3 one no signature.
 */
struct tls_session_parameters {
	const char *key_exchange;       /* "X25519", "X448", "ECDHE", "DHE" */
	const char *key_exchange_curve; /* ECDHE: "P-256" */
	int key_exchange_bits;          /* DHE: the group's bits, else 0 */
	const char *signature;          /* "RSA-PSS", "RSA", "ECDSA", "ED25519", "ED448" */
	const char *signature_curve;    /* ECDSA: "P-256" */
	int signature_bits;             /* RSA: the key's bits, else 0 */
	const char *signature_digest;   /* "SHA256"; NULL for ED25519 and ED448 */
};

/* tls_session_get_parameters: fill parameters for an established session. */
void tls_session_get_parameters(const struct tls_session *session,
                                struct tls_session_parameters *parameters);

/*
 * tls_session_describe: append what tls_session_get_parameters knows in
 * Postfix's words (its "TLS connection established" log line and its
 * Received: header): "key-exchange X25519 server-signature RSA-PSS (2048
 * bits) server-digest SHA256", the unknown parts left out; nothing at all
 * when nothing is known. The client side says "server-signature" too:
 * the signature is always the server's.
 */
void tls_session_describe(const struct tls_session *session, struct dstring *out);

/* Client side: the peer's chain was verified against the trust anchors. */
bool tls_session_peer_trusted(const struct tls_session *session);
/* Client side: the chain was verified and a match name matched. */
bool tls_session_peer_verified(const struct tls_session *session);
/* The peer certificate's name that matched, else its CN, else "". */
const char *tls_session_peer_name(const struct tls_session *session);

/*
 * tls_session_end: send close_notify (best effort, within the stream's
 * limits), restore the stream's default I/O and free the session. The
 * stream stays open. NULL session is allowed.
 */
void tls_session_end(struct tls_session *session, struct stream *stream);

/* tls_context_free: NULL is allowed; no session may still use it. */
void tls_context_free(struct tls_context *context);

#endif
